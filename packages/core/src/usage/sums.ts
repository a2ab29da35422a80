/**
 * The factory's sums per local bucket and TOU period, read once for `/usage` and the console's series: where they come
 * from (the factory rollup, a per-meter rollup or the readings), how a bucket is cut on the factory's wall clock in SQL,
 * and whether the range is priced.
 */
import Decimal from "decimal.js";
import { type SQL, sql } from "drizzle-orm";
import { BillingPeriod } from "../billing/period";
import { Database } from "../database";
import { Factory } from "../factory";
import { Figures } from "../kpi/figures";
import { Rollup } from "../rollup";
import { tariffOf, versionsOf } from "../statement/index";
import { Time } from "../time";
import { VisibleError } from "../util/error";
import type { Query } from "./query";

/** Bucket widths, seconds. */
export const bucketWidth = { "5m": 300, "15m": 900, "1h": 3600, "1d": 86_400 } as const;

/**
 * SQL for the epoch seconds the bucket of `seconds` holding instant column `at` starts at, on `timeZone`'s wall clock
 * over [from, to): the wall time is the instant plus its own offset (`Time.offsetSpans`, so no row looks its zone up);
 * 5-minute, quarter-hour and hour buckets are binned on the wall clock and turned back with that same offset, so the
 * hour a clock repeats when it falls back is two buckets (01:00 daylight, 01:00 standard), each at its own instant;
 * a day is answered as its local midnight's wall seconds (`dayStarts` turns them into the day's first instant).
 * @example bucketSeconds(3600, "America/Ciudad_Juarez", range) // 2026-11-01 07:00Z and 08:00Z, both 01:00 local
 */
export function bucketSeconds(seconds: number, timeZone: string, range: { from: string; to: string }): SQL {
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
export function dayStarts(wallSeconds: number, timeZone: string): number {
  return BillingPeriod.startOf(new Date(wallSeconds * 1000).toISOString().slice(0, 10), timeZone).getTime() / 1000;
}

/**
 * Where the factory's sums come from: its quarter-hour rollup; the 5-minute readings when Rollup.choose says
 * `readings`; a per-meter rollup level under `Rollup.forcePerMeter` (the path before the factory rollup).
 */
export type Source = "factory" | Rollup.Source;

export function sourceOf(query: Query, timeZone: string): Source {
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
export async function jsonRows<T>(query: SQL, order: string): Promise<T[]> {
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
 * `partial`: the query's [from, to) cuts the bucket, so its sums are of the part inside the range only.
 */
export type BucketSums = {
  t: number;
  end: number;
  partial: boolean;
  kwh: number;
  estimatedKwh: number;
  cost: Decimal;
  readings: number;
  period: string | null;
};

/** The factory's sums per local bucket and TOU period over [from, to), in bucket order, and the same per bucket. */
export async function sums(factoryId: string, timeZone: string, query: Query, source: Source): Promise<{ periods: PeriodRow[]; buckets: BucketSums[] }> {
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
  const [fromS, toS] = [Date.parse(query.from) / 1000, Date.parse(query.to) / 1000];
  const buckets: BucketSums[] = [];
  let modeReadings = 0;
  for (const row of periods) {
    let bucket = buckets.at(-1);
    if (!bucket || bucket.t !== row.t) {
      const end = ends.get(row.t) ?? row.t + seconds;
      bucket = { t: row.t, end, partial: row.t < fromS || end > toS, kwh: 0, estimatedKwh: 0, cost: new Decimal(0), readings: 0, period: null };
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

export async function found(organizationId: string, factoryId: string): Promise<Factory.Info> {
  const factory = await Factory.get(organizationId, factoryId);
  if (!factory) throw new VisibleError("not_found", "factory.not_found", `factory ${factoryId} not found`);
  return factory;
}
