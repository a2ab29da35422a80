/**
 * Component health, reported by GET /health (status only) and GET /v1/health (every check's
 * figures, for an operator or admin). Each runtime registers the parts it runs; the pipeline's
 * checks (stream backlog, undelivered readings, quarantine growth, raw archive) are the same
 * locally and on AWS, only the backlog's source differs. One more check is one `register` line.
 */
import { and, count, isNull, min } from "drizzle-orm";
import { z } from "zod";
import { RawArchive } from "../archive";
import { health as thresholds } from "../config";
import { Database } from "../database";
import { Quarantine } from "../quarantine";
import { readingTable } from "../reading/reading.sql";
import { unreadableFiles } from "../util/files";
import { processState } from "../util/global";

export * as Health from "./index";

export type Result = { ok: boolean; detail?: Record<string, unknown> | string };
export type Check = () => Promise<Result>;
/** What every check found (`GET /v1/health`): each component's verdict and its figures (a check's own shape). */
export const Report = z.object({
  status: z.enum(["ok", "degraded"]),
  checkedAt: z.string(),
  components: z.record(z.string(), z.object({ ok: z.boolean(), detail: z.unknown().optional() })),
});
export type Report = z.infer<typeof Report>;
/** The status alone, for anyone (`GET /health`). */
export const PublicReport = Report.pick({ status: true });
export type PublicReport = z.infer<typeof PublicReport>;

/** How far behind the consumer is on one shard: records not yet handled (when known) and the age of the oldest (ms). */
export type ShardBacklog = { shardId: string; behind?: number; oldestAgeMs: number; lastError?: string };

const checks = processState("wattflow.health", () => new Map<string, Check>());

export function register(name: string, check: Check): void {
  checks.set(name, check);
}

export function clear(): void {
  checks.clear();
}

/** Runs every check, each bounded by `timeoutMs` so one hung component cannot hang the report. */
export async function report(timeoutMs: number = thresholds.checkTimeoutMs, now = new Date()): Promise<Report> {
  const components: Report["components"] = {};
  await Promise.all(
    [...checks].map(async ([name, check]) => {
      let timer: NodeJS.Timeout | undefined;
      try {
        components[name] = await Promise.race([
          check(),
          new Promise<never>((_, reject) => {
            timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
          }),
        ]);
      } catch (error) {
        components[name] = { ok: false, detail: (error as Error).message };
      } finally {
        clearTimeout(timer);
      }
    }),
  );
  const status = Object.values(components).every((component) => component.ok) ? "ok" : "degraded";
  return { status, checkedAt: now.toISOString(), components };
}

/** What anyone may see: the status alone, no paths, figures or error text. */
export function publicView(report: Report): PublicReport {
  return { status: report.status };
}

/**
 * Registers the pipeline's checks, degraded past the thresholds in config `health`:
 * - `stream`: per shard, the age of the oldest record the consumer has not handled (`backlog`:
 *   the local poller, or CloudWatch IteratorAge on AWS, see ./aws.ts);
 * - `undelivered`: readings stored but not yet in the lake and the series, and the oldest one's age;
 * - `quarantine`: records quarantined in the last hour;
 * - `archive`: records kept in the raw archive because quarantine refused them.
 */
export function registerPipeline(options: { backlog: () => Promise<ShardBacklog[]> }): void {
  register("stream", async () => {
    const shards = await options.backlog();
    const oldestAgeMs = Math.max(0, ...shards.map((shard) => shard.oldestAgeMs));
    return { ok: oldestAgeMs <= thresholds.streamMaxAgeMs, detail: { oldestAgeMs, thresholdMs: thresholds.streamMaxAgeMs, shards } };
  });
  register("undelivered", async () => {
    const figures = await undelivered();
    const oldestAgeSeconds = figures.oldestStoredAt ? Math.max(0, Math.round((Date.now() - figures.oldestStoredAt.getTime()) / 1000)) : 0;
    return {
      ok: oldestAgeSeconds <= thresholds.undeliveredMaxAgeSeconds,
      detail: { readings: figures.readings, oldestAgeSeconds, thresholdSeconds: thresholds.undeliveredMaxAgeSeconds },
    };
  });
  register("quarantine", async () => {
    const lastHour = await Quarantine.countSince(new Date(Date.now() - 3_600_000));
    return { ok: lastHour <= thresholds.quarantinedPerHour, detail: { lastHour, threshold: thresholds.quarantinedPerHour } };
  });
  register("archive", async () => {
    const store = await RawArchive.use();
    const objects = (await store.list(1000)).length;
    return { ok: objects <= thresholds.rawArchived, detail: { objects, location: store.describe().location } };
  });
}

/** Readings stored but not yet delivered to the lake and the series (the partial index reading_undelivered_idx answers this). */
export async function undelivered(): Promise<{ readings: number; oldestStoredAt: Date | null }> {
  const [row] = await Database.use()
    .select({ readings: count(), oldest: min(readingTable.storedAt) })
    .from(readingTable)
    .where(and(isNull(readingTable.lakeDeliveredAt)));
  const oldest = row?.oldest ?? null;
  return { readings: row?.readings ?? 0, oldestStoredAt: oldest === null ? null : new Date(oldest) };
}

/**
 * Files a reader could not read (a torn lake Parquet, a workflow state file) and set aside
 * (util/files.ts): each with where it was, where it went, why and when. They are repaired, not
 * failing (the reader goes on without them), so the component stays ok and names them for a person.
 */
export const unreadableFilesCheck: Check = async () => ({ ok: true, detail: { unreadable: unreadableFiles() } });
