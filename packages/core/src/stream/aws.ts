import { KinesisClient, type KinesisClientConfig, PutRecordsCommand } from "@aws-sdk/client-kinesis";
import type { Port, PutEntry, PutResult } from "./index";
import { StreamUnavailableError } from "./index";

/** Kinesis Data Streams adapter. The client is created on first use, never at import. */
export class KinesisStream implements Port {
  private client?: KinesisClient;
  constructor(private readonly options: { streamName: string; client?: KinesisClientConfig }) {}

  describe() {
    return { kind: "kinesis" as const, name: this.options.streamName };
  }

  async put(entries: PutEntry[]): Promise<PutResult[]> {
    this.client ??= new KinesisClient(this.options.client ?? {});
    try {
      const response = await this.client.send(
        new PutRecordsCommand({
          StreamName: this.options.streamName,
          Records: entries.map((entry) => ({ PartitionKey: entry.partitionKey, Data: entry.data })),
        }),
      );
      return (response.Records ?? []).map((record) =>
        record.SequenceNumber && record.ShardId
          ? { ok: true, shardId: record.ShardId, sequenceNumber: record.SequenceNumber }
          : { ok: false, errorCode: record.ErrorCode ?? "InternalFailure", errorMessage: record.ErrorMessage ?? "" },
      );
    } catch (error) {
      throw new StreamUnavailableError(`Kinesis PutRecords failed: ${(error as Error).message}`, { cause: error });
    }
  }
}
