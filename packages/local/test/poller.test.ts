import { Testing } from "@wattflow/core/testing";
import type { KinesisStreamEvent } from "aws-lambda";
import { afterEach, describe, expect, it } from "vitest";
import type { LogRecord } from "../src/stream/log";
import { DurableLog } from "../src/stream/log";
import { type KinesisHandler, Poller } from "../src/stream/poller";

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const settings = {
  batchSize: 10,
  maximumBatchingWindowMs: 0,
  maximumRetryAttempts: 2,
  maximumRecordAgeSeconds: 3600,
  bisectBatchOnFunctionError: true,
  retryBaseDelayMs: 1,
  retryMaxDelayMs: 5,
};

async function setup(handler: KinesisHandler, overrides: Partial<typeof settings> = {}, dir = Testing.temporaryDir()) {
  const log = await DurableLog.open({ dir: dir.path, name: "readings", shardCount: 1, segmentBytes: 1 << 20 });
  const archived: { records: LogRecord[]; reason: string }[] = [];
  const poller = new Poller({
    log,
    dir: dir.path,
    handler: async () => handler,
    onFailure: async (records, reason) => void archived.push({ records, reason }),
    ...settings,
    ...overrides,
  });
  cleanups.push(async () => {
    await poller.stop();
    await log.close();
  });
  cleanups.unshift(() => dir.remove());
  return { log, poller, archived, dir };
}

const texts = (event: KinesisStreamEvent) => event.Records.map((record) => Buffer.from(record.kinesis.data, "base64").toString());

async function until(condition: () => boolean, timeoutMs = 5000) {
  const began = Date.now();
  while (!condition()) {
    if (Date.now() - began > timeoutMs) throw new Error("condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe("local event source mapping", () => {
  it("delivers batches shaped like a Kinesis Lambda event, in order", async () => {
    const seen: string[] = [];
    let event: KinesisStreamEvent | undefined;
    const { log, poller } = await setup(async (incoming) => {
      event ??= incoming;
      seen.push(...texts(incoming));
      return { batchItemFailures: [] };
    });
    await log.append(Array.from({ length: 25 }, (_, index) => ({ partitionKey: "k", data: Buffer.from(`r${index}`) })));
    poller.start();
    await until(() => seen.length === 25);
    expect(seen).toEqual(Array.from({ length: 25 }, (_, index) => `r${index}`));
    const record = event?.Records[0];
    expect(record?.eventSource).toBe("aws:kinesis");
    expect(record?.eventID).toBe(`shardId-000000000000:${record?.kinesis.sequenceNumber}`);
    expect(record?.eventSourceARN).toMatch(/^arn:aws:kinesis:.*:stream\/readings$/);
  });

  it("resumes from the lowest failed sequence number on a partial batch failure", async () => {
    const calls: string[][] = [];
    const { log, poller } = await setup(async (event) => {
      calls.push(texts(event));
      const failing = event.Records.find((record) => Buffer.from(record.kinesis.data, "base64").toString() === "r3");
      if (calls.length === 1 && failing) return { batchItemFailures: [{ itemIdentifier: failing.kinesis.sequenceNumber }] };
      return { batchItemFailures: [] };
    });
    await log.append(Array.from({ length: 6 }, (_, index) => ({ partitionKey: "k", data: Buffer.from(`r${index}`) })));
    poller.start();
    await until(() => calls.length === 2);
    expect(calls[0]).toEqual(["r0", "r1", "r2", "r3", "r4", "r5"]);
    expect(calls[1]).toEqual(["r3", "r4", "r5"]);
  });

  it("bisects a batch whose handler throws, isolating the poison record, and archives it when retries run out", async () => {
    const processed: string[] = [];
    const { log, poller, archived } = await setup(async (event) => {
      const batch = texts(event);
      if (batch.includes("poison")) throw new Error("cannot handle poison");
      processed.push(...batch);
      return { batchItemFailures: [] };
    });
    await log.append(["a", "b", "poison", "c", "d"].map((text) => ({ partitionKey: "k", data: Buffer.from(text) })));
    poller.start();
    await until(() => archived.length === 1 && processed.length === 4);
    expect(processed.sort()).toEqual(["a", "b", "c", "d"]);
    expect(archived[0]?.records.map((record) => record.data.toString())).toEqual(["poison"]);
    expect(archived[0]?.reason).toMatch(/retries exhausted.*cannot handle poison/);
  });

  it("keeps its checkpoint: a restarted poller does not deliver handled records again", async () => {
    const dir = Testing.temporaryDir();
    const first: string[] = [];
    const one = await setup(async (event) => void first.push(...texts(event)), {}, dir);
    await one.log.append([{ partitionKey: "k", data: Buffer.from("x") }]);
    one.poller.start();
    await until(() => first.length === 1);
    await until(() => one.poller.shards()[0]?.checkpoint !== undefined);
    await one.poller.stop();
    await one.log.close();
    const second: string[] = [];
    const two = await setup(async (event) => void second.push(...texts(event)), {}, { path: dir.path, remove() {} });
    await two.log.append([{ partitionKey: "k", data: Buffer.from("y") }]);
    two.poller.start();
    await until(() => second.length === 1);
    expect(second).toEqual(["y"]);
  });

  it("splitting a batch does not use up retries (as on Lambda): the isolated poison record still gets its retries", async () => {
    // 64 records, one poison at index 37, 2 retries. Isolating it takes log2(64) = 6 splits; it is then
    // tried alone 1 + 2 = 3 times before it is given up on. Counting splits as retries gave up on it
    // at once (6 splits > 2), so a transient failure that merely looked like poison lost its retries.
    const processed: string[] = [];
    let alone = 0;
    const texts64 = Array.from({ length: 64 }, (_, index) => (index === 37 ? "poison" : `r${index}`));
    const { log, poller, archived } = await setup(
      async (event) => {
        const batch = texts(event);
        if (batch.length === 1 && batch[0] === "poison") alone++;
        if (batch.includes("poison")) throw new Error("cannot handle poison");
        processed.push(...batch);
        return { batchItemFailures: [] };
      },
      { batchSize: 64 },
    );
    await log.append(texts64.map((text) => ({ partitionKey: "k", data: Buffer.from(text) })));
    poller.start();
    await until(() => archived.length === 1 && processed.length === 63);
    expect(archived[0]?.records.map((record) => record.data.toString())).toEqual(["poison"]);
    expect(alone).toBe(3);
    expect(processed.sort()).toEqual(texts64.filter((text) => text !== "poison").sort());
  });

  it("reports the age of the oldest record not yet handled while a shard is held, and 0 once caught up", async () => {
    let release = false;
    const { log, poller } = await setup(async () => (release ? { batchItemFailures: [] } : Promise.reject(new Error("down"))), {
      maximumRetryAttempts: 1000,
      retryMaxDelayMs: 20,
    });
    await log.append([{ partitionKey: "k", data: Buffer.from("x") }]);
    poller.start();
    await new Promise((resolve) => setTimeout(resolve, 300));
    const held = poller.shards()[0];
    // Appended ~300 ms ago and never handled.
    expect(held?.behind).toBe(1);
    expect(held?.iteratorAgeMs).toBeGreaterThanOrEqual(250);
    release = true;
    await until(() => poller.shards()[0]?.behind === 0);
    await until(() => poller.shards()[0]?.iteratorAgeMs === 0);
  });
});
