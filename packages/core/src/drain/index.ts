/**
 * Archives what the stream consumer gave up on. When a batch exhausts its retries (or grows too
 * old), Lambda sends the on-failure destination a record that only points at the batch (shard and
 * sequence range); this reads the records themselves back from Kinesis, within the stream's
 * retention, and keeps their bytes in quarantine so `wattflow quarantine replay` can put them back.
 */
import { type _Record, GetRecordsCommand, GetShardIteratorCommand, KinesisClient } from "@aws-sdk/client-kinesis";
import { and, eq, inArray } from "drizzle-orm";
import { z } from "zod";
import { Database } from "../database";
import { Ingest } from "../ingest";
import { quarantineTable } from "../quarantine/quarantine.sql";
import { UnavailableError } from "../util/error";

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

/** GetRecords returns at most this many records per call; a failed batch is at most 10,000 records. */
const getRecordsLimit = 10_000;
/** Empty pages in a row before giving up: a shard can return empty pages before reaching data. */
const maxEmptyPages = 5;

let client: KinesisClient | undefined;

/**
 * Reads the failed batch from the stream and adds every record in its sequence range to quarantine,
 * skipping records an earlier delivery of the same failure already archived (the queue delivers at
 * least once). Throws DrainError when the record is malformed or the data is gone from the stream.
 */
export async function archive(input: unknown): Promise<Result> {
  const parsed = FailureRecord.safeParse(input);
  if (!parsed.success) throw new DrainError(`not a Kinesis on-failure record: ${parsed.error.message}`);
  const failure = parsed.data;
  const batch = failure.KinesisBatchInfo;
  const records = await readRange(batch);
  if (records.length === 0) {
    throw new DrainError(`no records left in ${batch.streamArn} ${batch.shardId} from ${batch.startSequenceNumber}: past the stream's retention?`);
  }
  const sequenceNumbers = records.map((record) => record.SequenceNumber ?? "");
  const archived = await alreadyArchived(batch.shardId, sequenceNumbers);
  const fresh = records.filter((record) => !archived.has(record.SequenceNumber ?? ""));
  const message = `${failure.requestContext.condition} after ${failure.requestContext.approximateInvokeCount} invocation(s)${
    failure.responseContext?.functionError ? ` (${failure.responseContext.functionError})` : ""
  } of ${failure.requestContext.functionArn}`;
  // Records whose reading is stored are not lost: Ingest.giveUp leaves them to the sweeper.
  const result = await Ingest.giveUp(
    fresh.map((record) => ({
      data: record.Data ?? new Uint8Array(),
      partitionKey: record.PartitionKey ?? "",
      sequenceNumber: record.SequenceNumber ?? "",
      shardId: batch.shardId,
      arrivalMs: record.ApproximateArrivalTimestamp?.getTime() ?? Date.now(),
    })),
    { source: "kinesis", reason: `consumer gave up: ${failure.requestContext.condition}`, errors: [{ path: "", message }] },
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

/** The records of the shard from start to end sequence number, inclusive, at most batchSize of them. */
async function readRange(batch: FailureRecord["KinesisBatchInfo"]): Promise<_Record[]> {
  client ??= new KinesisClient({});
  const end = BigInt(batch.endSequenceNumber);
  const found: _Record[] = [];
  let iterator: string | undefined;
  try {
    const start = await client.send(
      new GetShardIteratorCommand({
        StreamARN: batch.streamArn,
        ShardId: batch.shardId,
        ShardIteratorType: "AT_SEQUENCE_NUMBER",
        StartingSequenceNumber: batch.startSequenceNumber,
      }),
    );
    iterator = start.ShardIterator;
    let emptyPages = 0;
    while (iterator && found.length < batch.batchSize) {
      const page = await client.send(
        new GetRecordsCommand({ StreamARN: batch.streamArn, ShardIterator: iterator, Limit: Math.min(getRecordsLimit, batch.batchSize - found.length) }),
      );
      const records = page.Records ?? [];
      for (const record of records) {
        if (BigInt(record.SequenceNumber ?? "0") > end) return found;
        found.push(record);
      }
      if (records.length === 0) {
        emptyPages++;
        // Caught up with the shard's tip, or a closed shard's end: nothing more in range.
        if (page.MillisBehindLatest === 0 || emptyPages >= maxEmptyPages) break;
      } else {
        emptyPages = 0;
      }
      iterator = page.NextShardIterator;
    }
  } catch (error) {
    throw new DrainError(`cannot read ${batch.shardId} of ${batch.streamArn}: ${(error as Error).message}`, { cause: error });
  }
  return found;
}
