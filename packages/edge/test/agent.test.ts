/**
 * The agent in-process against a small ingest server: what it does when its disk is at the cap, and
 * how a Modbus counter meter's resets reach the readings. The agent runs on virtual time (clock.ts
 * `virtual`): each cycle reads its boundary at that instant however busy the machine, so every slot is
 * asserted exactly.
 */
import { once } from "node:events";
import { Testing } from "@wattflow/core/testing";
import { ServerTCP } from "modbus-serial";
import { describe, expect, it } from "vitest";
import { run } from "../src/agent";
import type { Clock } from "../src/clock";
import type { Config } from "../src/config";
import { mapOf } from "../src/meter/maps";
import { encode } from "../src/meter/registers";
import { read as simulate } from "../src/meter/simulator";
import { Outbox } from "../src/outbox";
import { cleanupAfterEach } from "./cleanup";
import { ingestServer } from "./ingest";

const deviceId = "dev_01m8gprxke1yxb4ma1nchzqhd8";
const meterIds = ["mtr_01m8gprxkjet4h0yhbyzdqm8w0", "mtr_01m8gprxkjet4h0yhbyzdqm8w1"];
const hour = 3_600_000;
const day = 24 * hour;
const step = 300_000;

const defer = cleanupAfterEach();

describe("agent", () => {
  it("at the disk cap commits nothing new, then bridges the gap with one longer interval per meter: no energy lost", async () => {
    // Prepare: an API that refuses everything until the outbox is full, a cap of 48 KiB. On virtual time each boundary is
    // its own commit (a late cycle never catches up several at once), so the outbox grows past the warning before the cap.
    const api = { open: false };
    const server = await ingestServer(api);
    defer(server.close);
    const dir = Testing.temporaryDir("wattflow-edge-agent-");
    defer(dir.remove);
    const start = Math.floor((Date.now() - 10 * day) / step) * step;
    // Six hours: the empty outbox already takes 44 KiB, so the cap is met within the first hour and the gap bridged after.
    const until = start + 6 * hour;
    const config: Config = {
      deviceId,
      token: "wfd_test",
      api: { url: server.url },
      dataDir: dir.path,
      meters: meterIds.map((id, index) => ({ id, driver: "sim", seed: index + 1 })),
      clock: { start: new Date(start).toISOString(), speed: 20_000, virtual: true },
      until: new Date(until).toISOString(),
      outbox: { maxBytes: 48 * 1024, warnBytes: 32 * 1024 },
    };
    const lines: string[] = [];
    const opener = setInterval(() => {
      if (lines.some((line) => line.includes("OUTBOX FULL"))) api.open = true;
    }, 20);
    defer(() => clearInterval(opener));

    // Act
    const code = await run(config, { log: (line) => lines.push(line) });

    // Assess: the warning came before the cap; every slot of the six hours is covered exactly once, energy as simulated.
    expect(code).toBe(0);
    const warned = lines.findIndex((line) => line.includes("WARNING outbox at"));
    const full = lines.findIndex((line) => line.includes("OUTBOX FULL"));
    expect(warned).toBeGreaterThanOrEqual(0);
    expect(full).toBeGreaterThan(warned);
    for (const [index, meterId] of meterIds.entries()) {
      const readings = server.posted.filter((reading) => reading.meterId === meterId).sort((a, b) => Date.parse(a.start) - Date.parse(b.start));
      let cursor = start;
      let kwh = 0;
      for (const reading of readings) {
        expect(Date.parse(reading.start)).toBe(cursor);
        cursor += reading.seconds * 1000;
        kwh += reading.kwh;
        expect(reading.gap ?? false).toBe(reading.seconds > 300);
      }
      expect(cursor).toBe(until);
      expect(readings.some((reading) => reading.gap)).toBe(true);
      let simulated = 0;
      for (let at = start; at < until; at += step) simulated += simulate({ seed: index + 1, ratedKw: 200, utcOffsetHours: 0 }, new Date(at), 300).kwh;
      expect(kwh).toBeCloseTo(simulated, 2);
    }
  });

  it("case 1 (issue 12): a Modbus meter that answers 0 once gives 10 kWh over the two slots, then 5 kWh — nothing over its rating", async () => {
    // Prepare: two SDM630s at 60 kW, counters 8000 → 0 → 8010 → 8015 kWh at four boundaries (the zero also on the re-read):
    // one with no rating configured (class default 3 × 253 V × 100 A = 75.9 kW), one with maxKw 250.
    const setup = await counterSetup([8000, 0, 8010, 8015], (phase) => (phase === 1 ? 0 : 60));
    const { modbus, server, dir, start } = setup;
    const meters: Config["meters"] = [
      { id: meterIds[0] as string, driver: "sdm630", host: "127.0.0.1", port: modbus.port, unitId: 1 },
      { id: meterIds[1] as string, driver: "sdm630", host: "127.0.0.1", port: modbus.port, unitId: 2, maxKw: 250 },
    ];

    // Act: four boundaries through the real agent, outbox and uploader.
    const code = await runAgainst(setup, meters, 3);

    // Assess: 8000 → 8010 over [t0, t0 + 10 min) is one 10 kWh gap interval (60 kW); 8010 → 8015 is 5 kWh; 15 kWh in all.
    expect(code).toBe(0);
    for (const [index, meterId] of meterIds.entries()) {
      const readings = server.posted.filter((reading) => reading.meterId === meterId).sort((a, b) => Date.parse(a.start) - Date.parse(b.start));
      expect(readings.map((reading) => [reading.start, reading.seconds, reading.kwh, reading.gap ?? false])).toEqual([
        [new Date(start).toISOString(), 600, 10, true],
        [new Date(start + 2 * step).toISOString(), 300, 5, false],
      ]);
      const limit = index === 0 ? 75.9 : 250;
      for (const reading of readings) expect(reading.kwh / (reading.seconds / 3600)).toBeLessThanOrEqual(limit);
    }
    const status = outboxStatus(dir.path);
    expect(status.lastEvents.filter((event) => event.kind === "glitch")).toHaveLength(2);
    expect(status.ratings).toEqual([
      expect.objectContaining({ meterId: meterIds[0], maxKw: 75.9, source: "class" }),
      expect.objectContaining({ meterId: meterIds[1], maxKw: 250, source: "maxKw" }),
    ]);
    expect(status.held).toEqual([]);
  });

  it("keeps a held read across a restart: the agent stopped while the meter answered 0 bridges it when it comes back", async () => {
    // Prepare: the case 1 meter; the first life ends right after the zero read (t0 + 5 min), the second reads 8010 and 8015.
    const setup = await counterSetup([8000, 0, 8010, 8015], (phase) => (phase === 1 ? 0 : 60));
    const { modbus, server, dir, start } = setup;
    const meters: Config["meters"] = [{ id: meterIds[0] as string, driver: "sdm630", host: "127.0.0.1", port: modbus.port, unitId: 1 }];

    // Act: the second life's clock resumes where the outbox ends (t0 + 5 min), so the meter answers 8010 at t0 + 10 min.
    expect(await runAgainst(setup, meters, 1)).toBe(0);
    const between = outboxStatus(dir.path).held;
    expect(await runAgainst(setup, meters, 3)).toBe(0);

    // Assess: held at the stop; then 8000 → 8010 as one 10 kWh gap interval over both slots and 5 kWh, as without the restart.
    expect(between).toEqual([expect.objectContaining({ meterId: meterIds[0], cause: "zero", reads: 1 })]);
    expect(server.posted.map((reading) => [(Date.parse(reading.start) - start) / step, reading.seconds, reading.kwh])).toEqual([
      [0, 600, 10],
      [2, 300, 5],
    ]);
  });

  it("holds a Modbus meter's counter reset until 3 reads confirm it, then sends the energy from the new base and none before it", async () => {
    // Prepare: an EM24 climbing 2 kWh per read (24 kW) from 1000, reset to 0.3 kWh at the fourth boundary, climbing again.
    const setup = await counterSetup([1000, 1002, 1004, 0.3, 2.3, 4.3, 6.3], () => 24, "em24");
    const { modbus, server, dir, start } = setup;

    // Act: seven boundaries.
    const code = await runAgainst(setup, [{ id: meterIds[0] as string, driver: "em24", host: "127.0.0.1", port: modbus.port, unitId: 1, maxKw: 100 }], 6);

    // Assess: 2 kWh for [t0, t1) and [t1, t2); [t2, t3) unknown (the reset), no reading; 0.3 → 2.3 → 4.3 → 6.3 is 2 kWh a slot from t3.
    expect(code).toBe(0);
    const slots = server.posted
      .map((reading) => [(Date.parse(reading.start) - start) / step, reading.seconds, reading.kwh])
      .sort((a, b) => (a[0] as number) - (b[0] as number));
    expect(slots).toEqual([
      [0, 300, 2],
      [1, 300, 2],
      [3, 300, 2],
      [4, 300, 2],
      [5, 300, 2],
    ]);
    const kinds = outboxStatus(dir.path).lastEvents.map((event) => event.kind);
    expect(kinds.slice(0, 2)).toEqual(["reset", "held"]);
  });
});

type CounterSetup = Awaited<ReturnType<typeof counterSetup>>;

/**
 * A Modbus meter answering `counters` (kWh, the last one from then on) at `kw(phase)`, where the phase is the boundary
 * since `start` the agent's clock stands at (`agent.clock`, set when the agent runs); an open ingest server, a data
 * folder, a start in the past.
 */
async function counterSetup(counters: readonly number[], kw: (phase: number) => number, model: "sdm630" | "em24" = "sdm630") {
  const start = Math.floor((Date.now() - 10 * day) / step) * step;
  const agent: { clock?: Clock } = {};
  const phase = () => (agent.clock ? (agent.clock.now() - start) / step : 0);
  const modbus = await meterServer(phase, (at) => ({ kwh: counters[Math.min(at, counters.length - 1)] as number, kw: kw(at) }), model);
  const server = await ingestServer({ open: true });
  defer(server.close);
  const dir = Testing.temporaryDir("wattflow-edge-agent-");
  defer(dir.remove);
  return { modbus, server, dir, start, agent };
}

/** The outbox status as `wattflow edge status` reads it. */
function outboxStatus(dataDir: string) {
  const outbox = Outbox.open(dataDir, { maxBytes: 1 << 30, warnBytes: 1 << 29, readonly: true });
  try {
    return outbox.status();
  } finally {
    outbox.close();
  }
}

/**
 * The agent on a virtual clock (a slot at least 100 ms of real time) from `start`, or where its outbox ends, through
 * `boundaries` more boundaries; the setup's meter follows its clock.
 */
function runAgainst(setup: CounterSetup, meters: Config["meters"], boundaries: number): Promise<number> {
  const { server, dir, start, agent } = setup;
  return run(
    {
      deviceId,
      token: "wfd_test",
      api: { url: server.url },
      dataDir: dir.path,
      meters,
      clock: { start: new Date(start).toISOString(), speed: 3000, virtual: true },
      until: new Date(start + boundaries * step).toISOString(),
    },
    {
      log: () => {},
      onClock: (clock) => {
        agent.clock = clock;
      },
    },
  );
}

/**
 * A Modbus TCP meter (every unit id answers) whose counter follows `script` at the phase `phase()` gives: the agent
 * reads at a boundary of its virtual clock, which stands still while it reads, so its re-read after a suspect read
 * gets the same answer, as a rebooting meter gives.
 */
async function meterServer(phase: () => number, script: (phase: number) => { kwh: number; kw: number }, model: "sdm630" | "em24" = "sdm630") {
  const map = mapOf(model);
  const registers = (address: number, length: number) => {
    const values = script(phase());
    const words = new Map<number, number>();
    const put = (field: typeof map.energy, value: number) => {
      for (const [offset, word] of encode(value, field, map.wordOrder).entries()) words.set(field.address + offset, word);
    };
    put(map.energy, values.kwh);
    if (map.reactive) put(map.reactive, 0);
    put(map.power, values.kw);
    put(map.voltage, 231);
    put(map.current, values.kw === 0 ? 0 : 87);
    if (map.powerFactor) put(map.powerFactor, 1);
    return Array.from({ length }, (_, offset) => words.get(address + offset) ?? 0);
  };
  const port = await Testing.freePort();
  const one = (address: number) => registers(address, 1)[0] ?? 0;
  const modbus = new ServerTCP(
    { getMultipleInputRegisters: registers, getMultipleHoldingRegisters: registers, getInputRegister: one, getHoldingRegister: one },
    { host: "127.0.0.1", port, unitID: 255 },
  );
  await once(modbus, "initialized");
  defer(() => new Promise<void>((resolve) => modbus.close(() => resolve())));
  return { port };
}
