/** Energy and cost read back from Postgres, bucketed in the factory's local time. */
import Decimal from "decimal.js";
import { and, count, eq, gte, inArray, lt, max, sql } from "drizzle-orm";
import { z } from "zod";
import { gapsMaxDays } from "../config";
import { Database } from "../database";
import { Factory } from "../factory";
import { Slots } from "../ingest/slots";
import { Figures } from "../kpi/figures";
import { meterTable } from "../meter/meter.sql";
import { Grid } from "../reading/grid";
import { readingTable } from "../reading/reading.sql";
import { Rollup } from "../rollup";
import { VisibleError } from "../util/error";
import { Instant } from "../util/instant";

export * as Usage from "./index";

export const Query = z
  .object({
    from: Instant.schema("from"),
    to: Instant.schema("to"),
    bucket: z.enum(["5m", "15m", "1h", "1d"], { error: "bucket must be 5m, 15m, 1h or 1d" }).default("1h"),
  })
  .refine((query) => Date.parse(query.from) < Date.parse(query.to), { path: ["to"], message: "to must be after from" })
  .refine((query) => Date.parse(query.to) - Date.parse(query.from) <= 400 * 86_400_000, { path: ["to"], message: "a range spans at most 400 days" });
export type Query = z.infer<typeof Query>;

/** kWh of a bucket; `estimatedKwh` of it came from spreading longer readings (Grid), the rest was measured. */
export type Bucket = { start: string; kwh: number; estimatedKwh: number; cost: number; readings: number };
export type Result = {
  factoryId: string;
  timeZone: string;
  bucket: Query["bucket"];
  buckets: Bucket[];
  totals: {
    kwh: number;
    cost: number;
    /** Stored 5-minute slots (one per meter and slot). */
    readings: number;
    measuredKwh: number;
    estimatedKwh: number;
    /** estimatedKwh ÷ kWh, 4 decimals; 0 without energy. */
    estimatedShare: number;
    /** Slots in [from, min(to, now)) of the factory's meters that hold no value at all (neither measured nor estimated). */
    missingSlots: number;
  };
};

const bucketWidth = { "5m": "5 minutes", "15m": "15 minutes", "1h": "1 hour", "1d": "1 day" } as const;

/**
 * SQL for the instant (timestamptz) a reading's bucket of `width` starts at, on `timeZone`'s wall clock:
 * a day is the local day; an hour or 5 minutes is binned on the local clock and turned back into an
 * instant with the reading's own UTC offset, so the hour a clock repeats when it falls back is two
 * buckets (01:00 daylight, 01:00 standard), each starting at its own instant, never one two-hour bucket
 * stamped with the second. `column` is the instant binned: a reading's `interval_start`, or a rollup's
 * `bucket_start` (a rollup bucket nests in the asked one, Rollup.choose). Used by usage and the console's series.
 * @example bucketStart("1 hour", "America/Ciudad_Juarez") // 2026-11-01 07:00Z and 08:00Z, both 01:00 local
 */
export function bucketStart(
  width: (typeof bucketWidth)[keyof typeof bucketWidth],
  timeZone: string,
  column: "interval_start" | "bucket_start" = "interval_start",
) {
  const at = sql.raw(column);
  const local = sql`(${at} at time zone ${timeZone})`;
  const bin = sql`date_bin(${width}::interval, ${local}, timestamp '2000-01-01')`;
  if (width === "1 day") return sql`(${bin} at time zone ${timeZone})`;
  return sql`((${bin} - (${local} - (${at} at time zone 'UTC'))) at time zone 'UTC')`;
}

/**
 * The rows a read sums, as `(select …) src` with reading-like columns (`interval_start` as the bucket's
 * instant, `kwh`, `estimated_kwh`, `cost`, `readings`, `kvarh`, `kwh_with_kvarh`, `tou_period`, `kw_max`,
 * `last_start`, `meter_id`) of one factory over [from, to): `reading` itself, or the rollup `source`.
 * `perMeter: false` sums a rollup's meters per bucket and period first (`meter_id` null), so the local
 * bucket is computed once per instant instead of once per meter.
 */
export function rowsOf(source: Rollup.Source, factoryId: string, range: { from: string; to: string }, options: { perMeter?: boolean } = {}) {
  if (source === "readings")
    return sql`(select interval_start, kwh, (case when quality = 'estimated' then kwh else 0 end) as estimated_kwh, cost, 1 as readings,
      kvarh, ${sql.raw(Figures.sql.kwhWithKvarh("kwh", "kvarh"))} as kwh_with_kvarh, tou_period, kw_max, interval_start as last_start, meter_id
      from reading where factory_id = ${factoryId} and interval_start >= ${range.from}::timestamptz and interval_start < ${range.to}::timestamptz) src`;
  const table = sql.raw(Rollup.tableOf[source]);
  const where = sql`factory_id = ${factoryId} and bucket_start >= ${range.from}::timestamptz and bucket_start < ${range.to}::timestamptz`;
  if (options.perMeter === false)
    return sql`(select bucket_start as interval_start, sum(kwh) as kwh, sum(estimated_kwh) as estimated_kwh, sum(cost) as cost, sum(readings) as readings,
      sum(kvarh) as kvarh, sum(kwh_with_kvarh) as kwh_with_kvarh, nullif(tou_period, '') as tou_period, max(kw_max) as kw_max, max(last_start) as last_start,
      null::text as meter_id
      from ${table} where ${where} group by bucket_start, tou_period) src`;
  return sql`(select bucket_start as interval_start, kwh, estimated_kwh, cost, readings, kvarh, kwh_with_kvarh, nullif(tou_period, '') as tou_period,
      kw_max, last_start, meter_id
      from ${table} where ${where}) src`;
}

/**
 * Usage of one factory over [from, to): kWh, estimated kWh, cost (the factory's currency) and slots per
 * bucket; 1d buckets are the factory's local days. Read from the coarsest rollup that answers the bucket
 * (Rollup.choose; 5-minute buckets from `reading`), the same figures as summing the readings.
 * `now` bounds the missing slots. Throws VisibleError("not_found") for another organization's factory.
 */
export async function factory(organizationId: string, factoryId: string, query: Query, now = new Date()): Promise<Result> {
  const found = await Factory.get(organizationId, factoryId);
  if (!found) throw new VisibleError("not_found", "factory.not_found", `factory ${factoryId} not found`);
  const width = bucketWidth[query.bucket];
  const source = Rollup.choose({ bucket: query.bucket, from: query.from, to: query.to, timeZone: found.timeZone });
  // Buckets are computed on local wall time and turned back into instants, so a day is the factory's day.
  const result = await Database.use().execute(sql`
    select
      ${bucketStart(width, found.timeZone)} as bucket_start,
      sum(kwh)::float8 as kwh,
      sum(estimated_kwh)::float8 as estimated_kwh,
      coalesce(sum(cost), 0)::text as cost,
      sum(readings)::int as readings
    from ${rowsOf(source, factoryId, query, { perMeter: false })}
    group by 1
    order by 1`);
  const rows = (result as unknown as { rows: { bucket_start: Date | string; kwh: number; estimated_kwh: number; cost: string; readings: number }[] }).rows;
  const buckets = rows.map((row) => ({
    start: new Date(row.bucket_start).toISOString(),
    kwh: round(row.kwh, 6),
    estimatedKwh: round(row.estimated_kwh, 6),
    cost: round(Number(row.cost), 6),
    readings: row.readings,
  }));
  // Sums of money stay exact: decimal text from Postgres, added as decimals.
  const totalCost = rows.reduce((sum, row) => sum.plus(row.cost), new Decimal(0)).toNumber();
  const kwh = round(
    buckets.reduce((sum, bucket) => sum + bucket.kwh, 0),
    6,
  );
  const estimatedKwh = round(
    buckets.reduce((sum, bucket) => sum + bucket.estimatedKwh, 0),
    6,
  );
  const readings = buckets.reduce((sum, bucket) => sum + bucket.readings, 0);
  return {
    factoryId,
    timeZone: found.timeZone,
    bucket: query.bucket,
    buckets,
    totals: {
      kwh,
      cost: round(totalCost, 6),
      readings,
      measuredKwh: round(kwh - estimatedKwh, 6),
      estimatedKwh,
      estimatedShare: kwh > 0 ? round(estimatedKwh / kwh, 4) : 0,
      missingSlots: missingSlots(await meterCount(factoryId), query, readings, now),
    },
  };
}

async function meterCount(factoryId: string): Promise<number> {
  const [row] = await Database.use().select({ meters: count() }).from(meterTable).where(eq(meterTable.factoryId, factoryId));
  return row?.meters ?? 0;
}

/**
 * Slots of `meters` meters in [from, min(to, now)) that hold no value: every meter's slots less the
 * `readings` stored (one per meter and slot); 0 when none are missing.
 */
export function missingSlots(meters: number, range: { from: string; to: string }, readings: number, now: Date): number {
  return Math.max(0, meters * slotsIn(Date.parse(range.from), Math.min(Date.parse(range.to), now.getTime())) - readings);
}

/** Whole 5-minute slots in [from, to) (epoch ms, from on the grid or rounded up to it); 0 when to ≤ from. */
function slotsIn(from: number, to: number): number {
  const first = Math.ceil(from / Grid.slotMs) * Grid.slotMs;
  return to > first ? Math.ceil((to - first) / Grid.slotMs) : 0;
}

function round(value: number, digits: number): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

/** Stored readings of one meter, with their cost and when they were stored (for tools and latency checks). */
export async function meterReadings(organizationId: string, meterId: string, from: Date, to: Date) {
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
  .refine((query) => Date.parse(query.from) < Date.parse(query.to), { path: ["to"], message: "to must be after from" })
  .refine((query) => Date.parse(query.to) - Date.parse(query.from) <= gapsMaxDays * 86_400_000, {
    path: ["to"],
    message: `a range spans at most ${gapsMaxDays} days`,
  });
export type GapsQuery = z.infer<typeof GapsQuery>;

/** Consecutive slots [start, end) with no value. */
export type MissingSpan = { start: string; end: string; slots: number };
/** Consecutive estimated slots of one estimation span, clipped to the query, and the span as the counters measured it. */
export type EstimatedSpan = { start: string; end: string; slots: number; kwh: number; span: { start: string; seconds: number; kwh: number } | null };
export type Gaps = { meterId: string; from: string; to: string; missing: MissingSpan[]; estimated: EstimatedSpan[] };

/**
 * Where a meter's grid has no measured value over [from, min(to, now)): missing spans (no value at all)
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
  const to = Math.min(Date.parse(query.to), now.getTime());
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
