/**
 * The 5-minute grid (VEE: validation, estimation, editing), pure: the store keeps at most one value per
 * meter per slot. A reading longer than a slot (a gateway's gap after an outage) is an estimation span:
 * its kWh is spread over the slots it covers that hold no measured value, flat (every slot the same
 * share; the profile is documented in README "Estimated slots"), in integer micro-kWh split by
 * rounded-down cumulative shares, so the span sums to what the counters measured exactly. A measured 5-minute reading replaces the estimate of its slot and the span's other
 * estimated slots are re-spread. A reading that contradicts measured slots is a conflict, never added.
 * No I/O: the ingest store loads a meter's slots, applies readings here, and writes what changed.
 */
import { gridToleranceKwh, intervalSeconds, minPlausiblePowerFactor } from "../config";

export * as Grid from "./grid";

/** Milliseconds in one slot. */
export const slotMs = intervalSeconds * 1000;
/** Energy is split in micro-kWh (mWh): exact integers, far below the 1 Wh the counters resolve. */
const MICRO = 1_000_000;
const toleranceMicro = Math.round(gridToleranceKwh * MICRO);

/** kWh as integer micro-kWh. */
export const toMicro = (kwh: number): number => Math.round(kwh * MICRO);
/** Integer micro-kWh as kWh. */
export const toKwh = (micro: number): number => micro / MICRO;

/**
 * Splits `total` micro-kWh over `count` slots flat: slot i gets the difference of the rounded-down
 * cumulative shares ⌊(i+1)·total/count⌋ − ⌊i·total/count⌋, so the parts sum to `total` exactly, the
 * split is deterministic, and every run of slots (an hour, a day) holds its flat share to 1 micro-kWh.
 * @example spreadMicro(10, 4) → [2, 3, 2, 3]
 */
export function spreadMicro(total: number, count: number): number[] {
  if (count <= 0) return [];
  const base = Math.floor(total / count);
  const rest = total - base * count;
  // i·base + ⌊i·rest/count⌋ is ⌊i·total/count⌋ without the product overflowing 2^53.
  const cumulative = (index: number) => index * base + Math.floor((index * rest) / count);
  return Array.from({ length: count }, (_, index) => cumulative(index + 1) - cumulative(index));
}

/**
 * The slots of one reading `{ start, seconds, kwh }` (seconds a multiple of 300), each with its flat
 * share of the kWh; a 5-minute reading is its own single slot. Shares sum to the reading's kWh to the
 * micro-kWh. Used wherever readings are priced or summed outside the store (`wattflow cost`, bills).
 * @example slots({ start: new Date("2026-04-06T06:00:00Z"), seconds: 900, kwh: 3 }) → 3 slots of 1 kWh
 */
export function slots(reading: { start: Date; seconds: number; kwh: number }): { start: Date; kwh: number }[] {
  const count = Math.max(1, Math.round(reading.seconds / intervalSeconds));
  if (count === 1) return [{ start: reading.start, kwh: reading.kwh }];
  const first = reading.start.getTime();
  return spreadMicro(toMicro(reading.kwh), count).map((micro, index) => ({ start: new Date(first + index * slotMs), kwh: toKwh(micro) }));
}

/** One stored slot as the grid sees it; `row` is whatever the store keeps beside it (untouched here). */
export type Slot<Row> = { quality: "measured" | "estimated"; micro: number; spanStart: number | null; row: Row; dirty: boolean };
/** An estimation span: a longer reading's start (epoch ms), length and measured kWh (micro-kWh). */
export type Span = { start: number; seconds: number; micro: number; fresh: boolean };
/** One meter's slots (by start, epoch ms) and spans over the range being changed. */
export type State<Row> = { slots: Map<number, Slot<Row>>; spans: Span[] };

export type Incoming = { start: number; seconds: number; kwh: number };
export type Outcome = { kind: "stored" } | { kind: "duplicate" } | { kind: "conflict"; message: string };

const iso = (ms: number) => new Date(ms).toISOString();
const kwhText = (micro: number) => `${toKwh(micro)} kWh`;
const spanText = (span: Span) => `estimated span ${iso(span.start)} (+${span.seconds} s, ${kwhText(span.micro)})`;
const endOf = (span: { start: number; seconds: number }) => span.start + span.seconds * 1000;
const list = (starts: number[]) => (starts.length > 6 ? `${starts.slice(0, 6).map(iso).join(", ")} and ${starts.length - 6} more` : starts.map(iso).join(", "));

/** Measured slots in [from, to), by start. */
function measuredIn<Row>(state: State<Row>, from: number, to: number): number[] {
  const found: number[] = [];
  for (let ms = from; ms < to; ms += slotMs) if (state.slots.get(ms)?.quality === "measured") found.push(ms);
  return found;
}

/**
 * Re-spreads what the counters measured over `span` and was not measured slot by slot over the span's
 * slots that hold no measured value; `make` builds the row of a slot that had none. Marks changed slots dirty.
 */
function respread<Row>(state: State<Row>, span: Span, measuredMicro: number, make: (start: number) => Row): void {
  const open: number[] = [];
  for (let ms = span.start; ms < endOf(span); ms += slotMs) if (state.slots.get(ms)?.quality !== "measured") open.push(ms);
  // Within the tolerance the measured slots may sum a little over the span: the estimates are then 0.
  const shares = spreadMicro(Math.max(0, span.micro - measuredMicro), open.length);
  open.forEach((ms, index) => {
    const micro = shares[index] as number;
    const slot = state.slots.get(ms);
    if (slot && slot.micro === micro && slot.spanStart === span.start) return;
    state.slots.set(ms, { quality: "estimated", micro, spanStart: span.start, row: slot?.row ?? make(ms), dirty: true });
  });
}

const sumMicro = <Row>(state: State<Row>, starts: number[]) => starts.reduce((sum, ms) => sum + (state.slots.get(ms)?.micro ?? 0), 0);

/**
 * Applies one reading to a meter's state (mutating it) and says what became of it:
 * - a 5-minute reading fills an empty slot, replaces its slot's estimate (re-spreading the span), or is
 *   a duplicate of the measured value within 1 Wh; another measured value is a conflict;
 * - a longer reading becomes a span spread over its unmeasured slots, or is a duplicate of the identical
 *   span; it conflicts with another span it overlaps and with measured slots that exceed its kWh.
 * `make(start)` builds the row for a slot that has none; `measured(slot)` the row of the measured slot.
 * The state must hold every slot of every span the reading touches (the store loads them).
 */
export function apply<Row>(
  state: State<Row>,
  reading: Incoming,
  rows: { make(start: number): Row; measured(start: number, previous: Row | undefined): Row },
): Outcome {
  const micro = toMicro(reading.kwh);
  if (reading.seconds === intervalSeconds) return applyMeasured(state, reading.start, micro, rows);
  const end = reading.start + reading.seconds * 1000;
  const overlapping = state.spans.filter((span) => span.start < end && endOf(span) > reading.start);
  const same = overlapping.find((span) => span.start === reading.start && span.seconds === reading.seconds && Math.abs(span.micro - micro) <= toleranceMicro);
  if (same) return { kind: "duplicate" };
  if (overlapping.length > 0)
    return { kind: "conflict", message: `overlaps ${overlapping.map(spanText).join(", ")}; only an identical span may be delivered again` };
  const measured = measuredIn(state, reading.start, end);
  const measuredMicro = sumMicro(state, measured);
  const span: Span = { start: reading.start, seconds: reading.seconds, micro, fresh: true };
  const open = reading.seconds / intervalSeconds - measured.length;
  if (measuredMicro - micro > toleranceMicro || (open === 0 && Math.abs(measuredMicro - micro) > toleranceMicro))
    return {
      kind: "conflict",
      message: `the measured slots ${list(measured)} hold ${kwhText(measuredMicro)}, which does not fit the ${kwhText(micro)} measured over ${iso(reading.start)} (+${reading.seconds} s)`,
    };
  state.spans.push(span);
  respread(state, span, measuredMicro, rows.make);
  return { kind: "stored" };
}

function applyMeasured<Row>(
  state: State<Row>,
  start: number,
  micro: number,
  rows: { make(start: number): Row; measured(start: number, previous: Row | undefined): Row },
): Outcome {
  const slot = state.slots.get(start);
  if (slot?.quality === "measured") {
    if (Math.abs(slot.micro - micro) <= toleranceMicro) return { kind: "duplicate" };
    return { kind: "conflict", message: `slot ${iso(start)} already holds a measured ${kwhText(slot.micro)}, not ${kwhText(micro)}` };
  }
  const span = slot?.spanStart === null || slot === undefined ? undefined : state.spans.find((candidate) => candidate.start === slot.spanStart);
  if (span) {
    const measured = measuredIn(state, span.start, endOf(span));
    const measuredMicro = sumMicro(state, measured) + micro;
    const open = span.seconds / intervalSeconds - measured.length - 1;
    if (measuredMicro - span.micro > toleranceMicro || (open === 0 && Math.abs(measuredMicro - span.micro) > toleranceMicro))
      return {
        kind: "conflict",
        message: `slot ${iso(start)} with ${kwhText(micro)} and the measured slots ${list(measured) || "(none)"} would hold ${kwhText(measuredMicro)} inside ${spanText(span)}`,
      };
    state.slots.set(start, { quality: "measured", micro, spanStart: null, row: rows.measured(start, slot?.row), dirty: true });
    respread(state, span, measuredMicro, rows.make);
    return { kind: "stored" };
  }
  state.slots.set(start, { quality: "measured", micro, spanStart: null, row: rows.measured(start, slot?.row), dirty: true });
  return { kind: "stored" };
}

/** Names of the validation rules a slot can trip; stored in the slot's `flags`, never a reason to drop it. */
export const flagNames = ["spike_over_rating", "pf_out_of_range", "estimated_gap", "flat_zero"] as const;
export type Flag = (typeof flagNames)[number];

/**
 * Validation flags of one slot (pure): `spike_over_rating` when its average power (kWh × 12) exceeds the
 * meter's rating `maxKw`; `pf_out_of_range` when |PF| is below Config.minPlausiblePowerFactor (a wiring
 * or CT-polarity fault); `estimated_gap` for an estimated slot (part of a gap). Readings from the future
 * are refused before they get here (Reading.validate names them by path), missing slots are listed by
 * `GET /v1/meters/:id/gaps`, and `flat_zero` needs the factory's other meters (the ingest store sets it).
 */
export function flags(slot: { kwh: number; quality: "measured" | "estimated"; pf?: number | null }, meter: { maxKw?: number | null }): Flag[] {
  const found: Flag[] = [];
  const kw = (slot.kwh * 3600) / intervalSeconds;
  if (meter.maxKw !== undefined && meter.maxKw !== null && kw > meter.maxKw) found.push("spike_over_rating");
  if (slot.pf !== undefined && slot.pf !== null && Math.abs(slot.pf) < minPlausiblePowerFactor) found.push("pf_out_of_range");
  if (slot.quality === "estimated") found.push("estimated_gap");
  return found;
}
