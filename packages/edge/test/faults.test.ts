/**
 * Fault test: the real agent (`wattflow edge run`) against the real local stack, killed with SIGKILL
 * at random moments while it reads and uploads, through Kinesis down, the API down, and both down for
 * a simulated day, then recovery. Every reading must be stored exactly once — counted in Postgres
 * (through the API), with the value the simulated meter gives for its interval.
 *
 * The second test kills it while its clock is untrusted (booted at 1970, stepped an hour back, an hour
 * forward) and while the outbox's filesystem (a real tmpfs) is full: every slot's energy is then stored
 * exactly once, measured or as a gap, and nothing stamped with a wrong time reaches the cloud.
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
import type { WallFault } from "../src/clock";
import type { Config } from "../src/config";
import { readHealth } from "../src/health";
import { expectedKwh, Link, type SmallDisk, smallDisk, smallDiskUnavailable, startAgent, startStack, targetOf, writeConfig } from "./support";

const kills = Number(process.env.WATTFLOW_FAULT_KILLS ?? 30);
const full = kills >= 200;
/** Simulated-clock speeds: ordinary lives cover minutes of meter time, lives in the double outage hours, so a day passes in a few lives. */
const normalSpeed = 3000;
const outageSpeed = 30000;
const day = 86_400_000;
const step = 300_000;

type Stack = Awaited<ReturnType<typeof startStack>>;
type Lab = Awaited<ReturnType<typeof stackBehindLinks>>;

/**
 * The local stack (no demo traffic, no history) in a new folder, reached through two links a test cuts and
 * restores: Kinesis and the API. `gatewayConfig` writes the gateway's config (see `writeConfig`) in that folder, pointed
 * at the stack through the links; it returns the config's path. `stop()` restores the links, stops the stack and
 * removes the folder.
 */
async function stackBehindLinks(prefix: string) {
  const dir = Testing.temporaryDir(prefix);
  const stack = await startStack(join(dir.path, "stack"), ["--no-demo-traffic", "--demo-history", "0"]);
  const kinesis = new Link(targetOf(stack.demo.kinesis.endpoint));
  const api = new Link(targetOf(stack.apiUrl));
  await kinesis.up();
  await api.up();
  return {
    dir,
    stack,
    kinesis,
    api,
    gatewayConfig: (span: { start: number; until: number; speed: number; extra?: Partial<Config> }) =>
      writeConfig(dir.path, stack.demo, { apiUrl: api.url, kinesisEndpoint: kinesis.url, ...span }),
    async stop() {
      await kinesis.down();
      await api.down();
      await stack.stop();
      dir.remove();
    },
  };
}

describe(`gateway under faults (${kills} kills)`, () => {
  let lab: Lab | undefined;

  beforeAll(async () => {
    lab = await stackBehindLinks("wattflow-faults-");
  }, 120_000);

  afterAll(() => lab?.stop());

  it("stores every reading exactly once through kills, Kinesis down, API down and a day with both down", { timeout: 900_000 }, async () => {
    if (!lab) throw new Error("the stack did not start");
    const { dir, stack, kinesis, api, gatewayConfig } = lab;
    // Prepare: a span in the past (readings must not end in the future), far from anything else stored.
    const start = Math.floor((Date.now() - 20 * day) / step) * step;
    const until = start + (full ? 4 : 2) * day;
    const configure = (speed: number) => gatewayConfig({ start, until, speed, extra: { uploadLimits: { backlogPerSecond: 400, heartbeatMs: 2000 } } });
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

/** Why the disk phase cannot run here (no tmpfs without root), or undefined. */
const noDisk = smallDiskUnavailable();

describe(`small gateway under clock and disk faults (${kills} kills)`, () => {
  let lab: Lab | undefined;
  let disk: SmallDisk | undefined;

  beforeAll(async () => {
    if (noDisk && process.env.WATTFLOW_REQUIRE_TMPFS === "1") throw new Error(`the disk phase needs a tmpfs: ${noDisk}`);
    lab = await stackBehindLinks("wattflow-small-faults-");
    // 8 MiB holds the outbox of this test many times over; the disk phase fills the rest.
    if (!noDisk) disk = smallDisk(8 * 1024 * 1024);
  }, 120_000);

  afterAll(async () => {
    await lab?.stop();
    disk?.unmount();
  });

  it("stores every slot's energy exactly once, measured or as a gap, through kills while the clock is untrusted and the disk full", {
    timeout: 900_000,
  }, async () => {
    if (!lab) throw new Error("the stack did not start");
    const { dir, stack, kinesis, api, gatewayConfig } = lab;
    // Prepare: simulated counter meters (their registers follow the true time, whatever the wall clock says) over a span
    // 30 days back, away from the other test's; the outbox on the small disk when there is one.
    if (noDisk) console.log(`fault test: disk phase not run (${noDisk}); WATTFLOW_REQUIRE_TMPFS=1 makes that a failure`);
    const start = Math.floor((Date.now() - 30 * day) / 3_600_000) * 3_600_000;
    const until = start + 12 * 3_600_000;
    const dataDir = disk?.path ?? join(dir.path, "edge");
    const speed = 1500;
    const per = full ? 8 : 2;
    const configure = (faults: WallFault[] = []) =>
      gatewayConfig({
        start,
        until,
        speed,
        extra: {
          dataDir,
          meters: stack.demo.meterIds.map((id, index) => ({ id, driver: "sim", seed: index + 1, counter: true })),
          clock: { start: new Date(start).toISOString(), speed, faults },
          uploadLimits: { backlogPerSecond: 400, heartbeatMs: 500 },
        },
      });
    const outboxPath = join(dataDir, "outbox.db");
    const latest = () => {
      if (!existsSync(outboxPath)) return start;
      const db = new Database(outboxPath, { readonly: true, fileMustExist: true });
      try {
        return (db.prepare("select max(end_ms) as end from meter_state").get() as { end: number | null }).end ?? start;
      } finally {
        db.close();
      }
    };
    const health = () => readHealth(dataDir);
    const figures = { kills: 0, untrustedKills: 0, diskFullKills: 0, lives: 0, phases: [] as string[] };
    const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
    /** One life: started with `faults`, killed once `ready(ms since it logged its start)` holds (and a random moment more), or after `maxMs`. */
    const life = async (
      faults: WallFault[],
      ready: (sinceStartMs: number) => boolean,
      maxMs = 15_000,
    ): Promise<{ ended: "killed" | "finished"; output: string }> => {
      const agent = startAgent(configure(faults), figures.lives % 5 === 4 ? "cli" : "edge");
      figures.lives++;
      await agent.ready;
      const started = Date.now();
      const deadline = started + maxMs;
      while (agent.child.exitCode === null && !ready(Date.now() - started) && Date.now() < deadline) await wait(10);
      await wait(Math.random() * 150);
      if (agent.child.exitCode !== null) {
        expect(agent.child.exitCode, agent.output().slice(-3000)).toBe(0);
        return { ended: "finished", output: agent.output() };
      }
      agent.child.kill("SIGKILL");
      await agent.exit;
      figures.kills++;
      return { ended: "killed", output: agent.output() };
    };
    const untrusted = () => health()?.clock?.state === "untrusted";
    const trustedAfter = (from: number) => () => health()?.clock?.state === "trusted" && latest() > from;

    // Act 1: a good clock for the first hour, killed now and then.
    figures.phases.push("good clock");
    while (latest() < start + 3_600_000) {
      const length = 30 + Math.random() * 500;
      await life([], (since) => since > length);
    }

    // Act 2: each clock fault, killed while untrusted `per` times, then a life in which NTP corrects the clock.
    const clockFaults: [string, WallFault[], WallFault[]][] = [
      // Booted at 1970 (the wall clock reads 1970 plus the true time since S), NTP not synchronized.
      ["boot at 1970", [{ afterSeconds: 0, offsetMs: -start, ntpSynchronized: false }], [{ afterSeconds: 0, offsetMs: -start, ntpSynchronized: false }]],
      // Set an hour back, then (another boot) still an hour back.
      [
        "an hour back",
        [
          { afterSeconds: 0, offsetMs: 0, ntpSynchronized: true },
          { afterSeconds: 300, offsetMs: -3_600_000, ntpSynchronized: false },
        ],
        [{ afterSeconds: 0, offsetMs: -3_600_000, ntpSynchronized: false }],
      ],
      [
        "an hour forward",
        [
          { afterSeconds: 0, offsetMs: 0, ntpSynchronized: true },
          { afterSeconds: 300, offsetMs: 3_600_000, ntpSynchronized: false },
        ],
        [{ afterSeconds: 0, offsetMs: 3_600_000, ntpSynchronized: false }],
      ],
    ];
    for (const [name, fault, wrongAtBoot] of clockFaults) {
      figures.phases.push(name);
      for (let kill = 0; kill < per; kill++) {
        if ((await life(kill === 0 ? fault : wrongAtBoot, untrusted)).ended === "killed" && untrusted()) figures.untrustedKills++;
      }
      // NTP steps the clock right 20 simulated minutes into this life: it reads on once trusted.
      const before = latest();
      await life([...wrongAtBoot, { afterSeconds: 1200, offsetMs: 0, ntpSynchronized: true }], trustedAfter(before));
    }

    // Act 3: the disk fills while the gateway is down (its WAL checkpointed to nothing first, so the next write needs new
    // blocks) with both routes down, so nothing drains; killed `per` times while full, then room again within a life.
    // The test keeps a connection open meanwhile: closing the last one would delete the WAL and its index, which a
    // gateway on a full disk could not make again (the disk filling while the agent runs keeps them too).
    if (disk) {
      figures.phases.push("disk full");
      await kinesis.down();
      await api.down();
      const holder = new Database(outboxPath);
      holder.pragma("wal_checkpoint(TRUNCATE)");
      disk.fill();
      const diskFull = () => health()?.disk?.state === "full";
      // A life counts when it said the disk was full before it was killed (a few more lives are allowed for one that did not get there).
      for (let attempt = 0; figures.diskFullKills < per && attempt < 3 * per; attempt++) {
        const { ended, output } = await life([], diskFull);
        if (ended === "killed" && output.includes("DISK FULL")) figures.diskFullKills++;
      }
      const agent = startAgent(configure([]), "edge");
      figures.lives++;
      await agent.ready;
      for (const deadline = Date.now() + 15_000; !diskFull() && Date.now() < deadline; ) await wait(10);
      const heldBefore = health()?.disk?.pendingReadings ?? 0;
      disk.free();
      for (const deadline = Date.now() + 15_000; diskFull() && Date.now() < deadline; ) await wait(10);
      expect(health()?.disk?.state, agent.output().slice(-3000)).toBe("ok");
      expect(agent.child.exitCode).toBeNull();
      agent.child.kill("SIGKILL");
      await agent.exit;
      holder.close();
      figures.kills++;
      figures.phases.push(`room again (${heldBefore} reading(s) were held in memory)`);
      await kinesis.up();
      await api.up();
    }

    // Act 4: recovery, killed now and then, then a last life to `until`.
    figures.phases.push("recovery");
    for (let kill = 0; kill < per; kill++) {
      const length = 30 + Math.random() * 500;
      await life([], (since) => since > length);
    }
    const last = startAgent(configure([]), "cli");
    const code = await Promise.race([last.exit, new Promise<"timeout">((resolve) => setTimeout(() => resolve("timeout"), 300_000))]);
    if (code === "timeout") last.child.kill("SIGKILL");
    expect(code, last.output().slice(-3000)).toBe(0);

    // Assess: for each meter, every slot of [S, S + 12 h) holds one value (no missing slot, no slot twice); each measured slot
    // is exactly the simulator's kWh for it; each estimated span holds exactly the simulator's kWh of its slots (the
    // gap's counters), so the meter's total is the simulator's total. Nothing outside the span (a reading stamped in 1970
    // or an hour off would be there or refused), nothing quarantined or rejected.
    const intervals = (until - start) / step;
    const get = async (path: string) =>
      (await (await fetch(`${stack.apiUrl}${path}`, { headers: { authorization: `Bearer ${stack.demo.apiToken}` } })).json()) as Record<string, unknown>;
    let measured = 0;
    let estimatedSlots = 0;
    for (let deadline = Date.now() + 120_000; ; ) {
      const counts = await Promise.all(
        stack.demo.meterIds.map(
          async (meterId) => ((await get(`/v1/meters/${meterId}/readings?from=${iso(start)}&to=${iso(until)}`)).readings as unknown[]).length,
        ),
      );
      if (counts.every((count) => count >= intervals) || Date.now() > deadline) break;
      await wait(500);
    }
    for (const [index, meterId] of stack.demo.meterIds.entries()) {
      const readings = (await get(`/v1/meters/${meterId}/readings?from=${iso(start)}&to=${iso(until)}`)).readings as {
        start: string;
        kwh: number;
        quality: "measured" | "estimated";
      }[];
      expect(new Set(readings.map((reading) => reading.start)).size).toBe(readings.length);
      expect(readings).toHaveLength(intervals);
      for (const reading of readings.filter((item) => item.quality === "measured")) {
        expect(reading.kwh, `${meterId} ${reading.start}`).toBeCloseTo(expectedKwh(index, Date.parse(reading.start)), 6);
        measured++;
      }
      const gaps = (await get(`/v1/meters/${meterId}/gaps?from=${iso(start)}&to=${iso(until)}`)) as {
        missing: unknown[];
        estimated: { start: string; end: string; slots: number; kwh: number }[];
      };
      expect(gaps.missing).toEqual([]);
      for (const span of gaps.estimated) {
        let truth = 0;
        for (let at = Date.parse(span.start); at < Date.parse(span.end); at += step) truth += expectedKwh(index, at);
        expect(span.kwh, `${meterId} gap ${span.start}–${span.end}`).toBeCloseTo(truth, 3);
        estimatedSlots += span.slots;
      }
      const outside = [
        ...((await get(`/v1/meters/${meterId}/readings?from=${iso(start - 2 * day)}&to=${iso(start)}`)).readings as unknown[]),
        ...((await get(`/v1/meters/${meterId}/readings?from=${iso(until)}&to=${iso(until + 2 * day)}`)).readings as unknown[]),
      ];
      expect(outside).toEqual([]);
    }
    const quarantine = (await (await fetch(`${stack.apiUrl}/v1/quarantine`, { headers: { authorization: `Bearer ${stack.demo.platformToken}` } })).json()) as {
      items: unknown[];
    };
    const outbox = new Database(outboxPath, { readonly: true, fileMustExist: true });
    const rejected = (outbox.prepare("select count(*) as n from reading where state = 1").get() as { n: number }).n;
    outbox.close();
    console.log(
      `fault test figures (clock and disk): ${JSON.stringify({ ...figures, slots: intervals * stack.demo.meterIds.length, measured, estimatedSlots, quarantined: quarantine.items.length, rejected })}`,
    );
    expect(figures.untrustedKills).toBeGreaterThanOrEqual(3 * per);
    if (disk) expect(figures.diskFullKills).toBeGreaterThanOrEqual(per);
    expect(estimatedSlots).toBeGreaterThan(0);
    expect(measured + estimatedSlots).toBe(intervals * stack.demo.meterIds.length);
    expect(quarantine.items).toHaveLength(0);
    expect(rejected).toBe(0);
  });
});

const iso = (ms: number) => new Date(ms).toISOString();

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
