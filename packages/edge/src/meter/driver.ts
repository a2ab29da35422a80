/**
 * Meter drivers. A counter meter (Modbus) is read at each boundary and the agent turns counters
 * into intervals (interval.ts); the simulator answers an interval directly, its values a pure
 * function of seed and time, so a restarted gateway re-reads exactly what it would have read.
 */
import { counterValidation, intervalSeconds } from "@wattflow/core/config";
import type { Reading } from "@wattflow/core/reading";
import ModbusRTU from "modbus-serial";
import type { Meter } from "../config";
import { type CounterSpec, type Snapshot, split } from "../interval";
import { type Rating, rating } from "../rating";
import { decode, type Field, maps, type RegisterMap, wordsOf } from "./registers";
import { read as simulate } from "./simulator";

export type CounterDriver = {
  kind: "counter";
  spec: CounterSpec;
  /** The spike limit in `spec.maxKw` and where it came from (shown by `wattflow edge status`). */
  rating: Rating;
  /** Reads that confirm a reset or a meter swap (counter.ts). */
  confirmReads: number;
  read(): Promise<Omit<Snapshot, "at">>;
  close(): Promise<void>;
};

export type IntervalDriver = {
  kind: "interval";
  /** The reading(s) for [startMs, startMs + seconds), gap-marked when longer than one interval. */
  interval(startMs: number, seconds: number): Reading.Input[];
  close(): Promise<void>;
};

export type Driver = CounterDriver | IntervalDriver;

export class MeterReadError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "MeterReadError";
  }
}

export function create(meter: Meter): Driver {
  if (meter.driver === "sim") return simDriver(meter);
  return modbusDriver(meter, maps[meter.driver]);
}

function simDriver(meter: Meter): IntervalDriver {
  const sim = { seed: meter.seed ?? 1, ratedKw: meter.ratedKw ?? 200, utcOffsetHours: 0 };
  return {
    kind: "interval",
    interval(startMs, seconds) {
      if (seconds === intervalSeconds) {
        const values = simulate(sim, new Date(startMs), seconds);
        return [{ meterId: meter.id, start: new Date(startMs).toISOString(), seconds, ...values }];
      }
      // A gap: the energy of every 5-minute slot it spans, as one longer interval.
      let kwh = 0;
      let kvarh = 0;
      let kwPeak = 0;
      let last: ReturnType<typeof simulate> | undefined;
      for (let at = startMs; at < startMs + seconds * 1000; at += intervalSeconds * 1000) {
        last = simulate(sim, new Date(at), intervalSeconds);
        kwh += last.kwh;
        kvarh += last.kvarh;
        kwPeak = Math.max(kwPeak, last.kwMax);
      }
      const pf = kwh > 0 ? Math.round((kwh / Math.sqrt(kwh * kwh + kvarh * kvarh)) * 1000) / 1000 : undefined;
      return split(meter.id, startMs, seconds, kwh, kwPeak, { kvarh, pf, voltage: last?.voltage, current: last?.current });
    },
    async close() {},
  };
}

const readTimeoutMs = 2_000;

function modbusDriver(meter: Meter, map: RegisterMap): CounterDriver {
  const ct = meter.ct ?? 1;
  const vt = meter.vt ?? 1;
  const limit = rating(meter, map.meterClass);
  let client: ModbusRTU | undefined;

  const connect = async (): Promise<ModbusRTU> => {
    if (client?.isOpen) return client;
    const fresh = new ModbusRTU();
    try {
      await fresh.connectTCP(meter.host ?? "127.0.0.1", { port: meter.port ?? 502 });
    } catch (error) {
      throw new MeterReadError(`meter ${meter.id}: cannot connect to ${meter.host}:${meter.port ?? 502}: ${(error as Error).message}`, { cause: error });
    }
    fresh.setID(meter.unitId ?? 1);
    fresh.setTimeout(readTimeoutMs);
    client = fresh;
    return fresh;
  };

  const field = async (modbus: ModbusRTU, spec: Field): Promise<number> => {
    const length = wordsOf(spec.encoding);
    const result = map.function === "input" ? await modbus.readInputRegisters(spec.address, length) : await modbus.readHoldingRegisters(spec.address, length);
    return decode(result.data, spec, map.wordOrder);
  };

  return {
    kind: "counter",
    rating: limit,
    confirmReads: meter.confirmReads ?? counterValidation.confirmReads,
    spec: { maxKw: limit.maxKw, modulusKwh: map.energyModulusKwh === undefined ? undefined : map.energyModulusKwh * ct * vt },
    async read() {
      const modbus = await connect();
      try {
        const energy = await field(modbus, map.energy);
        const reactive = map.reactive ? await field(modbus, map.reactive) : undefined;
        const power = await field(modbus, map.power);
        const voltage = await field(modbus, map.voltage);
        const current = await field(modbus, map.current);
        const pf = map.powerFactor ? await field(modbus, map.powerFactor) : undefined;
        return {
          kwh: energy * ct * vt,
          kvarh: reactive === undefined ? undefined : reactive * ct * vt,
          kw: power * ct * vt,
          voltage: voltage * vt,
          current: current * ct,
          pf,
        };
      } catch (error) {
        // A half-read connection may be out of step: start clean next time.
        client = undefined;
        await new Promise<void>((done) => modbus.close(() => done()));
        throw new MeterReadError(`meter ${meter.id} (${map.model} at ${meter.host}:${meter.port ?? 502}): ${(error as Error).message}`, { cause: error });
      }
    },
    async close() {
      const open = client;
      client = undefined;
      if (open?.isOpen) await new Promise<void>((done) => open.close(() => done()));
    },
  };
}
