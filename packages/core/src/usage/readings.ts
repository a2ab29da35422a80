/** A meter's stored readings as they were stored, and the newest stored slot among meters. */
import { inArray, max, sql } from "drizzle-orm";
import { z } from "zod";
import { Database } from "../database";
import { readingTable } from "../reading/reading.sql";

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
