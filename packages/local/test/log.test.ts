import { appendFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { Testing } from "@wattflow/core/testing";
import { afterEach, describe, expect, it } from "vitest";
import { DurableLog } from "../src/stream/log";

const dirs: { remove(): void }[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) dir.remove();
});

async function openLog(path?: string, shardCount = 2) {
  const dir = path ? { path, remove() {} } : Testing.temporaryDir();
  dirs.push(dir);
  return { dir: dir.path, log: await DurableLog.open({ dir: dir.path, name: "readings", shardCount, segmentBytes: 64 * 1024 }) };
}

const entry = (key: string, text: string) => ({ partitionKey: key, data: Buffer.from(text) });

describe("durable log", () => {
  it("assigns increasing sequence numbers per shard and reads records back in order", async () => {
    const { log } = await openLog(undefined, 1);
    const results = await log.append([entry("a", "one"), entry("b", "two"), entry("c", "three")]);
    const sequences = results.map((result) => BigInt(result.sequenceNumber));
    expect(sequences).toEqual([...sequences].sort((a, b) => (a < b ? -1 : 1)));
    const { records } = await log.read("shardId-000000000000", log.trimHorizon("shardId-000000000000"), 10);
    expect(records.map((record) => record.data.toString())).toEqual(["one", "two", "three"]);
    await log.close();
  });

  it("routes a partition key to the same shard every time, as Kinesis hashes it", async () => {
    const { log } = await openLog(undefined, 4);
    const first = await log.append([entry("mtr_a", "1")]);
    const second = await log.append([entry("mtr_a", "2")]);
    expect(second[0]?.shardId).toBe(first[0]?.shardId);
    await log.close();
  });

  it("keeps every acknowledged record across a reopen and continues the sequence", async () => {
    const { dir, log } = await openLog(undefined, 1);
    const before = await log.append(Array.from({ length: 50 }, (_, index) => entry(`k${index}`, `r${index}`)));
    await log.close();
    const { log: reopened } = await openLog(dir, 1);
    const after = await reopened.append([entry("k", "after")]);
    expect(BigInt(after[0]?.sequenceNumber ?? 0)).toBe(BigInt(before[49]?.sequenceNumber ?? 0) + 1n);
    const { records } = await reopened.read("shardId-000000000000", reopened.trimHorizon("shardId-000000000000"), 100);
    expect(records).toHaveLength(51);
    await reopened.close();
  });

  it("cuts off a torn write at the tail on open and loses nothing before it", async () => {
    const { dir, log } = await openLog(undefined, 1);
    await log.append([entry("a", "kept-1"), entry("b", "kept-2")]);
    await log.close();
    const shardDir = join(dir, "shardId-000000000000");
    const segment = readdirSync(shardDir).find((name) => name.endsWith(".seg")) as string;
    // A crash in the middle of a write leaves a partial frame: a plausible header, half a payload.
    const torn = Buffer.alloc(20);
    torn.writeUInt32LE(400, 0);
    appendFileSync(join(shardDir, segment), torn);
    const { log: reopened } = await openLog(dir, 1);
    const { records } = await reopened.read("shardId-000000000000", reopened.trimHorizon("shardId-000000000000"), 10);
    expect(records.map((record) => record.data.toString())).toEqual(["kept-1", "kept-2"]);
    const next = await reopened.append([entry("c", "after-repair")]);
    const again = await reopened.read("shardId-000000000000", reopened.trimHorizon("shardId-000000000000"), 10);
    expect(again.records.map((record) => record.data.toString())).toEqual(["kept-1", "kept-2", "after-repair"]);
    expect(next[0]?.sequenceNumber).toBe(again.records[2]?.sequenceNumber);
    await reopened.close();
  });

  it("rolls segments and reads across them; retention deletes only consumed, old segments", async () => {
    const { log } = await openLog(undefined, 1);
    const shard = "shardId-000000000000";
    const big = "x".repeat(10_000);
    for (let round = 0; round < 20; round++) await log.append([entry("k", `${round}:${big}`)]);
    const { records, next } = await log.read(shard, log.trimHorizon(shard), 100);
    expect(records).toHaveLength(20);
    expect(records.map((record) => record.data.toString().split(":")[0])).toEqual(Array.from({ length: 20 }, (_, index) => String(index)));
    const keepFrom = log.nextSequenceNumber(shard);
    expect(await log.trim(shard, keepFrom, 60_000)).toBe(0); // too young
    const removed = await log.trim(shard, keepFrom, 0, Date.now() + 1000);
    expect(removed).toBeGreaterThan(0);
    const rest = await log.read(shard, next, 100);
    expect(rest.records).toHaveLength(0);
    await log.close();
  });

  it("group-commits concurrent appends into few writes and acknowledges each one", async () => {
    const { log } = await openLog(undefined, 2);
    const results = await Promise.all(Array.from({ length: 200 }, (_, index) => log.append([entry(`k${index}`, `v${index}`)])));
    expect(results.flat()).toHaveLength(200);
    expect(new Set(results.flat().map((result) => `${result.shardId}/${result.sequenceNumber}`)).size).toBe(200);
    await log.close();
  });
});
