import { once } from "node:events";
import { type AddressInfo, createServer } from "node:net";
import { Testing } from "@wattflow/core/testing";
import fc from "fast-check";
import { ServerTCP } from "modbus-serial";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Bus } from "../src/meter/bus";
import { create, MeterReadError } from "../src/meter/driver";
import { loadMaps, mapOf } from "../src/meter/maps";
import { decode, decodePf4q, encode, type Model, type WordOrder } from "../src/meter/registers";
import { imageOf } from "./rtu";

/** What the meter in the test measures, in engineering units. */
const truth = { energy: 123_456.7, reactive: 45_678.9, power: 87.65, voltage: 230.4, current: 126.5, powerFactor: 0.87 };

/** Every shipped model, one unit id each. */
const units: Record<Model, number> = Object.fromEntries([...loadMaps().keys()].map((model, index) => [model, index + 1]));
let served: Record<number, Map<number, number>> = {};
let server: ServerTCP;
let port: number;

beforeAll(async () => {
  port = await Testing.freePort();
  served = Object.fromEntries(
    (Object.keys(units) as Model[]).map((model) => [
      units[model],
      imageOf(model, { kwh: truth.energy, kvarh: truth.reactive, kw: truth.power, voltage: truth.voltage, current: truth.current, pf: truth.powerFactor }),
    ]),
  );
  const read = (table: "input" | "holding") => (address: number, length: number, unitId: number) => {
    const model = (Object.keys(units) as Model[]).find((candidate) => units[candidate] === unitId);
    if (!model || mapOf(model).function !== table) throw new Error("illegal function");
    return Array.from({ length }, (_, offset) => served[unitId]?.get(address + offset) ?? 0);
  };
  server = new ServerTCP(
    {
      getMultipleInputRegisters: read("input"),
      getMultipleHoldingRegisters: read("holding"),
      // modbus-serial asks these for one-register reads (EM24's INT16 power factor).
      getInputRegister: (address: number, unitId: number) => read("input")(address, 1, unitId)[0] ?? 0,
      getHoldingRegister: (address: number, unitId: number) => read("holding")(address, 1, unitId)[0] ?? 0,
    },
    { host: "127.0.0.1", port, unitID: 255 },
  );
  await once(server, "initialized");
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

describe.each(Object.keys(units) as Model[])("Modbus TCP driver for %s", (model) => {
  it("reads energy, reactive energy, power, voltage, current and PF from the model's register map", async () => {
    const driver = create({ id: "mtr_01m8gprxkjet4h0yhbyzdqm8wv", driver: model, host: "127.0.0.1", port, unitId: units[model] });
    if (driver.kind !== "counter") throw new Error("a Modbus meter is a counter meter");
    try {
      const snapshot = await driver.read();
      // float32 keeps ~7 digits, INT64 Wh and EM24's kWh×10 keep 0.1 kWh or better.
      expect(snapshot.kwh).toBeCloseTo(truth.energy, 0);
      const map = mapOf(model);
      // Maps without reactive energy or PF registers (Janitza's float block) leave them out.
      if (map.reactive) expect(snapshot.kvarh).toBeCloseTo(truth.reactive, 0);
      else expect(snapshot.kvarh).toBeUndefined();
      expect(snapshot.kw).toBeCloseTo(truth.power, 2);
      expect(snapshot.voltage).toBeCloseTo(truth.voltage, 1);
      expect(snapshot.current).toBeCloseTo(truth.current, 2);
      if (map.powerFactor) expect(snapshot.pf).toBeCloseTo(truth.powerFactor, 3);
    } finally {
      await driver.close();
    }
  });
});

describe("register decoding", () => {
  it("applies CT and VT ratios to every quantity", async () => {
    const driver = create({ id: "mtr_01m8gprxkjet4h0yhbyzdqm8wv", driver: "em24", host: "127.0.0.1", port, unitId: units.em24, ct: 40, vt: 2 });
    if (driver.kind !== "counter") throw new Error("a Modbus meter is a counter meter");
    try {
      const snapshot = await driver.read();
      expect(snapshot.kwh).toBeCloseTo(truth.energy * 80, -1);
      expect(snapshot.kw).toBeCloseTo(truth.power * 80, 1);
      expect(snapshot.current).toBeCloseTo(truth.current * 40, 1);
      expect(snapshot.voltage).toBeCloseTo(truth.voltage * 2, 1);
      expect(driver.spec.modulusKwh).toBeCloseTo(2 ** 31 * 0.1 * 80, 0);
    } finally {
      await driver.close();
    }
  });

  it("round-trips 32- and 64-bit values in every word order seen in the field", () => {
    const orders: WordOrder[] = ["ABCD", "CDAB", "BADC", "DCBA"];
    fc.assert(
      fc.property(
        fc.constantFrom(...orders),
        fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
        fc.integer({ min: 0, max: 2 ** 52 }),
        (order, int32, int64) => {
          expect(decode(encode(int32, { address: 0, encoding: "int32", scale: 1 }, order), { address: 0, encoding: "int32", scale: 1 }, order)).toBe(int32);
          expect(decode(encode(int64, { address: 0, encoding: "int64", scale: 1 }, order), { address: 0, encoding: "int64", scale: 1 }, order)).toBe(int64);
        },
      ),
    );
  });

  it("reads the low word first for CDAB (Carlo Gavazzi)", () => {
    expect(decode([0x0002, 0x0001], { address: 0, encoding: "int32", scale: 1 }, "CDAB")).toBe(0x0001_0002);
    expect(decode([0x0001, 0x0002], { address: 0, encoding: "int32", scale: 1 }, "ABCD")).toBe(0x0001_0002);
  });

  it("sends Schneider's 1-based register numbers as address − 1", () => {
    expect(mapOf("pm5xxx").energy.address).toBe(3203);
    expect(mapOf("pm5xxx").current.address).toBe(2999);
  });

  it("folds Schneider's 4-quadrant power factor back into −1…1", () => {
    expect(decodePf4q(0.9)).toBe(0.9);
    expect(decodePf4q(1.2)).toBeCloseTo(0.8, 10);
    expect(decodePf4q(-1.3)).toBeCloseTo(-0.7, 10);
  });

  it("reports a meter that does not answer as a MeterReadError naming the meter", async () => {
    const dead = await Testing.freePort();
    const driver = create({ id: "mtr_01m8gprxkjet4h0yhbyzdqm8wv", driver: "sdm630", host: "127.0.0.1", port: dead });
    if (driver.kind !== "counter") throw new Error("a Modbus meter is a counter meter");
    await expect(driver.read()).rejects.toThrow(MeterReadError);
    await expect(driver.read()).rejects.toThrow(/mtr_01m8gprxkjet4h0yhbyzdqm8wv/);
  });
});

describe("Modbus TCP transaction ids", () => {
  /**
   * A Modbus TCP server written out by hand: to its first request it answers with the transaction id the request did not
   * carry (the request's + 1) and 1234.5's words, to every later one with the request's id and 67.25's words. IEEE 754 by
   * hand, high word first: 1234.5 = 1.00110100101b × 2^10 → 0x449A5000; 67.25 = 1.00001101b × 2^6 → 0x42868000.
   */
  async function offByOneServer(): Promise<{ port: number; close(): Promise<void> }> {
    let answered = 0;
    const server = createServer((socket) => {
      socket.on("data", (request: Buffer) => {
        // MBAP header (transaction id, protocol 0, length, unit) then function 03, address, quantity 2.
        const transactionId = request.readUInt16BE(0);
        const words = answered++ === 0 ? [0x449a, 0x5000] : [0x4286, 0x8000];
        const answer = Buffer.alloc(7 + 2 + 4);
        answer.writeUInt16BE(answered === 1 ? (transactionId + 1) & 0xffff : transactionId, 0);
        answer.writeUInt16BE(0, 2);
        answer.writeUInt16BE(1 + 2 + 4, 4);
        answer[6] = request[6] ?? 0;
        answer[7] = 3;
        answer[8] = 4;
        for (const [index, word] of words.entries()) answer.writeUInt16BE(word, 9 + index * 2);
        socket.write(answer);
      });
    });
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    return {
      port: (server.address() as AddressInfo).port,
      close: () => new Promise<void>((resolve) => server.close(() => resolve())),
    };
  }

  it("an answer carrying another transaction id is dropped, never decoded: the retry's answer is taken", async () => {
    // Prepare
    const tcp = await offByOneServer();
    const bus = new Bus("tcp", { host: "127.0.0.1", port: tcp.port, timeoutMs: 200, retries: 1 });
    try {
      // Act
      const words = await bus.read(1, "holding", 0, 2);

      // Assess: 67.25's words from the retry; the first try saw no answer of its own (a timeout).
      expect(words).toEqual([0x4286, 0x8000]);
      expect(bus.stats()).toMatchObject({ requests: 2, answered: 1, timeouts: 1, retries: 1 });
    } finally {
      await bus.close();
      await tcp.close();
    }
  });
});
