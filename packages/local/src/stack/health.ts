/** The local stack's health checks: the same `/health` components as on AWS, answered by the local stand-ins. */
import type { Database } from "@wattflow/core/database";
import { Health } from "@wattflow/core/health";
import type { LocalLake } from "@wattflow/core/lake/local";
import { sql } from "drizzle-orm";
import type { DurableLog } from "../stream/log";
import type { Poller } from "../stream/poller";

/** Registers (anew) every check of the local stack: database, lake, unreadable files, consumer and the pipeline's backlog. */
export function registerHealth(parts: { database: Database.Handle; streamLog: DurableLog; poller: Poller; lake: LocalLake; kinesisEndpoint: string }): void {
  Health.clear();
  Health.register("database", async () => {
    await parts.database.db.execute(sql`select 1`);
    return { ok: true, detail: { kind: parts.database.kind, location: parts.database.location } };
  });
  Health.register("lake", async () => ({ ok: true, detail: parts.lake.describe() }));
  Health.register("files", Health.unreadableFilesCheck);
  Health.register("consumer", async () => {
    // Failing with records waiting is unhealthy; being busy is not (the stream check judges the backlog's age).
    const failing = parts.poller.shards().filter((shard) => shard.lastError && shard.behind > 0);
    return { ok: failing.length === 0, detail: { endpoint: parts.kinesisEndpoint, ...parts.streamLog.stats(), failing: failing.length } };
  });
  Health.registerPipeline({
    backlog: async () =>
      parts.poller.shards().map((shard) => ({ shardId: shard.shardId, behind: shard.behind, oldestAgeMs: shard.iteratorAgeMs, lastError: shard.lastError })),
  });
}
