/**
 * The console's series of one factory over a range: power, kWh, cost and TOU period per local bucket, the 15-minute
 * demand with its peak, kWh and cost per period, totals and per-meter totals.
 */
import Decimal from "decimal.js";
import { sql } from "drizzle-orm";
import { z } from "zod";
import { Database } from "../database";
import { Factory } from "../factory";
import { Figures } from "../kpi/figures";
import { Grid } from "../reading/grid";
import { Rollup } from "../rollup";
import { basisOf } from "../statement/index";
import { Time } from "../time";
import { round } from "../util/number";
import { missingSlots } from "./gaps";
import type { Query } from "./query";
import { type BucketSums, bucketSeconds, bucketWidth, dayStarts, found, jsonRows, priced, type Source, sourceOf, sums } from "./sums";

/**
 * `series`' answer with money as `money` says (MXN rounded to the cent as text, or null) and each bucket's cost as
 * `bucketCost` (a number, or null).
 */
const seriesOf = <M extends z.ZodType, B extends z.ZodType>(money: M, bucketCost: B) =>
  z.object({
    factory: Factory.Info,
    from: z.string(),
    to: z.string(),
    bucket: z.enum(["5m", "15m", "1h", "1d"]),
    /**
     * Per bucket: start and end (epoch seconds; a local day is 23 to 25 hours where clocks change), kWh
     * (`estimatedKwh` of it spread from gap readings), average kW and estimated kW (kWh ÷ the bucket's hours that
     * have passed: within [from, to) and up to the last slot that has ended, so today's day is not diluted by hours to
     * come), cost, the most frequent TOU period, and `periodKwh`: each period's kWh in each bucket (0 where it had none),
     * the truthful split of an hour or a day that spans periods. `partial`: the range [from, to) cuts the bucket (a
     * `from` or `to` inside it), so its kWh and cost are the part inside the range only.
     */
    buckets: z.object({
      t: z.array(z.number()),
      end: z.array(z.number()),
      partial: z.array(z.boolean()),
      kw: z.array(z.number()),
      estimatedKw: z.array(z.number()),
      kwh: z.array(z.number()),
      estimatedKwh: z.array(z.number()),
      cost: z.array(bucketCost),
      period: z.array(z.string().nullable()),
      periodKwh: z.record(z.string(), z.array(z.number())),
    }),
    /**
     * 15-minute demand windows aligned to :00/:15/:30/:45 of UTC, kW = the window's measured kWh × 4 (Figures.demandKw)
     * over the statement's basis meters (Statement.basisOf): the windows the bill's demand is read from. With 5- and
     * 15-minute buckets one point per window; with hours and days one point per bucket (`t` its start), the highest
     * window in it: a peak, never an average. `peak` is the highest window of the range either way.
     */
    demand: z.object({
      t: z.array(z.number()),
      kw: z.array(z.number()),
      peak: z.object({ t: z.number(), kw: z.number() }).nullable(),
      contractedKw: z.number().nullable(),
    }),
    /** Null period: a tariff without time-of-use periods (or readings not priced yet). */
    byPeriod: z.array(z.object({ period: z.string().nullable(), kwh: z.number(), cost: money })),
    /** As the usage route's totals: measured + estimated = kWh; `missingSlots`: meter slots in [from, min(to, now)) with no value. */
    totals: z.object({
      kwh: z.number(),
      cost: money,
      readings: z.number(),
      powerFactor: z.number().nullable(),
      measuredKwh: z.number(),
      estimatedKwh: z.number(),
      estimatedShare: z.number(),
      missingSlots: z.number(),
    }),
    meters: z.array(
      z.object({
        id: z.string(),
        name: z.string(),
        line: z.string(),
        deviceId: z.string(),
        kwh: z.number(),
        cost: money,
        maxKw: z.number().nullable(),
        powerFactor: z.number().nullable(),
        lastReading: z.string().nullable(),
      }),
    ),
  });

/** A factory's series over a range: priced (money as cent text, bucket costs as numbers) or not (`priced: false`: every cost null). */
export const Series = z.discriminatedUnion("priced", [
  seriesOf(z.string(), z.number()).extend({ priced: z.literal(true) }),
  seriesOf(z.null(), z.null()).extend({ priced: z.literal(false) }),
]);
export type Series = z.infer<typeof Series>;

/**
 * The measured kWh per UTC quarter-hour of the factory's basis meters over [from, to) (`t`: the window's start,
 * epoch seconds): from the factory rollup when every meter counts, from the billing meters' quarter-hours
 * otherwise, or from their readings (`source` readings). Rule: CFE's demand windows; an estimate never sets demand.
 * With hour and day buckets, one point per local bucket: its highest window's measured kWh and that window's start
 * (`peakT`), summed in the database, so a year sends 365 points instead of 35,040 windows.
 */
async function demandWindows(factoryId: string, timeZone: string, query: Query, source: Source): Promise<{ t: number; measuredKwh: number; peakT: number }[]> {
  const { basis, meterIds } = await basisOf(factoryId);
  const meters = sql`and meter_id = any(${sql.param(meterIds)}::text[])`;
  const range = (column: string) =>
    sql`factory_id = ${factoryId} and ${sql.raw(column)} >= ${query.from}::timestamptz and ${sql.raw(column)} < ${query.to}::timestamptz`;
  const rows =
    source === "readings"
      ? sql`select date_bin('15 minutes', interval_start, timestamptz '2000-01-01') as at, sum(kwh)::float8 as kwh,
          coalesce(sum(kwh) filter (where quality = 'estimated'), 0)::float8 as estimated_kwh
          from reading where ${range("interval_start")} ${basis === "billing-meters" ? meters : sql``} group by 1`
      : sql`select bucket_start as at, sum(kwh)::float8 as kwh, sum(estimated_kwh)::float8 as estimated_kwh
          from ${sql.raw(basis === "billing-meters" || source !== "factory" ? "rollup_15m" : "rollup_factory_15m")}
          where ${range("bucket_start")} ${basis === "billing-meters" ? meters : sql``} group by 1`;
  if (query.bucket === "5m" || query.bucket === "15m") {
    const windows = await jsonRows<{ t: number; kwh: number; estimated_kwh: number }>(
      sql`select extract(epoch from at)::float8 as t, kwh, estimated_kwh from (${rows}) w`,
      "t",
    );
    return windows.map((row) => ({ t: row.t, measuredKwh: Figures.measuredKwh({ kwh: row.kwh, estimatedKwh: row.estimated_kwh }), peakT: row.t }));
  }
  // The highest window of each bucket, the earliest of equals (as the range's peak).
  const peaks = await jsonRows<{ t: number; measured: number; peak_t: number }>(
    sql`select ${bucketSeconds(bucketWidth[query.bucket], timeZone, query)}::float8 as t, max(kwh - estimated_kwh)::float8 as measured,
      (array_agg(extract(epoch from at)::float8 order by kwh - estimated_kwh desc, at))[1] as peak_t from (${rows}) src group by 1`,
    "t",
  );
  return peaks.map((row) => ({ t: query.bucket === "1d" ? dayStarts(row.t, timeZone) : row.t, measuredKwh: row.measured, peakT: row.peak_t }));
}

type MeterRow = {
  id: string;
  name: string;
  line: string;
  device_id: string;
  kwh: number | null;
  cost: string | null;
  max_kw: number | null;
  kvarh: number | null;
  kwh_with_kvarh: number | null;
  last: string | Date | null;
};

/**
 * [from, to) cut at local midnights into at most three pieces: the part before the first midnight, the whole days
 * and the part after the last, so whole days are read from `rollup_1d` and only the edges from finer rows (a year up
 * to this quarter-hour is 365 day rows a meter and some quarter-hours, not 35,000 quarter-hours).
 */
function dayPieces(from: number, to: number, timeZone: string): { from: string; to: string }[] {
  const start = Time.startOfDay(from, timeZone);
  // A local day is 23 to 25 hours: 26 hours after a day's start is within the next day.
  const first = start === from ? from : Time.startOfDay(start + 26 * 3_600_000, timeZone);
  const last = Time.startOfDay(to, timeZone);
  const cuts = first < last ? [from, first, last, to] : [from, to];
  const pieces: { from: string; to: string }[] = [];
  for (let i = 0; i + 1 < cuts.length; i++) {
    const [a, b] = [cuts[i] as number, cuts[i + 1] as number];
    if (a < b) pieces.push({ from: new Date(a).toISOString(), to: new Date(b).toISOString() });
  }
  return pieces;
}

/**
 * Each meter's totals over [from, to): whole local days from `rollup_1d`, the edges from the coarsest per-meter
 * rollup whose edges are theirs (`Rollup.choose`), or the readings.
 */
async function meterTotals(factoryId: string, timeZone: string, query: Query): Promise<MeterRow[]> {
  const pieces = dayPieces(Date.parse(query.from), Date.parse(query.to), timeZone).map((piece) => {
    const source = Rollup.choose({ bucket: "1d", from: piece.from, to: piece.to, timeZone });
    return source === "readings"
      ? sql`select meter_id, kwh, cost, kw_max, kvarh, ${sql.raw(Figures.sql.kwhWithKvarh("kwh", "kvarh"))} as kwh_with_kvarh, interval_start as last_start
          from reading where factory_id = ${factoryId} and interval_start >= ${piece.from}::timestamptz and interval_start < ${piece.to}::timestamptz`
      : sql`select meter_id, kwh, cost, kw_max, kvarh, kwh_with_kvarh, last_start from ${sql.raw(Rollup.tableOf[source])}
          where factory_id = ${factoryId} and bucket_start >= ${piece.from}::timestamptz and bucket_start < ${piece.to}::timestamptz`;
  });
  const rows = sql.join(pieces, sql` union all `);
  // Materialized: summed once, whatever the planner guesses of a table never analyzed (PGlite runs no autovacuum).
  const result = await Database.use().execute(sql`
    with r as materialized (
      select meter_id, sum(kwh)::float8 as kwh, sum(cost)::text as cost, max(kw_max)::float8 as max_kw, sum(kvarh)::float8 as kvarh,
        sum(kwh_with_kvarh)::float8 as kwh_with_kvarh, max(last_start) as last
      from (${rows}) src group by meter_id)
    select m.id, m.name, m.line, m.device_id, r.kwh, r.cost, r.max_kw, r.kvarh, r.kwh_with_kvarh, r.last
    from meter m left join r on r.meter_id = m.id
    where m.factory_id = ${factoryId} order by m.line, m.name`);
  return (result as unknown as { rows: MeterRow[] }).rows;
}

/**
 * One factory's figures over [from, to) for the console: power (average kW), kWh, cost and TOU period per local
 * bucket, the 15-minute demand with its peak (the statement's windows: Statement.basisOf meters, measured kWh × 4),
 * kWh and cost per period, totals with the power factor (Figures.powerFactor) and per-meter totals. Money is MXN
 * (the factory's currency), null when not priced. `now` bounds the missing slots.
 * Ranges longer than the bucket allows (`maxDays`) are refused by `Query`.
 * @throws VisibleError not_found for another organization's factory.
 */
export async function series(organizationId: string, factoryId: string, query: Query, now = new Date()): Promise<Series> {
  const factory = await found(organizationId, factoryId);
  const source = sourceOf(query, factory.timeZone);
  const [{ periods: rows, buckets: bucketRows }, windows, meterRows, isPriced] = await Promise.all([
    sums(factoryId, factory.timeZone, query, source),
    demandWindows(factoryId, factory.timeZone, query, source),
    meterTotals(factoryId, factory.timeZone, query),
    priced(factoryId, new Date(query.from), new Date(query.to)),
  ]);
  const demand: Series["demand"] = { t: [], kw: [], peak: null, contractedKw: factory.contractedDemandKw };
  for (const point of windows) {
    const kw = round(Figures.demandKw(point.measuredKwh), 3);
    demand.t.push(point.t);
    demand.kw.push(kw);
    if (!demand.peak || kw > demand.peak.kw) demand.peak = { t: point.peakT, kw };
  }
  const periods = new Map<string | null, { kwh: number; cost: Decimal; kvarh: number | null; kwhWithKvarh: number }>();
  for (const row of rows) {
    const period = periods.get(row.period) ?? { kwh: 0, cost: new Decimal(0), kvarh: null, kwhWithKvarh: 0 };
    period.kwh += row.kwh;
    period.cost = period.cost.plus(row.cost);
    if (row.kvarh !== null) period.kvarh = (period.kvarh ?? 0) + row.kvarh;
    period.kwhWithKvarh += row.kwh_with_kvarh;
    periods.set(row.period, period);
  }
  const byPeriod = [...periods.entries()].sort(([a], [b]) => (a === null ? 1 : b === null ? -1 : a.localeCompare(b)));
  const kwh = bucketRows.reduce((sum, row) => sum + row.kwh, 0);
  const estimated = bucketRows.reduce((sum, row) => sum + row.estimatedKwh, 0);
  const readings = bucketRows.reduce((sum, row) => sum + row.readings, 0);
  const kvarh = byPeriod.some(([, row]) => row.kvarh !== null) ? byPeriod.reduce((sum, [, row]) => sum + (row.kvarh ?? 0), 0) : null;
  const buckets: Omit<Series["buckets"], "cost"> = {
    t: [],
    end: [],
    partial: [],
    kw: [],
    estimatedKw: [],
    kwh: [],
    estimatedKwh: [],
    period: [],
    periodKwh: {},
  };
  // Hours that have passed: the range's and up to the last ended slot (the one in progress holds nothing yet).
  const passed = Math.min(Date.parse(query.to), Math.floor(now.getTime() / Grid.slotMs) * Grid.slotMs) / 1000;
  const index = new Map<number, number>();
  for (const row of bucketRows) {
    index.set(row.t, buckets.t.length);
    const start = Math.max(row.t, Date.parse(query.from) / 1000);
    // At least one slot, so a bucket holding readings never divides by zero (a reading stamped ahead of this clock).
    const hours = Math.max(Math.min(row.end, passed) - start, Grid.slotMs / 1000) / 3600;
    buckets.t.push(row.t);
    buckets.end.push(row.end);
    buckets.partial.push(row.partial);
    buckets.kwh.push(round(row.kwh, 4));
    buckets.estimatedKwh.push(round(row.estimatedKwh, 4));
    buckets.kw.push(round(row.kwh / hours, 3));
    buckets.estimatedKw.push(round(row.estimatedKwh / hours, 3));
    buckets.period.push(row.period);
  }
  for (const row of rows) {
    if (row.period === null) continue;
    buckets.periodKwh[row.period] ??= bucketRows.map(() => 0);
    const i = index.get(row.t);
    const kwhOf = buckets.periodKwh[row.period] as number[];
    if (i !== undefined) kwhOf[i] = round((kwhOf[i] ?? 0) + row.kwh, 4);
  }
  const { period, periodKwh, ...sizes } = buckets;
  // The answer with money as `cost` gives it and each bucket's cost as `bucketCost`: priced, or every cost null.
  const answerWith = <M, N>(cost: (value: Decimal | string | null) => M, bucketCost: (row: BucketSums) => N) => ({
    factory,
    from: new Date(query.from).toISOString(),
    to: new Date(query.to).toISOString(),
    bucket: query.bucket,
    buckets: { ...sizes, cost: bucketRows.map(bucketCost), period, periodKwh },
    demand,
    byPeriod: byPeriod.map(([period, row]) => ({ period, kwh: round(row.kwh, 3), cost: cost(row.cost) })),
    totals: {
      kwh: round(kwh, 3),
      cost: cost(byPeriod.reduce((sum, [, row]) => sum.plus(row.cost), new Decimal(0))),
      readings,
      powerFactor: Figures.powerFactor({ kwh: byPeriod.reduce((sum, [, row]) => sum + row.kwhWithKvarh, 0), kvarh }),
      measuredKwh: round(kwh - estimated, 3),
      estimatedKwh: round(estimated, 3),
      estimatedShare: kwh > 0 ? round(estimated / kwh, 4) : 0,
      missingSlots: missingSlots(meterRows.length, query, readings, now),
    },
    meters: meterRows.map((row) => ({
      id: row.id,
      name: row.name,
      line: row.line,
      deviceId: row.device_id,
      kwh: round(row.kwh ?? 0, 3),
      cost: cost(row.cost),
      maxKw: row.max_kw,
      powerFactor: Figures.powerFactor({ kwh: row.kwh_with_kvarh ?? 0, kvarh: row.kvarh }),
      lastReading: row.last === null ? null : new Date(row.last).toISOString(),
    })),
  });
  if (!isPriced)
    return {
      ...answerWith(
        () => null,
        () => null,
      ),
      priced: false,
    };
  return { ...answerWith(money, (row) => round(row.cost.toNumber(), 4)), priced: true };
}

/** MXN rounded to the cent, half up, as text. */
const money = (value: Decimal | string | null) => new Decimal(value ?? 0).toDecimalPlaces(2, Decimal.ROUND_HALF_UP).toFixed(2);
