import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Grid } from "../src/reading/grid";

describe("Grid spreading", () => {
  it("splits any energy over any slot count flat, summing to the micro-kWh", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 10_000 * 12_960 * 1_000_000 }), fc.integer({ min: 1, max: 12_960 }), (total, count) => {
        const parts = Grid.spreadMicro(total, count);
        // Exact sum, and no two slots more than 1 micro-kWh apart (flat).
        expect(parts.reduce((sum, part) => sum + part, 0)).toBe(total);
        expect(Math.max(...parts) - Math.min(...parts)).toBeLessThanOrEqual(1);
      }),
    );
  });

  it("gives every hour of a 24-hour, 240 kWh gap exactly 10 kWh", () => {
    // 240,000,000 micro-kWh over 288 slots: cumulative shares make each run of 12 slots 10,000,000.
    const slots = Grid.slots({ start: new Date("2026-04-06T06:00:00Z"), seconds: 86_400, kwh: 240 });
    expect(slots).toHaveLength(288);
    for (let hour = 0; hour < 24; hour++) {
      const micro = slots.slice(hour * 12, hour * 12 + 12).reduce((sum, slot) => sum + Grid.toMicro(slot.kwh), 0);
      expect(micro).toBe(10_000_000);
    }
  });

  it("flags a slot over the meter's rating and an implausible power factor, never drops it", () => {
    // 12 kWh in 5 minutes is 144 kW: over a 100 kW rating.
    expect(Grid.flags({ kwh: 12, quality: "measured", pf: 0.1 }, { maxKw: 100 })).toEqual(["spike_over_rating", "pf_out_of_range"]);
    expect(Grid.flags({ kwh: 8, quality: "estimated", pf: 0.9 }, { maxKw: 100 })).toEqual(["estimated_gap"]);
    expect(Grid.flags({ kwh: 12, quality: "measured" }, { maxKw: null })).toEqual([]);
  });
});
