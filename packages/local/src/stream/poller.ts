/**
 * The local event source mapping: reads each shard of the durable log and invokes the consumer
 * handler with Lambda's Kinesis semantics — batch size and batching window, ReportBatchItemFailures
 * (resume from the lowest failed sequence number), bisect on function error, bounded retries and
 * record age, and an on-failure action that archives the records instead of dropping them.
 */

import { join } from "node:path";
import { readJsonState, writeFileAtomic } from "@wattflow/core/util/files";
import type { KinesisStreamBatchResponse, KinesisStreamEvent } from "aws-lambda";
import { kinesisEvent } from "./event";
import type { DurableLog, LogRecord, Position } from "./log";

export type KinesisHandler = (event: KinesisStreamEvent) => Promise<KinesisStreamBatchResponse | undefined>;

export type PollerOptions = {
  log: DurableLog;
  /** Folder for checkpoints, one file per shard. */
  dir: string;
  /** Resolved before every batch, so `npm run dev` can swap the handler without a restart. */
  handler: () => Promise<KinesisHandler>;
  /** Called with records whose retries ran out; must store them durably or throw. */
  onFailure: (records: LogRecord[], reason: string) => Promise<void>;
  batchSize: number;
  maximumBatchingWindowMs: number;
  maximumRetryAttempts: number;
  maximumRecordAgeSeconds: number;
  bisectBatchOnFunctionError: boolean;
  retryBaseDelayMs: number;
  retryMaxDelayMs: number;
  region?: string;
  accountId?: string;
};

type Checkpoint = { position: Position; sequenceNumber?: string };

export type ShardStatus = {
  shardId: string;
  /** Last sequence number fully handled. */
  checkpoint?: string;
  /** Records appended and not yet handled. */
  behind: number;
  /** Age of the oldest record not yet handled (Lambda's IteratorAge), as of now; 0 when caught up. */
  iteratorAgeMs: number;
  /** Arrival time of the oldest record not yet handled; undefined when caught up. */
  oldestArrivalMs?: number;
  lastError?: string;
  archived: number;
};

class Stopped extends Error {
  constructor() {
    super("poller stopped");
    this.name = "Stopped";
  }
}

export class Poller {
  private running = false;
  private readonly loops: Promise<void>[] = [];
  private readonly status = new Map<string, ShardStatus>();
  private readonly sleepers = new Set<() => void>();

  constructor(private readonly options: PollerOptions) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    for (const shardId of this.options.log.shardIds) {
      this.status.set(shardId, { shardId, behind: 0, iteratorAgeMs: 0, archived: 0 });
      this.loops.push(this.runShard(shardId));
    }
  }

  async stop(): Promise<void> {
    this.running = false;
    for (const wake of this.sleepers) wake();
    await Promise.allSettled(this.loops);
    this.loops.length = 0;
  }

  shards(): ShardStatus[] {
    const now = Date.now();
    return [...this.status.values()].map((status) => ({
      ...status,
      iteratorAgeMs: status.oldestArrivalMs === undefined ? 0 : Math.max(0, now - status.oldestArrivalMs),
      behind:
        status.checkpoint === undefined
          ? Number(this.options.log.nextSequenceNumber(status.shardId)) - 1
          : Number(this.options.log.nextSequenceNumber(status.shardId)) - Number(status.checkpoint) - 1,
    }));
  }

  private checkpointPath(shardId: string): string {
    return join(this.options.dir, `${shardId}.checkpoint.json`);
  }

  private loadCheckpoint(shardId: string): Checkpoint {
    // TRIM_HORIZON: a new consumer starts at the oldest record kept; so does one whose checkpoint was
    // unreadable (set aside): records already processed come again and are stored once by their key.
    return readJsonState<Checkpoint>(this.checkpointPath(shardId)) ?? { position: this.options.log.trimHorizon(shardId) };
  }

  private async runShard(shardId: string): Promise<void> {
    const status = this.status.get(shardId) as ShardStatus;
    let checkpoint = this.loadCheckpoint(shardId);
    status.checkpoint = checkpoint.sequenceNumber;
    const { log, batchSize, maximumBatchingWindowMs } = this.options;
    while (this.running) {
      try {
        let { records, next } = await log.read(shardId, checkpoint.position, batchSize);
        if (records.length === 0) {
          status.oldestArrivalMs = undefined;
          await this.sleepUntilAppend(shardId, 1000);
          continue;
        }
        const oldest = records[0] as LogRecord;
        status.oldestArrivalMs = oldest.arrivalMs;
        const waitMs = maximumBatchingWindowMs - (Date.now() - oldest.arrivalMs);
        if (records.length < batchSize && waitMs > 0) {
          await this.sleep(waitMs);
          ({ records, next } = await log.read(shardId, checkpoint.position, batchSize));
        }
        await this.deliver(shardId, records, status);
        const last = records[records.length - 1] as LogRecord;
        checkpoint = { position: next, sequenceNumber: last.sequenceNumber };
        await writeFileAtomic(this.checkpointPath(shardId), JSON.stringify(checkpoint));
        status.checkpoint = last.sequenceNumber;
      } catch (error) {
        if (error instanceof Stopped) return;
        status.lastError = (error as Error).message;
        await this.sleep(this.options.retryMaxDelayMs);
      }
    }
  }

  /** Returns once every record is handled: processed, or archived after its retries ran out. */
  private async deliver(_shardId: string, records: LogRecord[], status: ShardStatus): Promise<void> {
    const queue: { batch: LogRecord[]; attempts: number }[] = [{ batch: records, attempts: 0 }];
    while (queue.length > 0) {
      const item = queue.shift() as { batch: LogRecord[]; attempts: number };
      let remaining = item.batch;
      let attempts = item.attempts;
      while (remaining.length > 0) {
        if (!this.running) throw new Stopped();
        let failedFrom: number;
        let reason: string;
        try {
          const handler = await this.options.handler();
          const response = await handler(this.event(remaining));
          const failures = response?.batchItemFailures ?? [];
          if (failures.length === 0) {
            status.lastError = undefined;
            break;
          }
          const indexes = failures.map((failure) => remaining.findIndex((record) => record.sequenceNumber === failure.itemIdentifier));
          // An identifier that is not in the batch makes Lambda treat the whole batch as failed.
          failedFrom = indexes.some((index) => index < 0) ? 0 : Math.min(...indexes);
          reason = `the handler reported ${failures.length} failed record(s)`;
        } catch (error) {
          reason = `the handler threw: ${(error as Error).message}`;
          if (this.options.bisectBatchOnFunctionError && remaining.length > 1) {
            const middle = Math.ceil(remaining.length / 2);
            // As on Lambda, splitting a batch does not count towards the retry quota: a poison record is
            // isolated in log2(batch) splits, then retried alone, so the records around it are not given up on.
            queue.unshift({ batch: remaining.slice(0, middle), attempts }, { batch: remaining.slice(middle), attempts });
            status.lastError = reason;
            remaining = [];
            break;
          }
          failedFrom = 0;
        }
        remaining = remaining.slice(failedFrom);
        attempts++;
        status.lastError = reason;
        const oldestAgeSeconds = (Date.now() - (remaining[0] as LogRecord).arrivalMs) / 1000;
        if (attempts > this.options.maximumRetryAttempts || oldestAgeSeconds > this.options.maximumRecordAgeSeconds) {
          await this.archive(remaining, `retries exhausted after ${attempts} attempt(s); last: ${reason}`);
          status.archived += remaining.length;
          remaining = [];
        } else {
          await this.sleep(Math.min(this.options.retryMaxDelayMs, this.options.retryBaseDelayMs * 2 ** (attempts - 1)));
        }
      }
    }
  }

  /**
   * Archiving must not fail silently. `onFailure` keeps records in quarantine or, failing that, in the
   * raw archive (Ingest.giveUp → Quarantine.keep), so no record's content can make it throw; only both
   * stores failing at once (database and disk) does, and then it is retried, holding the shard meanwhile.
   */
  private async archive(records: LogRecord[], reason: string): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      if (!this.running) throw new Stopped();
      try {
        await this.options.onFailure(records, reason);
        return;
      } catch (error) {
        console.error(`cannot archive ${records.length} record(s) (attempt ${attempt}): ${(error as Error).message}`);
        await this.sleep(Math.min(this.options.retryMaxDelayMs, this.options.retryBaseDelayMs * 2 ** attempt));
      }
    }
  }

  private event(records: LogRecord[]): KinesisStreamEvent {
    return kinesisEvent(records, { streamName: this.options.log.name, region: this.options.region, accountId: this.options.accountId });
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.sleepers.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.sleepers.add(wake);
    });
  }

  private async sleepUntilAppend(shardId: string, ms: number): Promise<void> {
    let wake: (() => void) | undefined;
    const stopped = new Promise<void>((resolve) => {
      wake = resolve;
      this.sleepers.add(resolve);
    });
    await Promise.race([this.options.log.waitForAppend(shardId, ms), stopped]);
    if (wake) this.sleepers.delete(wake);
  }
}
