/**
 * KPI math (pure): a factory's month from its 15-minute windows and meter days — kWh and cost per
 * day, shift, line and TOU period; energy per unit produced (ISO 50001 EnPI); load factor; power
 * factor; share of energy in punta; peak 15-minute demand against contracted demand; CO2e with the
 * month's published grid factor (Emission). The figures' definitions are Figures'; `coverage` says what
 * they stand on. Per-reading cost is provisional; the bill so far and its projection are the
 * Statement's (KpiReport adds them), the one read model the overview and the close share.
 */
import Decimal from "decimal.js";
import { z } from "zod";
import { BillingPeriod } from "../billing/period";
import { Time } from "../time";
import type { MeterDay, Window } from "../timeseries/index";
import { WattflowError } from "../util/error";
import { Instant } from "../util/instant";
import { round } from "../util/number";
import { Emission } from "./emission";
import { Figures } from "./figures";

export * as Kpi from "./index";

/** `?month=YYYY-MM`, required (the allocation of a month's bill). */
export const MonthQuery = z.object({ month: Instant.monthSchema("month") });

/**
 * `?month=YYYY-MM` (the billing period CFE labels with that month) or `?period=current|YYYY-MM` (current: the
 * period today's local date is in; neither given: current); `gridFactor` kg CO2e per kWh.
 */
export const Query = z
  .object({
    month: Instant.monthSchema("month").optional(),
    period: z
      .string()
      .superRefine((value, ctx) => {
        if (value === "current") return;
        const result = Instant.parseMonth(value);
        if (!result.ok) ctx.addIssue({ code: "custom", message: `period is current or a month YYYY-MM: ${result.message}` });
      })
      .optional(),
    gridFactor: z.coerce.number({ error: "gridFactor must be a number (kg CO2e per kWh)" }).min(0).max(5).optional(),
  })
  .superRefine((query, ctx) => {
    if (query.month !== undefined && query.period !== undefined && query.month !== query.period)
      ctx.addIssue({ code: "custom", path: ["period"], message: `give month or period, not both (month ${query.month}, period ${query.period})` });
  });
export type Query = z.infer<typeof Query>;

/** A shift: local hours [from, to), crossing midnight when `to` ≤ `from`. */
export type Shift = { name: string; from: number; to: number };
/** Three 8-hour shifts from 06:00, the most common pattern in the plants we meter. */
export const defaultShifts: Shift[] = [
  { name: "1", from: 6, to: 14 },
  { name: "2", from: 14, to: 22 },
  { name: "3", from: 22, to: 6 },
];

export type Input = {
  /** The month label (YYYY-MM): the grid emission factor's year. */
  month: string;
  /** The local dates [start, end) the figures cover: the factory's billing period (default: the calendar month). */
  period?: BillingPeriod.Period;
  timeZone: string;
  /** The KPI's "now": month-to-date figures stop here, and the projection scales from it. */
  now: Date;
  currency: string;
  contractedDemandKw: number | null;
  windows: readonly Window[];
  meterDays: readonly MeterDay[];
  meters: readonly { id: string; line: string }[];
  /** Units produced per line and local day in the month (imported production data; shifts may repeat a day). */
  production: readonly Figures.ProductionDay[];
  /** kg CO2e per kWh for every month; without it, the month's published factor (Emission.forMonth). */
  gridFactorKgPerKwh?: number;
  /** The utility's billing meter, when the factory has one: it alone decides the power factor if it measures kVArh. */
  billingMeterId?: string | null;
  shifts?: readonly Shift[];
  /**
   * The bill's own figures for the period (KpiReport passes the Statement's: its basis meters, measured kWh × 4 per
   * quarter-hour, PF of the readings with kVArh): when given, demand, load factor and power factor are these — one
   * figure wherever it is shown — and `coverage.powerFactor` names the basis meters (`basisMeterIds`, empty: every
   * meter) that measured kVArh. Without it, all three come from `windows` and `meterDays`.
   */
  bill?: { peakKw: number | null; peakAt: string | null; puntaPeakKw: number | null; powerFactor: number | null; basisMeterIds: readonly string[] };
};

/** kWh, and its cost as exact decimal text (MXN), null when the span is not priced (KpiReport: no tariff in force), never 0.00. */
const Amount = z.object({ kwh: z.number(), cost: z.string().nullable() });

/** What the figures stand on: 15-minute windows with data of those elapsed, and the meters each figure used. */
export const Coverage = z.object({
  windows: z.object({
    /** Windows of the month elapsed by `asOf`. */
    expected: z.number(),
    withData: z.number(),
    missing: z.number(),
    hoursWithData: z.number(),
    /** Windows holding estimated slots (a gap spread over its slots, issue 12): energy, never demand. */
    estimated: z.number(),
  }),
  meters: z.object({ withData: z.array(z.string()), withoutData: z.array(z.string()) }),
  powerFactor: z.object({ meters: z.array(z.string()), leftOut: z.array(z.string()), billingMeter: z.string().nullable() }),
});
export type Coverage = z.infer<typeof Coverage>;

export const Kpis = z.object({
  month: z.string(),
  timeZone: z.string(),
  currency: z.string(),
  /** [from, to) of the local month or billing period, and how far the data reaches (the earlier of now and its end). */
  range: z.object({ from: z.string(), to: z.string(), asOf: z.string(), complete: z.boolean() }),
  /** `estimatedKwh` of `kwh` was spread from gap readings, not measured (share: estimatedKwh ÷ kWh). */
  totals: z.object({
    kwh: z.number(),
    kvarh: z.number().nullable(),
    cost: z.string().nullable(),
    windows: z.number(),
    estimatedKwh: z.number(),
    estimatedShare: z.number(),
  }),
  byDay: z.array(Amount.extend({ day: z.string() })),
  byShift: z.array(Amount.extend({ shift: z.string() })),
  /** `units` and `kwhPerUnit` over the line's days with production rows (see `energyPerUnit`). */
  byLine: z.array(Amount.extend({ line: z.string(), units: z.number().nullable(), kwhPerUnit: z.number().nullable() })),
  byPeriod: z.array(Amount.extend({ period: z.string(), share: z.number() })),
  /**
   * kWh per unit produced (ISO 50001 EnPI) over the days and lines with production rows; lines that made
   * 0 units keep their kWh as idle consumption. Null without production rows.
   */
  energyPerUnit: Figures.EnergyPerUnit.nullable(),
  /** Share of kWh in punta (0–1); null without energy or without TOU periods. */
  puntaShare: z.number().nullable(),
  /** Average demand over the hours with data ÷ peak 15-minute demand (Figures.loadFactor; the hours are in `coverage.windows`). */
  loadFactor: z.number().nullable(),
  /** kWh / √(kWh² + kVArh²) of the meters that measure both (Figures.powerFactorOf; which ones in `coverage.powerFactor`). */
  powerFactor: z.number().nullable(),
  demand: z.object({
    peakKw: z.number().nullable(),
    peakAt: z.string().nullable(),
    puntaPeakKw: z.number().nullable(),
    contractedKw: z.number().nullable(),
    /** Peak ÷ contracted demand. */
    ofContracted: z.number().nullable(),
  }),
  /** CO2e of the month's kWh with the grid factor used: the year it was published for (null: given in the request) and its source. */
  co2e: z.object({ kg: z.number(), factorKgPerKwh: z.number(), factorYear: z.number().nullable(), source: z.string() }),
  coverage: Coverage,
});
export type Kpis = z.infer<typeof Kpis>;

export class KpiError extends WattflowError {
  readonly kind = "input" as const;
  readonly code = "kpi.invalid";
  override readonly name = "KpiError";
}

/** The instants of the local month [first day's start, next month's first day's start) (BillingPeriod.monthRange: one rule for a skipped midnight). */
export const monthRange = BillingPeriod.monthRange;

function shiftOf(shifts: readonly Shift[], hour: number): string {
  for (const shift of shifts) {
    const inside = shift.from < shift.to ? hour >= shift.from && hour < shift.to : hour >= shift.from || hour < shift.to;
    if (inside) return shift.name;
  }
  return "other";
}

function add(map: Map<string, { kwh: number; cost: Decimal }>, key: string, kwh: number, cost: string) {
  const found = map.get(key) ?? { kwh: 0, cost: new Decimal(0) };
  found.kwh += kwh;
  found.cost = found.cost.plus(cost);
  map.set(key, found);
}

const amounts = (map: Map<string, { kwh: number; cost: Decimal }>) =>
  [...map.entries()].map(([key, value]) => ({ key, kwh: round(value.kwh, 3), cost: value.cost.toFixed(2, Decimal.ROUND_HALF_UP) }));

/**
 * A factory's month of KPIs.
 * @example Kpi.compute({ month: "2026-03", timeZone: "America/Mexico_City", now, windows, meterDays, meters, production, tariff, … })
 */
export function compute(input: Input): Kpis {
  const { from, to } = BillingPeriod.range(input.period ?? BillingPeriod.cycle(input.month, null), input.timeZone);
  const asOf = new Date(Math.max(from.getTime(), Math.min(input.now.getTime(), to.getTime())));
  const shifts = input.shifts ?? defaultShifts;
  const co2 = Emission.choose(input.month, input.gridFactorKgPerKwh);

  let kwh = 0;
  let estimatedKwh = 0;
  let kvarh = 0;
  let measuredReactive = false;
  let cost = new Decimal(0);
  let peak: { start: Date; kwh: number } | undefined;
  let puntaPeak = 0;
  const byDay = new Map<string, { kwh: number; cost: Decimal }>();
  const byShift = new Map<string, { kwh: number; cost: Decimal }>();
  const byPeriod = new Map<string, { kwh: number; cost: Decimal }>();
  const windows = input.windows.filter((window) => window.start >= from && window.start < to);
  for (const window of windows) {
    kwh += window.kwh;
    estimatedKwh += window.estimatedKwh ?? 0;
    cost = cost.plus(window.cost);
    if (window.kvarh !== null) {
      measuredReactive = true;
      kvarh += window.kvarh;
    }
    const local = Time.toLocal(window.start.getTime(), input.timeZone);
    add(byDay, Time.dateOf(local), window.kwh, window.cost);
    add(byShift, shiftOf(shifts, local.hour), window.kwh, window.cost);
    if (window.period !== null) add(byPeriod, window.period, window.kwh, window.cost);
    // Demand comes from measured slots only: an estimate never sets a peak.
    const measured = Figures.measuredKwh(window);
    if (!peak || measured > peak.kwh) peak = { start: window.start, kwh: measured };
    if (window.period === "punta") puntaPeak = Math.max(puntaPeak, Figures.demandKw(measured));
  }

  const lineOf = new Map(input.meters.map((meter) => [meter.id, meter.line]));
  const byLine = new Map<string, { kwh: number; cost: Decimal }>();
  for (const day of input.meterDays) add(byLine, lineOf.get(day.meterId) ?? "(unassigned)", day.kwh, day.cost);
  const enpi = input.production.length > 0 ? Figures.energyPerUnit({ production: input.production, meterDays: input.meterDays, lineOf }) : null;
  const perLine = new Map(enpi?.lines.map((line) => [line.line, line]));
  const lines = amounts(byLine).map(({ key, ...amount }) => {
    const produced = perLine.get(key);
    return { line: key, ...amount, units: produced?.units ?? null, kwhPerUnit: produced?.kwhPerUnit ?? null };
  });

  const basis = input.bill?.basisMeterIds;
  const pf = Figures.powerFactorOf(
    input.meterDays
      .filter((day) => !basis || basis.length === 0 || basis.includes(day.meterId))
      .map((day) => ({ meterId: day.meterId, kwh: day.kwh, kwhWithKvarh: day.kwhWithKvarh, kvarh: day.kvarh })),
    { billingMeterId: input.billingMeterId },
  );
  const metersWithData = new Set(input.meterDays.filter((day) => day.kwh > 0 || day.kvarh !== null).map((day) => day.meterId));
  const expectedWindows = Math.floor((asOf.getTime() - from.getTime()) / (Figures.demandWindowMinutes * 60_000));
  const hoursWithData = (windows.length * Figures.demandWindowMinutes) / 60;
  const peakKw = input.bill ? input.bill.peakKw : peak ? Figures.demandKw(peak.kwh) : null;
  const peakAt = input.bill ? input.bill.peakAt : peak ? peak.start.toISOString() : null;
  const puntaPeakKw = input.bill ? input.bill.puntaPeakKw : byPeriod.has("punta") ? round(puntaPeak, 3) : null;
  const puntaKwh = byPeriod.get("punta")?.kwh ?? 0;
  return {
    month: input.month,
    timeZone: input.timeZone,
    currency: input.currency,
    range: { from: from.toISOString(), to: to.toISOString(), asOf: asOf.toISOString(), complete: asOf.getTime() >= to.getTime() },
    totals: {
      kwh: round(kwh, 3),
      kvarh: measuredReactive ? round(kvarh, 3) : null,
      cost: cost.toFixed(2, Decimal.ROUND_HALF_UP),
      windows: windows.length,
      estimatedKwh: round(estimatedKwh, 3),
      estimatedShare: kwh > 0 ? round(estimatedKwh / kwh, 4) : 0,
    },
    byDay: amounts(byDay)
      .map(({ key, ...amount }) => ({ day: key, ...amount }))
      .sort((a, b) => a.day.localeCompare(b.day)),
    byShift: amounts(byShift)
      .map(({ key, ...amount }) => ({ shift: key, ...amount }))
      .sort((a, b) => a.shift.localeCompare(b.shift)),
    byLine: lines.sort((a, b) => a.line.localeCompare(b.line)),
    byPeriod: amounts(byPeriod)
      .map(({ key, ...amount }) => ({ period: key, ...amount, share: kwh > 0 ? round(amount.kwh / kwh, 4) : 0 }))
      .sort((a, b) => a.period.localeCompare(b.period)),
    energyPerUnit: enpi,
    puntaShare: byPeriod.size > 0 ? Figures.puntaShare({ puntaKwh, kwh }) : null,
    loadFactor: Figures.loadFactor({ kwh, hoursWithData, peakKw }),
    powerFactor: input.bill ? input.bill.powerFactor : pf.value,
    demand: {
      peakKw: peakKw === null ? null : round(peakKw, 3),
      peakAt,
      puntaPeakKw,
      contractedKw: input.contractedDemandKw,
      ofContracted: peakKw !== null && input.contractedDemandKw ? round(peakKw / input.contractedDemandKw, 4) : null,
    },
    co2e: { kg: round(kwh * co2.kgPerKwh, 3), factorKgPerKwh: co2.kgPerKwh, factorYear: co2.year, source: co2.source },
    coverage: {
      windows: {
        expected: expectedWindows,
        withData: windows.length,
        missing: Math.max(0, expectedWindows - windows.length),
        hoursWithData,
        estimated: windows.filter((window) => (window.estimatedKwh ?? 0) > 0).length,
      },
      meters: {
        withData: [...metersWithData].sort(),
        withoutData: input.meters
          .map((meter) => meter.id)
          .filter((id) => !metersWithData.has(id))
          .sort(),
      },
      powerFactor: { meters: pf.meters, leftOut: pf.leftOut, billingMeter: pf.billingMeter },
    },
  };
}
