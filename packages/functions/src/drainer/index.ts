/**
 * The consumer's on-failure destination (an SQS queue) feeds this: each message points at a batch the
 * consumer gave up on, and core archives those records' data from the stream into quarantine.
 */
import { Drain } from "@wattflow/core/drain";
import type { SQSBatchResponse, SQSEvent } from "aws-lambda";
import { count, lambda, logger } from "../lambda";
import { ensureRuntime } from "../runtime";

/** Archives each failed batch a message points at; a message that cannot be archived stays on the queue. */
async function drainFailedBatches(event: SQSEvent): Promise<SQSBatchResponse> {
  await ensureRuntime();
  const failures: SQSBatchResponse["batchItemFailures"] = [];
  for (const message of event.Records) {
    try {
      const result = await Drain.archive(JSON.parse(message.body));
      count("RecordsArchived", result.archived);
      logger.info("failed batch archived", { messageId: message.messageId, ...result });
    } catch (error) {
      // The message stays on the queue (and reaches its dead-letter queue after maxReceiveCount).
      logger.error("cannot archive failed batch", { messageId: message.messageId, error: error as Error });
      count("ArchiveFailures", 1);
      failures.push({ itemIdentifier: message.messageId });
    }
  }
  return { batchItemFailures: failures };
}

export const handler = lambda("drainer", drainFailedBatches);
