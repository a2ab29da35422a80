/**
 * The agent in-process against a small ingest server: what it does when its disk is at the cap, and
 * how a Modbus counter meter's resets reach the readings.
 */
import { once } from "node:events";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Testing } from "@wattflow/core/testing";
import { ServerTCP } from "modbus-serial";
import { afterEach, describe, expect, it } from "vitest";
import { run } from "../src/agent";
import type { Config } from "../src/config";
import { encode, maps } from "../src/meter/registers";
import { read as simulate } from "../src/meter/simulator";
import { Outbox } from "../src/outbox";

type Posted = { meterId: string; start: string; seconds: number; kwh: number; gap?: boolean };
const deviceId = "dev_01m8gprxke1yxb4ma1nchzqhd8";
const meterIds = ["mtr_01m8gprxkjet4h0yhbyzdqm8w0", "mtr_01m8gprxkjet4h0yhbyzdqm8w1"];
const day = 86_400_000;
const step = 300_000;

/** POST /v1/ingest that takes everything once `open`, and 503 + Retry-After before that. */
async function ingestServer(state: { open: boolean }) {
  const posted: Posted[] = [];
  const server: Server = createServer((request, response) => {
    let body = "";
    request.on("data", (chunk: Buffer) => {
      body += chunk.toString();
    });
    request.on("end", () => {
      if (request.url !== "/v1/ingest") {
        response.writeHead(200, { "content-type": "application/json" }).end("{}");
        return;
      }
      if (!state.open) {
        response.writeHead(503, { "retry-after": "0.05", "content-type": "application/json" }).end('{"code":"ingest.stream_unavailable"}');
        return;
      }
      const readings = (JSON.parse(body) as { readings: Posted[] }).readings;
      posted.push(...readings);
      response.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ accepted: readings.length, duplicates: 0, rejected: [] }));
    });
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    posted,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

let cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  cleanups = [];
});

describe("agent", () => {
  it("at the disk cap commits nothing new, then bridges the gap with one longer interval per meter: no energy lost", async () => {
    // Prepare: an API that refuses everything until the outbox is full, a cap of 48 KiB.
    const api = { open: false };
    const server = await ingestServer(api);
    cleanups.push(server.close);
    const dir = Testing.temporaryDir("wattflow-edge-agent-");
    cleanups.push(dir.remove);
    const start = Math.floor((Date.now() - 10 * day) / step) * step;
    const until = start + day;
    const config: Config = {
      deviceId,
      token: "wfd_test",
      api: { url: server.url },
      dataDir: dir.path,
      meters: meterIds.map((id, index) => ({ id, driver: "sim", seed: index + 1 })),
      clock: { start: new Date(start).toISOString(), speed: 20_000 },
      until: new Date(until).toISOString(),
      outbox: { maxBytes: 48 * 1024, warnBytes: 32 * 1024 },
    };
    const lines: string[] = [];
    const opener = setInterval(() => {
      if (lines.some((line) => line.includes("OUTBOX FULL"))) api.open = true;
    }, 20);
    cleanups.push(() => clearInterval(opener));

    // Act
    const code = await run(config, { log: (line) => lines.push(line) });

    // Assess: the warning came before the cap; every slot of the day is covered exactly once, energy as simulated.
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

  it("turns a Modbus meter's counter reset into an event and a non-negative reading", async () => {
    // Prepare: an EM24 whose energy counter climbs 2 kWh per read, then is reset to 0.3 kWh (replaced or cleared).
    let reads = 0;
    const counter = () => (reads <= 3 ? 1000 + 2 * reads : 0.3 + 2 * (reads - 4));
    const map = maps.em24;
    const registers = (address: number, length: number) => {
      const words = new Map<number, number>();
      const put = (field: typeof map.energy, value: number) => {
        for (const [offset, word] of encode(value, field, map.wordOrder).entries()) words.set(field.address + offset, word);
      };
      if (address === map.energy.address) reads++;
      put(map.energy, counter());
      put(map.power, 24);
      put(map.voltage, 231);
      put(map.current, 35);
      return Array.from({ length }, (_, offset) => words.get(address + offset) ?? 0);
    };
    const port = await Testing.freePort();
    const modbus = new ServerTCP(
      { getMultipleHoldingRegisters: registers, getHoldingRegister: (address: number) => registers(address, 1)[0] ?? 0 },
      { host: "127.0.0.1", port, unitID: 1 },
    );
    await once(modbus, "initialized");
    cleanups.push(() => new Promise<void>((resolve) => modbus.close(() => resolve())));
    const server = await ingestServer({ open: true });
    cleanups.push(server.close);
    const dir = Testing.temporaryDir("wattflow-edge-agent-");
    cleanups.push(dir.remove);
    const start = Math.floor((Date.now() - 10 * day) / step) * step;

    // Act: five boundaries, one real second each.
    const code = await run(
      {
        deviceId,
        token: "wfd_test",
        api: { url: server.url },
        dataDir: dir.path,
        meters: [{ id: meterIds[0] as string, driver: "em24", host: "127.0.0.1", port, unitId: 1, maxKw: 100 }],
        clock: { start: new Date(start).toISOString(), speed: 300 },
        until: new Date(start + 5 * step).toISOString(),
      },
      { log: () => {} },
    );

    // Assess
    expect(code).toBe(0);
    const kwh = server.posted.map((reading) => reading.kwh);
    expect(kwh.every((value) => value >= 0 && value <= (100 * 300) / 3600)).toBe(true);
    const outbox = Outbox.open(dir.path, { maxBytes: 1 << 30, warnBytes: 1 << 29, readonly: true });
    const kinds = outbox.status().lastEvents.map((event) => event.kind);
    outbox.close();
    expect(kinds).toContain("reset");
    expect(kinds).toContain("baseline");
    expect(kwh.slice(0, 2)).toEqual([2, 2]);
  });
});
