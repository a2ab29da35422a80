/**
 * Alert rules (pure): what each kind of rule finds in a factory's recent windows and gateways. A
 * finding names its occurrence (`dedupKey`), so evaluating again — on every batch or on a schedule —
 * never raises the same alert twice.
 */

import Decimal from "decimal.js";
import { BillingPeriod } from "../billing/period";
import { Figures } from "../kpi/figures";
import type { Statement } from "../statement/index";
import { dayStart, toLocal } from "../time";
import type { Window } from "../timeseries/index";
import { WattflowError } from "../util/error";
import { round } from "../util/number";

export * as AlertRules from "./rules";

export const kinds = [
  "demand_near_peak",
  "demand_near_contracted_punta",
  "power_factor_low",
  "gateway_silent",
  "gateway_backlog",
  "daily_cost_anomaly",
] as const;
export type Kind = (typeof kinds)[number];

/**
 * A rule's threshold when its rule gives none; null for the power factor, which follows the factory's own CFE
 * threshold (`BillFigures.powerFactorThreshold`) month by month.
 */
export const defaultThresholds: Record<Kind, number | null> = {
  demand_near_peak: 0.95,
  demand_near_contracted_punta: 0.9,
  power_factor_low: null,
  gateway_silent: 15,
  gateway_backlog: 30,
  daily_cost_anomaly: 0.3,
};

/**
 * What a finding says, for the console to word in its language: a code and its parameters. Numbers are plain
 * (kW, shares and power factors as fractions, minutes), money a decimal string in the factory's currency,
 * `since` an ISO instant (UTC), `day` a local date (YYYY-MM-DD).
 */
export type Params = Record<string, string | number>;

/** An occurrence a rule found; `message` says it in English (e-mail, SNS, webhooks), `code` and `params` for the console. */
export type Finding = { dedupKey: string; message: string; code: string; params: Params; value: number | null; limit: number | null; at: Date };

export type Gateway = {
  id: string;
  name: string;
  lastSeenAt: Date | null;
  heartbeatAt: Date | null;
  oldestUnsentSeconds: number | null;
};

/**
 * The figures of the bill the statement computes now, for the rules that judge it (`readsBill`): Alert.evaluate reads
 * them only when such a rule is enabled, so a factory with gateway rules alone needs no tariff, prices or period.
 */
export type BillFigures = {
  /**
   * The power factor (a fraction: 0.9, 0.95) under which CFE surcharges the current billing period's bill
   * (Bill.factoryPowerFactorThreshold of its tariff and price month, BillingPeriod.priceMonth).
   */
  powerFactorThreshold: number;
  /**
   * The current billing period's UTC quarter-hours so far over the bill's basis meters (Statement.quartersOf: the
   * period Statement.resolve names, its billing meters or every meter, measured kWh for demand, kVArh for PF), for
   * the rules that judge the bill's figures: `demand_near_peak` and `power_factor_low` (`readsBill`).
   */
  quarters: readonly Statement.Quarter[];
};

/** What the rules judge; the bill's figures (`BillFigures`) are there when a rule that reads them is evaluated. */
export type Context = Partial<BillFigures> & {
  now: Date;
  timeZone: string;
  contractedDemandKw: number | null;
  /** The factory's 15-minute windows from the time-series port, from as far back as its rules need (`since`) up to now. */
  windows: readonly Window[];
  gateways: readonly Gateway[];
};

/** A context with the bill's figures, as the rules that judge the bill take it. */
export type BillContext = Context & BillFigures;

/** Thrown when a rule that judges the bill is evaluated without its figures: Alert.evaluate reads them for every such rule. */
export class MissingBillFiguresError extends WattflowError {
  readonly kind = "internal";
  readonly code = "alert.missing_bill_figures";
  override readonly name = "MissingBillFiguresError";
  constructor(kind: Kind) {
    super(`a ${kind} rule judges the bill, and the context has no bill figures (readsBill(${JSON.stringify(kind)}) must hold where they are read)`);
  }
}

/** `context` with its bill figures, for a rule of `kind` that judges the bill. */
function billed(context: Context, kind: Kind): BillContext {
  const { powerFactorThreshold, quarters } = context;
  if (powerFactorThreshold === undefined || quarters === undefined) throw new MissingBillFiguresError(kind);
  return { ...context, powerFactorThreshold, quarters };
}

const QUARTER = 900_000;
const pad = (value: number) => String(value).padStart(2, "0");
/** The local date (YYYY-MM-DD) of an instant: BillingPeriod.localDate, the one rule the statement and close use. */
const dayOf = (ms: number, timeZone: string) => BillingPeriod.localDate(new Date(ms), timeZone);

/** A window's 15-minute demand (kW) from its measured energy: estimated slots never set a peak. */
const demandKw = (window: Window) => Figures.demandKw(Figures.measuredKwh(window));

/** The windows (or quarters) that have ended by `now` (the one still filling would understate demand). */
function complete<T extends { start: Date }>(context: Context, windows: readonly T[]): T[] {
  return windows.filter((window) => window.start.getTime() + QUARTER <= context.now.getTime());
}

/** Whether a rule of `kind` judges the bill's figures (`BillFigures.quarters`) rather than the time-series windows. */
export function readsBill(kind: Kind): boolean {
  return kind === "demand_near_peak" || kind === "power_factor_low";
}

/**
 * The latest complete quarter-hour's demand reaches `threshold` × the highest demand earlier in the billing period:
 * both the statement's figures (`BillFigures.quarters`: the period's basis meters, measured kWh × 4, an estimate never a peak),
 * so "the peak" is the one the bill charges, whatever the cycle day and however many sub-meters.
 */
export function demandNearPeak(context: BillContext, threshold: number): Finding[] {
  const period = complete(context, context.quarters);
  const latest = period.at(-1);
  if (!latest || latest.start.getTime() + 2 * QUARTER < context.now.getTime()) return [];
  const earlier = period.slice(0, -1).reduce((peak, quarter) => Math.max(peak, Figures.demandKw(quarter.measuredKwh)), 0);
  const demand = Figures.demandKw(latest.measuredKwh);
  if (earlier <= 0 || demand < threshold * earlier) return [];
  const share = round(demand / earlier, 3);
  return [
    {
      dedupKey: `window:${latest.start.toISOString()}`,
      message: `15-minute demand ${round(demand, 1)} kW is ${round((demand / earlier) * 100, 1)} % of this billing period's peak (${round(earlier, 1)} kW)${demand > earlier ? ": a new peak sets next month's capacity charge" : ""}`,
      code: demand > earlier ? "demand_new_peak" : "demand_near_peak",
      params: { demandKw: round(demand, 1), share, peakKw: round(earlier, 1) },
      value: round(demand, 3),
      limit: round(threshold * earlier, 3),
      at: latest.start,
    },
  ];
}

/** A punta window's demand reaches `threshold` × the contracted demand. */
export function demandNearContractedInPunta(context: Context, threshold: number): Finding[] {
  const contracted = context.contractedDemandKw;
  const latest = complete(context, context.windows).at(-1);
  if (!contracted || !latest || latest.period !== "punta" || latest.start.getTime() + 2 * QUARTER < context.now.getTime()) return [];
  const demand = demandKw(latest);
  if (demand < threshold * contracted) return [];
  return [
    {
      dedupKey: `window:${latest.start.toISOString()}`,
      message: `punta 15-minute demand ${round(demand, 1)} kW is ${round((demand / contracted) * 100, 1)} % of the contracted ${contracted} kW`,
      code: "demand_near_contracted_punta",
      params: { demandKw: round(demand, 1), share: round(demand / contracted, 3), contractedKw: contracted },
      value: round(demand, 3),
      limit: round(threshold * contracted, 3),
      at: latest.start,
    },
  ];
}

/**
 * Today's energy-weighted power factor (from at least an hour of quarter-hours with kVArh) is under `threshold`, or under
 * the factory's CFE threshold (`context.powerFactorThreshold`: 0.90, or 0.95 for high voltage or ≥ 1 MW contracted
 * from the 2024 bills, Bill.powerFactorThreshold) when the rule sets none.
 */
export function powerFactorLow(context: BillContext, threshold: number | null): Finding[] {
  const cfe = context.powerFactorThreshold;
  const limit = threshold ?? cfe;
  const today = dayOf(context.now.getTime(), context.timeZone);
  // The bill's kWh and kVArh (BillFigures.quarters: its basis meters), today's share of them.
  const windows = complete(context, context.quarters).filter((quarter) => quarter.kvarh !== null && dayOf(quarter.start.getTime(), context.timeZone) === today);
  if (windows.length < 4) return [];
  const kwh = windows.reduce((sum, window) => sum + window.kwhWithKvarh, 0);
  const kvarh = windows.reduce((sum, window) => sum + (window.kvarh ?? 0), 0);
  const pf = Figures.powerFactor({ kwh, kvarh });
  if (pf === null || pf >= limit) return [];
  const own = limit !== cfe;
  // Three places from the exact ratio, not from `pf` (already rounded to four: 0.92848 → 0.9285 → 0.929).
  const shown = Figures.powerFactor({ kwh, kvarh }, 3) ?? pf;
  return [
    {
      dedupKey: `day:${today}`,
      message: own
        ? `power factor today is ${shown}, under the rule's ${limit} (CFE surcharges this factory's bill below ${cfe})`
        : `power factor today is ${shown}, under ${cfe}: CFE surcharges this factory's bill below ${cfe}`,
      code: own ? "power_factor_low_rule" : "power_factor_low",
      params: { pf: shown, threshold: limit, cfeThreshold: cfe },
      value: round(pf, 4),
      limit,
      at: windows[0]?.start ?? context.now,
    },
  ];
}

/** A gateway not heard from for `threshold` minutes (one alert per silence, keyed by when it was last seen). */
export function gatewaySilent(context: Context, threshold: number): Finding[] {
  return context.gateways.flatMap((gateway) => {
    const last = Math.max(gateway.lastSeenAt?.getTime() ?? 0, gateway.heartbeatAt?.getTime() ?? 0);
    if (last === 0) return [];
    const silentMinutes = (context.now.getTime() - last) / 60_000;
    if (silentMinutes < threshold) return [];
    return [
      {
        dedupKey: `silent:${gateway.id}:${new Date(last).toISOString()}`,
        message: `gateway ${gateway.name} has been silent for ${Math.floor(silentMinutes)} minutes (since ${new Date(last).toISOString()})`,
        code: "gateway_silent",
        params: { gateway: gateway.name, minutes: Math.floor(silentMinutes), since: new Date(last).toISOString() },
        value: Math.floor(silentMinutes),
        limit: threshold,
        at: new Date(last),
      },
    ];
  });
}

/** A gateway whose oldest unsent reading has waited `threshold` minutes: its backlog is growing, not draining. */
export function gatewayBacklog(context: Context, threshold: number): Finding[] {
  return context.gateways.flatMap((gateway) => {
    if (!gateway.heartbeatAt || gateway.oldestUnsentSeconds === null || gateway.oldestUnsentSeconds < threshold * 60) return [];
    const oldest = new Date(Math.floor((gateway.heartbeatAt.getTime() - gateway.oldestUnsentSeconds * 1000) / 60_000) * 60_000);
    return [
      {
        dedupKey: `backlog:${gateway.id}:${oldest.toISOString()}`,
        message: `gateway ${gateway.name} has readings waiting since ${oldest.toISOString()} (${Math.floor(gateway.oldestUnsentSeconds / 60)} minutes): it cannot upload`,
        code: "gateway_backlog",
        params: { gateway: gateway.name, minutes: Math.floor(gateway.oldestUnsentSeconds / 60), since: oldest.toISOString() },
        value: Math.floor(gateway.oldestUnsentSeconds / 60),
        limit: threshold,
        at: oldest,
      },
    ];
  });
}

/**
 * Yesterday's (local) cost differs from the mean of the same weekday in the four weeks before by more
 * than `threshold` (relative). Needs at least two earlier same weekdays with readings.
 */
export function dailyCostAnomaly(context: Context, threshold: number): Finding[] {
  const costs = new Map<string, Decimal>();
  for (const window of context.windows) {
    const day = dayOf(window.start.getTime(), context.timeZone);
    costs.set(day, (costs.get(day) ?? new Decimal(0)).plus(window.cost));
  }
  const local = toLocal(context.now.getTime(), context.timeZone);
  const dayAt = (offset: number) => {
    const date = new Date(Date.UTC(local.year, local.month - 1, local.day - offset));
    return `${date.getUTCFullYear()}-${pad(date.getUTCMonth() + 1)}-${pad(date.getUTCDate())}`;
  };
  const yesterday = dayAt(1);
  const cost = costs.get(yesterday);
  const references = [8, 15, 22, 29].map((offset) => costs.get(dayAt(offset))).filter((value): value is Decimal => value !== undefined);
  if (!cost || references.length < 2) return [];
  const norm = references.reduce((sum, value) => sum.plus(value), new Decimal(0)).div(references.length);
  if (norm.lte(0)) return [];
  const distance = cost.minus(norm).abs().div(norm).toNumber();
  if (distance <= threshold) return [];
  const direction = cost.gt(norm) ? "above" : "below";
  return [
    {
      dedupKey: `day:${yesterday}`,
      message: `cost on ${yesterday} was ${cost.toFixed(2)}, ${round(distance * 100, 1)} % ${direction} the same weekday's norm of ${norm.toFixed(2)}`,
      code: direction === "above" ? "daily_cost_above" : "daily_cost_below",
      params: { day: yesterday, cost: cost.toFixed(2), share: round(distance, 3), norm: norm.toFixed(2) },
      value: cost.toDecimalPlaces(2).toNumber(),
      limit: norm.toDecimalPlaces(2).toNumber(),
      at: new Date(dayStart(parseDay(yesterday), context.timeZone)),
    },
  ];
}

function parseDay(day: string) {
  return { year: Number(day.slice(0, 4)), month: Number(day.slice(5, 7)), day: Number(day.slice(8, 10)) };
}

/**
 * How far back a rule of `kind` reads the time-series windows (`Context.windows`); undefined for the rules that read none:
 * the gateway rules, and those that judge the bill's figures (`readsBill`: `BillFigures.quarters`).
 */
export function since(kind: Kind, now: Date): Date | undefined {
  switch (kind) {
    case "demand_near_contracted_punta":
      return new Date(now.getTime() - 4 * QUARTER);
    case "daily_cost_anomaly":
      // Yesterday and the same weekday up to four weeks before it, with a day to spare for the zone.
      return new Date(now.getTime() - 31 * 86_400_000);
    case "demand_near_peak":
    case "power_factor_low":
    case "gateway_silent":
    case "gateway_backlog":
      return undefined;
  }
}

/**
 * Each kind's evaluator, given the rule's threshold or the kind's default; the power factor's alone takes the rule's
 * threshold as given (null: the factory's CFE threshold). A kind added to `kinds` without one does not compile.
 */
const evaluators: Record<Kind, (context: Context, threshold: number, given: number | null) => Finding[]> = {
  demand_near_peak: (context, threshold) => demandNearPeak(billed(context, "demand_near_peak"), threshold),
  demand_near_contracted_punta: demandNearContractedInPunta,
  power_factor_low: (context, _threshold, given) => powerFactorLow(billed(context, "power_factor_low"), given),
  gateway_silent: gatewaySilent,
  gateway_backlog: gatewayBacklog,
  daily_cost_anomaly: dailyCostAnomaly,
};

/** What a rule of `kind` finds now; a null `threshold` is the kind's default (`defaultThresholds`). */
export function evaluate(kind: Kind, given: number | null, context: Context): Finding[] {
  return evaluators[kind](context, given ?? defaultThresholds[kind] ?? 0, given);
}
