import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { BillingPeriod } from "../src/billing/period";
import { Rollup } from "../src/rollup";
import { Time } from "../src/time";

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

describe("Time: a local day's first instant where the clocks skip midnight", () => {
  // Each zone below springs forward at 00:00, so the day has no midnight; it starts at the jump, local 01:00.
  it.each([
    // Chile: −04 until Saturday 5 September 2026 ends, then 01:00 −03. 00:00 −04 = 04:00Z.
    ["America/Santiago", "2026-09-06", "2026-09-06T04:00:00.000Z"],
    // Cuba: the second Sunday of March, 00:00 −05 → 01:00 −04. 00:00 −05 = 05:00Z.
    ["America/Havana", "2026-03-08", "2026-03-08T05:00:00.000Z"],
    // Lebanon: the last Sunday of March, 00:00 +02 → 01:00 +03. 00:00 +02 = 22:00Z the day before.
    ["Asia/Beirut", "2026-03-29", "2026-03-28T22:00:00.000Z"],
  ])("%s on %s starts at %s, for the date and for any instant of that day", (timeZone, date, start) => {
    const noon = Date.parse(start) + 12 * 3_600_000;
    expect(iso(Time.dayStart(Time.parseDate(date) as Time.LocalDate, timeZone))).toBe(start);
    // The console used to guess midnight by applying the offset twice: 03:00Z in Santiago and 04:00Z in Havana,
    // 23:00 of the day before; the one rule answers the same as the billing period's bounds.
    expect(iso(Time.startOfDay(noon, timeZone))).toBe(start);
    expect(BillingPeriod.startOf(date, timeZone).toISOString()).toBe(start);
  });

  it("reads a Santiago day that starts at the jump from the day rollup, as Postgres cuts that day", () => {
    // 6 September 2026 in Santiago: from 04:00Z (local 01:00 −03) to 7 September 00:00 −03 = 03:00Z, 23 hours.
    // Before, only an instant whose wall time was exactly 00:00 counted as a day's start, so this day fell to quarter-hours.
    expect(Rollup.choose({ bucket: "1d", from: "2026-09-06T04:00:00Z", to: "2026-09-07T03:00:00Z", timeZone: "America/Santiago" })).toBe("1d");
    // An hour later is no day's start.
    expect(Rollup.choose({ bucket: "1d", from: "2026-09-06T05:00:00Z", to: "2026-09-07T03:00:00Z", timeZone: "America/Santiago" })).not.toBe("1d");
  });

  it("puts every instant at or after its local day's first instant, and the second before that in the day before", () => {
    const zones = ["America/Santiago", "America/Havana", "Asia/Beirut", "America/Tijuana", "America/Mexico_City"];
    fc.assert(
      fc.property(fc.integer({ min: Date.UTC(2020, 0, 1) / 1000, max: Date.UTC(2032, 0, 1) / 1000 }), fc.constantFrom(...zones), (seconds, timeZone) => {
        const ms = seconds * 1000;
        const start = Time.startOfDay(ms, timeZone);
        expect(start).toBeLessThanOrEqual(ms);
        expect(Time.localDate(start, timeZone)).toBe(Time.localDate(ms, timeZone));
        expect(Time.localDate(start - 1000, timeZone)).toBe(Time.addDays(Time.localDate(ms, timeZone), -1));
      }),
      { numRuns: 300 },
    );
  });
});

describe("Time: wall clock to instant", () => {
  it("moves a skipped time forward by the gap and takes the earlier of a repeated one; toInstant says null for the skipped", () => {
    // Tijuana follows US DST: 8 March 2026 02:00 −08 → 03:00 −07; 1 November 2026 02:00 −07 → 01:00 −08.
    // 02:30 is skipped: an hour later on the clock, 03:30 −07 = 10:30Z.
    expect(iso(Time.fromWallClock(Date.UTC(2026, 2, 8, 2, 30), "America/Tijuana"))).toBe("2026-03-08T10:30:00.000Z");
    expect(Time.toInstant({ year: 2026, month: 3, day: 8, hour: 2, minute: 30 }, "America/Tijuana")).toBeNull();
    // 01:30 happens at −07 (08:30Z) and at −08 (09:30Z): the first.
    expect(iso(Time.fromWallClock(Date.UTC(2026, 10, 1, 1, 30), "America/Tijuana"))).toBe("2026-11-01T08:30:00.000Z");
    expect(iso(Time.toInstant({ year: 2026, month: 11, day: 1, hour: 1, minute: 30 }, "America/Tijuana"))).toBe("2026-11-01T08:30:00.000Z");
  });
});

describe("Time: a period's last day and days", () => {
  it.each([
    // A leap February: 1 February to 1 March 2024 is 29 days, the last the 29th.
    [{ start: "2024-02-01", end: "2024-03-01" }, "2024-02-29", 29],
    // A cycle across the year's end: 28 December to 28 January is 3 + 28 = 31 days, the last the 27th.
    [{ start: "2025-12-28", end: "2026-01-28" }, "2026-01-27", 31],
    // CFE's "28 FEB 26 – 31 MAR 26": 28 February (1 day) and 1 to 30 March (30) = 31 days, the last the 30th.
    [{ start: "2026-02-28", end: "2026-03-31" }, "2026-03-30", 31],
  ])("%j ends on %s after %i days", (period, last, days) => {
    expect(Time.lastDay(period)).toBe(last);
    expect(Time.days(period)).toBe(days);
  });

  it("refuses a bound that is not a date, naming it", () => {
    // 30 February does not exist (Date.parse would roll it into 2 March).
    expect(() => Time.days({ start: "2026-02-30", end: "2026-03-01" })).toThrow(`the period's start "2026-02-30" is not a real date written YYYY-MM-DD`);
    expect(() => Time.lastDay({ end: "March" })).toThrow(`the period's end "March" is not a real date written YYYY-MM-DD`);
  });
});
