import { describe, expect, it } from "vitest";
import { demoTariffStart, demoTimeZone } from "../src/stack/demo";

describe("the demo tariff's start", () => {
  it("is 1 January two years back at midnight in the factory's zone, not at UTC midnight", () => {
    const start = demoTariffStart(new Date("2026-11-30T12:00:00Z"));
    expect(start.toISOString()).toBe("2024-01-01T06:00:00.000Z");
    const local = new Intl.DateTimeFormat("en-CA", { timeZone: demoTimeZone, dateStyle: "short", timeStyle: "short", hourCycle: "h23" }).format(start);
    expect(local).toBe("2024-01-01, 00:00");
  });
});
