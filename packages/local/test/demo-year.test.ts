/** The demo year's generator (pure, seeded): its range, its events, and the figures each event must show. */
import { describe, expect, it } from "vitest";
import { demoTariff, demoTimeZone } from "../src/stack/demo";
import { demoLines, type Plan, peakTargetKw, planFor, type Slot, slots } from "../src/stack/demo-year";

const now = new Date("2026-11-30T12:00:00Z");
const meters = demoLines.map((line, index) => ({ meterId: `mtr_demo${index}`, line: line.line }));
const plan = planFor(now, demoTimeZone, meters, demoTariff(now));

/** The plan cut to [from, to) local wall-clock times of Hermosillo (UTC−7 all year). */
const window = (from: string, to: string): Plan => ({ ...plan, from: Date.parse(`${from}-07:00`), to: Date.parse(`${to}-07:00`) });
const all = (cut: Plan): Slot[] => [...slots(cut, 288)].flat();
const kwh = (cut: Plan) => all(cut).reduce((sum, slot) => sum + slot.readings.reduce((total, reading) => total + reading.kwh, 0), 0);
const powerFactor = (cut: Plan) => {
  let energy = 0;
  let reactive = 0;
  for (const slot of all(cut))
    for (const reading of slot.readings) {
      energy += reading.kwh;
      reactive += reading.kvarh ?? 0;
    }
  return energy / Math.hypot(energy, reactive);
};

describe("the demo year's plan", () => {
  it("spans thirteen local months ending now, with its events in closed months", () => {
    // 2025-11-01 00:00 in Hermosillo is 07:00Z; now floored to the 5-minute grid.
    expect(new Date(plan.from).toISOString()).toBe("2025-11-01T07:00:00.000Z");
    expect(new Date(plan.to).toISOString()).toBe("2026-11-30T12:00:00.000Z");
    // Months 0…12 = 2025-11 … 2026-11: shutdown in month 2 (2026-01; 1 Jan is a Thursday, so the second
    // Saturday is the 10th), PF dip in month 5 (2026-04), punta rush in month 7 (2026-06), the peak on the
    // third Wednesday of July 2026 (1 July is a Wednesday: the 15th).
    expect(plan.events).toEqual({
      shutdownSaturday: "2026-01-10",
      powerFactorDipMonth: "2026-04",
      heavyPuntaMonth: "2026-06",
      peakStart: "2026-07-15T15:30",
    });
  });

  it("gives the same readings for the same range (seeded)", () => {
    const day = window("2026-03-10T00:00:00", "2026-03-11T00:00:00");
    expect(all(day)).toEqual(all(day));
    expect(all(day)).toHaveLength(288);
  });

  it("puts the year's demand peak near contracted: the 15 minutes at ~1,455 kW", () => {
    // kWh of 15 minutes × 4 = average kW over them.
    const peak = kwh(window("2026-07-15T15:30:00", "2026-07-15T15:45:00")) * 4;
    expect(peak).toBeGreaterThan(peakTargetKw * 0.995);
    expect(peak).toBeLessThan(peakTargetKw * 1.005);
    // The same quarter-hour a week later: an ordinary summer afternoon, well below.
    expect(kwh(window("2026-07-22T15:30:00", "2026-07-22T15:45:00")) * 4).toBeLessThan(1300);
  });

  it("drops the power factor below 0.9 in the dip month and keeps it above 0.95 otherwise", () => {
    expect(powerFactor(window("2026-04-14T00:00:00", "2026-04-15T00:00:00"))).toBeLessThan(0.9);
    expect(powerFactor(window("2026-05-14T00:00:00", "2026-05-15T00:00:00"))).toBeGreaterThan(0.95);
  });

  it("idles on Sundays, LFT holidays and the shutdown weekend", () => {
    const weekday = kwh(window("2026-02-10T00:00:00", "2026-02-11T00:00:00")); // a Tuesday
    const sunday = kwh(window("2026-02-08T00:00:00", "2026-02-09T00:00:00"));
    const constitution = kwh(window("2026-02-02T00:00:00", "2026-02-03T00:00:00")); // first Monday of February
    const shutdown = kwh(window("2026-01-10T00:00:00", "2026-01-11T00:00:00")); // the maintenance Saturday
    expect(sunday).toBeLessThan(weekday * 0.3);
    expect(constitution).toBeLessThan(weekday * 0.3);
    expect(shutdown).toBeLessThan(weekday * 0.15);
  });

  it("draws more in summer (cooling) than in winter", () => {
    const july = kwh(window("2026-07-07T00:00:00", "2026-07-08T00:00:00")); // a Tuesday
    const january = kwh(window("2026-01-13T00:00:00", "2026-01-14T00:00:00")); // a Tuesday
    expect(july).toBeGreaterThan(january * 1.08);
  });
});
