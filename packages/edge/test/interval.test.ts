import { intervalSeconds, maxIntervalSeconds } from "@wattflow/core/config";
import { Reading } from "@wattflow/core/reading";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { build, capKwh, classify, continues, type Snapshot } from "../src/interval";

const meterId = "mtr_01m8gprxkjet4h0yhbyzdqm8wv";
const t0 = Date.parse("2026-03-02T08:00:00Z");
const step = intervalSeconds * 1000;
const spec = { maxKw: 500, modulusKwh: 4_294_967.296 };
const snapshot = (at: number, kwh: number, kw = 100): Snapshot => ({ at, kwh, kw, voltage: 480, current: 120, pf: 0.9 });

describe("counter deltas", () => {
  it("builds readings only from a counter that continues, never a negative or over-rating one", () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0, max: 4_294_967, noNaN: true }),
        fc.double({ min: 0, max: 4_294_967, noNaN: true }),
        fc.integer({ min: 1, max: 288 * 3 }),
        (previous, current, slots) => {
          const from = snapshot(t0, previous);
          const to = snapshot(t0 + slots * step, current);
          if (!continues(from, to, spec)) {
            expect(() => build(meterId, from, to, spec)).toThrow(RangeError);
            return;
          }
          const built = build(meterId, from, to, spec);
          const total = built.readings.reduce((sum, reading) => sum + reading.kwh, 0);
          expect(total).toBeGreaterThanOrEqual(0);
          expect(total).toBeLessThanOrEqual(capKwh(spec, slots * intervalSeconds) + 1e-6);
          for (const reading of built.readings) expect(Reading.validate(reading, new Date(t0 + 400 * 86_400_000)).ok).toBe(true);
        },
      ),
    );
  });

  it("reads a normal delta as the interval's energy", () => {
    expect(classify(1000, 1008.25, 300, spec)).toEqual({ kind: "ok", kwh: 8.25 });
  });

  it("recognises a UINT32 Wh counter wrapping past 4.29 million kWh", () => {
    const delta = classify(4_294_960, 3, 300, spec);
    expect(delta.kind).toBe("rollover");
    expect(delta.kwh).toBeCloseTo(10.296, 3);
  });

  it("calls a counter back near zero a reset and one back to another large value a swap, neither carrying energy", () => {
    expect(classify(52_000, 1.5, 300, spec)).toEqual({ kind: "reset", kwh: 0 });
    expect(classify(52_000, 31_000, 300, spec)).toEqual({ kind: "swap", kwh: 0 });
  });

  it("calls a delta larger than the circuit can draw a jump, not a reading", () => {
    expect(classify(100, 90_000, 300, spec)).toEqual({ kind: "jump", kwh: 0 });
  });

  it("refuses to build a reading from a counter that does not continue", () => {
    expect(() => build(meterId, snapshot(t0, 52_000, 120), snapshot(t0 + step, 31_000, 120), spec)).toThrow(/does not continue \(swap\)/);
  });
});

describe("gap intervals", () => {
  it("turns a span of several boundaries into one interval marked gap, energy preserved", () => {
    const built = build(meterId, snapshot(t0, 1000), snapshot(t0 + 12 * step, 1240), spec);
    expect(built.readings).toEqual([expect.objectContaining({ start: new Date(t0).toISOString(), seconds: 3600, kwh: 240, kwAvg: 240, gap: true })]);
  });

  it("splits a span longer than the longest interval into gap intervals whose energy adds up", () => {
    const slots = (maxIntervalSeconds / intervalSeconds) * 2 + 7;
    const built = build(meterId, snapshot(t0, 0), snapshot(t0 + slots * step, 20_000), { maxKw: 10_000 });
    expect(built.readings.map((reading) => reading.seconds)).toEqual([maxIntervalSeconds, maxIntervalSeconds, 7 * intervalSeconds]);
    expect(built.readings.reduce((sum, reading) => sum + reading.kwh, 0)).toBeCloseTo(20_000, 2);
    expect(built.readings.every((reading) => reading.gap)).toBe(true);
  });

  it("leaves a single interval unmarked, with kW avg/max, kVArh and PF from the energies", () => {
    const built = build(meterId, { ...snapshot(t0, 1000), kvarh: 500 }, { ...snapshot(t0 + step, 1008), kvarh: 504, kw: 110 }, spec);
    const [reading] = built.readings;
    expect(reading).toMatchObject({ seconds: 300, kwh: 8, kvarh: 4, kwAvg: 96, kwMax: 110, voltage: 480, current: 120 });
    expect(reading?.gap).toBeUndefined();
    expect(reading?.pf).toBeCloseTo(8 / Math.sqrt(80), 3);
  });
});
