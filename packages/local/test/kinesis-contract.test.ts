import { createHash, createHmac } from "node:crypto";
import {
  DescribeStreamSummaryCommand,
  GetRecordsCommand,
  GetShardIteratorCommand,
  KinesisClient,
  type KinesisClientConfig,
  ListShardsCommand,
  PutRecordsCommand,
} from "@aws-sdk/client-kinesis";
import { NodeHttpHandler } from "@smithy/node-http-handler";
import { SignatureV4 } from "@smithy/signature-v4";
import { Testing } from "@wattflow/core/testing";
import * as LocalTesting from "@wattflow/local/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const credentials = { accessKeyId: "AKIAWATTFLOWLOCAL000", secretAccessKey: "secret" };
const stream = "readings";

/** SHA-256 and HMAC for the signer, over node:crypto. */
class Sha256 {
  private readonly hash;
  constructor(secret?: string | ArrayBuffer | ArrayBufferView) {
    this.hash = secret === undefined ? createHash("sha256") : createHmac("sha256", typeof secret === "string" ? secret : Buffer.from(secret as Uint8Array));
  }
  update(data: string | ArrayBuffer | ArrayBufferView): void {
    this.hash.update(typeof data === "string" ? data : Buffer.from(data as Uint8Array));
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.hash.digest());
  }
}

type Target = { endpoint: string; stop(): Promise<void> };

/** Headers of a request to `endpoint` signed by the SDK's own signer with the test credentials, at `signingDate`. */
async function signedHeaders(endpoint: string, operation: string, body: string, signingDate = new Date()) {
  const url = new URL(endpoint);
  const signer = new SignatureV4({ credentials, region: "us-east-1", service: "kinesis", sha256: Sha256 });
  const signed = await signer.sign(
    {
      method: "POST",
      protocol: "http:",
      hostname: url.hostname,
      port: Number(url.port),
      path: "/",
      headers: { host: url.host, "content-type": "application/x-amz-json-1.1", "x-amz-target": `Kinesis_20131202.${operation}` },
      body,
    },
    { signingDate },
  );
  return signed.headers;
}

/** An SDK client of `target` signing with the test credentials, or with what `config` gives instead. */
function clientOf(target: Target, config: Partial<KinesisClientConfig> = {}): KinesisClient {
  return new KinesisClient({ endpoint: target.endpoint, region: "us-east-1", credentials, requestHandler: new NodeHttpHandler(), ...config });
}

function localTarget(): Promise<Target> {
  return LocalTesting.localKinesis({ stream, credentials });
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
    client = clientOf(target);
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
    const client = clientOf(target);
    const records = Array.from({ length: 501 }, () => ({ PartitionKey: "k", Data: Buffer.from("x") }));
    await expect(client.send(new PutRecordsCommand({ StreamName: stream, Records: records }))).rejects.toMatchObject({ name: "ValidationException" });
    client.destroy();
    await target.stop();
  });

  it("refuses a request signed with an unknown access key", async () => {
    const target = await localTarget();
    const client = clientOf(target, { credentials: { accessKeyId: "AKIAOTHER", secretAccessKey: "x" } });
    await expect(client.send(new ListShardsCommand({ StreamName: stream }))).rejects.toMatchObject({ name: "UnrecognizedClientException" });
    client.destroy();
    await target.stop();
  });

  it("refuses a request signed with the right access key and a wrong secret, as Kinesis does", async () => {
    const target = await localTarget();
    // maxAttempts 1: the SDK retries InvalidSignatureException as a possible clock skew.
    const client = clientOf(target, { credentials: { accessKeyId: credentials.accessKeyId, secretAccessKey: "not-the-secret" }, maxAttempts: 1 });
    const refused = client.send(new PutRecordsCommand({ StreamName: stream, Records: [{ PartitionKey: "k", Data: Buffer.from("x") }] }));
    await expect(refused).rejects.toMatchObject({ name: "InvalidSignatureException", $metadata: { httpStatusCode: 400 } });
    client.destroy();
    await target.stop();
  });

  it("refuses a signed request whose body was changed after signing", async () => {
    const target = await localTarget();
    const body = JSON.stringify({ StreamName: stream, Records: [{ PartitionKey: "k", Data: "eA==" }] });
    const headers = await signedHeaders(target.endpoint, "PutRecords", body);
    const send = (payload: string) => fetch(target.endpoint, { method: "POST", headers, body: payload });

    // Prepare / Act: the signed body is taken; the same signature over a changed body is not.
    const genuine = await send(body);
    const tampered = await send(body.replace('"k"', '"j"'));

    expect(genuine.status).toBe(200);
    expect([tampered.status, tampered.headers.get("x-amzn-errortype")]).toEqual([400, "InvalidSignatureException"]);
    await target.stop();
  });

  it("refuses a correctly signed request whose X-Amz-Date is more than 5 minutes off, as AWS does", async () => {
    const target = await localTarget();
    const body = JSON.stringify({ StreamName: stream });
    const headers = await signedHeaders(target.endpoint, "ListShards", body, new Date(Date.now() - 6 * 60_000));

    const answer = await fetch(target.endpoint, { method: "POST", headers, body });

    expect([answer.status, answer.headers.get("x-amzn-errortype")]).toEqual([400, "InvalidSignatureException"]);
    expect(((await answer.json()) as { message: string }).message).toMatch(/^Signature expired/);
    await target.stop();
  });

  it("answers a forged or malformed shard iterator with InvalidArgumentException, never a 500", async () => {
    const target = await localTarget();
    const client = clientOf(target, { maxAttempts: 1 });
    const { ShardIterator } = await client.send(
      new GetShardIteratorCommand({ StreamName: stream, ShardId: "shardId-000000000000", ShardIteratorType: "TRIM_HORIZON" }),
    );
    const [payload = ""] = String(ShardIterator).split(".");
    // The same content pointing at a shard that does not exist, and garbage.
    const forged = Buffer.from(JSON.stringify(["shardId-000000000099", "00000000000000000001", 0, Date.now()])).toString("base64url");
    for (const iterator of [`${forged}.${String(ShardIterator).split(".")[1]}`, `${payload}.AAAA`, "not-an-iterator", "e30"]) {
      await expect(client.send(new GetRecordsCommand({ ShardIterator: iterator }))).rejects.toMatchObject({
        name: "InvalidArgumentException",
        $metadata: { httpStatusCode: 400 },
      });
    }
    client.destroy();
    await target.stop();
  });
});
