/**
 * Fault test: the real agent (`wattflow edge run`) against the real local stack, killed with SIGKILL
 * at random moments while it reads and uploads, through Kinesis down, the API down, and both down for
 * a simulated day, then recovery. Every reading must be stored exactly once — counted in Postgres
 * (through the API), with the value the simulated meter gives for its interval.
 *
 * `npm test` runs a smaller round (WATTFLOW_FAULT_KILLS, default 30); `npm run test:faults` runs 200 kills.
 */

import { existsSync } from "node:fs";
import { join } from "node:path";
import { GetRecordsCommand, GetShardIteratorCommand, KinesisClient, ListShardsCommand } from "@aws-sdk/client-kinesis";
import { NodeHttpHandler } from "@smithy/node-http-handler";
import { Testing } from "@wattflow/core/testing";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expectedKwh, Link, startAgent, startStack, targetOf, writeConfig } from "./support";

const kills = Number(process.env.WATTFLOW_FAULT_KILLS ?? 30);
const full = kills >= 200;
/** Simulated-clock speeds: ordinary lives cover minutes of meter time, lives in the double outage hours, so a day passes in a few lives. */
const normalSpeed = 3000;
const outageSpeed = 30000;
const day = 86_400_000;
const step = 300_000;

type Stack = Awaited<ReturnType<typeof startStack>>;

describe(`gateway under faults (${kills} kills)`, () => {
  let dir: { path: string; remove(): void };
  let stack: Stack;
  let kinesis: Link;
  let api: Link;

  beforeAll(async () => {
    dir = Testing.temporaryDir("wattflow-faults-");
    stack = await startStack(join(dir.path, "stack"), ["--no-demo-traffic"]);
    kinesis = new Link(targetOf(stack.demo.kinesis.endpoint));
    api = new Link(targetOf(stack.apiUrl));
    await kinesis.up();
    await api.up();
  }, 120_000);

  afterAll(async () => {
    await kinesis?.down();
    await api?.down();
    await stack?.stop();
    dir?.remove();
  });

  it("stores every reading exactly once through kills, Kinesis down, API down and a day with both down", { timeout: 900_000 }, async () => {
    // Prepare: a span in the past (readings must not end in the future), far from anything else stored.
    const start = Math.floor((Date.now() - 20 * day) / step) * step;
    const until = start + (full ? 4 : 2) * day;
    const configure = (speed: number) =>
      writeConfig(dir.path, stack.demo, {
        apiUrl: api.url,
        kinesisEndpoint: kinesis.url,
        start,
        until,
        speed,
        extra: { uploadLimits: { backlogPerSecond: 400, heartbeatMs: 2000 } },
      });
    const configPath = configure(normalSpeed);
    const outboxPath = join(dir.path, "edge", "outbox.db");
    const peek = () => {
      if (!existsSync(outboxPath)) return { latest: start, pending: 0 };
      const db = new Database(outboxPath, { readonly: true, fileMustExist: true });
      try {
        const latest = (db.prepare("select max(end_ms) as end from meter_state").get() as { end: number | null }).end ?? start;
        const pending = (db.prepare("select count(*) as n from reading where state = 0").get() as { n: number }).n;
        return { latest, pending };
      } finally {
        db.close();
      }
    };

    // Act: lives of random length, each ended by SIGKILL; the routes change with the phase.
    const figures = { kills: 0, killsWithBacklog: 0, killsPerPhase: {} as Record<string, number>, bothDownSimulatedHours: 0, lives: 0 };
    let phase = "";
    let bothDownFrom: number | undefined;
    let bothDownDone = false;
    const minRecovery = Math.max(3, Math.ceil(kills * 0.1));
    const setPhase = async (name: string, kinesisUp: boolean, apiUp: boolean) => {
      if (phase === name) return;
      phase = name;
      await (kinesisUp ? kinesis.up() : kinesis.down());
      await (apiUp ? api.up() : api.down());
      configure(name === "both down" ? outageSpeed : normalSpeed);
    };
    const began = Date.now();
    let finished = false;
    while (figures.kills < kills || !bothDownDone || (figures.killsPerPhase.recovery ?? 0) < minRecovery) {
      const share = figures.kills / kills;
      if (share < 0.15) await setPhase("all up", true, true);
      else if (share < 0.3) await setPhase("kinesis down", false, true);
      else if (share < 0.45) await setPhase("api down", true, false);
      else if (!bothDownDone) {
        await setPhase("both down", false, false);
        bothDownFrom ??= peek().latest;
      } else await setPhase("recovery", true, true);

      // Most lives use the gateway's own entry (fast start); every fifth the full `wattflow edge run`.
      const agent = startAgent(configPath, figures.lives % 5 === 4 ? "cli" : "edge");
      figures.lives++;
      await agent.ready;
      await new Promise((resolve) => setTimeout(resolve, 30 + Math.random() * 500));
      if (agent.child.exitCode !== null) {
        // It reached `until` with everything acknowledged before this kill.
        expect(agent.child.exitCode, agent.output()).toBe(0);
        finished = true;
        break;
      }
      const { pending } = peek();
      agent.child.kill("SIGKILL");
      await agent.exit;
      figures.kills++;
      if (pending > 0) figures.killsWithBacklog++;
      figures.killsPerPhase[phase] = (figures.killsPerPhase[phase] ?? 0) + 1;
      if (phase === "both down" && bothDownFrom !== undefined) {
        figures.bothDownSimulatedHours = (peek().latest - bothDownFrom) / 3_600_000;
        if (figures.bothDownSimulatedHours >= 24) bothDownDone = true;
      }
    }
    await setPhase("final", true, true);
    configure(outageSpeed);
    if (!finished) {
      const last = startAgent(configPath, "cli");
      const code = await Promise.race([last.exit, new Promise<"timeout">((resolve) => setTimeout(() => resolve("timeout"), 300_000))]);
      if (code === "timeout") last.child.kill("SIGKILL");
      expect(code, last.output().slice(-3000)).toBe(0);
    }

    // Assess: in Postgres, exactly one reading per meter and interval, each with the simulator's value.
    const meters = stack.demo.meterIds;
    const intervals = (until - start) / step;
    const expected = meters.length * intervals;
    const readingsOf = async (meterId: string) => {
      const response = await fetch(`${stack.apiUrl}/v1/meters/${meterId}/readings?from=${new Date(start).toISOString()}&to=${new Date(until).toISOString()}`, {
        headers: { authorization: `Bearer ${stack.demo.apiToken}` },
      });
      return ((await response.json()) as { readings: { start: string; kwh: number; seconds: number }[] }).readings;
    };
    let stored = 0;
    for (const deadline = Date.now() + 120_000; Date.now() < deadline; ) {
      stored = (await Promise.all(meters.map(readingsOf))).reduce((sum, readings) => sum + readings.length, 0);
      if (stored >= expected) break;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    let wrong = 0;
    for (const [index, meterId] of meters.entries()) {
      const readings = await readingsOf(meterId);
      const starts = new Set(readings.map((reading) => Date.parse(reading.start)));
      expect(starts.size).toBe(readings.length);
      expect(readings).toHaveLength(intervals);
      for (const reading of readings) {
        const at = Date.parse(reading.start);
        if (reading.seconds !== 300 || Math.abs(reading.kwh - expectedKwh(index, at)) > 1e-9) wrong++;
      }
    }
    const sent = await streamRecords(stack);
    const quarantine = (await (await fetch(`${stack.apiUrl}/v1/quarantine`, { headers: { authorization: `Bearer ${stack.demo.platformToken}` } })).json()) as {
      items: unknown[];
    };
    const report = {
      ...figures,
      expected,
      stored,
      recordsOnStream: sent,
      duplicatesAbsorbed: sent - stored,
      quarantined: quarantine.items.length,
      minutes: Math.round((Date.now() - began) / 6000) / 10,
    };
    console.log(`fault test figures: ${JSON.stringify(report)}`);

    expect(figures.kills).toBeGreaterThanOrEqual(kills);
    expect(figures.bothDownSimulatedHours).toBeGreaterThanOrEqual(24);
    expect(stored).toBe(expected);
    expect(wrong).toBe(0);
    expect(quarantine.items).toHaveLength(0);
    expect(sent).toBeGreaterThanOrEqual(expected);
  });
});

/** Every record on the stack's stream, duplicates included: what the gateway delivered at least once. */
async function streamRecords(stack: Stack): Promise<number> {
  const { endpoint, credentials, region, stream } = stack.demo.kinesis;
  const client = new KinesisClient({ region, endpoint, credentials, requestHandler: new NodeHttpHandler() });
  try {
    let count = 0;
    const { Shards = [] } = await client.send(new ListShardsCommand({ StreamName: stream }));
    for (const shard of Shards) {
      let { ShardIterator: iterator } = await client.send(
        new GetShardIteratorCommand({ StreamName: stream, ShardId: shard.ShardId, ShardIteratorType: "TRIM_HORIZON" }),
      );
      while (iterator) {
        const page = await client.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 10_000 }));
        count += page.Records?.length ?? 0;
        if ((page.Records?.length ?? 0) === 0) break;
        iterator = page.NextShardIterator;
      }
    }
    return count;
  } finally {
    client.destroy();
  }
}
