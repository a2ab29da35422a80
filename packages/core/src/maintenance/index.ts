/**
 * Scheduled upkeep of the reading table: monthly partitions ahead of time, and the retention window,
 * which only ever drops readings the lake already holds (older readings live in the lake only).
 */
import { type SQL, sql } from "drizzle-orm";
import { Database } from "../database";
import { WattflowError } from "../util/error";

export * as Maintenance from "./index";

export type Result = {
  /** Partitions that exist afterwards, oldest first. */
  partitions: string[];
  /** Monthly partitions dropped: entirely before the cutoff and entirely delivered to the lake. */
  dropped: string[];
  /** Partitions before the cutoff that still hold readings not yet in the lake: kept, to try again next run. */
  kept: { partition: string; undelivered: number }[];
  /** Rows deleted from the default partition (late backfills) that were before the cutoff and delivered. */
  deletedFromDefault: number;
};

export class MaintenanceError extends WattflowError {
  readonly kind = "internal" as const;
  readonly code = "maintenance.failed";
  override readonly name = "MaintenanceError";
}

/**
 * The first month kept: `retentionMonths` whole months before the month of `now` (UTC).
 * @example cutoff(new Date("2026-11-28T00:00:00Z"), 25) // 2024-10-01
 */
export function cutoff(now: Date, retentionMonths: number): Date {
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - retentionMonths, 1));
}

/** The partition name wattflow_ensure_reading_partitions gives the month starting at `month`. */
export function partitionName(month: Date): string {
  return `reading_${month.toISOString().slice(0, 7).replace("-", "_")}`;
}

/**
 * Creates the coming months' partitions and applies the retention window. Retention must be longer
 * than the window `Database.ensurePartitions` keeps (13 months back), or dropped months come back empty.
 */
export async function run(options: { retentionMonths: number }, now = new Date()): Promise<Result> {
  if (!Number.isInteger(options.retentionMonths) || options.retentionMonths < 14) {
    throw new MaintenanceError(`retentionMonths must be a whole number of at least 14, not ${options.retentionMonths}`);
  }
  const db = Database.use();
  await Database.ensurePartitions(db, now);
  const first = cutoff(now, options.retentionMonths);
  const dropped: string[] = [];
  const kept: Result["kept"] = [];
  for (const partition of await monthlyPartitions()) {
    if (partition >= partitionName(first)) continue;
    const undelivered = await count(sql`select count(*)::int as n from ${sql.identifier(partition)} where lake_delivered_at is null`);
    if (undelivered > 0) {
      kept.push({ partition, undelivered });
      continue;
    }
    // Detach first so the drop does not hold a lock on the parent table longer than the detach.
    await db.execute(sql`alter table reading detach partition ${sql.identifier(partition)}`);
    await db.execute(sql`drop table ${sql.identifier(partition)}`);
    dropped.push(partition);
  }
  const deleted = await db.execute(
    sql`delete from reading_default where interval_start < ${first.toISOString()}::timestamptz and lake_delivered_at is not null returning 1`,
  );
  return { partitions: await monthlyPartitions(), dropped, kept, deletedFromDefault: rowsOf(deleted).length };
}

async function monthlyPartitions(): Promise<string[]> {
  const result = await Database.use().execute(sql`
    select child.relname as name from pg_inherits
    join pg_class child on child.oid = pg_inherits.inhrelid
    join pg_class parent on parent.oid = pg_inherits.inhparent
    where parent.relname = 'reading' and child.relname ~ '^reading_[0-9]{4}_[0-9]{2}$'
    order by child.relname`);
  return rowsOf(result).map((row) => String(row.name));
}

async function count(query: SQL): Promise<number> {
  const row = rowsOf(await Database.use().execute(query))[0];
  return Number(row?.n ?? 0);
}

/** node-postgres and PGlite both answer `execute` with `{ rows }`. */
function rowsOf(result: unknown): Record<string, unknown>[] {
  const rows = (result as { rows?: unknown }).rows;
  if (!Array.isArray(rows)) throw new MaintenanceError("unexpected result shape from the database driver");
  return rows as Record<string, unknown>[];
}
