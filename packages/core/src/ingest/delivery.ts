/** Stored readings forwarded to the lake and the series, marked delivered; what cannot go now waits for the sweeper. */
import { and, isNull, lt } from "drizzle-orm";
import { Database } from "../database";
import { Lake } from "../lake";
import { readingTable } from "../reading/reading.sql";
import { SeriesSink } from "../sink";
import { TimeSeries } from "../timeseries";
import { keyFilter } from "./slot-rows";
import type { Slots } from "./slots";

type StoredReading = Slots.StoredReading;

/**
 * Forwards stored readings (rows, or keys to look up among the undelivered); when the lake or the
 * series cannot take them they stay undelivered in Postgres for the sweeper, and this says how many.
 */
export async function deliverOrKeep(items: StoredReading[] | { meterId: string; start: Date }[]): Promise<{ forwarded: number; undelivered: number }> {
  if (items.length === 0) return { forwarded: 0, undelivered: 0 };
  const rows = "start" in (items[0] as object) ? await undeliveredAmong(items as { meterId: string; start: Date }[]) : (items as StoredReading[]);
  try {
    return { forwarded: await deliver(rows), undelivered: 0 };
  } catch (error) {
    if (!(error instanceof Lake.LakeError) && !(error instanceof TimeSeries.TimeSeriesError)) throw error;
    console.error(`delivery failed; ${rows.length} stored reading(s) stay undelivered for the sweeper: ${error.message}`);
    return { forwarded: 0, undelivered: rows.length };
  }
}

/** The stored-but-undelivered readings among `keys`. */
function undeliveredAmong(keys: readonly { meterId: string; start: Date }[]): Promise<StoredReading[]> {
  return Database.use()
    .select()
    .from(readingTable)
    .where(and(keyFilter(keys), isNull(readingTable.lakeDeliveredAt)));
}

/** Puts rows in the lake, then the series; idempotent (the lake keeps the latest copy, the series one point per meter and interval). */
export async function deliverRows(rows: readonly StoredReading[]): Promise<void> {
  // A row without computedAt (not priced) is sent with null; the others as they are, not copied.
  const sent = rows.map((row) => (row.computedAt === undefined ? { ...row, computedAt: null } : row));
  const lake = await Lake.use();
  await lake.put(sent);
  // Hot series next, where they have a store of their own (InfluxDB, the sink): idempotent (one point per meter and
  // interval), so a retried batch re-sends safely. Without a sink the series read what is stored already.
  if (SeriesSink.provided()) await (await SeriesSink.use()).write(sent);
}

async function deliver(rows: StoredReading[]): Promise<number> {
  if (rows.length === 0) return 0;
  await deliverRows(rows);
  await Database.use()
    .update(readingTable)
    .set({ lakeDeliveredAt: new Date() })
    .where(and(keyFilter(rows.map((row) => ({ meterId: row.meterId, start: row.intervalStart }))), isNull(readingTable.lakeDeliveredAt)));
  return rows.length;
}

/**
 * Forwards readings stored more than `olderThanMs` ago that never reached the lake (a crash between
 * the insert and the lake write whose batch was not retried). Returns how many it forwarded.
 */
export async function sweepUndelivered(options: { olderThanMs: number; limit: number }, now = new Date()): Promise<number> {
  const rows = await Database.use()
    .select()
    .from(readingTable)
    .where(and(isNull(readingTable.lakeDeliveredAt), lt(readingTable.storedAt, new Date(now.getTime() - options.olderThanMs))))
    .limit(options.limit);
  return deliver(rows);
}
