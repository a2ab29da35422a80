/**
 * Clock and disk faults of small gateways (issue 18, item 7), through the real agent in-process, its
 * SQLite outbox and a small ingest server: a board that boots at 1970 or at its last shutdown time, a
 * clock stepped an hour back and an hour forward, and the outbox's filesystem (a real tmpfs) full
 * before the outbox's own cap. The meters are simulated counters that follow the simulated clock's
 * true time, whatever the board's wall clock reads, so a reading stamped wrong would not match.
 */
import { Testing } from "@wattflow/core/testing";
import { describe, expect, it } from "vitest";
import { run } from "../src/agent";
import type { Config } from "../src/config";
import { readHealth } from "../src/health";
import { read as simulate } from "../src/meter/simulator";
import { cleanupAfterEach } from "./cleanup";
import { ingestServer, type Posted } from "./ingest";
import { smallDisk, smallDiskUnavailable } from "./support";

const deviceId = "dev_01m8gprxke1yxb4ma1nchzqhd8";
const meterIds = ["mtr_01m8gprxkjet4h0yhbyzdqm8w0", "mtr_01m8gprxkjet4h0yhbyzdqm8w1"];
const day = 86_400_000;
const hour = 3_600_000;
const step = 300_000;

const defer = cleanupAfterEach();

/** The simulator's kWh for one slot of meter `index` (seed index + 1, 200 kW rated): the truth a counter meter moves by. */
const slotKwh = (index: number, at: number) => simulate({ seed: index + 1, ratedKw: 200, utcOffsetHours: 0 }, new Date(at), 300).kwh;
const sumKwh = (index: number, from: number, to: number) => {
  let total = 0;
  for (let at = from; at < to; at += step) total += slotKwh(index, at);
  return total;
};

async function setup(open = true) {
  const server = await ingestServer({ open });
  defer(server.close);
  const dir = Testing.temporaryDir("wattflow-edge-small-");
  defer(dir.remove);
  // On the 5-minute grid, 10 days back: readings must not end in the future.
  const start = Math.floor((Date.now() - 10 * day) / hour) * hour;
  return { server, dir, start };
}

/**
 * A gateway of two counter meters from `start` to `until` at 600 × real time, on virtual time unless `virtual` is false:
 * the clock moves only when the agent waits on it, so each read and each scripted fault lands on its planned simulated
 * instant however busy the machine is, and where a gap starts and ends is the same on every run.
 */
function config(apiUrl: string, dataDir: string, start: number, until: number, faults: NonNullable<Config["clock"]>["faults"] = [], virtual = true): Config {
  return {
    deviceId,
    token: "wfd_test",
    api: { url: apiUrl },
    dataDir,
    meters: meterIds.map((id, index) => ({ id, driver: "sim", seed: index + 1, counter: true })),
    // 600 × real time: a slot takes half a second.
    clock: { start: new Date(start).toISOString(), speed: 600, faults, virtual },
    until: new Date(until).toISOString(),
    uploadLimits: { heartbeatMs: 200 },
  };
}

/**
 * Checks one meter's posted readings: they tile [from, to) in order with no overlap and no hole, every
 * 5-minute reading is exactly its slot's simulated kWh, every longer one is a gap holding exactly the
 * kWh of its slots. Returns the gaps as [start offset from `from` in slots, slots].
 */
function assessTiling(posted: Posted[], meterId: string, index: number, from: number, to: number): [number, number][] {
  const readings = posted.filter((reading) => reading.meterId === meterId).sort((a, b) => Date.parse(a.start) - Date.parse(b.start));
  const gaps: [number, number][] = [];
  let cursor = from;
  for (const reading of readings) {
    const at = Date.parse(reading.start);
    expect(at, `reading at ${reading.start} of ${meterId}`).toBe(cursor);
    expect(reading.seconds % 300).toBe(0);
    const end = at + reading.seconds * 1000;
    if (reading.seconds === 300) expect(reading.kwh).toBeCloseTo(slotKwh(index, at), 4);
    else {
      expect(reading.gap).toBe(true);
      expect(reading.kwh).toBeCloseTo(sumKwh(index, at, end), 3);
      gaps.push([(at - from) / step, reading.seconds / 300]);
    }
    cursor = end;
  }
  expect(cursor).toBe(to);
  return gaps;
}

describe("untrusted clock", () => {
  it("boots at 1970 without NTP: stamps nothing until NTP syncs, then the span since the last reading arrives as one gap per meter", {
    timeout: 60_000,
  }, async () => {
    // Prepare: a first life reads [S, S + 30 min) with a good clock. The second boots with its wall clock at 1970 and NTP
    // unsynchronized for 1 h of true time (the cloud's answers disagree by 56 years), then NTP steps it right.
    const { server, dir, start } = await setup();
    expect(await run(config(server.url, dir.path, start, start + hour / 2), { log: () => {} })).toBe(0);
    const lines: string[] = [];
    const boot1970 = [
      { afterSeconds: 0, offsetMs: -(start + hour / 2), ntpSynchronized: false },
      { afterSeconds: 3600, offsetMs: 0, ntpSynchronized: true },
    ];

    // Act
    const code = await run(config(server.url, dir.path, start, start + 2 * hour, boot1970), { log: (line) => lines.push(line) });

    // Assess: no reading before S or after S + 2 h (none stamped in 1970); [S, S + 30 min) is 6 measured slots, then one gap
    // from S + 30 min (the last reading before the boot) holding exactly the simulator's energy of its slots, then measured
    // slots to S + 2 h. The gap ends where NTP synced, S + 1 h 30 (slot 18: 12 slots): the second life starts at S + 30 min
    // untrusted and looks at the clock every 12 s of clock time (20 real ms at 600×), and 3600 s / 12 s = 300 looks reach
    // the sync exactly; the next boundary at or after it is S + 1 h 30 itself, read there with the clock trusted, so
    // [S + 1 h 30, S + 1 h 35) is measured like any slot (a counter difference, a trusted clock at both ends).
    expect(code).toBe(0);
    expect(server.posted.every((reading) => Date.parse(reading.start) >= start && Date.parse(reading.start) < start + 2 * hour)).toBe(true);
    for (const [index, meterId] of meterIds.entries()) {
      const gaps = assessTiling(server.posted, meterId, index, start, start + 2 * hour);
      expect(gaps).toEqual([[6, 12]]);
    }
    expect(lines.some((line) => line.includes("clock trusted (NTP synchronized (simulated))"))).toBe(true);
    expect(readHealth(dir.path)?.clock).toEqual(expect.objectContaining({ state: "trusted", source: "ntp" }));
  });

  it("a clock stepped back an hour, then forward an hour: no reading repeats or reverses, each step's span is one gap", { timeout: 60_000 }, async () => {
    // Prepare: a good clock from S; at S + 20 min it is set an hour back (NTP unsynchronized) until S + 40 min, when NTP
    // corrects it; at S + 60 min it is set an hour forward until S + 80 min.
    const { server, dir, start } = await setup();
    const steps = [
      { afterSeconds: 0, offsetMs: 0, ntpSynchronized: true },
      { afterSeconds: 1200, offsetMs: -hour, ntpSynchronized: false },
      { afterSeconds: 2400, offsetMs: 0, ntpSynchronized: true },
      { afterSeconds: 3600, offsetMs: hour, ntpSynchronized: false },
      { afterSeconds: 4800, offsetMs: 0, ntpSynchronized: true },
    ];
    const lines: string[] = [];

    // Act
    const code = await run(config(server.url, dir.path, start, start + 2 * hour, steps), { log: (line) => lines.push(line) });

    // Assess: the readings tile [S, S + 2 h) (so none repeats, overlaps or runs backwards), every 5-minute reading exactly
    // its slot's energy (assessTiling), and exactly two gaps, the same for both steps:
    // - each step falls on a boundary (S + 20 min, S + 60 min) and the agent's wait for that boundary ends at that instant,
    //   so the read there sees the step and stamps nothing: the gap starts at the reading before, slot 3 (S + 15 min) and
    //   slot 11 (S + 55 min);
    // - while untrusted the agent looks at the clock every 12 s of clock time (20 real ms at 600×) from the step, and
    //   20 min / 12 s = 100 looks reach NTP's correction (S + 40 min, S + 80 min) exactly; the next boundary at or after it
    //   is the correction's own instant, read there with the clock trusted, so the gap ends at slot 8 and slot 16 (5 slots
    //   each). That read is right, not early: the wall clock is the true time from that instant, and the slot after it
    //   ([S + 40, S + 45 min), [S + 80, S + 85 min)) is a counter difference with a trusted clock at both ends.
    // No slot is measured while the clock was wrong.
    expect(code).toBe(0);
    for (const [index, meterId] of meterIds.entries()) {
      const gaps = assessTiling(server.posted, meterId, index, start, start + 2 * hour);
      expect(gaps).toEqual([
        [3, 5],
        [11, 5],
      ]);
    }
    expect(lines.filter((line) => line.includes("clock UNTRUSTED (the clock stepped"))).toHaveLength(2);
  });

  it("boots at its last shutdown time (2 h behind): the cloud's time disagrees, nothing is stamped until it agrees", { timeout: 60_000 }, async () => {
    // Prepare: a first life reads [S, S + 30 min). The board then boots with the wall clock 2 h behind the true time (the
    // time it saved at shutdown) and no NTP source at all; only the cloud's time can confirm a clock. At S + 1 h the clock
    // is set right by hand.
    const { server, dir, start } = await setup();
    expect(await run(config(server.url, dir.path, start, start + hour / 2), { log: () => {} })).toBe(0);
    const faults = [
      { afterSeconds: 0, offsetMs: -2 * hour, ntpSynchronized: false },
      { afterSeconds: 1800, offsetMs: 0, ntpSynchronized: false },
    ];
    const lines: string[] = [];
    const second = { ...config(server.url, dir.path, start, start + 2 * hour, faults), time: { ntp: "none" as const } };

    // Act
    const code = await run(second, { log: (line) => lines.push(line) });

    // Assess: the wall clock read before the last trusted instant (S + 30 min − 2 h) and the cloud disagreed; the cloud's
    // agreement after the correction trusted it; one gap from S + 30 min (slot 6) to a boundary after S + 1 h (slot ≥ 12),
    // measured slots on both sides.
    expect(code).toBe(0);
    expect(lines.some((line) => line.includes("clock trusted (the cloud's time agrees"))).toBe(true);
    for (const [index, meterId] of meterIds.entries()) {
      const gaps = assessTiling(server.posted, meterId, index, start, start + 2 * hour);
      expect(gaps).toHaveLength(1);
      expect(gaps[0]?.[0]).toBe(6);
      expect((gaps[0]?.[0] ?? 0) + (gaps[0]?.[1] ?? 0)).toBeGreaterThanOrEqual(12);
    }
  });
});

const noDisk = smallDiskUnavailable();
if (noDisk) console.log(`small-gateway disk tests: ${noDisk}; they run as root (CI) or with WATTFLOW_REQUIRE_TMPFS=1 fail here`);

describe.skipIf(noDisk !== undefined && process.env.WATTFLOW_REQUIRE_TMPFS !== "1")("full disk (a real 2 MiB tmpfs)", () => {
  it("keeps running with the disk full, holds readings in memory, reports it, and loses no energy once there is room", { timeout: 60_000 }, async () => {
    // Prepare: the outbox on a 2 MiB tmpfs, an API that refuses everything (so the outbox only grows), two counter meters.
    const api = { open: false };
    const server = await ingestServer(api);
    defer(server.close);
    const disk = smallDisk(2 * 1024 * 1024);
    defer(() => disk.unmount());
    const start = Math.floor((Date.now() - 10 * day) / hour) * hour;
    const until = start + 4 * hour;
    const lines: string[] = [];
    let full: ReturnType<typeof readHealth> | undefined;
    // Fill the disk once the agent runs; free it and open the API one simulated hour (12 slots of 500 ms) after it reports full.
    const script = setInterval(() => {
      if (!lines.some((line) => line.includes("filled")) && readHealth(disk.path)?.writtenAt && lines.length > 0) {
        disk.fill();
        lines.push("test: filled");
      }
      const health = full ? undefined : readHealth(disk.path);
      if (health?.disk?.state === "full") {
        full = health;
        setTimeout(() => {
          disk.free();
          api.open = true;
        }, 12 * 500);
      }
    }, 50);
    defer(() => clearInterval(script));

    // Act
    // On real time: the script below frees the disk after real seconds, and no assertion depends on where a gap falls.
    const code = await run(config(server.url, disk.path, start, until, [], false), { log: (line) => lines.push(line) });

    // Assess: the agent never stopped (exit 0 at `until`), said the disk was full and held readings in memory; the health
    // file said full with the SQLite refusal; the readings tile [S, S + 4 h), measured slots exact, gaps (if memory was not
    // enough) holding exactly their slots' energy: nothing lost, nothing twice.
    expect(code).toBe(0);
    expect(lines.some((line) => line.startsWith("edge: DISK FULL"))).toBe(true);
    expect(lines.some((line) => line.includes("disk takes writes again"))).toBe(true);
    expect(full?.disk).toEqual(expect.objectContaining({ state: "full", error: expect.stringMatching(/SQLITE_FULL|SQLITE_IOERR/) }));
    expect(readHealth(disk.path)?.disk?.state).toBe("ok");
    for (const [index, meterId] of meterIds.entries()) assessTiling(server.posted, meterId, index, start, until);
  });
});
