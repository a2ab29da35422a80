import { readFileSync } from "node:fs";
import Decimal from "decimal.js";
import { describe, expect, test } from "vitest";
import { Bill } from "../src/billing";
import { Cost } from "../src/cost";
import { Definition } from "../src/tariff/index";
import { Urdb } from "../src/tariff/urdb";

// Real URDB rates from NREL REopt.jl's test data (BSD-3), as in ../shared/reference/urdb/.
const fixture = (name: string) => JSON.parse(readFileSync(new URL(`./fixtures/urdb/${name}`, import.meta.url), "utf8")) as Record<string, unknown>;

describe("URDB import", () => {
  test("a rate with energy tiers, TOU demand tiers and a daily fixed charge becomes a valid tariff", () => {
    // Act
    const { definition, warnings } = Urdb.toTariff(fixture("multi-tier-tou-demand.json"));
    // Assess: months with the same hours make one season; January's weekday demand period differs.
    expect(Definition.safeParse(definition).success).toBe(true);
    expect(warnings).toEqual([]);
    expect(definition.seasons.map((season) => season.name)).toEqual(["month-1", "months-2-4", "months-5-10", "months-11-12"]);
    expect(definition.prices[0]?.energy.p1).toEqual([{ price: "0.078891", upTo: 20000 }, { price: "0.06" }]);
    expect(definition.prices[0]?.fixed).toEqual([{ code: "fixed", amount: "3.298", per: "day" }]);
  });

  test("a June bill charges the energy and demand tiers and the fixed charge per day", () => {
    // Prepare. By hand: 30,000 kWh → 20,000 · 0.078891 + 10,000 · 0.06 = 1,577.82 + 600.00;
    // 150 kW → 100 · 24.368 + 50 · 17.031 = 2,436.80 + 851.55; 30 days · 3.298 = 98.94.
    const { definition } = Urdb.toTariff(fixture("multi-tier-tou-demand.json"));
    // Act
    const bill = Bill.compute({
      definition,
      timeZone: "America/Los_Angeles",
      period: { start: "2026-06-01", end: "2026-07-01" },
      usage: { kwh: { p1: 30_000 }, demandKw: { max: 150, d1: 150 } },
    });
    // Assess
    expect(bill.lines.map((line) => [line.code, line.quantity, line.unitPrice, line.amount])).toEqual([
      ["fixed", "30", "3.298", "98.94"],
      ["energy-p1-tier1", "20000", "0.078891", "1577.82"],
      ["energy-p1-tier2", "10000", "0.06", "600.00"],
      ["energy-p2", "0", "0.061731", "0.00"],
      ["demand-d0", "0", "0", "0.00"],
      ["demand-d1-tier1", "100", "24.368", "2436.80"],
      ["demand-d1-tier2", "50", "17.031", "851.55"],
      // No tax in the rate: no tax line, the subtotal is the total.
      ["subtotal", "1", "5565.11", "5565.11"],
      ["total", "1", "5565.11", "5565.11"],
    ]);
    expect(bill).toMatchObject({ subtotal: "5565.11", iva: "0.00", total: "5565.11" });
  });

  test("January weekdays and weekends bill demand in different periods", () => {
    const { definition } = Urdb.toTariff(fixture("multi-tier-tou-demand.json"));
    // Monday 5 January 2026, noon in Los Angeles: energy p2, demand d0; Saturday 10 January: d1.
    const readings = [
      { start: new Date("2026-01-05T20:00:00Z"), seconds: 300, kwh: 50 },
      { start: new Date("2026-01-10T20:00:00Z"), seconds: 300, kwh: 10 },
    ];
    const bill = Bill.compute({ definition, timeZone: "America/Los_Angeles", period: { start: "2026-01-01", end: "2026-02-01" }, usage: { readings } });
    // The weekend quarter hour: 10 kWh / 0.25 h = 40 kW in d1, first tier.
    expect(bill.lines.filter((line) => line.code.startsWith("demand")).map((line) => [line.code, line.quantity])).toEqual([
      ["demand-d0", "200"],
      ["demand-d1", "40"],
    ]);
  });

  test("REopt's tiered TOU demand scenario: a flat 1,000,000 kWh/year load pays 12 · (50 · 0 + (kW − 50) · 12)", () => {
    // Prepare: the flat load in 5-minute readings over 2026, billed month by month.
    const scenario = fixture("reopt-tiered-tou-demand-scenario.json") as { ElectricTariff: { urdb_response: unknown } };
    const { definition } = Urdb.toTariff(scenario.ElectricTariff.urdb_response);
    const perReading = 1_000_000 / 8760 / 12;
    const loadKw = 1_000_000 / 8760;
    let demand = new Decimal(0);
    let energy = new Decimal(0);
    // Act
    for (let month = 1; month <= 12; month++) {
      const from = Date.UTC(2026, month - 1, 1);
      const to = Date.UTC(2026, month, 1);
      const readings = [];
      for (let ms = from; ms < to; ms += 300_000) readings.push({ start: new Date(ms), seconds: 300, kwh: perReading });
      const end = month === 12 ? "2027-01-01" : `2026-${String(month + 1).padStart(2, "0")}-01`;
      const bill = Bill.compute({ definition, timeZone: "UTC", period: { start: `2026-${String(month).padStart(2, "0")}-01`, end }, usage: { readings } });
      for (const line of bill.lines) {
        if (line.code.startsWith("demand")) demand = demand.plus(line.amount);
        if (line.code.startsWith("energy")) energy = energy.plus(line.amount);
      }
    }
    // Assess: within a half cent per monthly line of the yearly formula.
    const expected = 12 * (50 * 0 + (loadKw - 50) * 12);
    expect(Math.abs(demand.toNumber() - expected)).toBeLessThanOrEqual(0.06);
    // Energy: each month 40,000 kWh at 0.10, the rest at 0.12.
    const kwhYear = perReading * 365 * 288;
    expect(Math.abs(energy.toNumber() - (12 * 40_000 * 0.1 + (kwhYear - 12 * 40_000) * 0.12))).toBeLessThanOrEqual(0.1);
  });

  test("readings under an imported rate are priced in their energy period", () => {
    const { definition } = Urdb.toTariff(fixture("multi-tier-tou-demand.json"));
    const version = { id: "t", factoryId: "f", effectiveFrom: new Date(0), definition };
    expect(Cost.price({ kwh: 10, start: new Date("2026-07-01T18:00:00Z") }, version, { timeZone: "America/Los_Angeles" })).toMatchObject({
      period: "p1",
      unitPrice: "0.078891",
      cost: "0.788910",
    });
    expect(
      Cost.price({ kwh: 10, start: new Date("2026-07-01T18:00:00Z") }, version, { timeZone: "America/Los_Angeles", monthToDateKwh: 20_000 }).unitPrice,
    ).toBe("0.060000");
  });

  test("a time-of-use definition needs an energy price for every period its seasons use", () => {
    const { definition } = Urdb.toTariff(fixture("multi-tier-tou-demand.json"));
    const { p1: _p1, ...energy } = definition.prices[0]?.energy ?? {};
    const parsed = Definition.safeParse({ ...definition, prices: [{ ...definition.prices[0], energy }] });
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues[0]).toMatchObject({ path: ["prices", 0, "energy", "p1"], message: "no energy price for period p1" });
  });

  test("a rate it cannot read is refused with its place", () => {
    const rate = fixture("multi-tier-tou-demand.json");
    const broken = { ...rate, energyweekdayschedule: (rate.energyweekdayschedule as number[][]).map((row, month) => (month === 3 ? row.map(() => 7) : row)) };
    expect(() => Urdb.toTariff(broken)).toThrow(expect.objectContaining({ path: "energyweekdayschedule.3.0" }));
    expect(() => Urdb.toTariff({ ...rate, fixedchargeunits: "$/year" })).toThrow(expect.objectContaining({ path: "fixedchargeunits" }));
    const demand = { ...rate, demandweekendschedule: (rate.demandweekendschedule as number[][]).map((row) => row.map(() => 2)) };
    expect(() => Urdb.toTariff(demand)).toThrow(
      expect.objectContaining({ path: "demandweekendschedule.0.0", message: "period 2 has no rate in demandratestructure" }),
    );
  });

  test("ratchets without a flat demand charge to apply to are named in warnings", () => {
    const { warnings } = Urdb.toTariff({ ...fixture("multi-tier-tou-demand.json"), demandratchetpercentage: Array(12).fill(0.8), lookbackpercent: 0.5 });
    expect(warnings).toEqual(["the demand ratchets have no flat demand charge (flatdemandstructure) to apply to and were left out"]);
  });
});

/** Hours 0–11 are period 0, 12–23 period 1, every month and day. */
const halfDays = Array.from({ length: 12 }, () => Array.from({ length: 24 }, (_, hour) => (hour < 12 ? 0 : 1)));
/** Two periods with the same 100 kWh tier limit (SAM requires one limit per month across periods); money as numbers and strings. */
const tieredRate = {
  name: "two-period tiers",
  energyratestructure: [
    [
      { rate: 0.1, max: 100 },
      { rate: "0.05", unit: "kWh" },
    ],
    [{ rate: "0.2", max: 100 }, { rate: 0.15 }],
  ],
  energyweekdayschedule: halfDays,
  energyweekendschedule: halfDays,
  flatdemandstructure: [[{ rate: 10 }]],
  flatdemandmonths: Array(12).fill(0),
};
const reading = (start: string, kwh: number) => ({ start: new Date(start), seconds: 300, kwh });
/** The flat demand line of a June 2026 bill whose one reading is 25 kWh in a 15-minute window (100 kW). */
const juneDemand = (definition: ReturnType<typeof Urdb.toTariff>["definition"], priorPeaks?: Bill.PriorPeak[]) =>
  Bill.compute({
    definition,
    timeZone: "UTC",
    period: { start: "2026-06-01", end: "2026-07-01" },
    usage: { readings: [reading("2026-06-10T00:00:00Z", 25)] },
    priorPeaks,
  }).lines.find((line) => line.code === "flat-demand-0");

describe("URDB tiers and ratchets", () => {
  test("a month's kWh fills tier 1 across periods in time order before tier 2", () => {
    // Prepare: readings given out of order; the bill orders them by time.
    const { definition } = Urdb.toTariff(tieredRate);
    const readings = [
      reading("2026-06-01T18:00:00Z", 50),
      reading("2026-06-01T00:00:00Z", 60),
      reading("2026-06-01T12:00:00Z", 30),
      reading("2026-06-01T06:00:00Z", 30),
    ];
    // Act
    const bill = Bill.compute({ definition, timeZone: "UTC", period: { start: "2026-06-01", end: "2026-06-02" }, usage: { readings } });
    // Assess. By hand, in time order (NREL ssc#535/#538: all kWh fill one tier before the next, split at the limit):
    // 00:00 p0 60 → month 60, tier 1; 06:00 p0 30 → 90, tier 1 (p0 tier 1 = 90 kWh · 0.10 = 9.00);
    // 12:00 p1 30 → 10 kWh reach 100 in tier 1 (10 · 0.20 = 2.00), 20 kWh in tier 2; 18:00 p1 50 → tier 2
    // (p1 tier 2 = 70 kWh · 0.15 = 10.50). Counted per period, p1's 80 kWh would all stay in tier 1 (16.00).
    // Demand: the largest 15-minute window holds 60 kWh → 240 kW · 10 = 2400.00. Total 9.00 + 2.00 + 10.50 + 2400.00.
    expect(bill.lines.map((line) => [line.code, line.quantity, line.unitPrice, line.amount])).toEqual([
      ["energy-p0", "90", "0.1", "9.00"],
      ["energy-p1-tier1", "10", "0.2", "2.00"],
      ["energy-p1-tier2", "70", "0.15", "10.50"],
      ["flat-demand-0", "240", "10", "2400.00"],
      ["subtotal", "1", "2421.5", "2421.50"],
      ["total", "1", "2421.5", "2421.50"],
    ]);
    expect(bill.peakDemandKw).toBe("240");
  });

  test("readings priced one by one fill the month's tiers across periods the same way", () => {
    // Prepare: the same readings in time order, month to date over every period.
    const { definition } = Urdb.toTariff(tieredRate);
    const version = { id: "t", factoryId: "f", effectiveFrom: new Date(0), definition };
    const ordered = [
      reading("2026-06-01T00:00:00Z", 60),
      reading("2026-06-01T06:00:00Z", 30),
      reading("2026-06-01T12:00:00Z", 30),
      reading("2026-06-01T18:00:00Z", 50),
    ];
    // Act
    const columns = Cost.priceColumns(
      { start: Float64Array.from(ordered.map((item) => item.start.getTime())), kwh: Float64Array.from(ordered.map((item) => item.kwh)) },
      version,
      { timeZone: "UTC" },
    );
    // Assess. By hand as above: 60 · 0.10 = 6; 30 · 0.10 = 3; 10 · 0.20 + 20 · 0.15 = 5; 50 · 0.15 = 7.5 (millionths).
    expect([...columns.costMicro]).toEqual([6_000_000, 3_000_000, 5_000_000, 7_500_000]);
  });

  test("sums per period cannot say in which order tiers filled and are refused", () => {
    const { definition } = Urdb.toTariff(tieredRate);
    expect(() =>
      Bill.compute({
        definition,
        timeZone: "UTC",
        period: { start: "2026-06-01", end: "2026-07-01" },
        usage: { kwh: { p0: 90, p1: 80 }, demandKw: { max: 10 } },
      }),
    ).toThrow(expect.objectContaining({ path: "usage.kwh" }));
  });

  test("billed demand is at least the ratchet's share of the prior months' peaks", () => {
    // Prepare: 80 % of the prior 11 months' peak (demandratchetpercentage) and 50 % of the last 3 months' (lookback).
    const { definition, warnings } = Urdb.toTariff({ ...tieredRate, demandratchetpercentage: Array(12).fill(0.8), lookbackPercent: 0.5, lookbackRange: 3 });
    const priorPeaks = [
      { month: "2026-05", kw: 150 },
      { month: "2025-07", kw: 400 },
      { month: "2025-06", kw: 1000 },
    ];
    // Act
    const ratcheted = juneDemand(definition, priorPeaks);
    const alone = juneDemand(definition);
    // Assess. By hand: measured 25 kWh in a 15-minute window = 100 kW. Ratchet: 2025-07 is 11 months before June 2026
    // (in), 2025-06 is 12 (out): 0.8 · 400 = 320 kW. Lookback: 3 months back holds only May's 150: 0.5 · 150 = 75 kW.
    // Billed max(100, 320, 75) = 320 kW · 10 = 3200.00; without prior peaks 100 kW · 10 = 1000.00.
    expect(warnings).toEqual([]);
    expect(ratcheted).toMatchObject({ quantity: "320", amount: "3200.00" });
    expect(alone).toMatchObject({ quantity: "100", amount: "1000.00" });
  });

  test("lookback counts only the calendar months lookbackMonths marks", () => {
    // Prepare: lookback 100 % over 12 months, counting only July and August peaks.
    const lookbackMonths = Array.from({ length: 12 }, (_, month) => month === 6 || month === 7);
    const { definition } = Urdb.toTariff({ ...tieredRate, lookbackpercent: 1, lookbackrange: 12, lookbackMonths });
    // Act
    const line = juneDemand(definition, [
      { month: "2026-05", kw: 900 },
      { month: "2025-08", kw: 180 },
    ]);
    // Assess. By hand: May (900 kW) is not a marked month; August 2025 is 10 months back and marked: 1 · 180 = 180 kW > 100 measured.
    expect(line).toMatchObject({ quantity: "180", amount: "1800.00" });
  });
});
