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

  test("what the model cannot express is named in warnings", () => {
    const { warnings } = Urdb.toTariff({ ...fixture("multi-tier-tou-demand.json"), demandratchetpercentage: Array(12).fill(0.8), lookbackpercent: 0.5 });
    expect(warnings).toEqual(["demand ratchets (demandratchetpercentage) are not modelled", "lookbackpercent is not modelled"]);
  });
});
