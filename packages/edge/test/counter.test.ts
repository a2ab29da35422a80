/** Counter validation at the gateway (counter.ts): glitches held and bridged, resets and swaps confirmed, nothing over the rating. */
import { counterValidation, intervalSeconds } from "@wattflow/core/config";
import type { Reading } from "@wattflow/core/reading";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { advance, type CounterEvent, type CounterState } from "../src/counter";
import type { CounterSpec, Snapshot } from "../src/interval";

const meterId = "mtr_01m8gprxkjet4h0yhbyzdqm8wv";
const t0 = Date.parse("2026-03-02T08:00:00Z");
const step = intervalSeconds * 1000;
const iso = (slot: number) => new Date(t0 + slot * step).toISOString();

/** Feeds counter values (null: the read failed, no snapshot) one slot apart from t0; what came out. */
function feed(values: readonly (number | null)[], spec: CounterSpec, kw = 60, confirmReads: number = counterValidation.confirmReads) {
  let state: CounterState | undefined;
  const readings: Reading.Input[] = [];
  const events: CounterEvent[] = [];
  values.forEach((kwh, slot) => {
    if (kwh === null) return;
    const read: Snapshot = { at: t0 + slot * step, kwh, kw: kwh === 0 ? 0 : kw };
    const out = advance(meterId, state, read, spec, confirmReads);
    state = out.state;
    readings.push(...out.readings);
    events.push(...out.events);
  });
  return { readings, events, kinds: events.map((event) => event.kind), state, kwh: readings.reduce((sum, reading) => sum + reading.kwh, 0) };
}

/** A counter from `start` moving by each of `uses` in turn. */
function cumulative(start: number, uses: readonly number[]): number[] {
  const values = [start];
  for (const use of uses) values.push((values[values.length - 1] as number) + use);
  return values;
}

/** SDM630 class default, no maxKw or ct: 3 × 230 V × 1.1 × 100 A = 75.9 kW (rating.ts). */
const sdm630 = { maxKw: 75.9 };

describe("a counter that glitches and comes back (issue 12, case 1)", () => {
  // 60 kW for 5 minutes is 5 kWh: 8000 → 8010 over two slots is 10 kWh, then 8010 → 8015 is 5 kWh.
  for (const [name, spec] of [
    ["class-default rating", sdm630],
    ["maxKw 250", { maxKw: 250 }],
  ] as const) {
    it(`turns 8000 → 0 → 8010 → 8015 kWh into one 10 kWh gap interval over both slots, then 5 kWh (${name})`, () => {
      const out = feed([8000, 0, 8010, 8015], spec);
      expect(out.readings).toEqual([
        expect.objectContaining({ start: iso(0), seconds: 600, kwh: 10, kwAvg: 60, gap: true }),
        expect.objectContaining({ start: iso(2), seconds: 300, kwh: 5, kwAvg: 60 }),
      ]);
      expect(out.readings[1]?.gap).toBeUndefined();
      expect(out.kinds).toEqual(["baseline", "held", "glitch"]);
      expect(out.events[2]?.detail).toMatch(/counter read 0 for 1 read\(s\).*10 kWh.*one gap interval of 600 s/);
    });
  }

  it("bridges a step backwards the same way: 8000 → 7990 → 8010 is 10 kWh over two slots", () => {
    const out = feed([8000, 7990, 8010], sdm630);
    expect(out.readings).toEqual([expect.objectContaining({ start: iso(0), seconds: 600, kwh: 10, gap: true })]);
    expect(out.events[1]?.detail).toMatch(/went from 8000 to 7990 kWh/);
  });

  it("holds a delta over the rating as suspect instead of truncating it: 8000 → 9000 → 8010 at maxKw 250", () => {
    // 1000 kWh in 300 s is 12 MW, far over 250 kW (20.8 kWh in 5 minutes): held; 8010 continues 8000 over 600 s.
    const out = feed([8000, 9000, 8010], { maxKw: 250 });
    expect(out.readings).toEqual([expect.objectContaining({ start: iso(0), seconds: 600, kwh: 10, gap: true })]);
    expect(out.events[1]).toMatchObject({ kind: "held", detail: expect.stringMatching(/over the meter's rating of 250 kW/) });
  });

  it("bridges a meter that answers 0 for longer than the confirmation, as long as it does not move from 0", () => {
    // 0 five times never moves, so no reset is confirmed; 8025 at slot 6 continues 8000: 25 kWh over 1800 s (50 kW).
    const out = feed([8000, 0, 0, 0, 0, 0, 8025], sdm630);
    expect(out.readings).toEqual([expect.objectContaining({ start: iso(0), seconds: 1800, kwh: 25, gap: true })]);
    expect(out.kinds).toEqual(["baseline", "held", "glitch"]);
  });

  it("does not hold a counter wrapping at its modulus: EM24 214,748,360 → 1.2 kWh is 6 kWh", () => {
    // EM24's INT32 of 0.1 kWh wraps at 2^31 × 0.1 = 214,748,364.8 kWh: 4.8 + 1.2 = 6 kWh in 5 minutes (72 kW).
    const out = feed([214_748_360, 1.2], { maxKw: 250, modulusKwh: 2 ** 31 * 0.1 });
    expect(out.readings).toEqual([expect.objectContaining({ start: iso(0), seconds: 300 })]);
    expect(out.readings[0]?.kwh).toBeCloseTo(6, 3);
    expect(out.kinds).toEqual(["baseline", "rollover"]);
  });
});

describe("a reset or a meter swap", () => {
  it("confirms a reset after 3 consecutive reads moving from the new base, emits from the base on, and invents nothing before it", () => {
    // 52,000 → 0.3 (reset), 5.3, 10.3: three reads continuing one another at 60 kW confirm it at slot 3.
    // Emitted: 0.3 → 5.3 and 5.3 → 10.3 (5 kWh each); [slot 0, slot 1) unknown: no reading; then 10.3 → 15.3.
    const out = feed([52_000, 0.3, 5.3, 10.3, 15.3], sdm630);
    expect(out.readings.map((reading) => [reading.start, reading.seconds, reading.kwh])).toEqual([
      [iso(1), 300, 5],
      [iso(2), 300, 5],
      [iso(3), 300, 5],
    ]);
    expect(out.kinds).toEqual(["baseline", "held", "reset"]);
    expect(out.events[2]?.detail).toMatch(/energy from the last good read \(52000 kWh at .*\) to .* is unknown and not estimated/);
  });

  it("holds a reset until it is confirmed: two reads after the drop release nothing", () => {
    const out = feed([52_000, 0.3, 5.3], sdm630);
    expect(out.readings).toEqual([]);
    expect(out.state?.held).toMatchObject({ cause: "backward", reads: 2 });
  });

  it("confirms a swap to a meter with a larger count the same way", () => {
    // A new meter at 131,000 kWh is 79,000 kWh over the 52,000 anchor in 5 minutes: held; 3 reads moving 5 kWh each confirm it (10 kWh).
    const out = feed([52_000, 131_000, 131_005, 131_010], sdm630);
    expect(out.kinds).toEqual(["baseline", "held", "swap"]);
    expect(out.kwh).toBeCloseTo(10, 6);
  });

  it("believes a confirming run over the old line where both agree, as they can near zero: 3 → 0 → 2 → 4 kWh is a reset moving 4 kWh", () => {
    // 4 continues the old 3 kWh (1 kWh in 15 minutes) and the run 0 → 2 → 4; three reads moving from 0 are a reset: 2 + 2 kWh.
    const out = feed([3, 0, 2, 4], sdm630);
    expect(out.kinds).toEqual(["baseline", "held", "reset"]);
    expect(out.readings.map((reading) => [reading.start, reading.kwh])).toEqual([
      [iso(1), 2],
      [iso(2), 2],
    ]);
  });

  it("takes the number of confirming reads from the meter's config", () => {
    expect(feed([52_000, 31_000, 31_005, 31_010], sdm630, 60, 4).readings).toEqual([]);
    expect(feed([52_000, 31_000, 31_005, 31_010, 31_015], sdm630, 60, 4).kwh).toBeCloseTo(15, 6);
  });
});

describe("counter validation, any sequence", () => {
  const maxKw = 100;
  const perSlot = (maxKw * intervalSeconds) / 3600;
  type Read = { kind: "good" } | { kind: "missing" } | { kind: "zero" } | { kind: "backward"; share: number } | { kind: "spike"; extra: number };
  const glitch = fc.oneof(
    fc.constant<Read>({ kind: "zero" }),
    fc.record({ kind: fc.constant("backward" as const), share: fc.double({ min: 0, max: 0.999, noNaN: true }) }),
    fc.record({ kind: fc.constant("spike" as const), extra: fc.double({ min: 1_000, max: 1e7, noNaN: true }) }),
  );
  // Runs of fewer glitches than confirm a reset, a good read after each run, reads missing now and then.
  const slot = fc.tuple(
    fc.double({ min: 0, max: perSlot, noNaN: true }),
    fc.array(fc.oneof(glitch, fc.constant<Read>({ kind: "missing" })), { maxLength: counterValidation.confirmReads - 1 }),
  );

  /** The true counter per slot, and what the meter answered (null when a read failed). */
  function answers(start: number, slots: [number, Read[]][]) {
    const truth: number[] = [start];
    const read: (number | null)[] = [start];
    let lastGood = start;
    for (const [use, glitches] of slots) {
      for (const item of glitches) {
        const counter = (truth[truth.length - 1] as number) + use / (glitches.length + 1);
        truth.push(counter);
        read.push(item.kind === "zero" ? 0 : item.kind === "backward" ? lastGood * item.share : item.kind === "spike" ? counter + item.extra : null);
      }
      const counter = (truth[truth.length - 1] as number) + use / (glitches.length + 1);
      truth.push(counter);
      read.push(counter);
      lastGood = counter;
    }
    return { truth, read };
  }

  it("emits exactly the true counter movement, one value per slot, none over the rating, whatever zeros, steps back, spikes and missed reads come in between", () => {
    fc.assert(
      fc.property(fc.double({ min: 1_000, max: 1e6, noNaN: true }), fc.array(slot, { minLength: 1, maxLength: 40 }), (start, slots) => {
        const { truth, read } = answers(start, slots);
        const out = feed(read, { maxKw });
        // The readings tile [t0, last slot) with no overlap and no hole.
        let cursor = t0;
        for (const reading of out.readings) {
          expect(Date.parse(reading.start)).toBe(cursor);
          cursor += reading.seconds * 1000;
          expect(reading.kwh / (reading.seconds / 3600)).toBeLessThanOrEqual(maxKw * (1 + counterValidation.roundingShare) + 1e-6);
          expect(reading.gap ?? false).toBe(reading.seconds > intervalSeconds);
        }
        expect(cursor).toBe(t0 + (truth.length - 1) * step);
        expect(out.kwh).toBeCloseTo((truth[truth.length - 1] as number) - start, 2);
        expect(out.state?.held).toBeUndefined();
      }),
      { numRuns: 500 },
    );
  });

  it("after a confirmed reset emits the movement before the reset and after its new base, and nothing in between", () => {
    fc.assert(
      fc.property(
        fc.double({ min: 1_000, max: 1e6, noNaN: true }),
        fc.array(fc.double({ min: 0, max: perSlot, noNaN: true }), { minLength: 1, maxLength: 10 }),
        fc.double({ min: 0, max: 5, noNaN: true }),
        fc.array(fc.double({ min: 0.01, max: perSlot, noNaN: true }), { minLength: counterValidation.confirmReads - 1, maxLength: 10 }),
        (start, before, base, after) => {
          const old = cumulative(start, before);
          const fresh = cumulative(base, after);
          const out = feed([...old, ...fresh], { maxKw });
          const expected = (old[old.length - 1] as number) - start + ((fresh[fresh.length - 1] as number) - base);
          expect(out.kwh).toBeCloseTo(expected, 2);
          expect(out.kinds).toContain("reset");
          // The slot from the last old read to the new base has no reading: its energy is unknown.
          const hole = new Date(t0 + (old.length - 1) * step).toISOString();
          expect(out.readings.some((reading) => reading.start === hole)).toBe(false);
        },
      ),
    );
  });
});
