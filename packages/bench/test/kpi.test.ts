import { describe, expect, it } from "vitest";
import { benchFlux, benchKpi } from "../src/kpi";

describe("bench kpi", () => {
  it("reads back exactly the energy it wrote, corrections counted once", async () => {
    let expected = 0;
    for (let slot = 0; slot < 288; slot++) for (let index = 0; index < 3; index++) expected += 2 + ((slot * 7 + index * 13) % 17) / 4;

    const figures = await benchKpi({ meters: 3, days: 1, runs: 1, log: () => {} });

    // 864 readings and one corrected copy in a hundred.
    expect(figures.readings).toBe(864 + 9);
    expect(figures.kwh).toBeCloseTo(expected, 3);
    expect(figures.kpiWarmMedianMs).toBeGreaterThan(0);
  });

  it("builds the Flux queries it counts", () => {
    const figures = benchFlux(400);

    expect(figures.queries).toBe(400);
    expect(figures.averageBytes).toBeGreaterThan(300);
  });
});
