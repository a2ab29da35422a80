/**
 * The statement's computing half (pure: no database, no clock): its schema and shapes, the demand rule per quarter-hour,
 * and `compute`, the statement from its gathered inputs. Split from the gathering (`index.ts`: periods, tariffs, basis
 * meters and readings read from the database) because the two change for different reasons: a billing rule here, a
 * table or a query there. `Statement` (index.ts) re-exports all of it.
 */
import Decimal from "decimal.js";
import { z } from "zod";
import { Bill, BillingPeriod } from "../billing";
import { Figures } from "../kpi/figures";
import { inForce, type Version } from "../tariff/index";
import { Plan, TariffError } from "../tariff/plan";
import { WattflowError } from "../util/error";
import { round } from "../util/number";

/** kWh, kVArh and kWh-with-kVArh summed over the basis meters per stored interval (start, seconds, quality). */
export type Slot = Bill.Reading & { kwh: number; kvarh: number | null; kwhWithKvarh: number; readings: number };

export type Basis = Statement["basis"];

/** Money as exact decimal text (MXN, the factory's currency), null when the period is not priced. */
const money = z.string().nullable();

/** The statement's schema (the API's answers); `Statement.Statement` is its type, beside the namespace. */
export const Schema = z.object({
  factoryId: z.string(),
  /** The month CFE labels the period with (BillingPeriod.cycle; a utility bill's reading dates when imported). */
  label: z.string(),
  /** Local dates in the factory's zone, end exclusive (CFE prints the end's date as the period's last reading). */
  period: BillingPeriod.Period,
  /** Where the period comes from: the imported utility bill's reading dates, the factory's cycle day, or the calendar month. */
  periodSource: z.enum(["utility-bill", "cycle-day", "calendar-month"]),
  timeZone: z.string(),
  currency: z.string(),
  /** Instants: [from, to) of the period, `asOf` = now clamped to it; `complete` once asOf reaches `to`. */
  range: z.object({ from: z.string(), to: z.string(), asOf: z.string(), complete: z.boolean() }),
  basis: z.enum(["billing-meters", "all-meters"]),
  /** False when no tariff is in force over the period or it has no prices for it: every money field is then null, never 0. */
  priced: z.boolean(),
  /** Why not priced (null when priced). */
  unpriced: z.string().nullable(),
  /** `estimated`: the period's price month has no published prices yet, the latest stand in. Null when not priced. */
  prices: z.enum(["published", "estimated"]).nullable(),
  /** kWh so far; `estimatedKwh` of it spread from gap readings; share = estimated ÷ kWh. */
  energy: z.object({ kwh: z.number(), measuredKwh: z.number(), estimatedKwh: z.number(), estimatedShare: z.number(), readings: z.number() }),
  /**
   * The energy-only cost (the bill's energy lines, MXN, before fixed, demand, PF, IVA and DAP), per TOU period
   * (null: a tariff without periods) and its projection by the same rule as the bill's.
   */
  energyCost: z.object({
    toDate: money,
    projection: money,
    byPeriod: z.array(z.object({ period: z.string().nullable(), kwh: z.number(), cost: money })),
  }),
  /**
   * kW: the highest measured 15-minute demand so far and the instant (UTC) its quarter-hour began (the earliest of a tie),
   * the highest in punta (null without TOU periods), and the kW the bill charges (decimal text).
   */
  demand: z.object({
    maxKw: z.number().nullable(),
    maxAt: z.string().nullable(),
    puntaKw: z.number().nullable(),
    billedKw: z.object({ capacity: z.string().nullable(), distribution: z.string().nullable() }),
  }),
  /** kWh / √(kWh² + kVArh²) of the readings that measure kVArh (Figures.powerFactor); null when none do. */
  powerFactor: z.number().nullable(),
  /** The bill so far and projected to the period's end (`project`); null when not priced. */
  bill: z.object({ monthToDate: Bill.Schema, projection: Bill.Schema.nullable() }).nullable(),
});
export type Statement = z.infer<typeof Schema>;

/** Something the statement cannot be made for, said so a person can fix it (a factory that does not exist). */
export class StatementError extends WattflowError {
  readonly kind = "input" as const;
  readonly code = "statement.invalid";
  override readonly name = "StatementError";
}

/**
 * The tariff a period is billed on: the version in force at its start, else (a tariff set up mid-period) the
 * first one in force before `until`. Undefined: the period is not priced.
 */
export function tariffOf(versions: readonly Version[], from: Date, until: Date): Version | undefined {
  return inForce(versions, from) ?? versions.filter((version) => version.effectiveFrom < until).sort((a, b) => +a.effectiveFrom - +b.effectiveFrom)[0];
}

/** A slot whose energy was spread from a gap, not measured: energy, never demand. */
const isEstimated = (slot: Slot) => slot.quality === "estimated" || (slot.seconds > 300 && slot.quality !== "measured");

/**
 * The statement's demand rule: measured kWh per UTC quarter-hour (keyed by its start, ms since the epoch), summed over
 * the slots given (the basis meters'); an estimated slot sets no demand (issue 12). A slot longer than 5 minutes is
 * split evenly over its 5-minute parts. The quarter's kW is `Figures.demandKw` of its kWh (× 4).
 * Rule: CFE bills the highest 15-minute demand in windows aligned to :00, :15, :30 and :45.
 * @example measuredByQuarter([{ start: 18:00Z, seconds: 900, quality: "measured", kwh: 15, … }]) → Map { 18:00Z → 15 }
 */
export function measuredByQuarter(slots: readonly Slot[]): Map<number, number> {
  const windows = new Map<number, number>();
  for (const slot of slots) {
    if (isEstimated(slot)) continue;
    const parts = slot.seconds / 300;
    for (let part = 0; part < parts; part++) {
      const window = Math.floor((slot.start.getTime() + part * 300_000) / 900_000) * 900_000;
      windows.set(window, (windows.get(window) ?? 0) + slot.kwh / parts);
    }
  }
  return windows;
}

/**
 * One UTC quarter-hour of the basis meters: its measured kWh (`measuredByQuarter`: what sets demand), kVArh (null when
 * nothing in it measured kVArh) and the kWh of the readings that carry kVArh (for `Figures.powerFactor`).
 */
export type Quarter = { start: Date; measuredKwh: number; kvarh: number | null; kwhWithKvarh: number };

/**
 * Slots folded into their UTC quarter-hours, in time order: the statement's demand and power-factor inputs per quarter,
 * so a rule that judges one quarter (the alerts) reads the bill's figures. A quarter only estimated has measuredKwh 0.
 */
export function quarters(slots: readonly Slot[]): Quarter[] {
  const measured = measuredByQuarter(slots);
  const byStart = new Map<number, Quarter>();
  for (const slot of slots) {
    const start = Math.floor(slot.start.getTime() / 900_000) * 900_000;
    const quarter = byStart.get(start) ?? { start: new Date(start), measuredKwh: measured.get(start) ?? 0, kvarh: null, kwhWithKvarh: 0 };
    if (slot.kvarh !== null) quarter.kvarh = (quarter.kvarh ?? 0) + slot.kvarh;
    quarter.kwhWithKvarh += slot.kwhWithKvarh;
    byStart.set(start, quarter);
  }
  // A slot longer than a quarter (never from the rollups) puts measured kWh in quarters it does not start in.
  for (const [start, kwh] of measured) if (!byStart.has(start)) byStart.set(start, { start: new Date(start), measuredKwh: kwh, kvarh: null, kwhWithKvarh: 0 });
  return [...byStart.values()].sort((a, b) => a.start.getTime() - b.start.getTime());
}

/**
 * Whether a tariff's bill can be computed from quarter-hour sums (`slots(…, "quarter-hour")`): no tariff, a flat
 * one, or a time-of-use one whose demand window is fixed and a whole number of quarter-hours. A rolling window (it
 * steps every 5 minutes) or a 5-minute one needs the 5-minute slots.
 */
export function quarterHoursSuffice(version: Version | undefined): boolean {
  const definition = version?.definition;
  if (!definition || definition.kind === "flat") return true;
  try {
    const window = Plan.of(definition).tou.demandWindow ?? { minutes: 15, rolling: false };
    return !window.rolling && window.minutes % 15 === 0;
  } catch {
    // A definition the plan cannot read is reported unpriced by `compute`; its energy reads the same either way.
    return true;
  }
}

export type Input = {
  factoryId: string;
  label: string;
  period: BillingPeriod.Period;
  periodSource: Statement["periodSource"];
  timeZone: string;
  currency: string;
  contract: Bill.Contract;
  /** The statement's "now": figures stop here and the projection scales from it. */
  now: Date;
  version: Version | undefined;
  basis: Basis;
  /** How many meters the basis sums (`basisOf`): each owes one reading per 5-minute slot of the period. */
  basisMeters: number;
  slots: readonly Slot[];
  priorPeaks: readonly Bill.PriorPeak[];
};

/**
 * The statement from its inputs (pure). Bill so far: `Bill.compute` over the summed readings of [from, asOf) — the
 * close's inputs exactly, so at the period's end it is the bill the close stores.
 *
 * Projection rule: the same bill over the whole period with every kWh and kVArh so far scaled by (period hours ÷
 * elapsed hours), elapsed = asOf − from; so each TOU period keeps its share and tiers fill in time order; demand
 * (and so capacity, distribution and ratchets) stays as measured so far, a peak not reached yet is not guessed.
 * The scaled-up energy enters as estimated energy (it never sets demand), so the projection's `estimatedKwh`
 * says how much of it is extrapolated. Once the period is complete the projection is the bill.
 * A tariff without prices for the period, or a period the engine refuses (BillError), makes the statement
 * `priced: false` with the reason (and the input's path) in `unpriced`.
 */
export function compute(input: Input): Statement {
  const { from, to } = BillingPeriod.range(input.period, input.timeZone);
  const asOf = new Date(Math.max(from.getTime(), Math.min(input.now.getTime(), to.getTime())));
  const complete = asOf.getTime() >= to.getTime();
  let kwh = 0;
  let estimatedKwh = 0;
  let kvarh: number | null = null;
  let kwhWithKvarh = 0;
  let readings = 0;
  for (const slot of input.slots) {
    kwh += slot.kwh;
    readings += slot.readings;
    if (isEstimated(slot)) estimatedKwh += slot.kwh;
    if (slot.kvarh !== null) kvarh = (kvarh ?? 0) + slot.kvarh;
    kwhWithKvarh += slot.kwhWithKvarh;
  }
  const windows = measuredByQuarter(input.slots);
  let maxKw: number | null = null;
  let maxAt: number | null = null;
  let puntaKw: number | null = null;
  const definition = input.version?.definition;
  let calendar: ReturnType<ReturnType<typeof Plan.of>["calendar"]> | undefined;
  let planProblem: string | undefined;
  if (definition && definition.kind !== "flat") {
    try {
      calendar = Plan.of(definition).calendar(input.timeZone);
    } catch (error) {
      // A tariff with no price table: not priced, said so below; the energy and demand still count.
      if (!(error instanceof TariffError)) throw error;
      planProblem = error.message;
    }
  }
  for (const [start, windowKwh] of windows) {
    const kw = Figures.demandKw(windowKwh);
    if (maxKw === null || maxAt === null || kw > maxKw || (kw === maxKw && start < maxAt)) {
      maxKw = kw;
      maxAt = start;
    }
    if (calendar && calendar.periodsAt(start).demandPeriod === "punta") puntaKw = Math.max(puntaKw ?? 0, kw);
  }
  const base = {
    factoryId: input.factoryId,
    label: input.label,
    period: input.period,
    periodSource: input.periodSource,
    timeZone: input.timeZone,
    // A flat tariff names its own currency; CFE plans bill in the factory's.
    currency: definition?.kind === "flat" ? definition.currency : input.currency,
    range: { from: from.toISOString(), to: to.toISOString(), asOf: asOf.toISOString(), complete },
    basis: input.basis,
    energy: {
      kwh: round(kwh, 3),
      measuredKwh: round(kwh - estimatedKwh, 3),
      estimatedKwh: round(estimatedKwh, 3),
      estimatedShare: kwh > 0 ? round(estimatedKwh / kwh, 4) : 0,
      readings,
    },
    powerFactor: Figures.powerFactor({ kwh: kwhWithKvarh, kvarh }),
  };
  const demandOnly = {
    maxKw: maxKw === null ? null : round(maxKw, 3),
    maxAt: maxAt === null ? null : new Date(maxAt).toISOString(),
    puntaKw: puntaKw === null ? null : round(puntaKw, 3),
  };
  const unpriced = (reason: string): Statement => ({
    ...base,
    priced: false,
    unpriced: reason,
    prices: null,
    energyCost: { toDate: null, projection: null, byPeriod: byPeriodKwh(input, calendar).map((row) => ({ ...row, cost: null })) },
    demand: { ...demandOnly, billedKw: { capacity: null, distribution: null } },
    bill: null,
  });
  if (!definition) return unpriced(`no tariff is in force for ${input.factoryId} between ${input.period.start} and ${input.period.end}`);
  if (planProblem !== undefined) return unpriced(planProblem);

  const elapsed = asOf.getTime() - from.getTime();
  const scale = elapsed > 0 ? (to.getTime() - from.getTime()) / elapsed : null;
  let monthToDate: Bill.Bill;
  let projection: Bill.Bill | null;
  if (definition.kind === "flat") {
    // A flat tariff has no demand, power factor or tax rules: the bill is its energy line.
    const sum = (rows: readonly Slot[]) => rows.reduce((total, slot) => total.plus(new Decimal(slot.kwh).toDecimalPlaces(6)), new Decimal(0));
    const total = sum(input.slots);
    const estimated = sum(input.slots.filter((slot) => slot.quality === "estimated"));
    const flat = (quantity: Decimal, estimatedQuantity: Decimal) =>
      Bill.flat(quantity.toFixed(), definition.energyPrice, quantity.times(definition.energyPrice), estimatedQuantity.toFixed());
    monthToDate = flat(total, estimated);
    projection =
      scale === null
        ? null
        : complete
          ? monthToDate
          : flat(
              total.times(scale).toDecimalPlaces(6),
              total
                .times(scale - 1)
                .plus(estimated)
                .toDecimalPlaces(6),
            );
  } else {
    const bill = (usage: readonly Bill.Reading[]) =>
      Bill.compute({
        definition,
        timeZone: input.timeZone,
        contract: input.contract,
        period: input.period,
        priorPeaks: input.priorPeaks,
        usage: { readings: usage },
      });
    const measured: Bill.Reading[] = input.slots.map((slot) => ({
      start: slot.start,
      seconds: slot.seconds,
      kwh: slot.kwh,
      kvarh: slot.kvarh,
      kwhWithKvarh: slot.kwhWithKvarh,
      quality: slot.quality,
    }));
    try {
      monthToDate = bill(measured);
      if (scale === null) projection = null;
      else if (complete || scale === 1) projection = monthToDate;
      else {
        const extra = scale - 1;
        projection = bill([
          ...measured,
          ...input.slots.map((slot) => ({
            start: slot.start,
            seconds: slot.seconds,
            kwh: slot.kwh * extra,
            kvarh: slot.kvarh === null ? null : slot.kvarh * extra,
            kwhWithKvarh: slot.kwhWithKvarh * extra,
            quality: "estimated" as const,
          })),
        ]);
      }
    } catch (error) {
      // A tariff without prices for the period, or a period the engine cannot bill: not priced, said where.
      if (error instanceof TariffError) return unpriced(error.message);
      if (error instanceof Bill.BillError) return unpriced(`${error.message} (${error.path})`);
      throw error;
    }
  }
  const energyOf = (bill: Bill.Bill | null) =>
    bill === null
      ? null
      : bill.lines
          .filter((line) => line.code === "energy" || line.code.startsWith("energy-"))
          .reduce((sum, line) => sum.plus(line.amount), new Decimal(0))
          .toFixed(2);
  const costByPeriod = new Map<string | null, Decimal>();
  for (const line of monthToDate.lines) {
    if (line.code !== "energy" && !line.code.startsWith("energy-")) continue;
    const period = line.code === "energy" ? null : line.code.slice("energy-".length).replace(/-tier\d+$/, "");
    costByPeriod.set(period, (costByPeriod.get(period) ?? new Decimal(0)).plus(line.amount));
  }
  const quantity = (code: string) => monthToDate.lines.find((line) => line.code === code)?.quantity ?? null;
  return {
    ...base,
    priced: true,
    unpriced: null,
    prices: monthToDate.estimated ? "estimated" : "published",
    energyCost: {
      toDate: energyOf(monthToDate),
      projection: energyOf(projection),
      byPeriod: byPeriodKwh(input, calendar).map((row) => ({ ...row, cost: (costByPeriod.get(row.period) ?? new Decimal(0)).toFixed(2) })),
    },
    demand: { ...demandOnly, billedKw: { capacity: quantity("capacity"), distribution: quantity("distribution") } },
    bill: { monthToDate, projection },
  };
}

/** kWh per energy period (null: a tariff without periods), each 5-minute slot by its own period. */
function byPeriodKwh(input: Input, calendar: ReturnType<ReturnType<typeof Plan.of>["calendar"]> | undefined): { period: string | null; kwh: number }[] {
  const kwh = new Map<string | null, number>();
  for (const slot of input.slots) {
    const parts = slot.seconds / 300;
    for (let part = 0; part < parts; part++) {
      const period = calendar ? calendar.periodsAt(slot.start.getTime() + part * 300_000).period : null;
      kwh.set(period, (kwh.get(period) ?? 0) + slot.kwh / parts);
    }
  }
  return [...kwh.entries()]
    .map(([period, value]) => ({ period, kwh: round(value, 3) }))
    .sort((a, b) => (a.period === null ? 1 : b.period === null ? -1 : a.period.localeCompare(b.period)));
}

/** As of the end of whatever period is asked for: the close's "now" (a period that has ended is complete). */
export const atPeriodEnd = new Date(8_640_000_000_000_000);
