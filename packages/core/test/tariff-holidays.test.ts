import { describe, expect, test } from "vitest";
import { Holidays } from "../src/tariff/holidays";

describe("Mexico's LFT art. 74 holidays", () => {
  test("2026 moves the February, March and November holidays to Mondays", () => {
    // Prepare / Act
    const dates = Holidays.mexico(2026).map((holiday) => holiday.date);
    // Assess
    expect(dates).toEqual(["2026-01-01", "2026-02-02", "2026-03-16", "2026-05-01", "2026-09-16", "2026-11-16", "2026-12-25"]);
  });

  test("the inauguration day is 1 October every six years from 2024", () => {
    expect(Holidays.on("mx-lft74", 2024, 10, 1)).toBe("Transmisión del Poder Ejecutivo Federal");
    expect(Holidays.on("mx-lft74", 2030, 10, 1)).toBe("Transmisión del Poder Ejecutivo Federal");
    expect(Holidays.on("mx-lft74", 2025, 10, 1)).toBeNull();
    expect(Holidays.on("mx-lft74", 2027, 10, 1)).toBeNull();
  });

  test("before the 2024 reform the inauguration day was 1 December", () => {
    expect(Holidays.on("mx-lft74", 2018, 12, 1)).toBe("Transmisión del Poder Ejecutivo Federal");
    expect(Holidays.on("mx-lft74", 2018, 10, 1)).toBeNull();
    expect(Holidays.on("mx-lft74", 2024, 12, 1)).toBeNull();
  });

  test("before 2006 the commemorations fell on their fixed dates", () => {
    const dates = Holidays.mexico(2005).map((holiday) => holiday.date);
    expect(dates).toContain("2005-02-05");
    expect(dates).toContain("2005-03-21");
    expect(dates).toContain("2005-11-20");
  });

  test("the nth and last weekday of a month", () => {
    expect(Holidays.nthWeekday(2026, 4, 0, 1)).toBe(5);
    expect(Holidays.nthWeekday(2026, 10, 0, -1)).toBe(25);
    expect(Holidays.nthWeekday(2027, 10, 0, -1)).toBe(31);
    expect(Holidays.nthWeekday(2026, 11, 1, 3)).toBe(16);
  });

  test("a tariff without a holiday rule has none", () => {
    expect(Holidays.on("none", 2026, 1, 1)).toBeNull();
  });
});
