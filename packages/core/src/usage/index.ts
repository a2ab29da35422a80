/** Energy and cost read back from Postgres, bucketed in the factory's local time. */
import Decimal from "decimal.js";
import { inArray, max, sql } from "drizzle-orm";
import { z } from "zod";
import { Database } from "../database";
import { Factory } from "../factory";
import { readingTable } from "../reading/reading.sql";
import { VisibleError } from "../util/error";
import { Instant } from "../util/instant";

export * as Usage from "./index";

export const Query = z
  .object({
    from: Instant.schema("from"),
    to: Instant.schema("to"),
    bucket: z.enum(["5m", "1h", "1d"], { error: "bucket must be 5m, 1h or 1d" }).default("1h"),
  })
  .refine((query) => Date.parse(query.from) < Date.parse(query.to), { path: ["to"], message: "to must be after from" })
  .refine((query) => Date.parse(query.to) - Date.parse(query.from) <= 400 * 86_400_000, { path: ["to"], message: "a range spans at most 400 days" });
export type Query = z.infer<typeof Query>;

export type Bucket = { start: string; kwh: number; cost: number; readings: number };
export type Result = {
  factoryId: string;
  timeZone: string;
  bucket: Query["bucket"];
  buckets: Bucket[];
  totals: { kwh: number; cost: number; readings: number };
};

const bucketWidth = { "5m": "5 minutes", "1h": "1 hour", "1d": "1 day" } as const;

/** Usage of one factory over [from, to); 1d buckets are the factory's local days. */
export async function factory(organizationId: string, factoryId: string, query: Query): Promise<Result> {
  const found = await Factory.get(organizationId, factoryId);
  if (!found) throw new VisibleError("not_found", "factory.not_found", `factory ${factoryId} not found`);
  const width = bucketWidth[query.bucket];
  // Buckets are computed on local wall time and turned back into instants, so a day is the factory's day.
  const result = await Database.use().execute(sql`
    select
      ((date_bin(${width}::interval, interval_start at time zone ${found.timeZone}, timestamp '2000-01-01') ) at time zone ${found.timeZone}) as bucket_start,
      sum(kwh)::float8 as kwh,
      coalesce(sum(cost), 0)::text as cost,
      count(*)::int as readings
    from reading
    where factory_id = ${factoryId}
      and interval_start >= ${query.from}::timestamptz
      and interval_start < ${query.to}::timestamptz
    group by 1
    order by 1`);
  const rows = (result as unknown as { rows: { bucket_start: Date | string; kwh: number; cost: string; readings: number }[] }).rows;
  const buckets = rows.map((row) => ({
    start: new Date(row.bucket_start).toISOString(),
    kwh: round(row.kwh, 6),
    cost: round(Number(row.cost), 6),
    readings: row.readings,
  }));
  // Sums of money stay exact: decimal text from Postgres, added as decimals.
  const totalCost = rows.reduce((sum, row) => sum.plus(row.cost), new Decimal(0)).toNumber();
  return {
    factoryId,
    timeZone: found.timeZone,
    bucket: query.bucket,
    buckets,
    totals: {
      kwh: round(
        buckets.reduce((sum, bucket) => sum + bucket.kwh, 0),
        6,
      ),
      cost: round(totalCost, 6),
      readings: buckets.reduce((sum, bucket) => sum + bucket.readings, 0),
    },
  };
}

function round(value: number, digits: number): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

/** Stored readings of one meter, with their cost and when they were stored (for tools and latency checks). */
export async function meterReadings(organizationId: string, meterId: string, from: Date, to: Date) {
  const result = await Database.use().execute(sql`
    select r.meter_id, r.interval_start, r.interval_seconds, r.kwh, r.kvarh, r.pf, r.tou_period, r.unit_price::text as unit_price,
           r.cost::text as cost, r.estimated, r.source, r.received_at, r.stored_at
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
