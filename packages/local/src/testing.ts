/**
 * Test helpers of the local twin, for any package's tests (never imported by production code).
 */
import { join } from "node:path";
import { Testing } from "@wattflow/core/testing";
import { KinesisEndpoint } from "./stream/kinesis-endpoint";
import { DurableLog } from "./stream/log";

/**
 * The local stack's Kinesis endpoint over a fresh durable log, on a free port: the counterpart of
 * `kinesisMock` in contract tests. Requests must be signed with these credentials.
 */
export async function localKinesis(options: {
  stream: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
  shardCount?: number;
}): Promise<{ endpoint: string; stop(): Promise<void> }> {
  const dir = Testing.temporaryDir();
  const log = await DurableLog.open({ dir: join(dir.path, options.stream), name: options.stream, shardCount: options.shardCount ?? 2, segmentBytes: 1 << 20 });
  const endpoint = new KinesisEndpoint({ log, region: "us-east-1", accountId: "000000000000", ...options.credentials, retentionHours: 168 });
  const url = await endpoint.listen(0);
  return {
    endpoint: url,
    async stop() {
      await endpoint.close();
      await log.close();
      dir.remove();
    },
  };
}
