/**
 * Counter validation at the gateway (pure; issue 12, the "V" of VEE). Read by read it decides whether
 * a meter's energy counter continues from its last good read (the anchor):
 *
 * - it continues (within the meter's rating, or wrapped at its modulus): the energy since the anchor
 *   is emitted — one gap interval over the slots of any reads held in between;
 * - it does not (zero, a step backwards, more than the circuit can draw): the read is held, no reading;
 * - held reads that continue one another from a new base, `confirmReads` of them with the counter
 *   moving, confirm a reset or a meter swap: the energy from the new base on is emitted, the energy
 *   between the anchor and the new base is unknown and recorded as such, never invented;
 * - a counter back on the anchor's line before that was a glitch: recorded as an event.
 *
 * The state is small and is committed with the readings it produces (outbox.ts), so a crash at any
 * instant neither loses nor repeats energy.
 */
import { counterValidation } from "@wattflow/core/config";
import type { Reading } from "@wattflow/core/reading";
import { build, type CounterSpec, capKwh, classify, continues, type Snapshot } from "./interval";

/** Why a read was held: the counter read 0, went backwards, or moved more than the circuit can draw. */
export type HoldCause = "zero" | "backward" | "over_rating";

export type Held = {
  /** Boundary of the first held read (ms). */
  sinceMs: number;
  cause: HoldCause;
  /** How many reads are held so far. */
  reads: number;
  /** The latest held reads that continue one another: a candidate new base first (at most confirmReads). */
  run: Snapshot[];
};

/** A counter meter's validation state: its last good read and the reads held since. */
export type CounterState = { anchor: Snapshot; held?: Held };

export type CounterEventKind = "baseline" | "rollover" | "held" | "glitch" | "reset" | "swap";
export type CounterEvent = { atMs: number; kind: CounterEventKind; detail: string };

export type Step = { state: CounterState; readings: Reading.Input[]; events: CounterEvent[] };

const iso = (ms: number) => new Date(ms).toISOString();
const kwh = (value: number) => Math.round(value * 1000) / 1000;

/** The energy a run of reads that continue one another moved, kWh. */
function moved(run: readonly Snapshot[], spec: CounterSpec): number {
  let total = 0;
  for (let index = 1; index < run.length; index++) {
    const previous = run[index - 1] as Snapshot;
    const current = run[index] as Snapshot;
    total += classify(previous.kwh, current.kwh, (current.at - previous.at) / 1000, spec).kwh;
  }
  return total;
}

function causeOf(anchor: Snapshot, read: Snapshot): HoldCause {
  if (read.kwh === 0) return "zero";
  return read.kwh < anchor.kwh ? "backward" : "over_rating";
}

/**
 * One read of a counter meter: the readings it releases, the events to record and the new state.
 * `state` undefined takes the read as the baseline. Readings' kWh always equal the counter's movement
 * between reads that continue one another; none implies more than `spec.maxKw` (+ rounding allowance).
 *
 * @param spec the meter's rating (kW) and counter modulus (kWh)
 * @param confirmReads consecutive reads continuing one another and moving that confirm a reset or swap (≥ 2)
 */
export function advance(
  meterId: string,
  state: CounterState | undefined,
  read: Snapshot,
  spec: CounterSpec,
  confirmReads: number = counterValidation.confirmReads,
): Step {
  if (!state) return { state: { anchor: read }, readings: [], events: [{ atMs: read.at, kind: "baseline", detail: `counters taken at ${read.kwh} kWh` }] };
  const { anchor, held } = state;
  const last = held?.run[held.run.length - 1];
  const run = held && last && continues(last, read, spec) ? [...held.run, read] : [read];
  // A read that completes a confirming run wins over the anchor's line: they can agree only near zero (a fresh counter).
  const confirmed = held !== undefined && run.length >= confirmReads && moved(run, spec) > 0;
  if (!confirmed && continues(anchor, read, spec)) {
    const built = build(meterId, anchor, read, spec);
    const events: CounterEvent[] = [];
    if (held) {
      const seconds = (read.at - anchor.at) / 1000;
      events.push({
        atMs: read.at,
        kind: "glitch",
        detail: `counter read ${held.cause === "zero" ? "0" : held.cause === "backward" ? "backwards" : "more than the rating allows"} for ${held.reads} read(s) from ${iso(held.sinceMs)} and came back (${anchor.kwh} → ${read.kwh} kWh): no reading from those reads; the ${kwh(read.kwh - anchor.kwh)} kWh since ${iso(anchor.at)} are one gap interval of ${seconds} s`,
      });
    }
    if (built.rollover) events.push({ atMs: read.at, kind: "rollover", detail: built.rollover });
    return { state: { anchor: read }, readings: built.readings, events };
  }
  if (!held) {
    const cause = causeOf(anchor, read);
    const seconds = (read.at - anchor.at) / 1000;
    const detail =
      cause === "over_rating"
        ? `counter moved ${kwh(read.kwh - anchor.kwh)} kWh in ${seconds} s, over the meter's rating of ${spec.maxKw} kW (${kwh(capKwh(spec, seconds))} kWh)`
        : `counter went from ${anchor.kwh} to ${read.kwh} kWh in ${seconds} s`;
    return {
      state: { anchor, held: { sinceMs: read.at, cause, reads: 1, run: [read] } },
      readings: [],
      events: [
        { atMs: read.at, kind: "held", detail: `${detail}; held: no reading until it comes back (a glitch) or ${confirmReads} reads confirm a reset or swap` },
      ],
    };
  }
  const base = run[0] as Snapshot;
  if (confirmed) {
    const readings: Reading.Input[] = [];
    const events: CounterEvent[] = [];
    for (let index = 1; index < run.length; index++) {
      const built = build(meterId, run[index - 1] as Snapshot, run[index] as Snapshot, spec);
      readings.push(...built.readings);
      if (built.rollover) events.push({ atMs: read.at, kind: "rollover", detail: built.rollover });
    }
    const kind = base.kwh < anchor.kwh && base.kwh <= capKwh(spec, (base.at - anchor.at) / 1000) ? "reset" : "swap";
    events.unshift({
      atMs: read.at,
      kind,
      detail: `counter ${kind === "reset" ? "reset" : "swap"} confirmed by ${run.length} consecutive reads from ${base.kwh} kWh at ${iso(base.at)}; the energy from the last good read (${anchor.kwh} kWh at ${iso(anchor.at)}) to ${iso(base.at)} is unknown and not estimated`,
    });
    return { state: { anchor: read }, readings, events };
  }
  // Not confirmed with confirmReads or more reads: the counter stands still at the new base, so the oldest read adds nothing.
  return { state: { anchor, held: { ...held, reads: held.reads + 1, run: run.slice(-confirmReads) } }, readings: [], events: [] };
}
