import { describe, expect, it } from "vitest";
import { read } from "../src/meter/simulator";

describe("the simulated meter", () => {
  it("reads the same interval the same way on every run", () => {
    // Golden values: what the simulator read for this meter and slot (10:00 local, a Friday) when written.
    const interval = read({ seed: 3, ratedKw: 200, utcOffsetHours: -6 }, new Date("2026-06-12T16:00:00Z"), 300);
    expect(interval).toEqual({ kwh: 15.1785, kvarh: 7.4098, kwAvg: 182.142, kwMax: 209.881, pf: 0.899, voltage: 476.7, current: 245.5 });
  });
});
