/** `/usage`: one factory's kWh, estimated kWh, cost and slots per local bucket over a range, with totals. */
import Decimal from "decimal.js";
import { count, eq } from "drizzle-orm";
import { z } from "zod";
import { Database } from "../database";
import { meterTable } from "../meter/meter.sql";
import { round } from "../util/number";
import { missingSlots } from "./gaps";
import type { Query } from "./query";
import { type BucketSums, found, priced, sourceOf, sums } from "./sums";

/** `factory`'s answer with each cost as `cost` says: a number of the factory's currency when priced, null when not. */
const resultOf = <C extends z.ZodType>(cost: C) =>
  z.object({
    factoryId: z.string(),
    timeZone: z.string(),
    bucket: z.enum(["5m", "15m", "1h", "1d"]),
    /**
     * A bucket [start, end) (a local day is 23 to 25 hours where clocks change); kWh of it, `estimatedKwh` of which
     * came from spreading longer readings (Grid), the rest measured. `partial`: the range [from, to) cuts the bucket
     * (a `from` or `to` inside it), so its figures hold only the part inside the range, not the whole bucket.
     */
    buckets: z.array(
      z.object({ start: z.string(), end: z.string(), partial: z.boolean(), kwh: z.number(), estimatedKwh: z.number(), cost, readings: z.number() }),
    ),
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
      end: new Date(row.end * 1000).toISOString(),
      partial: row.partial,
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
