/**
 * Archives what the stream consumer gave up on. When a batch exhausts its retries (or grows too
 * old), Lambda sends the on-failure destination a record that only points at the batch (shard and
 * sequence range); this reads the records themselves back from Kinesis, within the stream's
 * retention, and keeps their bytes in quarantine so `wattflow quarantine replay` can put them back.
 */
import { and, eq, inArray } from "drizzle-orm";
import { z } from "zod";
import { Database } from "../database";
import { Ingest } from "../ingest";
import { quarantineTable } from "../quarantine/quarantine.sql";
import { UnavailableError } from "../util/error";
import { portSlot } from "../util/port";

export * as Drain from "./index";

/** The invocation record Lambda sends an on-failure destination for a Kinesis event source mapping. */
export const FailureRecord = z.object({
  requestContext: z.object({
    requestId: z.string(),
    functionArn: z.string(),
    condition: z.string(),
    approximateInvokeCount: z.number(),
  }),
  responseContext: z
    .object({
      statusCode: z.number().optional(),
      executedVersion: z.string().optional(),
      functionError: z.string().optional(),
    })
    .optional(),
  version: z.string(),
  timestamp: z.string(),
  KinesisBatchInfo: z.object({
    shardId: z.string(),
    startSequenceNumber: z.string().regex(/^\d+$/),
    endSequenceNumber: z.string().regex(/^\d+$/),
    approximateArrivalOfFirstRecord: z.string().optional(),
    approximateArrivalOfLastRecord: z.string().optional(),
    batchSize: z.number().int().positive(),
    streamArn: z.string().startsWith("arn:"),
  }),
});
export type FailureRecord = z.infer<typeof FailureRecord>;

export class DrainError extends UnavailableError {
  readonly code = "drain.unavailable";
  override readonly name = "DrainError";
}

export type Result = { read: number; archived: number; alreadyArchived: number; alreadyStored: number };

/** A stream record read back from a shard: its bytes, partition key, sequence number and arrival (ms since epoch). */
export type ShardRecord = { data: Uint8Array; partitionKey: string; sequenceNumber: string; arrivalMs: number };

/** A failed batch's place on the stream: the shard, the first and last sequence numbers (inclusive) and the batch's size. */
export type Batch = FailureRecord["KinesisBatchInfo"];

/**
 * Where the drainer reads a failed batch's records back from: Kinesis on AWS (./aws.ts, wired by the Lambda runtime).
 * The local twin has no drainer (its poller hands what it gives up on to `Ingest.giveUp` itself), so it wires none.
 */
export interface Shards {
  /** The records from the batch's start to end sequence number, inclusive, at most `batchSize`, in order; throws DrainError. */
  read(batch: Batch): Promise<ShardRecord[]>;
}

const slot = portSlot<Shards>("wattflow.drain", () => new DrainError("no stream to read failed batches from: the Lambda runtime provides Kinesis"));

/** This process's shard reader (util/port.ts): the Lambda runtime provides Kinesis, a test its own. */
export const { provide, provideLazily, provided, use } = slot;

/**
 * Reads the failed batch from the stream and adds every record in its sequence range to quarantine,
 * skipping records an earlier delivery of the same failure already archived (the queue delivers at
 * least once). Throws DrainError when the record is malformed, no shard reader was provided, or the data is gone from
 * the stream.
 */
export async function archive(input: unknown): Promise<Result> {
  const parsed = FailureRecord.safeParse(input);
  if (!parsed.success) throw new DrainError(`not a Kinesis on-failure record: ${parsed.error.message}`);
  const failure = parsed.data;
  const batch = failure.KinesisBatchInfo;
  const records = await (await use()).read(batch);
  if (records.length === 0) {
    throw new DrainError(`no records left in ${batch.streamArn} ${batch.shardId} from ${batch.startSequenceNumber}: past the stream's retention?`);
  }
  const archived = await alreadyArchived(
    batch.shardId,
    records.map((record) => record.sequenceNumber),
  );
  const fresh = records.filter((record) => !archived.has(record.sequenceNumber));
  const message = `${failure.requestContext.condition} after ${failure.requestContext.approximateInvokeCount} invocation(s)${
    failure.responseContext?.functionError ? ` (${failure.responseContext.functionError})` : ""
  } of ${failure.requestContext.functionArn}`;
  // Records whose reading is stored are not lost: Ingest.giveUp leaves them to the sweeper.
  const result = await Ingest.giveUp(
    fresh.map((record) => ({ ...record, shardId: batch.shardId })),
    {
      source: "kinesis",
      reason: `consumer gave up: ${failure.requestContext.condition}`,
      code: "consumer.gave_up",
      params: {},
      errors: [{ path: "", message }],
    },
  );
  return { read: records.length, archived: result.kept, alreadyArchived: records.length - fresh.length, alreadyStored: result.alreadyStored };
}

/**
 * Sequence numbers of the shard already in quarantine. When the database cannot say, none: the
 * records are then kept again (Quarantine.keep falls back to the raw archive) rather than left on the
 * queue until the stream's retention drops them; a repeat is a duplicate row, never a lost record.
 */
async function alreadyArchived(shardId: string, sequenceNumbers: string[]): Promise<Set<string | null>> {
  try {
    const rows = await Database.use()
      .select({ sequenceNumber: quarantineTable.sequenceNumber })
      .from(quarantineTable)
      .where(and(eq(quarantineTable.source, "kinesis"), eq(quarantineTable.shardId, shardId), inArray(quarantineTable.sequenceNumber, sequenceNumbers)));
    return new Set(rows.map((row) => row.sequenceNumber));
  } catch (error) {
    console.error(`cannot read which records of ${shardId} are already quarantined; keeping them all: ${(error as Error).message.slice(0, 300)}`);
    return new Set();
  }
}
