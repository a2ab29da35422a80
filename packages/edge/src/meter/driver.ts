/**
 * Meter drivers. A counter meter (Modbus) is read at each boundary and the agent turns counters
 * into intervals (interval.ts); the simulator answers an interval directly, its values a pure
 * function of seed and time, so a restarted gateway re-reads exactly what it would have read.
 */
import { counterValidation, intervalSeconds } from "@wattflow/core/config";
import type { Reading } from "@wattflow/core/reading";
import type { Meter } from "../config";
import { split } from "../interval";
import { rating } from "../rating";
import { type Bus, BusError, Buses } from "./bus";
import { mapOf } from "./maps";
import { decode, type RegisterMap, type Role, wordsOf } from "./registers";
import { simCounterDriver } from "./sim-counter";
import { read as simulate } from "./simulator";

export type { CounterDriver } from "./counter-driver";

import type { CounterDriver } from "./counter-driver";

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

/**
 * The driver of a configured meter: the simulator (intervals, or with `counter` a counter meter whose
 * registers follow `sim.truth()` from `sim.originMs`), or a counter meter read through `buses` with its
 * model's map (maps.ts). Throws MapFileError for a model with no map file.
 */
export function create(meter: Meter, buses: Buses = new Buses(), sim: { truth(): number; originMs: number } = { truth: Date.now, originMs: 0 }): Driver {
  if (meter.driver === "sim") return meter.counter ? simCounterDriver(meter, sim.truth, sim.originMs) : simDriver(meter);
  return modbusDriver(meter, mapOf(meter.driver), buses.for(meter));
}

function simDriver(meter: Meter): IntervalDriver {
  const sim = { seed: meter.seed ?? 1, ratedKw: meter.ratedKw ?? 200, utcOffsetHours: meter.utcOffsetHours ?? 0 };
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

/** The quantities of a map in the order they are read: energy first, so a meter that cannot give it costs one request. */
const order = ["energy", "reactive", "power", "voltage", "current", "powerFactor"] as const;

/** Reads every field of `map` from `unitId` on `bus`, in its own units before CT/VT ratios (what `edge probe` prints). */
export async function readFields(bus: Bus, unitId: number, map: RegisterMap, tries?: number): Promise<Partial<Record<Role, number>>> {
  const values: Partial<Record<Role, number>> = {};
  for (const role of order) {
    const field = map[role];
    if (!field) continue;
    const words = await bus.read(unitId, map.function, field.address, wordsOf(field.encoding), { tries });
    values[role] = decode(words, field, map.wordOrder);
  }
  return values;
}

function modbusDriver(meter: Meter, map: RegisterMap, bus: Bus): CounterDriver {
  const ct = meter.ct ?? 1;
  const vt = meter.vt ?? 1;
  const limit = rating(meter, map.meterClass);
  const unitId = meter.unitId ?? 1;
  // A meter that gave no answer last time gets one try until it answers: a dead meter costs its bus one timeout a cycle.
  let silent = false;

  return {
    kind: "counter",
    rating: limit,
    confirmReads: meter.confirmReads ?? counterValidation.confirmReads,
    spec: { maxKw: limit.maxKw, modulusKwh: map.energyModulusKwh === undefined ? undefined : map.energyModulusKwh * ct * vt },
    async read() {
      let values: Partial<Record<Role, number>>;
      try {
        values = await readFields(bus, unitId, map, silent ? 1 : undefined);
        silent = false;
      } catch (error) {
        silent = error instanceof BusError && error.kind === "timeout";
        throw new MeterReadError(`meter ${meter.id} (${map.model}, unit ${unitId} on ${bus.link}): ${(error as Error).message}`, { cause: error });
      }
      const { energy, power } = values;
      // Both are required in every map file (registers.ts MapFile), so this only guards the types.
      if (energy === undefined || power === undefined) throw new MeterReadError(`meter ${meter.id}: map ${map.model} gave no energy or power`);
      const scaled = (value: number | undefined, ratio: number) => (value === undefined ? undefined : value * ratio);
      return {
        kwh: energy * ct * vt,
        kvarh: scaled(values.reactive, ct * vt),
        kw: power * ct * vt,
        voltage: scaled(values.voltage, vt),
        current: scaled(values.current, ct),
        pf: values.powerFactor,
      };
    },
    // The bus is shared: the agent closes it with the others.
    async close() {},
  };
}
