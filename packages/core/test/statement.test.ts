import { describe, expect, it } from "vitest";
import { Bill, BillingPeriod } from "../src/billing";
import { Close } from "../src/close";
import { Kpi } from "../src/kpi";
import { Statement } from "../src/statement";
import type { Tariff } from "../src/tariff";
import { Testing } from "../src/testing";

const zone = "America/Mexico_City";
const gdmth = Testing.gdmthVersion({ id: "trf_statement", factoryId: "fac_statement" });
const flat: Tariff.Version = { ...gdmth, definition: { kind: "flat", currency: "MXN", energyPrice: "2" } };

/** Every 5-minute slot of [from, from + count × 5 min) with `kwh(slot)` measured kWh (and a third of it in kVArh). */
function slots(from: string, count: number, kwh: (slot: number) => number): Statement.Slot[] {
  return Array.from({ length: count }, (_, slot) => {
    const energy = kwh(slot);
    return {
      start: new Date(Date.parse(from) + slot * 300_000),
      seconds: 300,
      quality: "measured",
      kwh: energy,
      kvarh: energy / 3,
      kwhWithKvarh: energy,
      readings: 1,
    };
  });
}

const input = (overrides: Partial<Statement.Input>): Statement.Input => ({
  factoryId: "fac_statement",
  label: "2026-03",
  period: { start: "2026-03-01", end: "2026-04-01" },
  periodSource: "calendar-month",
  timeZone: zone,
  currency: "MXN",
  contract: {},
  now: new Date("2026-03-03T06:00:00Z"),
  version: flat,
  basis: "all-meters",
  basisMeters: 1,
  slots: [],
  priorPeaks: [],
  ...overrides,
});

describe("the first instant of a local day: one rule for every bound", () => {
  it("is the instant the day begins after the clocks skip midnight, so consecutive days meet", () => {
    // Santiago 6 Sep 2026: 00:00 −04 jumps to 01:00 −03 = 04:00Z. Havana 8 Mar 2026: 00:00 −05 → 01:00 −04 = 05:00Z.
    const santiago = BillingPeriod.range({ start: "2026-09-06", end: "2026-09-07" }, "America/Santiago");
    const havana = BillingPeriod.range({ start: "2026-03-08", end: "2026-03-09" }, "America/Havana");
    const before = BillingPeriod.range({ start: "2026-09-05", end: "2026-09-06" }, "America/Santiago");

    expect(santiago.from.toISOString()).toBe("2026-09-06T04:00:00.000Z");
    expect(havana.from.toISOString()).toBe("2026-03-08T05:00:00.000Z");
    expect(before.to.getTime()).toBe(santiago.from.getTime());
    // A day that keeps its midnight: Tijuana changes at 02:00 (US rule), so 8 Mar 2026 starts at 00:00 −08 = 08:00Z.
    expect(BillingPeriod.range({ start: "2026-03-08", end: "2026-03-09" }, "America/Tijuana").from.toISOString()).toBe("2026-03-08T08:00:00.000Z");
  });

  it("KPIs, the close and the alert rules bound a month the same way when its first midnight is skipped (Asunción, October 2023)", () => {
    // 1 Oct 2023 in Asunción began at 01:00 −03 (04:00Z); before, the KPIs threw and the alert rules read from −∞.
    const expected = { from: new Date("2023-10-01T04:00:00Z"), to: new Date("2023-11-01T03:00:00Z") };

    expect(Kpi.monthRange("2023-10", "America/Asuncion")).toEqual(expected);
    expect(Close.monthRange("2023-10", "America/Asuncion")).toEqual(expected);
    // The alert rules judge the statement's period, bounded by BillingPeriod.range (Alert.evaluate).
    expect(BillingPeriod.range(BillingPeriod.cycle("2023-10", null), "America/Asuncion")).toEqual(expected);
  });

  it("labels a local date with the month of the cycle period that holds it", () => {
    // Cycle day 28: 27 Feb is in February's period (28 Jan – 28 Feb), 28 Feb starts March's.
    expect(BillingPeriod.labelOf("2026-02-27", 28)).toBe("2026-02");
    expect(BillingPeriod.labelOf("2026-02-28", 28)).toBe("2026-03");
    expect(BillingPeriod.labelOf("2026-12-30", 28)).toBe("2027-01");
    expect(BillingPeriod.labelOf("2026-02-28", null)).toBe("2026-02");
    for (const date of ["2026-02-27", "2026-02-28", "2026-12-30"])
      expect(BillingPeriod.holds(BillingPeriod.cycle(BillingPeriod.labelOf(date, 28), 28), date)).toBe(true);
  });
});

describe("the statement (pure)", () => {
  it("projects a flat tariff's period from the hours so far, and is the bill once the period is over", () => {
    // 48 hours (1–2 March, local) at 1 kWh per slot: 576 kWh × 2 = 1,152.00; March has 744 hours: × 15.5 = 8,928 kWh = 17,856.00.
    const so = Statement.compute(input({ slots: slots("2026-03-01T06:00:00Z", 576, () => 1) }));
    const over = Statement.compute(input({ slots: slots("2026-03-01T06:00:00Z", 576, () => 1), now: new Date("2026-04-02T00:00:00Z") }));

    expect(so.priced).toBe(true);
    expect(so.bill?.monthToDate.total).toBe("1152.00");
    expect(so.bill?.projection?.total).toBe("17856.00");
    expect(so.energyCost).toEqual({ toDate: "1152.00", projection: "17856.00", byPeriod: [{ period: null, kwh: 576, cost: "1152.00" }] });
    expect(so.range).toEqual({ from: "2026-03-01T06:00:00.000Z", to: "2026-04-01T06:00:00.000Z", asOf: "2026-03-03T06:00:00.000Z", complete: false });
    expect(over.bill?.projection).toEqual(over.bill?.monthToDate);
  });

  it("bills so far through the billing engine exactly as the readings would, and projects energy while keeping demand", () => {
    // Ten days of a load that changes every 5 minutes, with a few spikes.
    const readings = slots("2026-03-01T06:00:00Z", 10 * 288, (slot) => 8 + (slot % 7) + (slot % 997 === 5 ? 20 : 0));
    const statement = Statement.compute(input({ version: gdmth, now: new Date("2026-03-11T06:00:00Z"), slots: readings }));
    const direct = Bill.compute({
      definition: gdmth.definition as Bill.Input["definition"],
      timeZone: zone,
      contract: {},
      period: { start: "2026-03-01", end: "2026-04-01" },
      priorPeaks: [],
      usage: { readings },
    });

    if (!statement.bill?.projection) throw new Error(statement.unpriced ?? "no projection");
    expect(statement.bill.monthToDate).toEqual(direct);
    // 31 days ÷ 10 elapsed = ×3.1 on every energy line; demand stays as measured so far.
    const quantities = (bill: Bill.Bill, prefix: string) => bill.lines.filter((line) => line.code.startsWith(prefix)).map((line) => Number(line.quantity));
    quantities(statement.bill.projection, "energy-").forEach((kwh, index) => {
      expect(kwh).toBeCloseTo((quantities(direct, "energy-")[index] ?? 0) * 3.1, 3);
    });
    expect(statement.bill.projection.peakDemandKw).toBe(direct.peakDemandKw);
    expect(statement.demand.maxKw).toBe(Number(direct.peakDemandKw));
    // The energy-only cost is the energy lines' sum.
    const energy = direct.lines.filter((line) => line.code.startsWith("energy-")).reduce((sum, line) => sum + Number(line.amount), 0);
    expect(statement.energyCost.toDate).toBe(energy.toFixed(2));
  });

  it("is not priced without a tariff or without prices: every money field null, the energy still counted", () => {
    const noTariff = Statement.compute(input({ version: undefined, slots: slots("2026-03-01T06:00:00Z", 12, () => 5) }));
    const noPrices = Statement.compute(
      input({
        version: { ...gdmth, definition: { ...gdmth.definition, prices: [] } as unknown as Tariff.Definition },
        slots: slots("2026-03-01T06:00:00Z", 12, () => 5),
      }),
    );

    expect(noTariff).toMatchObject({ priced: false, prices: null, bill: null, energy: { kwh: 60 }, energyCost: { toDate: null, projection: null } });
    expect(noTariff.unpriced).toBe("no tariff is in force for fac_statement between 2026-03-01 and 2026-04-01");
    expect(noTariff.energyCost.byPeriod).toEqual([{ period: null, kwh: 60, cost: null }]);
    expect(noPrices).toMatchObject({ priced: false, bill: null, demand: { billedKw: { capacity: null, distribution: null } } });
    expect(noPrices.unpriced).toBe("no price table for tariff division undefined");
  });
});
