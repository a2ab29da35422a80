/**
 * From cumulative counters to 5-minute readings (pure). A reading covers [previous read, this read);
 * a longer span (the agent was down, the disk was full, reads were held as suspect) becomes one gap
 * interval. Only a counter that continues (counter.ts decides) becomes readings: a delta is accepted
 * only if the circuit could physically have used that much, so nothing here is negative or giant.
 */
import { counterValidation, intervalSeconds, maxIntervalSeconds } from "@wattflow/core/config";
import type { Reading } from "@wattflow/core/reading";
import { round } from "@wattflow/core/util/number";

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
  /** The most the circuit can draw, kW (rating.ts). */
  maxKw: number;
  /** Where the energy counter wraps, kWh (after ratios); floats do not wrap. */
  modulusKwh?: number;
};

export type DeltaKind = "ok" | "rollover" | "reset" | "swap" | "jump";
export type Delta = { kind: DeltaKind; kwh: number };

/** Energy a circuit can use in `seconds` at most, kWh (with counterValidation.roundingShare for counter rounding). */
export function capKwh(spec: CounterSpec, seconds: number): number {
  return (spec.maxKw * seconds * (1 + counterValidation.roundingShare)) / 3600;
}

/**
 * Classifies the change of a cumulative counter over `seconds`: `ok` and `rollover` (wrapped at the
 * counter's modulus) continue the counter and carry the energy; `reset` (back near zero), `swap`
 * (back, not to zero) and `jump` (more than the circuit can draw) do not (kwh 0).
 */
export function classify(previous: number, current: number, seconds: number, spec: CounterSpec): Delta {
  const cap = capKwh(spec, seconds);
  const delta = current - previous;
  if (delta >= 0 && delta <= cap) return { kind: "ok", kwh: delta };
  if (delta < 0 && spec.modulusKwh !== undefined) {
    const wrapped = current + spec.modulusKwh - previous;
    if (wrapped >= 0 && wrapped <= cap) return { kind: "rollover", kwh: wrapped };
  }
  if (delta < 0) return { kind: current <= cap ? "reset" : "swap", kwh: 0 };
  return { kind: "jump", kwh: 0 };
}

/** The energy counter moved on from `previous` to `current` as a circuit within `spec` can (ok or rollover). */
export function continues(previous: Snapshot, current: Snapshot, spec: CounterSpec): boolean {
  if (current.at <= previous.at) return false;
  const kind = classify(previous.kwh, current.kwh, (current.at - previous.at) / 1000, spec).kind;
  return kind === "ok" || kind === "rollover";
}

export type Built = {
  readings: Reading.Input[];
  /** Set when the counter wrapped at its modulus: the agent records it as a meter event. */
  rollover?: string;
};

/**
 * The reading(s) for the span from `previous.at` to `current.at` of a counter that continues
 * (`continues`): its delta in kWh, one gap interval when the span is longer than one slot.
 * Throws RangeError for a span off the 5-minute grid or a counter that does not continue.
 */
export function build(meterId: string, previous: Snapshot, current: Snapshot, spec: CounterSpec): Built {
  const seconds = (current.at - previous.at) / 1000;
  if (seconds <= 0 || seconds % intervalSeconds !== 0)
    throw new RangeError(`span ${previous.at}→${current.at} is not a positive multiple of ${intervalSeconds} s`);
  const energy = classify(previous.kwh, current.kwh, seconds, spec);
  if (energy.kind !== "ok" && energy.kind !== "rollover")
    throw new RangeError(`meter ${meterId}: counter ${previous.kwh} → ${current.kwh} kWh in ${seconds} s does not continue (${energy.kind})`);
  const kwh = energy.kwh;
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
  // The instantaneous kW is a peak only where it is not itself beyond the circuit (a glitching meter answers nonsense).
  const kwPeak = Math.min(Math.max(0, current.kw), spec.maxKw);
  return {
    readings: split(meterId, previous.at, seconds, kwh, kwPeak, values),
    rollover: energy.kind === "rollover" ? `energy counter wrapped from ${previous.kwh} to ${current.kwh} kWh` : undefined,
  };
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
