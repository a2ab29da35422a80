import { FirehoseClient, PutRecordBatchCommand } from "@aws-sdk/client-firehose";
import { LakeError, type Port, type Row, toRecord } from "./index";

/** Firehose PutRecordBatch takes at most 500 records and 4 MiB per call. */
const maxRecordsPerBatch = 500;
const maxAttempts = 4;

/** Direct PUT into the Firehose stream that converts to Parquet and partitions by `dt` (stacks/lake.ts). */
export class FirehoseLake implements Port {
  private client?: FirehoseClient;
  constructor(private readonly options: { deliveryStreamName: string }) {}

  describe() {
    return { kind: "firehose" as const, location: this.options.deliveryStreamName };
  }

  async put(rows: Row[]): Promise<void> {
    this.client ??= new FirehoseClient({});
    for (let start = 0; start < rows.length; start += maxRecordsPerBatch) {
      let pending = rows.slice(start, start + maxRecordsPerBatch).map((row) => new TextEncoder().encode(`${JSON.stringify(toRecord(row))}\n`));
      for (let attempt = 1; pending.length > 0; attempt++) {
        const response = await this.client
          .send(new PutRecordBatchCommand({ DeliveryStreamName: this.options.deliveryStreamName, Records: pending.map((Data) => ({ Data })) }))
          .catch((error: Error) => {
            throw new LakeError(`Firehose PutRecordBatch failed: ${error.message}`, { cause: error });
          });
        // Resend only the entries Firehose failed, as with Kinesis PutRecords.
        pending = pending.filter((_, index) => response.RequestResponses?.[index]?.ErrorCode);
        if (pending.length > 0 && attempt >= maxAttempts) {
          throw new LakeError(`Firehose refused ${pending.length} record(s) after ${attempt} attempts`);
        }
        if (pending.length > 0) await new Promise((resolve) => setTimeout(resolve, 100 * 2 ** attempt));
      }
    }
  }
}
