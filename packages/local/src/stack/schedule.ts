/**
 * The local stand-in for EventBridge schedules: each task runs the handler the AWS schedule invokes, on its own period,
 * and a failure is logged with the task's name and retried at the next tick (a schedule's Lambda is retried the same way
 * by its next invocation). Also trims the durable log past retention, as Kinesis drops records past theirs.
 */
import { deliverySweepMs, localStream } from "@wattflow/core/config";
import type { DurableLog } from "../stream/log";
import type { Poller } from "../stream/poller";

/** The retention every stage deploys (stacks/config.ts `database.readingRetentionMonths`), given to the maintenance handler. */
const readingRetentionMonths = 14;
/** The maintenance schedule's period: daily, as `MaintenanceSchedule` in stacks/database.ts. */
const maintenanceEveryMs = 86_400_000;
/** How often the durable log drops records every shard has checkpointed past the stream's retention. */
const streamTrimEveryMs = 60_000;
/** Alert rules run every 5 minutes on AWS (stacks/timeseries.ts); every minute here so a demo shows them sooner. */
const alertsEveryMs = 60_000;

type Task = { name: string; everyMs: number; run: () => Promise<void> };

/**
 * Starts the schedules of the local stack; returns the function that stops them all.
 * @param parts the stream log and its poller (for trimming), and where lines go.
 */
export function startSchedules(parts: { streamLog: DurableLog; poller: Poller; log: (line: string) => void }): () => void {
  const { streamLog, poller, log } = parts;
  // The maintenance handler reads its retention from the environment, as the deployed function does.
  process.env.READING_RETENTION_MONTHS ??= String(readingRetentionMonths);
  const tasks: Task[] = [
    {
      name: "stream retention",
      everyMs: streamTrimEveryMs,
      // Each shard on its own: one that fails to trim is logged and does not hold the others back.
      run: async () => {
        const trims = poller
          .shards()
          .flatMap(({ shardId, checkpoint }) =>
            checkpoint
              ? [
                  streamLog
                    .trim(shardId, checkpoint, localStream.retentionHours * 3_600_000)
                    .catch((error: Error) => log(`stream retention: ${shardId}: ${error.message}`)),
                ]
              : [],
          );
        await Promise.all(trims);
      },
    },
    // The same handler the AWS schedule invokes (stacks/stream.ts).
    {
      name: "sweeper",
      everyMs: deliverySweepMs,
      run: async () => {
        const { handler } = await import("@wattflow/functions/sweeper/index");
        const { forwarded, restored } = await handler({});
        if (forwarded > 0) log(`lake: forwarded ${forwarded} stored reading(s) that had not reached it`);
        if (restored > 0) log(`quarantine: restored ${restored} record(s) from the raw archive`);
      },
    },
    {
      name: "alerts",
      everyMs: alertsEveryMs,
      run: async () => {
        const { handler } = await import("@wattflow/functions/alerts/index");
        await handler({});
      },
    },
    // Reading partitions and retention, daily as on AWS (stacks/database.ts), first a day after start as a deploy does not
    // run it either. Safe on local data: it creates the coming months' partitions and drops or deletes only readings past
    // retention that the lake already holds (lake_delivered_at set).
    {
      name: "maintenance",
      everyMs: maintenanceEveryMs,
      run: async () => {
        const { handler } = await import("@wattflow/functions/maintenance/index");
        const { dropped, deletedFromDefault } = await handler({});
        if (dropped.length > 0 || deletedFromDefault > 0)
          log(`maintenance: past retention and kept in the lake: dropped ${dropped.join(", ") || "no partition"}, ${deletedFromDefault} late reading(s)`);
      },
    },
  ];
  const timers = tasks.map((task) =>
    setInterval(() => {
      task.run().catch((error: Error) => log(`${task.name}: ${error.message}`));
    }, task.everyMs),
  );
  return () => {
    for (const timer of timers) clearInterval(timer);
  };
}
