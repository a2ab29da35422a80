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
 *
 * This file gathers (the period, tariff, basis meters and readings, from the database); `compute.ts` computes
 * (pure), and is re-exported here, so callers read one namespace: `Statement.of`, `Statement.compute`, ...
 */
import { and, eq, gte, inArray, lt, sql } from "drizzle-orm";
import { type Bill, BillingPeriod } from "../billing";
import { billTable } from "../close/bill.sql";
import { Config } from "../config";
import { Database } from "../database";
import { factoryTable } from "../factory/factory.sql";
import { Figures } from "../kpi/figures";
import { meterTable } from "../meter/meter.sql";
import { Definition, type Version } from "../tariff/index";
import { monthKeyOf, monthOfKey } from "../tariff/plan";
import { tariffTable } from "../tariff/tariff.sql";
import { VisibleError } from "../util/error";
import {
  type Basis,
  compute,
  type Input,
  type Quarter,
  quarterHoursSuffice,
  quarters,
  type Statement as Shape,
  type Slot,
  StatementError,
  tariffOf,
} from "./compute";

export type { Basis, Input, Quarter, Slot } from "./compute";
// The computing half (pure), read through this namespace as before: Statement.compute, Statement.Schema, ...
export { atPeriodEnd, compute, measuredByQuarter, quarterHoursSuffice, quarters, Schema, StatementError, tariffOf } from "./compute";
export * as Statement from "./index";
/** The statement's shape (`Schema`, in compute.ts): what `of` answers. */
export type Statement = Shape;

/** Which period: `current` (the one today's local date is in) or a month label YYYY-MM (the period CFE bills as that month). */
export type Which = "current" | string;

/** The factory fields the statement depends on (a `factoryTable` row has them). */
export type FactoryRow = typeof factoryTable.$inferSelect;

const monthPattern = /^\d{4}-(0[1-9]|1[0-2])$/;

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
