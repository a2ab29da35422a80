/**
 * The one read model of a factory's energy over a range (issue 13 item 1): `/usage` (`factory`) and the console's
 * series (`series`: power per bucket with its TOU period, 15-minute demand with the peak, cost per period,
 * per-meter totals) are two shapes of the same sums, read once here, bucketed in the factory's local time.
 *
 * Sources (issue 16 item 4): buckets, periods and totals from the factory rollup (`rollup_factory_15m`, one row
 * per UTC quarter-hour and TOU period: 2,880 rows a month whatever the meters); per-meter totals from the coarsest
 * per-meter rollup whose edges are the range's (`Rollup.choose`, local days for a month); demand from the
 * quarter-hours of the statement's basis meters (`Statement.basisOf`). 5-minute buckets, ranges off the
 * quarter-hour grid and `Rollup.forceReadings` sum `reading` instead (the path before rollups), and
 * `Rollup.forcePerMeter` the per-meter rollups (the path before the factory rollup): same figures.
 * Priced or not by the statement's rule (`Statement.tariffOf`): a span with no tariff in force says
 * `priced: false` and every cost is null, never 0.00 MXN.
 */
import Decimal from "decimal.js";
import { and, count, eq, gte, inArray, lt, max, type SQL, sql } from "drizzle-orm";
import { z } from "zod";
import { BillingPeriod } from "../billing/period";
import { gapsMaxDays } from "../config";
import { Database } from "../database";
import { Factory } from "../factory";
import { Slots } from "../ingest/slots";
import { Figures } from "../kpi/figures";
import { meterTable } from "../meter/meter.sql";
import { Grid } from "../reading/grid";
import { readingTable } from "../reading/reading.sql";
import { Rollup } from "../rollup";
import { basisOf, tariffOf, versionsOf } from "../statement/index";
import { Time } from "../time";
import { VisibleError } from "../util/error";
import { Instant } from "../util/instant";
import { round } from "../util/number";

export * as Usage from "./index";

/**
 * The longest range of each bucket width, days: a 31-day month of 5-minute buckets (8,928 a series) and 62 days of
 * quarter-hours (5,952) are already more points than a 1,440-px chart has pixels; hours and days go to 400 days (a
 * year and its edges). A longer range is refused with the bucket to use instead, not summed slot by slot.
 */
export const maxDays = { "5m": 31, "15m": 62, "1h": 400, "1d": 400 } as const;

/** The longest range any bucket takes, days. */
const longestDays = Math.max(...Object.values(maxDays));

/** The finest bucket whose `maxDays` holds `days`. */
const finestFor = (days: number) => (Object.keys(maxDays) as (keyof typeof maxDays)[]).find((bucket) => days <= maxDays[bucket]) ?? "1d";

export const Query = z
  .object({
    from: Instant.schema("from"),
    to: Instant.schema("to"),
    bucket: z.enum(["5m", "15m", "1h", "1d"], { error: "bucket must be 5m, 15m, 1h or 1d" }).default("1h"),
  })
  .superRefine(Instant.span(longestDays))
  .superRefine((query, context) => {
    const days = (Date.parse(query.to) - Date.parse(query.from)) / 86_400_000;
    // Over the longest bucket's days the span rule above already says so, whatever the bucket.
    if (days > maxDays[query.bucket] && days <= longestDays)
      context.addIssue({
        code: "custom",
        path: ["to"],
        message: `a range of ${query.bucket} buckets spans at most ${maxDays[query.bucket]} days: use bucket=${finestFor(days)} for ${Math.ceil(days)} days`,
      });
  });
export type Query = z.infer<typeof Query>;

/** `factory`'s answer with each cost as `cost` says: a number of the factory's currency when priced, null when not. */
const resultOf = <C extends z.ZodType>(cost: C) =>
  z.object({
    factoryId: z.string(),
    timeZone: z.string(),
    bucket: z.enum(["5m", "15m", "1h", "1d"]),
    /** kWh of a bucket; `estimatedKwh` of it came from spreading longer readings (Grid), the rest was measured. */
    buckets: z.array(z.object({ start: z.string(), kwh: z.number(), estimatedKwh: z.number(), cost, readings: z.number() })),
    totals: z.object({
      kwh: z.number(),
      cost,
      /** Stored 5-minute slots (one per meter and slot). */
      readings: z.number(),
      measuredKwh: z.number(),
      estimatedKwh: z.number(),
      /** estimatedKwh ÷ kWh, 4 decimals; 0 without energy. */
      estimatedShare: z.number(),
      /** Slots in [from, min(to, now)) of the factory's meters that hold no value at all (neither measured nor estimated). */
      missingSlots: z.number(),
    }),
  });

/** A factory's usage over a range: priced (every cost a number, MXN) or not (`priced: false`: no tariff in force, every cost null). */
export const Result = z.discriminatedUnion("priced", [
  resultOf(z.number()).extend({ priced: z.literal(true) }),
  resultOf(z.null()).extend({ priced: z.literal(false) }),
]);
export type Result = z.infer<typeof Result>;
export type Bucket = Result["buckets"][number];

/** Bucket widths, seconds. */
const bucketWidth = { "5m": 300, "15m": 900, "1h": 3600, "1d": 86_400 } as const;

/**
 * SQL for the epoch seconds the bucket of `seconds` holding instant column `at` starts at, on `timeZone`'s wall clock
 * over [from, to): the wall time is the instant plus its own offset (`Time.offsetSpans`, so no row looks its zone up);
 * 5-minute, quarter-hour and hour buckets are binned on the wall clock and turned back with that same offset, so the
 * hour a clock repeats when it falls back is two buckets (01:00 daylight, 01:00 standard), each at its own instant;
 * a day is answered as its local midnight's wall seconds (`dayStarts` turns them into the day's first instant).
 * @example bucketSeconds(3600, "America/Ciudad_Juarez", range) // 2026-11-01 07:00Z and 08:00Z, both 01:00 local
 */
function bucketSeconds(seconds: number, timeZone: string, range: { from: string; to: string }): SQL {
  const spans = Time.offsetSpans(Date.parse(range.from), Date.parse(range.to), timeZone);
  const offset = (span: (typeof spans)[number]) => String(span.offsetMs / 1000);
  const offsetOf =
    spans.length === 1
      ? offset(spans[0] as (typeof spans)[number])
      : `(case ${spans
          .slice(1)
          .map((span, index) => `when at < '${new Date(span.fromMs).toISOString()}'::timestamptz then ${offset(spans[index] as (typeof spans)[number])}`)
          .join(" ")} else ${offset(spans[spans.length - 1] as (typeof spans)[number])} end)`;
  const wall = `(date_part('epoch', at) + ${offsetOf})`;
  return sql.raw(`(floor(${wall} / ${seconds}) * ${seconds}${seconds === 86_400 ? "" : ` - ${offsetOf}`})`);
}

/** Local days' wall seconds (`bucketSeconds` of a day) as the epoch seconds each day starts at (BillingPeriod.startOf: midnight, or where the clocks skip it). */
function dayStarts(wallSeconds: number, timeZone: string): number {
  return BillingPeriod.startOf(new Date(wallSeconds * 1000).toISOString().slice(0, 10), timeZone).getTime() / 1000;
}

/**
 * Where the factory's sums come from: its quarter-hour rollup; the 5-minute readings when Rollup.choose says
 * `readings`; a per-meter rollup level under `Rollup.forcePerMeter` (the path before the factory rollup).
 */
type Source = "factory" | Rollup.Source;

function sourceOf(query: Query, timeZone: string): Source {
  const chosen = Rollup.choose({ bucket: query.bucket, from: query.from, to: query.to, timeZone });
  return chosen === "readings" || Rollup.perMeterForced() ? chosen : "factory";
}

/**
 * The factory's rows of [from, to) as `(select …) src` with columns `at` (the slot's or quarter-hour's instant),
 * `period` (null: no TOU period), `kwh`, `estimated_kwh`, `cost`, `readings`, `kvarh`, `kwh_with_kvarh`.
 */
function factoryRows(source: Source, factoryId: string, range: { from: string; to: string }): SQL {
  if (source === "readings")
    return sql`(select interval_start as at, tou_period as period, kwh, (case when quality = 'estimated' then kwh else 0 end) as estimated_kwh,
      cost, 1 as readings, kvarh, ${sql.raw(Figures.sql.kwhWithKvarh("kwh", "kvarh"))} as kwh_with_kvarh
      from reading where factory_id = ${factoryId} and interval_start >= ${range.from}::timestamptz and interval_start < ${range.to}::timestamptz) src`;
  if (source !== "factory")
    return sql`(select bucket_start as at, nullif(tou_period, '') as period, sum(kwh) as kwh, sum(estimated_kwh) as estimated_kwh, sum(cost) as cost,
      sum(readings) as readings, sum(kvarh) as kvarh, sum(kwh_with_kvarh) as kwh_with_kvarh from ${sql.raw(Rollup.tableOf[source])}
      where factory_id = ${factoryId} and bucket_start >= ${range.from}::timestamptz and bucket_start < ${range.to}::timestamptz
      group by bucket_start, tou_period) src`;
  return sql`(select bucket_start as at, nullif(tou_period, '') as period, kwh, estimated_kwh, cost, readings, kvarh, kwh_with_kvarh
      from rollup_factory_15m where factory_id = ${factoryId} and bucket_start >= ${range.from}::timestamptz and bucket_start < ${range.to}::timestamptz) src`;
}

/**
 * The rows of `query` in `order`, fetched as one JSON text: PGlite hands rows to JavaScript one by one, and a year's
 * 35,040 quarter-hours as rows cost seconds where one text costs a tenth of that. Columns keep their JSON types:
 * money must be selected as text to stay exact.
 */
async function jsonRows<T>(query: SQL, order: string): Promise<T[]> {
  const result = await Database.use().execute(sql`select coalesce(json_agg(x order by ${sql.raw(order)}), '[]')::text as rows from (${query}) x`);
  return JSON.parse((result as unknown as { rows: { rows: string }[] }).rows[0]?.rows ?? "[]") as T[];
}

/** Sums of one local bucket (`t`: its start, epoch seconds) and TOU period; cost as exact decimal text. */
type PeriodRow = {
  t: number;
  period: string | null;
  kwh: number;
  estimated_kwh: number;
  cost: string;
  kvarh: number | null;
  kwh_with_kvarh: number;
  readings: number;
};

/**
 * A local bucket [t, end) (epoch seconds; a local day is 23 to 25 hours where clocks change): its sums over periods,
 * cost exact, and the TOU period most of its slots had (ties to the first by name; null only when none had one).
 */
type BucketSums = { t: number; end: number; kwh: number; estimatedKwh: number; cost: Decimal; readings: number; period: string | null };

/** The factory's sums per local bucket and TOU period over [from, to), in bucket order, and the same per bucket. */
async function sums(factoryId: string, timeZone: string, query: Query, source: Source): Promise<{ periods: PeriodRow[]; buckets: BucketSums[] }> {
  const seconds = bucketWidth[query.bucket];
  const periods = await jsonRows<PeriodRow>(
    sql`select ${bucketSeconds(seconds, timeZone, query)}::float8 as t, period, sum(kwh)::float8 as kwh,
      sum(estimated_kwh)::float8 as estimated_kwh, coalesce(sum(cost), 0)::text as cost, sum(kvarh)::float8 as kvarh,
      coalesce(sum(kwh_with_kvarh), 0)::float8 as kwh_with_kvarh, sum(readings)::int as readings
    from ${factoryRows(source, factoryId, query)} group by 1, 2`,
    "t, period",
  );
  // A day ends where the next local day starts; the others are as wide as their bucket on the wall clock.
  const ends = new Map<number, number>();
  for (const row of periods) {
    const wall = row.t;
    if (query.bucket === "1d") row.t = dayStarts(wall, timeZone);
    if (!ends.has(row.t)) ends.set(row.t, query.bucket === "1d" ? dayStarts(wall + 86_400, timeZone) : row.t + seconds);
  }
  const buckets: BucketSums[] = [];
  let modeReadings = 0;
  for (const row of periods) {
    let bucket = buckets.at(-1);
    if (!bucket || bucket.t !== row.t) {
      bucket = { t: row.t, end: ends.get(row.t) ?? row.t + seconds, kwh: 0, estimatedKwh: 0, cost: new Decimal(0), readings: 0, period: null };
      buckets.push(bucket);
      modeReadings = 0;
    }
    bucket.kwh += row.kwh;
    bucket.estimatedKwh += row.estimated_kwh;
    bucket.cost = bucket.cost.plus(row.cost);
    bucket.readings += row.readings;
    // Rows come by period name, nulls last: a strictly larger count wins, so ties keep the first name.
    if (row.period !== null && row.readings > modeReadings) {
      bucket.period = row.period;
      modeReadings = row.readings;
    }
  }
  return { periods, buckets };
}

/**
 * Whether a factory has a tariff in force over [from, to): in force at `from` or coming into force before `to`
 * (`Statement.tariffOf`, the statement's rule).
 * @example await priced("fac_…", new Date("2026-03-01T06:00:00Z"), new Date("2026-04-01T06:00:00Z")) → true
 */
export async function priced(factoryId: string, from: Date, to: Date): Promise<boolean> {
  return tariffOf(await versionsOf(factoryId), from, to) !== undefined;
}

async function found(organizationId: string, factoryId: string): Promise<Factory.Info> {
  const factory = await Factory.get(organizationId, factoryId);
  if (!factory) throw new VisibleError("not_found", "factory.not_found", `factory ${factoryId} not found`);
  return factory;
}

/**
 * Usage of one factory over [from, to): kWh, estimated kWh, cost (the factory's currency, null when not priced)
 * and slots per bucket; 1d buckets are the factory's local days. `now` bounds the missing slots.
 * Throws VisibleError("not_found") for another organization's factory.
 */
export async function factory(organizationId: string, factoryId: string, query: Query, now = new Date()): Promise<Result> {
  const { timeZone } = await found(organizationId, factoryId);
  const [{ buckets: rows }, meters, isPriced] = await Promise.all([
    sums(factoryId, timeZone, query, sourceOf(query, timeZone)),
    meterCount(factoryId),
    priced(factoryId, new Date(query.from), new Date(query.to)),
  ]);
  // Each bucket and the totals with `cost` in its place: a number when priced, null when not.
  const bucketsWith = <C>(cost: (row: BucketSums) => C) =>
    rows.map((row) => ({
      start: new Date(row.t * 1000).toISOString(),
      kwh: round(row.kwh, 6),
      estimatedKwh: round(row.estimatedKwh, 6),
      cost: cost(row),
      readings: row.readings,
    }));
  const unpriced = bucketsWith(() => null);
  const kwh = round(
    unpriced.reduce((sum, bucket) => sum + bucket.kwh, 0),
    6,
  );
  const estimatedKwh = round(
    unpriced.reduce((sum, bucket) => sum + bucket.estimatedKwh, 0),
    6,
  );
  const readings = unpriced.reduce((sum, bucket) => sum + bucket.readings, 0);
  const totalsWith = <C>(cost: C) => ({
    kwh,
    cost,
    readings,
    measuredKwh: round(kwh - estimatedKwh, 6),
    estimatedKwh,
    estimatedShare: kwh > 0 ? round(estimatedKwh / kwh, 4) : 0,
    missingSlots: missingSlots(meters, query, readings, now),
  });
  const figures = { factoryId, timeZone, bucket: query.bucket };
  if (!isPriced) return { ...figures, buckets: unpriced, totals: totalsWith(null), priced: false };
  // Sums of money stay exact: decimal text from Postgres, added as decimals.
  const cost = rows.reduce((sum, row) => sum.plus(row.cost), new Decimal(0)).toNumber();
  return { ...figures, buckets: bucketsWith((row) => round(row.cost.toNumber(), 6)), totals: totalsWith(round(cost, 6)), priced: true };
}

async function meterCount(factoryId: string): Promise<number> {
  const [row] = await Database.use().select({ meters: count() }).from(meterTable).where(eq(meterTable.factoryId, factoryId));
  return row?.meters ?? 0;
}

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
     * the truthful split of an hour or a day that spans periods.
     */
    buckets: z.object({
      t: z.array(z.number()),
      end: z.array(z.number()),
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
  const buckets: Omit<Series["buckets"], "cost"> = { t: [], end: [], kw: [], estimatedKw: [], kwh: [], estimatedKwh: [], period: [], periodKwh: {} };
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

/**
 * Slots of `meters` meters in [from, to) that have ended by `now` and hold no value: every meter's ended slots less
 * the `readings` stored (one per meter and slot); 0 when none are missing. The slot in progress is not due yet (its
 * reading is taken at its end), so it is never missing; the gateway sends a slot as soon as it ends, with no grace.
 * @example missingSlots(1, { from: "2026-03-10T18:00:00Z", to: "2026-03-10T19:00:00Z" }, 0, new Date("2026-03-10T18:07:00Z")) → 1
 */
export function missingSlots(meters: number, range: { from: string; to: string }, readings: number, now: Date): number {
  const ended = Math.floor(now.getTime() / Grid.slotMs) * Grid.slotMs;
  return Math.max(0, meters * slotsIn(Date.parse(range.from), Math.min(Date.parse(range.to), ended)) - readings);
}

/** Whole 5-minute slots in [from, to) (epoch ms, from on the grid or rounded up to it); 0 when to ≤ from. */
function slotsIn(from: number, to: number): number {
  const first = Math.ceil(from / Grid.slotMs) * Grid.slotMs;
  return to > first ? Math.ceil((to - first) / Grid.slotMs) : 0;
}

/** One stored reading as `meterReadings` answers it: instants ISO 8601 UTC, energy kWh/kVArh, money MXN as exact decimal text (null: not priced). */
export const StoredReading = z.object({
  meterId: z.string(),
  /** The interval [start, start + seconds). */
  start: z.string(),
  seconds: z.number(),
  /** Energy (kWh) and reactive energy (kVArh, null when the meter does not measure it), and the power factor (0–1) sent with them. */
  kwh: z.number(),
  kvarh: z.number().nullable(),
  pf: z.number().nullable(),
  /** The TOU period the slot was priced in, the price per kWh and the cost; null when not priced. */
  period: z.string().nullable(),
  unitPrice: z.string().nullable(),
  cost: z.string().nullable(),
  /** `estimated` (and quality `estimated`): spread from a longer reading over its slots, not measured. */
  estimated: z.boolean(),
  quality: z.enum(["measured", "estimated"]),
  /** The validation rules the slot tripped (Grid.flags, e.g. `spike_over_rating`), and the path it came by (`kinesis`, `http`, `bulk`). */
  flags: z.array(z.string()),
  source: z.string(),
  /** When the API or stream took it, and when it was stored. */
  receivedAt: z.string(),
  storedAt: z.string(),
});
export type StoredReading = z.infer<typeof StoredReading>;

/** Stored readings of one meter, with their cost and when they were stored (for tools and latency checks). */
export async function meterReadings(organizationId: string, meterId: string, from: Date, to: Date): Promise<StoredReading[]> {
  const result = await Database.use().execute(sql`
    select r.meter_id, r.interval_start, r.interval_seconds, r.kwh, r.kvarh, r.pf, r.tou_period, r.unit_price::text as unit_price,
           r.cost::text as cost, r.estimated, r.quality, r.flags, r.source, r.received_at, r.stored_at
    from reading r join meter m on m.id = r.meter_id
    where m.organization_id = ${organizationId} and r.meter_id = ${meterId}
      and r.interval_start >= ${from.toISOString()}::timestamptz and r.interval_start < ${to.toISOString()}::timestamptz
    order by r.interval_start`);
  const rows = (result as unknown as { rows: Record<string, unknown>[] }).rows;
  return rows.map((row) => ({
    meterId: row.meter_id as string,
    start: new Date(row.interval_start as string).toISOString(),
    seconds: row.interval_seconds as number,
    kwh: row.kwh as number,
    kvarh: row.kvarh as number | null,
    pf: row.pf as number | null,
    period: row.tou_period as string | null,
    unitPrice: row.unit_price as string | null,
    cost: row.cost as string | null,
    estimated: row.estimated as boolean,
    quality: row.quality as "measured" | "estimated",
    flags: row.flags as string[],
    source: row.source as string,
    receivedAt: new Date(row.received_at as string).toISOString(),
    storedAt: new Date(row.stored_at as string).toISOString(),
  }));
}

/** Start of the newest stored interval among `meterIds`, if any (a gateway resumes after it). */
export async function lastReadingStart(meterIds: string[]): Promise<Date | undefined> {
  if (meterIds.length === 0) return undefined;
  const [row] = await Database.use()
    .select({ last: max(readingTable.intervalStart) })
    .from(readingTable)
    .where(inArray(readingTable.meterId, meterIds));
  return row?.last ?? undefined;
}

export const GapsQuery = z
  .object({
    // The one instant parser, as every other time parameter: a year the store cannot hold is a 400, not a failed query.
    from: Instant.schema("from"),
    to: Instant.schema("to"),
  })
  .superRefine(Instant.span(gapsMaxDays));
export type GapsQuery = z.infer<typeof GapsQuery>;

/** Consecutive slots [start, end) with no value. */
export const MissingSpan = z.object({ start: z.string(), end: z.string(), slots: z.number() });
export type MissingSpan = z.infer<typeof MissingSpan>;
/** Consecutive estimated slots of one estimation span (kWh), clipped to the query, and the span as the counters measured it. */
export const EstimatedSpan = MissingSpan.extend({
  kwh: z.number(),
  span: z.object({ start: z.string(), seconds: z.number(), kwh: z.number() }).nullable(),
});
export type EstimatedSpan = z.infer<typeof EstimatedSpan>;
/** A meter's gaps over [from, to) (instants ISO 8601 UTC), in time order. */
export const Gaps = z.object({ meterId: z.string(), from: z.string(), to: z.string(), missing: z.array(MissingSpan), estimated: z.array(EstimatedSpan) });
export type Gaps = z.infer<typeof Gaps>;

/**
 * Where a meter's grid has no measured value over [from, to) up to the last slot ended by `now`: missing spans (no value at all)
 * and estimated spans (spread from a longer reading), in time order. `from` is rounded up to the grid.
 * Throws VisibleError("not_found") for a meter outside the organization.
 */
export async function gaps(organizationId: string, meterId: string, query: GapsQuery, now = new Date()): Promise<Gaps> {
  const db = Database.use();
  const [meter] = await db
    .select({ id: meterTable.id })
    .from(meterTable)
    .where(and(eq(meterTable.id, meterId), eq(meterTable.organizationId, organizationId)));
  if (!meter) throw new VisibleError("not_found", "meter.not_found", `meter ${meterId} not found`);
  const from = Math.ceil(Date.parse(query.from) / Grid.slotMs) * Grid.slotMs;
  // Up to the last slot that has ended: the one in progress is not missing, only not due (as missingSlots).
  const to = Math.min(Date.parse(query.to), Math.floor(now.getTime() / Grid.slotMs) * Grid.slotMs);
  const rows = await db
    .select({ start: readingTable.intervalStart, quality: readingTable.quality, kwh: readingTable.kwh, spanStart: readingTable.spanStart })
    .from(readingTable)
    .where(and(eq(readingTable.meterId, meterId), gte(readingTable.intervalStart, new Date(from)), lt(readingTable.intervalStart, new Date(to))));
  const spans = await Slots.spansOverlapping(db, meterId, from, to);
  const spanOf = new Map(spans.map((span) => [span.spanStart.getTime(), span]));
  const bySlot = new Map(rows.map((row) => [row.start.getTime(), row]));
  const missing: MissingSpan[] = [];
  const estimated: EstimatedSpan[] = [];
  const iso = (ms: number) => new Date(ms).toISOString();
  for (let ms = from; ms < to; ms += Grid.slotMs) {
    const row = bySlot.get(ms);
    if (!row) {
      const last = missing[missing.length - 1];
      if (last && last.end === iso(ms)) {
        last.end = iso(ms + Grid.slotMs);
        last.slots++;
      } else missing.push({ start: iso(ms), end: iso(ms + Grid.slotMs), slots: 1 });
    } else if (row.quality === "estimated") {
      const last = estimated[estimated.length - 1];
      const spanStart = row.spanStart?.toISOString() ?? null;
      if (last && last.end === iso(ms) && (last.span?.start ?? null) === spanStart) {
        last.end = iso(ms + Grid.slotMs);
        last.slots++;
        last.kwh = round(last.kwh + row.kwh, 6);
      } else {
        const span = row.spanStart ? spanOf.get(row.spanStart.getTime()) : undefined;
        estimated.push({
          start: iso(ms),
          end: iso(ms + Grid.slotMs),
          slots: 1,
          kwh: round(row.kwh, 6),
          span: span ? { start: span.spanStart.toISOString(), seconds: span.seconds, kwh: span.kwh } : null,
        });
      }
    }
  }
  return { meterId, from: iso(from), to: iso(Math.max(from, to)), missing, estimated };
}
