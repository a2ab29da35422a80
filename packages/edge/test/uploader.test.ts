/**
 * The uploader's contract: the same code against kinesis-mock (the reference for Kinesis
 * behaviour) and the local stack's Kinesis endpoint, and its HTTP fallback.
 */

import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { GetRecordsCommand, GetShardIteratorCommand, KinesisClient, ListShardsCommand } from "@aws-sdk/client-kinesis";
import { NodeHttpHandler } from "@smithy/node-http-handler";
import { Signature } from "@wattflow/core/device/signature";
import { Testing } from "@wattflow/core/testing";
import * as LocalTesting from "@wattflow/local/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Config } from "../src/config";
import { Outbox } from "../src/outbox";
import { Uploader } from "../src/uploader";

const credentials = { accessKeyId: "AKIAWATTFLOWLOCAL000", secretAccessKey: "secret" };
const stream = "readings";
const deviceId = "dev_01m8gprxke1yxb4ma1nchzqhd8";
const meters = Array.from({ length: 6 }, (_, index) => `mtr_01m8gprxkjet4h0yhbyzdqm8w${index}`);
const t0 = Date.parse("2026-01-05T00:00:00Z");
const key = Signature.generateDeviceKey();

type Target = { endpoint: string; stop(): Promise<void> };

function localTarget(): Promise<Target> {
  return LocalTesting.localKinesis({ stream, credentials });
}

function setup(options: { kinesisEndpoint?: string; apiUrl?: string; credentials?: typeof credentials }) {
  const dir = Testing.temporaryDir("wattflow-edge-");
  const config: Config = {
    deviceId,
    token: "wfd_test",
    api: { url: options.apiUrl ?? "http://127.0.0.1:9" },
    kinesis: options.kinesisEndpoint
      ? { endpoint: options.kinesisEndpoint, stream, region: "us-east-1", credentials: options.credentials ?? credentials }
      : undefined,
    dataDir: dir.path,
    meters: meters.map((id) => ({ id, driver: "sim" as const })),
  };
  const outbox = Outbox.open(dir.path, { maxBytes: 1 << 30, warnBytes: 1 << 29 });
  // Enrolled already: the contract is about Kinesis, not about the API.
  outbox.setMeta("enrolled_key", key.publicKey);
  const lines: string[] = [];
  const uploader = new Uploader({
    config,
    outbox,
    privateKey: Signature.privateKey(key.privateKeyPem),
    publicKey: key.publicKey,
    freshFrom: () => t0 + 10_000 * 300_000,
    backlogPerSecond: 100_000,
    log: (line) => lines.push(line),
  });
  const fill = (intervals: number) =>
    outbox.commit(
      Array.from({ length: intervals }, (_, slot) =>
        meters.map((meterId, index) => ({ meterId, start: new Date(t0 + slot * 300_000).toISOString(), seconds: 300, kwh: 1 + index + slot / 1000 })),
      ).flat(),
      [],
    );
  return {
    outbox,
    uploader,
    lines,
    fill,
    close() {
      uploader.close();
      outbox.close();
      dir.remove();
    },
  };
}

async function readAll(endpoint: string): Promise<{ partitionKey: string; data: Uint8Array }[]> {
  const client = new KinesisClient({ region: "us-east-1", endpoint, credentials, requestHandler: new NodeHttpHandler() });
  const { Shards = [] } = await client.send(new ListShardsCommand({ StreamName: stream }));
  const records: { partitionKey: string; data: Uint8Array }[] = [];
  for (const shard of Shards) {
    let { ShardIterator: iterator } = await client.send(
      new GetShardIteratorCommand({ StreamName: stream, ShardId: shard.ShardId, ShardIteratorType: "TRIM_HORIZON" }),
    );
    for (let round = 0; iterator && round < 50; round++) {
      const page = await client.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 10_000 }));
      for (const record of page.Records ?? []) records.push({ partitionKey: record.PartitionKey ?? "", data: record.Data ?? new Uint8Array() });
      if ((page.Records ?? []).length === 0) break;
      iterator = page.NextShardIterator;
    }
  }
  client.destroy();
  return records;
}

const targets: [string, () => Promise<Target>][] = [
  ["kinesis-mock", () => Testing.kinesisMock(`${stream}:2`)],
  ["the local stack's endpoint", localTarget],
];

describe.each(targets)("Kinesis uploader against %s", (_name, start) => {
  let target: Target;
  beforeAll(async () => {
    target = await start();
  }, 60_000);
  afterAll(async () => {
    await target?.stop();
  });

  it("puts every reading once acknowledged, signed by the device, partitioned by meter, in calls of at most 500", async () => {
    const gateway = setup({ kinesisEndpoint: target.endpoint });
    try {
      gateway.fill(200); // 1,200 readings: three PutRecords calls
      const routes: (string | undefined)[] = [];
      while (gateway.outbox.pendingCount() > 0) {
        const step = await gateway.uploader.step();
        expect(step.sent).toBeLessThanOrEqual(500);
        routes.push(step.route);
      }
      expect(routes).toEqual(["kinesis", "kinesis", "kinesis"]);

      const records = await readAll(target.endpoint);
      const keys = new Set<string>();
      for (const record of records) {
        const body = JSON.parse(new TextDecoder().decode(record.data)) as { deviceId: string; via: string; reading: { meterId: string; start: string } };
        expect(record.partitionKey).toBe(body.reading.meterId);
        expect(body).toMatchObject({ v: 1, deviceId, via: "kinesis" });
        expect(Signature.check(record.data, { devicePublicKey: key.publicKey, serverSecret: new Uint8Array(32) })).toBeUndefined();
        keys.add(`${body.reading.meterId}@${body.reading.start}`);
      }
      expect(records).toHaveLength(1200);
      expect(keys.size).toBe(1200);
      expect(gateway.outbox.status().lastSuccess.kinesis).not.toBeNull();
    } finally {
      gateway.close();
    }
  });
});

describe("Kinesis unreachable", () => {
  it("treats a refused connection as the route being down and keeps the batch", async () => {
    const gateway = setup({ kinesisEndpoint: `http://127.0.0.1:${await Testing.freePort()}` });
    try {
      gateway.fill(1);
      const step = await gateway.uploader.step();
      expect(step.route).toBeUndefined();
      expect(gateway.outbox.pendingCount()).toBe(6);
      expect(gateway.outbox.status().lastError.kinesis).toMatch(/ECONNREFUSED/);
      expect(gateway.lines.join("\n")).toMatch(/Kinesis unreachable/);
    } finally {
      gateway.close();
    }
  });

  it("treats credentials the stream does not know as the route being down", async () => {
    const target = await localTarget();
    const gateway = setup({ kinesisEndpoint: target.endpoint, credentials: { accessKeyId: "AKIAUNKNOWN000000000", secretAccessKey: "x" } });
    try {
      gateway.fill(1);
      const step = await gateway.uploader.step();
      expect(step.route).toBeUndefined();
      expect(gateway.outbox.pendingCount()).toBe(6);
      expect(gateway.outbox.status().lastError.kinesis).toMatch(/UnrecognizedClient|security token/);
    } finally {
      gateway.close();
      await target.stop();
    }
  });
});

describe("HTTP fallback", () => {
  let server: Server;
  let apiUrl: string;
  const posts: { status: number; readings: number }[] = [];
  const enrollments: { publicKey: string }[] = [];
  let answers: ((readings: unknown[]) => { status: number; headers?: Record<string, string>; body: unknown })[] = [];

  beforeAll(async () => {
    server = createServer((request, response) => {
      let body = "";
      request.on("data", (chunk: Buffer) => {
        body += chunk.toString();
      });
      request.on("end", () => {
        expect(request.headers.authorization).toBe("Bearer wfd_test");
        if (request.url !== "/v1/ingest") {
          // Key enrollment: answered, noted.
          if (request.method === "PUT" && request.url === "/v1/devices/self/key") enrollments.push(JSON.parse(body) as { publicKey: string });
          response.writeHead(200, { "content-type": "application/json" }).end("{}");
          return;
        }
        const readings = (JSON.parse(body) as { readings: unknown[] }).readings;
        const answer = answers.shift()?.(readings) ?? { status: 200, body: { accepted: readings.length, duplicates: 0, rejected: [] } };
        posts.push({ status: answer.status, readings: readings.length });
        response.writeHead(answer.status, { "content-type": "application/json", ...answer.headers });
        response.end(JSON.stringify(answer.body));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    apiUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it("posts the batch to /v1/ingest when Kinesis is unreachable, honours 503 Retry-After, and keeps rejected readings with the reason", async () => {
    const gateway = setup({ kinesisEndpoint: `http://127.0.0.1:${await Testing.freePort()}`, apiUrl });
    try {
      gateway.fill(2);
      answers = [
        () => ({ status: 503, headers: { "retry-after": "2" }, body: { code: "ingest.stream_unavailable", message: "retry later" } }),
        (readings) => ({
          status: 200,
          body: {
            accepted: readings.length - 1,
            duplicates: 0,
            rejected: [{ index: 3, errors: [{ path: "readings.3.meterId", message: "meter is not read by this device" }] }],
          },
        }),
      ];
      const first = await gateway.uploader.step();
      expect(first).toMatchObject({ sent: 0, waitMs: 2000 });
      expect(gateway.outbox.pendingCount()).toBe(12);

      const second = await gateway.uploader.step();
      expect(second).toMatchObject({ route: "http", sent: 12, acked: 11, rejected: 1 });
      expect(gateway.outbox.pendingCount()).toBe(0);
      expect(gateway.outbox.rejected()).toEqual([
        { meterId: meters[3], start: new Date(t0).toISOString(), reason: "readings.3.meterId: meter is not read by this device" },
      ]);
      expect(posts.map((post) => post.status)).toEqual([503, 200]);
      // The outbox remembered an enrollment; the process enrolls again anyway, in case the cloud lost the key.
      expect(enrollments).toEqual([{ publicKey: key.publicKey }]);
    } finally {
      gateway.close();
    }
  });
});

describe("Kinesis partial failures", () => {
  it("resends only the entries PutRecords refused, with backoff, and acknowledges the rest at once", async () => {
    // A Kinesis-shaped endpoint (JSON 1.1, real response shape) that throttles every third entry once: kinesis-mock never throttles.
    const seen: string[][] = [];
    const throttled = new Set<string>();
    const server = createServer((request, response) => {
      let body = "";
      request.on("data", (chunk: Buffer) => {
        body += chunk.toString();
      });
      request.on("end", () => {
        const records = (JSON.parse(body) as { Records: { Data: string; PartitionKey: string }[] }).Records;
        const keys = records.map((record) => {
          const { reading } = JSON.parse(Buffer.from(record.Data, "base64").toString()) as { reading: { meterId: string; start: string } };
          return `${reading.meterId}@${reading.start}`;
        });
        seen.push(keys);
        let failed = 0;
        const results = keys.map((key, index) => {
          if (index % 3 === 0 && !throttled.has(key)) {
            throttled.add(key);
            failed++;
            return { ErrorCode: "ProvisionedThroughputExceededException", ErrorMessage: "Rate exceeded for shard shardId-000000000000" };
          }
          return { SequenceNumber: `4959${String(index).padStart(52, "0")}`, ShardId: "shardId-000000000000" };
        });
        response.writeHead(200, { "content-type": "application/x-amz-json-1.1" });
        response.end(JSON.stringify({ FailedRecordCount: failed, Records: results }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const gateway = setup({ kinesisEndpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}` });
    try {
      gateway.fill(5); // 30 readings, one call
      const step = await gateway.uploader.step();
      expect(step).toMatchObject({ route: "kinesis", sent: 30, acked: 30 });
      expect(seen.map((call) => call.length)).toEqual([30, 10]);
      expect(seen[1]).toEqual(seen[0]?.filter((_, index) => index % 3 === 0));
      expect(gateway.outbox.pendingCount()).toBe(0);
    } finally {
      gateway.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
