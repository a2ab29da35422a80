/**
 * The drainer's shard reader on AWS: a failed batch's records read back from Kinesis by shard and sequence number,
 * within the stream's retention. The client is created on first use, never at import.
 */
import { type _Record, GetRecordsCommand, GetShardIteratorCommand, KinesisClient, type KinesisClientConfig } from "@aws-sdk/client-kinesis";
import { type Batch, DrainError, type ShardRecord, type Shards } from "./index";

/** GetRecords returns at most this many records per call; a failed batch is at most 10,000 records. */
const getRecordsLimit = 10_000;
/** Empty pages in a row before giving up: a shard can return empty pages before reaching data. */
const maxEmptyPages = 5;

export class KinesisShards implements Shards {
  private client?: KinesisClient;
  constructor(private readonly config: KinesisClientConfig = {}) {}

  /** The records of the shard from start to end sequence number, inclusive, at most batchSize of them; DrainError when Kinesis fails. */
  async read(batch: Batch): Promise<ShardRecord[]> {
    this.client ??= new KinesisClient(this.config);
    const client = this.client;
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
      pages: while (iterator && found.length < batch.batchSize) {
        const page = await client.send(
          new GetRecordsCommand({ StreamARN: batch.streamArn, ShardIterator: iterator, Limit: Math.min(getRecordsLimit, batch.batchSize - found.length) }),
        );
        const records = page.Records ?? [];
        for (const record of records) {
          if (BigInt(record.SequenceNumber ?? "0") > end) break pages;
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
    return found.map((record) => ({
      data: record.Data ?? new Uint8Array(),
      partitionKey: record.PartitionKey ?? "",
      sequenceNumber: record.SequenceNumber ?? "",
      arrivalMs: record.ApproximateArrivalTimestamp?.getTime() ?? Date.now(),
    }));
  }
}
