/**
 * The local Kinesis endpoint answers the SDK as a new user builds it: `new KinesisClient({ endpoint,
 * region, credentials })` sends HTTP/2 (prior knowledge on http://), which the endpoint refused with
 * "Protocol error" before; gateways keep HTTP/1.1 (the contract tests) on the same port.
 */

import { GetRecordsCommand, GetShardIteratorCommand, KinesisClient, ListShardsCommand, PutRecordsCommand } from "@aws-sdk/client-kinesis";
import * as LocalTesting from "@wattflow/local/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const credentials = { accessKeyId: "AKIAWATTFLOWLOCAL000", secretAccessKey: "secret" };

describe("the local Kinesis endpoint with the SDK's default (HTTP/2) handler", () => {
  let target: { endpoint: string; stop(): Promise<void> };
  const clients: KinesisClient[] = [];
  const client = (secretAccessKey = credentials.secretAccessKey) => {
    const made = new KinesisClient({ endpoint: target.endpoint, region: "us-east-1", credentials: { ...credentials, secretAccessKey }, maxAttempts: 1 });
    clients.push(made);
    return made;
  };
  beforeAll(async () => {
    target = await LocalTesting.localKinesis({ stream: "readings", credentials, shardCount: 1 });
  });
  afterAll(async () => {
    for (const made of clients) made.destroy();
    await target.stop();
  });

  it("puts and reads back records", async () => {
    const kinesis = client();

    const put = await kinesis.send(
      new PutRecordsCommand({
        StreamName: "readings",
        Records: [
          { PartitionKey: "m", Data: Buffer.from("one") },
          { PartitionKey: "m", Data: Buffer.from("two") },
        ],
      }),
    );
    const [shard] = (await kinesis.send(new ListShardsCommand({ StreamName: "readings" }))).Shards ?? [];
    const iterator = await kinesis.send(new GetShardIteratorCommand({ StreamName: "readings", ShardId: shard?.ShardId, ShardIteratorType: "TRIM_HORIZON" }));
    const read = await kinesis.send(new GetRecordsCommand({ ShardIterator: iterator.ShardIterator }));

    expect(put.FailedRecordCount).toBe(0);
    expect(read.Records?.map((record) => Buffer.from(record.Data ?? []).toString())).toEqual(["one", "two"]);
  });

  it("refuses a GetRecords Limit outside 1–10,000 and a hash key past 2^128 − 1, as Kinesis does, instead of reading nothing or using the last shard", async () => {
    const kinesis = client();
    const [shard] = (await kinesis.send(new ListShardsCommand({ StreamName: "readings" }))).Shards ?? [];
    const { ShardIterator } = await kinesis.send(
      new GetShardIteratorCommand({ StreamName: "readings", ShardId: shard?.ShardId, ShardIteratorType: "TRIM_HORIZON" }),
    );

    for (const Limit of [0, 10_001])
      await expect(kinesis.send(new GetRecordsCommand({ ShardIterator, Limit }))).rejects.toMatchObject({ name: "ValidationException" });
    await expect(
      kinesis.send(
        new PutRecordsCommand({ StreamName: "readings", Records: [{ PartitionKey: "m", Data: Buffer.from("x"), ExplicitHashKey: (2n ** 128n).toString() }] }),
      ),
    ).rejects.toMatchObject({ name: "InvalidArgumentException" });
    // The largest key is still taken.
    const last = await kinesis.send(
      new PutRecordsCommand({
        StreamName: "readings",
        Records: [{ PartitionKey: "m", Data: Buffer.from("x"), ExplicitHashKey: (2n ** 128n - 1n).toString() }],
      }),
    );
    expect(last.FailedRecordCount).toBe(0);
  });

  it("refuses a wrong secret with the error AWS gives", async () => {
    await expect(client("wrong").send(new ListShardsCommand({ StreamName: "readings" }))).rejects.toMatchObject({
      name: "InvalidSignatureException",
      $metadata: { httpStatusCode: 400 },
    });
  });
});
