/**
 * Modbus RTU on a real serial line (a socat pty pair): one bus, several unit ids with the SDM630,
 * PM5xxx and EM24 maps, and the faults of a field bus — a unit that never answers, CRC errors, an answer
 * after the timeout, a unit unplugged and plugged back — against a slave written here and against
 * Debian's pymodbus, so a misunderstanding shared by the gateway and its own test slave cannot hide.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { Testing } from "@wattflow/core/testing";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { wattflow } from "../../cli/test/support";
import { run } from "../src/agent";
import type { Clock } from "../src/clock";
import type { Config, Meter } from "../src/config";
import { Bus, Buses, type BusSpec } from "../src/meter/bus";
import { create, MeterReadError } from "../src/meter/driver";
import { loadMaps, mapOf } from "../src/meter/maps";
import { Outbox } from "../src/outbox";
import { ingestServer } from "./ingest";
import { imageOf, type PymodbusState, pymodbusSlave, type Registers, RtuSlave, serialToolsMissing, virtualLine } from "./rtu";

// A new machine may lack socat or Debian's pymodbus (npm cannot install them): the lanes are skipped there, saying
// what to install; CI installs both and requires them (WATTFLOW_REQUIRE_SERIAL=1 in .ci/run).
const missingTools = serialToolsMissing();
if (missingTools) console.warn(`Modbus RTU tests skipped: install ${missingTools} (apt-get install socat python3-pymodbus)`);
const serialDescribe = missingTools ? describe.skip : describe;

/** The error a read that must fail failed with. */
async function failure(pending: Promise<unknown>): Promise<Error> {
  try {
    await pending;
  } catch (error) {
    return error as Error;
  }
  throw new Error("expected the read to fail");
}

const line9600 = { baudRate: 9600, parity: "none", dataBits: 8, stopBits: 1 } as const;

const truth = { kwh: 123_456.7, kvarh: 45_678.9, kw: 87.65, voltage: 230.4, current: 126.5, pf: 0.87 };
const models = ["sdm630", "pm5xxx", "em24"] as const;
const meterId = (index: number) => `mtr_01m8gprxkjet4h0yhbyzdqm8w${index}`;

serialDescribe("Modbus RTU against a slave written in the test", () => {
  let dir: { path: string; remove(): void };
  let line: Awaited<ReturnType<typeof virtualLine>>;
  let slave: RtuSlave;
  let buses: Buses[] = [];
  const spec = (extra: Partial<BusSpec> = {}): BusSpec => ({ path: line.master, ...line9600, timeoutMs: 150, retries: 1, ...extra });
  const busesFor = (extra: Partial<BusSpec> = {}) => {
    const set = new Buses({ line1: spec(extra) });
    buses.push(set);
    return set;
  };

  beforeAll(async () => {
    dir = Testing.temporaryDir("wattflow-rtu-");
    line = await virtualLine(dir.path);
    slave = new RtuSlave();
    await slave.open(line.slave);
    models.forEach((model, index) => {
      const image = imageOf(model, truth);
      const registers: Registers = (_table, address) => image.get(address) ?? 0;
      slave.units.set(index + 1, { registers, table: mapOf(model).function });
    });
  });
  afterEach(async () => {
    for (const set of buses) await set.close();
    buses = [];
    slave.faults.clear();
  });
  afterAll(async () => {
    await slave?.close();
    await line?.close();
    dir?.remove();
  });

  const driverOf = (set: Buses, index: number, extra: Partial<Meter> = {}) => {
    const driver = create({ id: meterId(index), driver: models[index] as string, bus: "line1", unitId: index + 1, ...extra }, set);
    if (driver.kind !== "counter") throw new Error("a Modbus meter is a counter meter");
    return driver;
  };

  it("reads an SDM630, a PM5xxx and an EM24 as units 1, 2 and 3 of one bus, one request at a time", async () => {
    const set = busesFor();
    const drivers = models.map((_, index) => driverOf(set, index));

    // All three asked at once: the bus queue sends one request at a time.
    const snapshots = await Promise.all(drivers.map((driver) => driver.read()));

    for (const snapshot of snapshots) {
      expect(snapshot.kwh).toBeCloseTo(truth.kwh, 0);
      expect(snapshot.kvarh).toBeCloseTo(truth.kvarh, 0);
      expect(snapshot.kw).toBeCloseTo(truth.kw, 2);
      expect(snapshot.voltage).toBeCloseTo(truth.voltage, 1);
      expect(snapshot.current).toBeCloseTo(truth.current, 2);
      expect(snapshot.pf).toBeCloseTo(truth.pf, 3);
    }
    // 6 quantities per meter, each one request, all answered: interleaved requests would have spoiled answers.
    expect(set.stats()).toEqual([expect.objectContaining({ bus: "line1", requests: 18, answered: 18, timeouts: 0, crcErrors: 0 })]);
  });

  it("a unit that never answers: a clear error after its tries, then one try a cycle; the others still read", async () => {
    const set = busesFor();
    slave.faults.set(2, { silent: true });
    const [sdm, pm] = [driverOf(set, 0), driverOf(set, 1)];

    const sent = slave.requests;
    const began = Date.now();
    const error = await pm.read().catch((caught: unknown) => caught);
    const firstMs = Date.now() - began;
    const firstRequests = slave.requests - sent;
    const again = Date.now();
    await pm.read().catch(() => undefined);
    const secondMs = Date.now() - again;
    const secondRequests = slave.requests - sent - firstRequests;
    const sdmRead = await sdm.read();

    expect(error).toBeInstanceOf(MeterReadError);
    expect((error as Error).message).toContain(`no answer from unit 2 on ${line.master} at 9600 8N1 within 150 ms`);
    // Energy is read first, and nothing after it fails. First cycle: a try and its retry on the line, each waited out
    // (try 150 ms, wait for a late answer 150 ms, retry 150 ms = 450 ms at least); then one try while it stays silent
    // (150 ms at least). Counted on the slave, not timed: a busy machine only makes each wait longer.
    expect(firstRequests).toBe(2);
    expect(secondRequests).toBe(1);
    expect(firstMs).toBeGreaterThanOrEqual(450);
    expect(secondMs).toBeGreaterThanOrEqual(150);
    expect(sdmRead.kwh).toBeCloseTo(truth.kwh, 0);
    // Unit 2's reads: 3 timeouts (its first read's try and retry, its second read's one try) less its 1 retry. A timeout a busy
    // machine causes on unit 1 is recovered by a retry and adds one of each, so the difference is exact either way.
    const [stats] = set.stats();
    expect((stats?.timeouts ?? 0) - (stats?.retries ?? 0)).toBe(2);
  });

  it("counts a CRC error and reads on with the retry; two in a row fail with the CRC named", async () => {
    const set = busesFor();
    const em24 = driverOf(set, 2);

    slave.faults.set(3, { badCrc: 1 });
    const snapshot = await em24.read();
    slave.faults.set(3, { badCrc: 2 });
    const error = await failure(em24.read());

    expect(snapshot.kwh).toBeCloseTo(truth.kwh, 1);
    expect(error.message).toMatch(/answer from unit 3 on .* failed its CRC check/);
    expect(set.stats()[0]).toMatchObject({ crcErrors: 3, retries: 2 });
  });

  it("an answer after the timeout is not taken for the next request's answer", async () => {
    // Unit 1 answers 340 ms late (timeout 300 ms, no retry): its answer lands while unit 3 is being read.
    const set = busesFor({ retries: 0, timeoutMs: 300 });
    slave.faults.set(1, { lateMs: 340 });
    const [sdm, em24] = [driverOf(set, 0), driverOf(set, 2)];

    const late = await failure(sdm.read());
    const next = await em24.read();
    slave.faults.delete(1);
    await new Promise((resolve) => setTimeout(resolve, 150));
    const back = await sdm.read();

    expect(late.message).toContain("no answer from unit 1");
    expect(next.kwh).toBeCloseTo(truth.kwh, 1);
    expect(next.voltage).toBeCloseTo(truth.voltage, 1);
    expect(back.kwh).toBeCloseTo(truth.kwh, 0);
  });

  /**
   * Unit 9: two float32 holding registers of the same length, by hand (IEEE 754, high word first): 1234.5 =
   * 1.00110100101b × 2^10 → 0x449A5000 at 0…1; 67.25 = 1.00001101b × 2^6 → 0x42868000 at 2…3.
   */
  const twoFloats = new Map([
    [0, 0x449a],
    [1, 0x5000],
    [2, 0x4286],
    [3, 0x8000],
  ]);
  const withUnit9 = async (test: () => Promise<void>) => {
    slave.units.set(9, { registers: (_table, address) => twoFloats.get(address) ?? 0, table: "holding" });
    try {
      await test();
    } finally {
      slave.units.delete(9);
      slave.charMs = 0;
    }
  };

  it("a late answer and its retry's own: each request gets its own register, the extra answer is dropped as stray", () =>
    withUnit9(async () => {
      // Prepare: unit 9 holds its answer to the first try until it is asked again (later than the timeout and the wait
      // before the retry), then sends it just before answering the retry on time; answers paced as on a 9600-baud line
      // (8-byte request + 9-byte answer ≈ 18 ms), so the retry's own answer comes after the late one.
      const set = busesFor({ timeoutMs: 150, retries: 1 });
      const bus = set.for({ bus: "line1" });
      slave.charMs = 10 / 9.6;
      slave.faults.set(9, { held: 1 });

      // Act: the register at 0, then the one at 2 (same length, so neither the port nor the byte count tells them apart).
      const first = await bus.read(9, "holding", 0, 2);
      const second = await bus.read(9, "holding", 2, 2);

      // Assess: 1234.5's words, then 67.25's; one timeout, one retry, the retry's own answer heard as a stray frame.
      expect(first).toEqual([0x449a, 0x5000]);
      expect(second).toEqual([0x4286, 0x8000]);
      expect(bus.stats()).toMatchObject({ timeouts: 1, retries: 1, answered: 2, badFrames: 0, strayFrames: 1 });
    }));

  it("an answer with the wrong byte count is a bad frame: counted, retried, never decoded; two in a row fail naming it", () =>
    withUnit9(async () => {
      // Prepare: unit 9's next answer says 2 bytes for a 2-register read (CRC right), then two more such answers.
      const set = busesFor({ timeoutMs: 150, retries: 1 });
      const bus = set.for({ bus: "line1" });
      slave.faults.set(9, { badByteCount: 1 });

      // Act
      const recovered = await bus.read(9, "holding", 2, 2);
      slave.faults.set(9, { badByteCount: 2 });
      const error = await failure(bus.read(9, "holding", 2, 2));

      // Assess: the retry's answer, 67.25's words; three bad frames (one, then two), two retries, no register taken from them.
      expect(recovered).toEqual([0x4286, 0x8000]);
      expect(error).toMatchObject({ name: "BusError", kind: "frame" });
      expect(error.message).toContain("answer from unit 9 on");
      expect(error.message).toContain("does not match its request (reading 2 holding register(s) at 2): its byte count is 2, 4 expected");
      expect(bus.stats()).toMatchObject({ answered: 1, badFrames: 3, retries: 2, timeouts: 0 });
    }));

  it("a unit unplugged and plugged back: read failures while it is away, its values again once it is back", async () => {
    const set = busesFor();
    const em24 = driverOf(set, 2);

    const before = await em24.read();
    slave.faults.set(3, { silent: true });
    const away = await failure(em24.read());
    slave.faults.delete(3);
    const after = await em24.read();

    expect(before.kwh).toBeCloseTo(truth.kwh, 1);
    expect(away).toBeInstanceOf(MeterReadError);
    expect(after.kwh).toBeCloseTo(truth.kwh, 1);
  });

  it("names the port when it cannot be opened", async () => {
    const bus = new Bus("nowhere", { path: `${dir.path}/ttyUSB9`, ...line9600 });
    const error = await failure(bus.read(3, "holding", 0, 2));
    await bus.close();
    expect(error.message).toMatch(new RegExp(`cannot open ${dir.path}/ttyUSB9 at 9600 8N1: .*No such file`));
  });
});

serialDescribe("Modbus RTU against Debian's pymodbus server (another implementation)", () => {
  let dir: { path: string; remove(): void };
  let line: Awaited<ReturnType<typeof virtualLine>>;
  let slave: Awaited<ReturnType<typeof pymodbusSlave>>;
  const shipped = [...loadMaps().values()];
  /** Each shipped map as a unit (1…7), serving the register images its file derives from its document. */
  const state = (silent: number[] = []): PymodbusState => ({
    units: Object.fromEntries(
      shipped.map((map, index) => {
        const registers: Record<number, number> = {};
        for (const example of map.examples) {
          const field = map[example.field];
          if (!field) continue;
          for (const [offset, word] of example.registers.entries()) registers[field.address + offset] = word;
        }
        return [index + 1, { table: map.function, registers }];
      }),
    ),
    silent,
  });

  beforeAll(async () => {
    dir = Testing.temporaryDir("wattflow-pymodbus-");
    line = await virtualLine(dir.path);
    slave = await pymodbusSlave(line.slave, `${dir.path}/state.json`, state());
  }, 30_000);
  afterAll(async () => {
    await slave?.close();
    await line?.close();
    dir?.remove();
  });

  it("reads every shipped map to the values its document gives", async () => {
    const set = new Buses({ line1: { path: line.master, ...line9600, timeoutMs: 500 } });
    try {
      for (const [index, map] of shipped.entries()) {
        const driver = create({ id: meterId(index), driver: map.model, bus: "line1", unitId: index + 1 }, set);
        if (driver.kind !== "counter") throw new Error("a Modbus meter is a counter meter");
        const snapshot = await driver.read();
        const expected = Object.fromEntries(map.examples.map((example) => [example.field, example]));
        const near = (value: number | undefined, field: string) => {
          const example = expected[field];
          if (!example) return expect(value).toBeUndefined();
          expect(Math.abs((value ?? Number.NaN) - example.value), `${map.model} ${field}`).toBeLessThanOrEqual(example.tolerance);
        };
        near(snapshot.kwh, "energy");
        near(snapshot.kvarh, "reactive");
        near(snapshot.kw, "power");
        near(snapshot.voltage, "voltage");
        near(snapshot.current, "current");
        near(snapshot.pf, "powerFactor");
      }
    } finally {
      await set.close();
    }
  });

  it("edge probe prints every decoded value of each shipped map, edge scan lists the units, and a silent unit is named", () => {
    // Prepare: a gateway config with the seven shipped models as units 1…7 of one bus; unit 8 does not exist. Timeouts
    // of 1 s: pymodbus is another process on this shared machine, and an answer it gives late is not the gateway's fault.
    const configPath = join(dir.path, "gateway.json");
    writeFileSync(
      configPath,
      JSON.stringify({
        deviceId: "dev_01m8gprxke1yxb4ma1nchzqhd8",
        token: "wfd_test",
        api: { url: "http://127.0.0.1:9" },
        dataDir: join(dir.path, "edge"),
        buses: { line1: { path: line.master, ...line9600, timeoutMs: 1000 } },
        meters: [
          ...shipped.map((map, index) => ({ id: meterId(index), driver: map.model, bus: "line1", unitId: index + 1 })),
          { id: meterId(8), driver: "sdm630", bus: "line1", unitId: 8 },
        ],
      }),
    );

    // Act
    const probes = shipped.map((_, index) => wattflow(["edge", "probe", "--config", configPath, "--meter", meterId(index), "--json"]));
    const text = wattflow(["edge", "probe", "--config", configPath, "--meter", meterId(shipped.findIndex((map) => map.model === "em24"))]);
    const silent = wattflow(["edge", "probe", "--config", configPath, "--meter", meterId(8)]);
    const scanned = wattflow(["edge", "scan", "--config", configPath, "--bus", "line1", "--from", "1", "--to", "9", "--timeout", "1000", "--json"]);

    // Assess: each probe gives the document's value for every quantity of its map, in the map's unit.
    for (const [index, map] of shipped.entries()) {
      const result = probes[index];
      expect(result?.status, result?.stderr).toBe(0);
      const found = JSON.parse(result?.stdout ?? "{}") as { model: string; values: { quantity: string; value: number; unit: string }[] };
      expect(found.model).toBe(map.model);
      expect(found.values.map((item) => item.quantity).sort()).toEqual(map.examples.map((example) => example.field).sort());
      for (const example of map.examples) {
        const item = found.values.find((value) => value.quantity === example.field);
        expect(Math.abs((item?.value ?? Number.NaN) - example.value), `${map.model} ${example.field}`).toBeLessThanOrEqual(example.tolerance);
      }
    }
    expect(text.stdout).toMatch(/Carlo Gavazzi EM24DIN \(em24\), unit \d on .* at 9600 8N1, holding registers/);
    expect(text.stdout).toMatch(/energy\s+123456\.7 kWh/);
    expect(silent.status).toBe(1);
    expect(silent.stderr).toContain(`no answer from unit 8 on ${line.master} at 9600 8N1 within 1000 ms`);
    expect(scanned.status, scanned.stderr).toBe(0);
    expect(JSON.parse(scanned.stdout)).toMatchObject({ bus: "line1", units: [1, 2, 3, 4, 5, 6, 7], garbled: [] });
  }, 120_000);

  it("a unit unplugged (silent) and plugged back, and a unit id nobody has", async () => {
    // 1 s: an answer pymodbus gives late on a busy machine is not taken for a unit away.
    const set = new Buses({ line1: { path: line.master, ...line9600, timeoutMs: 1000, retries: 0 } });
    const em24 = shipped.findIndex((map) => map.model === "em24");
    const driver = create({ id: meterId(0), driver: "em24", bus: "line1", unitId: em24 + 1 }, set);
    if (driver.kind !== "counter") throw new Error("a Modbus meter is a counter meter");
    try {
      slave.update(state([em24 + 1]));
      await new Promise((resolve) => setTimeout(resolve, 100));
      const away = await failure(driver.read());
      slave.update(state());
      await new Promise((resolve) => setTimeout(resolve, 100));
      const back = await driver.read();
      const nobody = await failure(set.for({ bus: "line1" }).read(99, "holding", 0, 1));

      expect(away.message).toContain(`no answer from unit ${em24 + 1} on ${line.master} at 9600 8N1 within 1000 ms`);
      expect(back.kwh).toBeCloseTo(123_456.7, 1);
      expect(nobody.message).toContain("no answer from unit 99");
    } finally {
      await set.close();
    }
  });
});

serialDescribe("a simulated day on one RTU bus", () => {
  let dir: { path: string; remove(): void };
  let line: Awaited<ReturnType<typeof virtualLine>>;
  let slave: RtuSlave;
  const cleanups: (() => Promise<void> | void)[] = [];

  beforeAll(async () => {
    dir = Testing.temporaryDir("wattflow-rtu-day-");
    line = await virtualLine(dir.path);
    slave = new RtuSlave();
    await slave.open(line.slave);
  });
  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
    await slave?.close();
    await line?.close();
    dir?.remove();
  });

  it("three units read every slot; the one unplugged for two hours sends that energy as one gap reading when it is back", { timeout: 300_000 }, async () => {
    // Prepare: SDM630 (unit 1) at 30 kW, PM5xxx (unit 2) at 60 kW, EM24 (unit 3) at 24 kW, counters moving by each
    // 5-minute slot of the agent's virtual clock (×3000: a slot takes at least 100 ms, a busy machine only slows the day
    // down); unit 3 off the line from 10:00 to 12:00.
    const server = await ingestServer({ open: true });
    cleanups.push(server.close);
    const step = 300_000;
    const hour = 3_600_000;
    const start = Math.floor((Date.now() - 10 * 86_400_000) / step) * step;
    const until = start + 24 * hour;
    const speed = 3000;
    const kw = [30, 60, 24];
    const base = [1000, 5000, 200];
    // Each unit's counter at its first and last energy read: the day's readings must add up to exactly that move.
    const firstKwh: (number | undefined)[] = [];
    const lastKwh: (number | undefined)[] = [];
    // The slave answers for the boundary the agent's clock stands at: on virtual time the clock stands still while a
    // cycle reads the bus, so every answer of a cycle is its boundary's, however late the machine runs the cycle.
    let clock: Clock | undefined;
    const boundaryNow = () => (clock ? (clock.now() - start) / step : 0);
    models.forEach((model, index) => {
      const power = kw[index] as number;
      const registers: Registers = (_table, address) => {
        const kwh = (base[index] as number) + (power * boundaryNow()) / 12;
        if (address === mapOf(model).energy.address) {
          firstKwh[index] ??= kwh;
          lastKwh[index] = kwh;
        }
        return imageOf(model, { kwh, kvarh: 0, kw: power, voltage: 231, current: 50, pf: 1 }).get(address) ?? 0;
      };
      slave.units.set(index + 1, { registers, table: mapOf(model).function });
    });
    // Boundaries 120 … 143 are 10:00 … 11:55.
    slave.present = (unitId) => unitId !== 3 || boundaryNow() < 120 || boundaryNow() >= 144;
    // The bus timeout is real time (the line is real): 1 s, so a machine that stalls the agent or socat for a moment is
    // not taken for a silent unit; each of unit 3's silent boundaries costs real seconds, no virtual time.
    const config: Config = {
      deviceId: "dev_01m8gprxke1yxb4ma1nchzqhd8",
      token: "wfd_test",
      api: { url: server.url },
      dataDir: join(dir.path, "edge"),
      buses: { line1: { path: line.master, ...line9600, timeoutMs: 1000, retries: 1 } },
      meters: models.map((model, index) => ({ id: meterId(index), driver: model, bus: "line1", unitId: index + 1 })),
      clock: { start: new Date(start).toISOString(), speed, virtual: true },
      until: new Date(until).toISOString(),
    };

    // Act
    const code = await run(config, {
      log: () => {},
      onClock: (made) => {
        clock = made;
      },
    });

    // Assess: each unit's readings tile the day, each one exactly the counter's move: P × its duration, 24 h × P in all
    // (30 kW → 720 kWh, 60 kW → 1440 kWh, 24 kW → 576 kWh).
    expect(code).toBe(0);
    // Delivery is at least once (a batch resent after a slow answer): the cloud keeps one per meter + start, and so do we.
    const stored = new Map<string, (typeof server.posted)[number]>();
    for (const reading of server.posted) {
      const key = `${reading.meterId} ${reading.start}`;
      expect(stored.get(key) ?? reading).toEqual(reading);
      stored.set(key, reading);
    }
    const of = (index: number) =>
      [...stored.values()].filter((reading) => reading.meterId === meterId(index)).sort((a, b) => Date.parse(a.start) - Date.parse(b.start));
    /** Boundaries a unit was not read at: the inner boundaries of its longer readings. */
    const missed = (index: number) =>
      of(index).flatMap((reading) => Array.from({ length: reading.seconds / 300 - 1 }, (_, inner) => Date.parse(reading.start) + (inner + 1) * step));
    for (const [index, power] of kw.entries()) {
      let cursor = start;
      for (const reading of of(index)) {
        expect(Date.parse(reading.start)).toBe(cursor);
        expect(reading.kwh).toBeCloseTo((power * reading.seconds) / 3600, 6);
        expect(reading.gap ?? false).toBe(reading.seconds > 300);
        cursor += reading.seconds * 1000;
      }
      expect(cursor).toBe(until);
      expect(of(index).reduce((sum, reading) => sum + reading.kwh, 0)).toBeCloseTo(power * 24, 6);
      expect((lastKwh[index] ?? 0) - (firstKwh[index] ?? 0)).toBeCloseTo(power * 24, 6);
    }
    // Units 1 and 2 were read at all 289 boundaries (00:00 … 00:00 the next day): 288 five-minute readings each; unit 3's
    // timeouts cost them nothing.
    for (const index of [0, 1]) {
      expect(missed(index)).toEqual([]);
      expect(of(index)).toHaveLength(288);
    }
    // Unit 3: read last at 09:55, silent at 10:00 … 11:55 (24 boundaries), back at 12:00: one gap reading [09:55, 12:00),
    // 125 min at 24 kW = 50 kWh; 288 − 25 + 1 = 264 readings.
    const away = Array.from({ length: 24 }, (_, index) => start + 10 * hour + index * step);
    expect(missed(2)).toEqual(away);
    expect(of(2).filter((reading) => reading.gap)).toEqual([
      expect.objectContaining({ start: new Date(start + 9 * hour + 55 * 60_000).toISOString(), seconds: 125 * 60, kwh: expect.closeTo(50, 6) }),
    ]);
    expect(of(2)).toHaveLength(264);
    // Its timeouts: 2 tries (1 retry) at its first silent boundary, then 1 at each of the other 23: 25 timeouts, 1 retry.
    const status = Outbox.open(config.dataDir, { maxBytes: 1 << 30, warnBytes: 1 << 29, readonly: true });
    try {
      const [bus] = status.status().buses;
      expect(bus).toMatchObject({ bus: "line1", crcErrors: 0 });
      expect((bus?.timeouts ?? 0) - (bus?.retries ?? 0)).toBe(24);
      // The last cycle (00:00) asked three units × their maps' requests at 9600 baud, in real ms on the line: above
      // nothing, and well under a gateway's 5-minute slot (on virtual time the clock stands still while the bus is read).
      expect(bus?.lastCycleMs).toBeGreaterThan(0);
      expect(bus?.lastCycleMs).toBeLessThan(step);
      // Every unit answered the day's last read: its last good read is the last boundary, no failures in a row.
      expect(status.status().meters).toEqual(
        models.map((_, index) => ({ meterId: meterId(index), lastGoodRead: new Date(until).toISOString(), consecutiveFailures: 0 })),
      );
    } finally {
      status.close();
    }
  });
});
