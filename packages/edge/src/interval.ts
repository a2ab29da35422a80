/**
 * From cumulative counters to 5-minute readings (pure). A reading covers [previous boundary,
 * this boundary); a longer span (the agent was down, the disk was full) becomes one gap interval.
 * Rollovers, resets and meter swaps are recognised and recorded, never turned into negative or giant
 * readings: a delta is accepted only if the circuit could physically have used that much.
 */
import { intervalSeconds, maxIntervalSeconds, maxKwhPer5Minutes } from "@wattflow/core/config";
import type { Reading } from "@wattflow/core/reading";

/** What a counter meter said at a boundary: cumulative counters plus instantaneous values (after CT/VT ratios). */
export type Snapshot = {
  /** The boundary this snapshot stands for (ms, on the 5-minute grid). */
  at: number;
  kwh: number;
  kvarh?: number;
  kw: number;
  voltage?: number;
  current?: number;
  pf?: number;
};

export type CounterSpec = {
  /** The most the circuit can draw, kW. */
  maxKw: number;
  /** Where the energy counter wraps, kWh (after ratios); floats do not wrap. */
  modulusKwh?: number;
};

/** The largest power any reading may imply: the reading schema's limit (maxKwhPer5Minutes per 5 minutes). */
export const defaultMaxKw = (maxKwhPer5Minutes * 3600) / intervalSeconds;

export type DeltaKind = "ok" | "rollover" | "reset" | "swap" | "jump";
export type Delta = { kind: DeltaKind; kwh: number };

/** Energy a circuit can use in `seconds` at most (with 1 % for counter rounding). */
export function capKwh(spec: CounterSpec, seconds: number): number {
  return (spec.maxKw * seconds * 1.01) / 3600;
}

/**
 * Classifies the change of a cumulative counter over `seconds`: `ok` and `rollover` carry the
 * energy; `reset` (counter went back near zero), `swap` (went back, not to zero) and `jump` (more than
 * the circuit can draw) carry no trustworthy energy (kwh is what the new counter alone proves, for a reset).
 */
export function classify(previous: number, current: number, seconds: number, spec: CounterSpec): Delta {
  const cap = capKwh(spec, seconds);
  const delta = current - previous;
  if (delta >= 0 && delta <= cap) return { kind: "ok", kwh: delta };
  if (delta < 0 && spec.modulusKwh !== undefined) {
    const wrapped = current + spec.modulusKwh - previous;
    if (wrapped >= 0 && wrapped <= cap) return { kind: "rollover", kwh: wrapped };
  }
  if (delta < 0) return current <= cap ? { kind: "reset", kwh: current } : { kind: "swap", kwh: 0 };
  return { kind: "jump", kwh: 0 };
}

export type Built = {
  readings: Reading.Input[];
  /** Set when the counter did not continue: the agent records it as a meter event. */
  event?: { kind: Exclude<DeltaKind, "ok">; detail: string };
};

const round = (value: number, digits: number) => {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
};

/**
 * The reading(s) for the span from `previous.at` to `current.at`. For a broken counter (reset, swap,
 * jump) the energy is estimated from the power measured at both ends, within what the circuit can draw.
 */
export function build(meterId: string, previous: Snapshot, current: Snapshot, spec: CounterSpec): Built {
  const seconds = (current.at - previous.at) / 1000;
  if (seconds <= 0 || seconds % intervalSeconds !== 0)
    throw new RangeError(`span ${previous.at}→${current.at} is not a positive multiple of ${intervalSeconds} s`);
  const energy = classify(previous.kwh, current.kwh, seconds, spec);
  const cap = capKwh(spec, seconds) / 1.01;
  const estimate = Math.min(cap, (Math.max(0, (previous.kw + current.kw) / 2) * seconds) / 3600);
  let kwh = energy.kwh;
  let event: Built["event"];
  if (energy.kind === "rollover") event = { kind: "rollover", detail: `energy counter wrapped from ${previous.kwh} to ${current.kwh} kWh` };
  else if (energy.kind !== "ok") {
    kwh = Math.min(cap, Math.max(energy.kwh, estimate));
    event = {
      kind: energy.kind,
      detail: `energy counter went from ${previous.kwh} to ${current.kwh} kWh in ${seconds} s; interval estimated from power (${round(kwh, 4)} kWh)`,
    };
  }
  let kvarh: number | undefined;
  if (previous.kvarh !== undefined && current.kvarh !== undefined) {
    const reactive = classify(previous.kvarh, current.kvarh, seconds, { maxKw: spec.maxKw, modulusKwh: spec.modulusKwh });
    if (reactive.kind === "ok" || reactive.kind === "rollover") kvarh = reactive.kwh;
  }
  const pfNow = current.pf === undefined ? undefined : Math.min(1, Math.abs(current.pf));
  if (kvarh === undefined && pfNow !== undefined && pfNow > 0) kvarh = kwh * Math.tan(Math.acos(pfNow));
  const fromEnergy = kvarh !== undefined && kwh > 0 ? kwh / Math.hypot(kwh, kvarh) : Number.NaN;
  const pf = Number.isFinite(fromEnergy) ? Math.min(1, fromEnergy) : pfNow;
  const values = {
    kvarh: kvarh === undefined ? undefined : round(kvarh, 4),
    pf: pf === undefined ? undefined : round(pf, 3),
    voltage: current.voltage === undefined ? undefined : round(Math.max(0, current.voltage), 1),
    current: current.current === undefined ? undefined : round(Math.max(0, current.current), 2),
  };
  return { readings: split(meterId, previous.at, seconds, kwh, Math.max(0, current.kw), values), event };
}

/** One reading, or several of at most maxIntervalSeconds each with the energy shared by duration. */
export function split(
  meterId: string,
  startMs: number,
  seconds: number,
  kwh: number,
  kwPeak: number,
  values: { kvarh?: number; pf?: number; voltage?: number; current?: number },
): Reading.Input[] {
  const readings: Reading.Input[] = [];
  for (let offset = 0; offset < seconds; offset += maxIntervalSeconds) {
    const part = Math.min(maxIntervalSeconds, seconds - offset);
    const share = part / seconds;
    const partKwh = round(kwh * share, 4);
    const kwAvg = round(partKwh / (part / 3600), 3);
    const reading: Reading.Input = {
      meterId,
      start: new Date(startMs + offset * 1000).toISOString(),
      seconds: part,
      kwh: partKwh,
      kwAvg,
      kwMax: round(Math.max(kwAvg, kwPeak), 3),
    };
    if (values.kvarh !== undefined) reading.kvarh = round(values.kvarh * share, 4);
    if (values.pf !== undefined) reading.pf = values.pf;
    if (values.voltage !== undefined) reading.voltage = values.voltage;
    if (values.current !== undefined) reading.current = values.current;
    if (seconds > intervalSeconds) reading.gap = true;
    readings.push(reading);
  }
  return readings;
}

/** The boundary at or before `ms` on the 5-minute grid. */
export function floorToGrid(ms: number): number {
  const step = intervalSeconds * 1000;
  return Math.floor(ms / step) * step;
}
