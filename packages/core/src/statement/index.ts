/**
 * The statement: a factory's billing period so far and its projection to the period's end — the one read
 * model for "what will this period's bill be" (issues 13, 14, 16). The console's overview, `GET
 * /v1/factories/:id/kpis` and the monthly close all read it, so they cannot disagree: the close is the
 * statement of a period that has ended.
 *
 * Why its own domain and not `kpi`: `kpi` is pure math over 15-minute windows from the time-series port
 * (InfluxDB or the lake), which may lag the database; a bill must come from the readings the close bills
 * (the `reading` table, the billing meters only), through the same `Bill` engine, priorPeaks and contract.
 * The KPIs keep their breakdowns (per day, shift, line) and take their bill figures from here.
 */
import Decimal from "decimal.js";
import { and, eq, gte, inArray, lt, sql } from "drizzle-orm";
import { z } from "zod";
import { Bill, BillingPeriod } from "../billing";
import { billTable } from "../close/bill.sql";
import { Config } from "../config";
import { Database } from "../database";
import { factoryTable } from "../factory/factory.sql";
import { Figures } from "../kpi/figures";
import { meterTable } from "../meter/meter.sql";
import { Definition, inForce, type Version } from "../tariff/index";
import { monthKeyOf, monthOfKey, Plan, TariffError } from "../tariff/plan";
import { tariffTable } from "../tariff/tariff.sql";
import { VisibleError, WattflowError } from "../util/error";
import { round } from "../util/number";

export * as Statement from "./index";

/** Which period: `current` (the one today's local date is in) or a month label YYYY-MM (the period CFE bills as that month). */
export type Which = "current" | string;

/** The factory fields the statement depends on (a `factoryTable` row has them). */
export type FactoryRow = typeof factoryTable.$inferSelect;

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

const monthPattern = /^\d{4}-(0[1-9]|1[0-2])$/;

/** Something the statement cannot be made for, said so a person can fix it (a factory that does not exist). */
export class StatementError extends WattflowError {
  readonly kind = "input" as const;
  readonly code = "statement.invalid";
  constructor(message: string) {
    super(message);
    this.name = "StatementError";
  }
}

/**
 * The billing period labelled `label` (YYYY-MM) for a factory: the reading dates of the utility bill imported for
 * that month when it has them; else the factory's cycle day (`BillingPeriod.cycle`), else the calendar month — with
 * its bounds moved to meet a neighbouring imported bill, because CFE bills from one meter reading to the next: a
 * period starts where the previous month's bill ended and ends where the next month's began, so no day is billed
 * twice or never (a utility bill of 27 Oct – 26 Nov followed by cycle day 28: December starts on 26 Nov).
 * @throws StatementError when `label` is not YYYY-MM.
 */
export async function periodOf(
  factory: { id: string; billingCycleDay: number | null },
  label: string,
): Promise<{ period: BillingPeriod.Period; source: Statement["periodSource"] }> {
  if (!monthPattern.test(label)) throw new StatementError(`month ${JSON.stringify(label)} is not YYYY-MM`);
  const previous = BillingPeriod.previousMonth(label);
  const next = BillingPeriod.nextMonth(label);
  const utility = await Database.use()
    .select({ month: billTable.month, start: billTable.periodStart, end: billTable.periodEnd })
    .from(billTable)
    .where(and(eq(billTable.factoryId, factory.id), inArray(billTable.month, [previous, label, next]), eq(billTable.source, "utility")));
  const read = (month: string) => utility.find((bill) => bill.month === month && bill.start && bill.end);
  const own = read(label);
  if (own?.start && own.end) return { period: { start: own.start, end: own.end }, source: "utility-bill" };
  const period = BillingPeriod.cycle(label, factory.billingCycleDay);
  const before = read(previous)?.end;
  const after = read(next)?.start;
  const met = { start: before ?? period.start, end: after ?? period.end };
  // Neighbours that leave nothing between them (a bill imported out of order) keep the cycle's own dates.
  const bounds = met.start < met.end ? met : period;
  return { period: bounds, source: factory.billingCycleDay ? "cycle-day" : "calendar-month" };
}

/**
 * The label and period `which` names: a month label as is; `current` the period holding `now`'s local date
 * (the cycle's label for that date, moved one period when an imported utility bill's dates put the date in the
 * neighbouring period).
 */
export async function resolve(factory: FactoryRow, which: Which, now: Date) {
  if (which !== "current") return { label: which, ...(await periodOf(factory, which)) };
  const today = BillingPeriod.localDate(now, factory.timeZone);
  let label = BillingPeriod.labelOf(today, factory.billingCycleDay);
  let found = await periodOf(factory, label);
  if (today < found.period.start) label = BillingPeriod.previousMonth(label);
  else if (today >= found.period.end) label = BillingPeriod.nextMonth(label);
  if (label !== BillingPeriod.labelOf(today, factory.billingCycleDay)) found = await periodOf(factory, label);
  return { label, ...found };
}

/** Tariff versions read fresh (not through TariffStore's cache: a price import may have changed them a moment ago). */
export async function versionsOf(factoryId: string): Promise<Version[]> {
  const rows = await Database.use().select().from(tariffTable).where(eq(tariffTable.factoryId, factoryId));
  return rows.map((row) => ({ id: row.id, factoryId: row.factoryId, effectiveFrom: row.effectiveFrom, definition: Definition.parse(row.definition) }));
}

/**
 * The tariff a period is billed on: the version in force at its start, else (a tariff set up mid-period) the
 * first one in force before `until`. Undefined: the period is not priced.
 */
export function tariffOf(versions: readonly Version[], from: Date, until: Date): Version | undefined {
  return inForce(versions, from) ?? versions.filter((version) => version.effectiveFrom < until).sort((a, b) => +a.effectiveFrom - +b.effectiveFrom)[0];
}

/**
 * The maximum demand of the factory's earlier closed bills (`wattflow`, the months before `label` within the
 * longest ratchet lookback a tariff may have), for the tariff's demand ratchets.
 */
export async function priorPeaks(factoryId: string, label: string): Promise<Bill.PriorPeak[]> {
  const key = monthKeyOf(label);
  const rows = await Database.use()
    .select({ month: billTable.month, kw: billTable.peakDemandKw })
    .from(billTable)
    .where(
      and(
        eq(billTable.factoryId, factoryId),
        eq(billTable.source, "wattflow"),
        lt(billTable.month, label),
        gte(billTable.month, monthOfKey(key - Config.ratchetMaxLookbackMonths)),
      ),
    );
  return rows.flatMap((row) => (row.kw === null ? [] : [{ month: row.month, kw: Number(row.kw) }]));
}

/**
 * Which meters' readings a factory's bill and its 15-minute demand are read from — the one place this rule lives
 * (the statement, the close and the console's demand all ask it): its billing meters (`role = 'billing'`, the
 * utility's supply-point meters), or every meter when none is marked billing (`basis: "all-meters"`, `meterIds` empty);
 * `meters` counts the basis meters that owe readings over `during` [from, to): those on record before its end or that
 * stored a reading in it — a meter added after a month never makes that month look incomplete, and one on record but
 * silent all month does (each owes one reading per 5-minute slot: Close.coverageOf). Without `during`, every basis meter.
 * Rule: CFE bills the demand its own meter at the supply point measures, not the sum of sub-meters.
 */
export async function basisOf(factoryId: string, during?: { from: Date; to: Date }): Promise<{ basis: Basis; meterIds: string[]; meters: number }> {
  // 1 when the meter owes the span readings, as an integer: both drivers read it the same way.
  const owes = during
    ? sql`(case when ${meterTable.createdAt} < ${during.to.toISOString()}::timestamptz or exists (select 1 from reading r where r.meter_id = ${meterTable.id}
        and r.interval_start >= ${during.from.toISOString()}::timestamptz and r.interval_start < ${during.to.toISOString()}::timestamptz) then 1 else 0 end)`.mapWith(
        Number,
      )
    : sql`1`.mapWith(Number);
  const meters = await Database.use().select({ id: meterTable.id, role: meterTable.role, owes }).from(meterTable).where(eq(meterTable.factoryId, factoryId));
  const billing = meters.filter((meter) => meter.role === "billing");
  const basis = billing.length > 0 ? billing : meters;
  return {
    basis: billing.length > 0 ? "billing-meters" : "all-meters",
    meterIds: billing.map((meter) => meter.id),
    meters: basis.filter((meter) => meter.owes === 1).length,
  };
}

/**
 * The factory's stored readings in [from, to), summed over its basis meters (`basisOf`) — what the bill engine needs.
 * `resolution: "quarter-hour"` reads the rollups kept with the readings (`rollup_factory_15m` for all meters,
 * `rollup_15m` for billing meters): one measured and, where a gap was spread, one estimated 900-second slot per UTC
 * quarter-hour, 2,880 rows a month whatever the number of meters — enough for every rule whose demand window is a
 * fixed 15, 30 or 60 minutes on the quarter (CFE's: 15 fixed) and whose periods change on the quarter
 * (`Definition`: hours are whole quarters). `"slot"` sums the 5-minute readings, for rolling or 5-minute windows.
 * Returns kWh, kVArh (null when none was measured), kWh-with-kVArh and the readings summed into each slot.
 */
export async function slots(
  factoryId: string,
  from: Date,
  to: Date,
  resolution: "quarter-hour" | "slot" = "slot",
): Promise<{ basis: Basis; meters: number; slots: Slot[] }> {
  const db = Database.use();
  const { basis, meterIds, meters } = await basisOf(factoryId, { from, to });
  const onlyBilling = basis === "billing-meters" ? sql`and meter_id = any(${sql.param(meterIds)}::text[])` : sql``;
  if (resolution === "quarter-hour") {
    const table = basis === "billing-meters" ? sql`rollup_15m` : sql`rollup_factory_15m`;
    const result = await db.execute(sql`
      select bucket_start as start, sum(kwh)::float8 as kwh, sum(estimated_kwh)::float8 as estimated_kwh, sum(kvarh)::float8 as kvarh,
        sum(kwh_with_kvarh)::float8 as kwh_with_kvarh, sum(readings)::int as readings
      from ${table}
      where factory_id = ${factoryId} and bucket_start >= ${from.toISOString()}::timestamptz and bucket_start < ${to.toISOString()}::timestamptz ${onlyBilling}
      group by 1 order by 1`);
    const rows = (
      result as unknown as {
        rows: { start: Date | string; kwh: number; estimated_kwh: number; kvarh: number | null; kwh_with_kvarh: number; readings: number }[];
      }
    ).rows;
    return { basis, meters, slots: rows.flatMap(quarterSlots) };
  }
  const result = await db.execute(sql`
    select interval_start as start, interval_seconds as seconds, quality, sum(kwh)::float8 as kwh, sum(kvarh)::float8 as kvarh,
      coalesce(sum(${sql.raw(Figures.sql.kwhWithKvarh("kwh", "kvarh"))}), 0)::float8 as kwh_with_kvarh, count(*)::int as readings
    from reading
    where factory_id = ${factoryId} and interval_start >= ${from.toISOString()}::timestamptz and interval_start < ${to.toISOString()}::timestamptz ${onlyBilling}
    group by 1, 2, 3 order by 1, 2, 3`);
  const rows = (
    result as unknown as {
      rows: {
        start: Date | string;
        seconds: number;
        quality: "measured" | "estimated";
        kwh: number;
        kvarh: number | null;
        kwh_with_kvarh: number;
        readings: number;
      }[];
    }
  ).rows;
  return {
    basis,
    meters,
    slots: rows.map((row) => ({
      start: new Date(row.start),
      seconds: row.seconds,
      quality: row.quality,
      kwh: row.kwh,
      kvarh: row.kvarh,
      kwhWithKvarh: row.kwh_with_kvarh,
      readings: row.readings,
    })),
  };
}

/**
 * A quarter-hour's rollup sums as the bill engine's slots: its measured kWh (kWh less the estimated part) and its
 * estimated kWh, each over the quarter's 900 seconds. kVArh, kWh-with-kVArh and the readings count go with the
 * measured slot (with the estimated one when nothing was measured): the engine sums them over the period.
 */
function quarterSlots(row: {
  start: Date | string;
  kwh: number;
  estimated_kwh: number;
  kvarh: number | null;
  kwh_with_kvarh: number;
  readings: number;
}): Slot[] {
  const start = new Date(row.start);
  // kWh − estimated kWh of float sums can fall a hair below 0 when all was estimated.
  const measuredKwh = Math.max(0, row.kwh - row.estimated_kwh);
  const totals = { kvarh: row.kvarh, kwhWithKvarh: row.kwh_with_kvarh, readings: row.readings };
  const none = { kvarh: null, kwhWithKvarh: 0, readings: 0 };
  const quarter: Slot[] = [];
  if (measuredKwh > 0 || row.estimated_kwh <= 0) quarter.push({ start, seconds: 900, quality: "measured", kwh: measuredKwh, ...totals });
  if (row.estimated_kwh > 0) quarter.push({ start, seconds: 900, quality: "estimated", kwh: row.estimated_kwh, ...(quarter.length === 0 ? totals : none) });
  return quarter;
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
 * The quarter-hours of a factory's basis meters (`basisOf`) in [from, to), read from the rollups (`slots`
 * "quarter-hour": one row per quarter whatever the number of meters, ~2,900 a month), folded by `quarters`. What the
 * alert rules judge the bill's demand and power factor from, every few minutes, without summing 5-minute readings.
 */
export async function quartersOf(factoryId: string, from: Date, to: Date): Promise<{ basis: Basis; quarters: Quarter[] }> {
  const read = await slots(factoryId, from, to, "quarter-hour");
  return { basis: read.basis, quarters: quarters(read.slots) };
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

/**
 * Everything `compute` needs for a factory's period as of `now`: the period `which` names (BillingPeriod rules,
 * the imported utility bill's reading dates first), the tariff in force (`tariffOf`), the summed readings of its
 * billing meters, the contract and the earlier bills' peaks.
 * @throws StatementError when `which` is not `current` or YYYY-MM; VisibleError not_found when the factory does not exist.
 */
export async function gather(factoryId: string, which: Which, now = new Date()): Promise<Input & { factory: FactoryRow }> {
  const [factory] = await Database.use().select().from(factoryTable).where(eq(factoryTable.id, factoryId));
  if (!factory) throw new VisibleError("not_found", "factory.not_found", `factory ${factoryId} does not exist`);
  const { label, period, source } = await resolve(factory, which, now);
  const { from, to } = BillingPeriod.range(period, factory.timeZone);
  const until = new Date(Math.max(from.getTime() + 1, Math.min(now.getTime(), to.getTime())));
  const [versions, peaks] = await Promise.all([versionsOf(factory.id), priorPeaks(factory.id, label)]);
  const version = tariffOf(versions, from, until);
  const summed = await slots(factory.id, from, to, quarterHoursSuffice(version) ? "quarter-hour" : "slot");
  return {
    factory,
    factoryId: factory.id,
    label,
    period,
    periodSource: source,
    timeZone: factory.timeZone,
    currency: factory.currency,
    contract: {
      state: factory.state,
      municipality: factory.municipality,
      supplyVoltage: factory.supplyVoltage,
      contractedDemandKw: factory.contractedDemandKw === null ? null : Number(factory.contractedDemandKw),
    },
    now,
    version,
    basis: summed.basis,
    basisMeters: summed.meters,
    slots: summed.slots,
    priorPeaks: peaks,
  };
}

/**
 * A factory's statement for a billing period as of `now` (`gather`, then `compute`). Not org-scoped: callers
 * check the factory belongs to the actor (`Factory.get`).
 * @throws StatementError when `which` is not `current` or YYYY-MM; VisibleError not_found when the factory does not exist.
 * @example await Statement.of("fac_…", "current") → { label: "2026-03", period: { start: "2026-02-28", end: "2026-03-28" }, priced: true, bill: { monthToDate, projection }, … }
 */
export async function of(factoryId: string, which: Which, now = new Date()): Promise<Statement> {
  return compute(await gather(factoryId, which, now));
}
