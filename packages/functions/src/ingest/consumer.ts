/**
 * The readings stream consumer (Kinesis event source mapping with ReportBatchItemFailures).
 * Thin: decode the event, hand the records to core, map the result.
 */

import { Ingest } from "@wattflow/core/ingest";
import type { KinesisStreamBatchResponse, KinesisStreamEvent } from "aws-lambda";
import { count, lambda } from "../lambda";
import { ensureRuntime } from "../runtime";

/** Hands a Kinesis batch to Ingest.consume; no record is reported as failed. */
async function consumeReadings(event: KinesisStreamEvent): Promise<KinesisStreamBatchResponse> {
  await ensureRuntime();
  const result = await Ingest.consume(
    event.Records.map((record) => ({
      data: Buffer.from(record.kinesis.data, "base64"),
      sequenceNumber: record.kinesis.sequenceNumber,
      partitionKey: record.kinesis.partitionKey,
      shardId: record.eventID.split(":")[0],
      arrivalMs: record.kinesis.approximateArrivalTimestamp * 1000,
    })),
  );
  count("ReadingsStored", result.stored);
  count("ReadingsQuarantined", result.quarantined);
  count("ReadingsUndelivered", result.undelivered);
  if (result.quarantinedTo === "archive") count("RecordsRawArchived", result.quarantined);
  // Every record is stored, quarantined or archived: none is a failure to retry (a database outage throws instead).
  return { batchItemFailures: [] };
}

export const handler = lambda("consumer", consumeReadings);
