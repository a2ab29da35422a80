import {
  DescribeStreamSummaryCommand,
  GetRecordsCommand,
  GetShardIteratorCommand,
  KinesisClient,
  ListShardsCommand,
  PutRecordsCommand,
} from "@aws-sdk/client-kinesis";
import { NodeHttpHandler } from "@smithy/node-http-handler";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Testing } from "../src/testing";

const credentials = { accessKeyId: "AKIAWATTFLOWLOCAL000", secretAccessKey: "secret" };
const stream = "readings";

type Target = { endpoint: string; stop(): Promise<void> };

function localTarget(): Promise<Target> {
  return Testing.localKinesis({ stream, accessKeyId: credentials.accessKeyId });
}

const targets: [string, () => Promise<Target>][] = [
  ["local stack endpoint", localTarget],
  ["kinesis-mock", () => Testing.kinesisMock(`${stream}:2`)],
];

describe.each(targets)("Kinesis contract against %s", (_name, start) => {
  let target: Target;
  let client: KinesisClient;
  beforeAll(async () => {
    target = await start();
    // The SDK's default handler fails intermittently on plain-HTTP local endpoints (local-services.md).
    client = new KinesisClient({ endpoint: target.endpoint, region: "us-east-1", credentials, requestHandler: new NodeHttpHandler() });
  });
  afterAll(async () => {
    client.destroy();
    await target.stop();
  });

  it("describes the stream as ACTIVE with its shards", async () => {
    const summary = await client.send(new DescribeStreamSummaryCommand({ StreamName: stream }));
    expect(summary.StreamDescriptionSummary?.StreamStatus).toBe("ACTIVE");
    expect(summary.StreamDescriptionSummary?.OpenShardCount).toBe(2);
    const shards = await client.send(new ListShardsCommand({ StreamName: stream }));
    expect(shards.Shards?.map((shard) => shard.ShardId)).toEqual(["shardId-000000000000", "shardId-000000000001"]);
  });

  it("puts records and reads every one back, keyed and in order within a partition key", async () => {
    const records = Array.from({ length: 20 }, (_, index) => ({ PartitionKey: `mtr_${index % 3}`, Data: Buffer.from(JSON.stringify({ index })) }));
    const put = await client.send(new PutRecordsCommand({ StreamName: stream, Records: records }));
    expect(put.FailedRecordCount).toBe(0);
    expect(put.Records).toHaveLength(20);
    expect(put.Records?.every((record) => record.SequenceNumber && record.ShardId)).toBe(true);
    // Records with one partition key land on one shard.
    const shardsOfKey0 = new Set(put.Records?.filter((_, index) => index % 3 === 0).map((record) => record.ShardId));
    expect(shardsOfKey0.size).toBe(1);

    const read: { key: string; index: number }[] = [];
    for (const shardId of ["shardId-000000000000", "shardId-000000000001"]) {
      const iterator = await client.send(new GetShardIteratorCommand({ StreamName: stream, ShardId: shardId, ShardIteratorType: "TRIM_HORIZON" }));
      const page = await client.send(new GetRecordsCommand({ ShardIterator: iterator.ShardIterator, Limit: 100 }));
      for (const record of page.Records ?? [])
        read.push({ key: record.PartitionKey as string, index: JSON.parse(Buffer.from(record.Data as Uint8Array).toString()).index });
      expect(page.NextShardIterator).toBeTruthy();
    }
    expect(read.map((record) => record.index).sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, index) => index));
    for (const key of ["mtr_0", "mtr_1", "mtr_2"]) {
      const order = read.filter((record) => record.key === key).map((record) => record.index);
      expect(order).toEqual([...order].sort((a, b) => a - b));
    }
  });

  it("names an unknown stream with ResourceNotFoundException", async () => {
    await expect(client.send(new PutRecordsCommand({ StreamName: "nope", Records: [{ PartitionKey: "k", Data: Buffer.from("x") }] }))).rejects.toMatchObject({
      name: "ResourceNotFoundException",
    });
  });
});

// Real Kinesis refuses a 501-record PutRecords with a ValidationException; kinesis-mock 0.6 accepts it,
// so this limit is checked on the local endpoint only (the gateway must never rely on either).
describe("local stack endpoint beyond kinesis-mock", () => {
  it("refuses more than 500 records in one PutRecords, as Kinesis does", async () => {
    const target = await localTarget();
    const client = new KinesisClient({ endpoint: target.endpoint, region: "us-east-1", credentials, requestHandler: new NodeHttpHandler() });
    const records = Array.from({ length: 501 }, () => ({ PartitionKey: "k", Data: Buffer.from("x") }));
    await expect(client.send(new PutRecordsCommand({ StreamName: stream, Records: records }))).rejects.toMatchObject({ name: "ValidationException" });
    client.destroy();
    await target.stop();
  });

  it("refuses a request signed with an unknown access key", async () => {
    const target = await localTarget();
    const client = new KinesisClient({
      endpoint: target.endpoint,
      region: "us-east-1",
      credentials: { accessKeyId: "AKIAOTHER", secretAccessKey: "x" },
      requestHandler: new NodeHttpHandler(),
    });
    await expect(client.send(new ListShardsCommand({ StreamName: stream }))).rejects.toMatchObject({ name: "UnrecognizedClientException" });
    client.destroy();
    await target.stop();
  });
});
