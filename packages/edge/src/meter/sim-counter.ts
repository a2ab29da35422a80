/**
 * A simulated counter meter: the simulator's energy (simulator.ts) summed into cumulative registers
 * that step at each 5-minute boundary of the true time, read like a Modbus meter's counters. Unlike the
 * interval simulator, what it answers depends on when it is read, not on what the agent asks for: a
 * gateway whose wall clock is wrong would stamp these counters wrongly, so tests of the clock faults
 * use it (a slot's kWh is exactly the simulator's value for that slot).
 */
import { intervalSeconds } from "@wattflow/core/config";
import type { Meter } from "../config";
import type { CounterDriver } from "./counter-driver";
import { read as simulate } from "./simulator";

const step = intervalSeconds * 1000;
/** Where the registers start, kWh and kvarh: any value far from zero keeps a counter from looking reset. */
const baseKwh = 100_000;

/**
 * The driver of a `{ driver: "sim", counter: true }` meter. Its registers count from `originMs` (a fixed
 * instant: every agent life must agree on it); `truth()` is the true instant (ms) at each read.
 */
export function simCounterDriver(meter: Meter, truth: () => number, originMs: number): CounterDriver {
  const sim = { seed: meter.seed ?? 1, ratedKw: meter.ratedKw ?? 200, utcOffsetHours: 0 };
  const origin = Math.floor(originMs / step) * step;
  // Sums carried from one read to the next (reads move forwards), recomputed when one goes back.
  let at = origin;
  let kwh = 0;
  let kvarh = 0;
  const registersAt = (boundary: number) => {
    if (boundary < at) {
      at = origin;
      kwh = 0;
      kvarh = 0;
    }
    for (; at < boundary; at += step) {
      const slot = simulate(sim, new Date(at), intervalSeconds);
      kwh += slot.kwh;
      kvarh += slot.kvarh;
    }
    for (; at > boundary; at -= step) {
      const slot = simulate(sim, new Date(at - step), intervalSeconds);
      kwh -= slot.kwh;
      kvarh -= slot.kvarh;
    }
    return { kwh: baseKwh + kwh, kvarh: baseKwh + kvarh };
  };
  return {
    kind: "counter",
    // The simulator draws at most 0.85 × 1.1 of its rating: 1.5 × leaves room without admitting nonsense.
    spec: { maxKw: sim.ratedKw * 1.5 },
    rating: { meterId: meter.id, maxKw: sim.ratedKw * 1.5, source: "maxKw", basis: `simulated counter rated ${sim.ratedKw} kW, × 1.5` },
    confirmReads: 3,
    async read() {
      const now = truth();
      const boundary = Math.floor(now / step) * step;
      const registers = registersAt(boundary);
      const slot = simulate(sim, new Date(boundary), intervalSeconds);
      return { kwh: registers.kwh, kvarh: registers.kvarh, kw: slot.kwAvg, voltage: slot.voltage, current: slot.current, pf: slot.pf };
    },
    async close() {},
  };
}
