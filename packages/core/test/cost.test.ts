import Decimal from "decimal.js";
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { Cost } from "../src/cost";
import type { Tariff } from "../src/tariff";
import { Testing } from "../src/testing";

const march = Testing.gdmthNoroesteMarch2026;
const version = (definition: Tariff.Definition): Tariff.Version => ({ id: "tariff_1", factoryId: "factory_1", effectiveFrom: new Date(0), definition });
const gdmth = version({ kind: "cfe-gdmth", zone: "central", prices: [march] });

describe("cost of a reading", () => {
  test("a reading takes the period of its interval start in the factory's local time", () => {
    // Prepare: 20:30 on Monday 6 April 2026 in Mexico City (UTC−6) is summer punta.
    const start = new Date("2026-04-07T02:30:00Z");
    // Act
    const priced = Cost.price({ kwh: 12.5, start }, gdmth, { timeZone: "America/Mexico_City" });
    // Assess
    expect(priced).toMatchObject({ period: "punta", unitPrice: "1.726200", cost: "21.577500" });
  });

  test("the same instant is another period in another time zone", () => {
    // 21:30 in Mexico City (UTC−6) is punta; it is 22:30 in Cancún (UTC−5), intermedia.
    const start = new Date("2026-04-07T03:30:00Z");
    expect(Cost.price({ kwh: 1, start }, gdmth, { timeZone: "America/Mexico_City" }).period).toBe("punta");
    expect(Cost.price({ kwh: 1, start }, gdmth, { timeZone: "America/Cancun" }).period).toBe("intermedia");
  });

  test("a month without published prices is costed with the latest ones and flagged estimated", () => {
    const inMarch = Cost.price({ kwh: 10, start: new Date("2026-03-10T12:00:00Z") }, gdmth, {});
    const inApril = Cost.price({ kwh: 10, start: new Date("2026-04-10T18:00:00Z") }, gdmth, {});
    const inFebruary = Cost.price({ kwh: 10, start: new Date("2026-02-10T18:00:00Z") }, gdmth, {});
    expect(inMarch.estimated).toBe(false);
    expect(inApril).toMatchObject({ estimated: true, unitPrice: "1.557300" });
    expect(inFebruary.estimated).toBe(true);
  });

  test("the month is the local one: 1 April 00:10 in Mexico City is still 31 March in UTC", () => {
    const april = { ...march, month: "2026-04", energy: { base: "2.0000", intermedia: "2.0000", punta: "2.0000" } };
    const both = version({ kind: "cfe-gdmth", zone: "central", prices: [march, april] });
    const priced = Cost.price({ kwh: 1, start: new Date("2026-04-01T06:10:00Z") }, both, {});
    expect(priced).toMatchObject({ unitPrice: "2.000000", estimated: false });
  });

  test("the tariff division picks its own price table", () => {
    const noroeste = { ...march, division: "noroeste" };
    const golfo = { ...march, division: "golfo-centro", energy: { base: "1.0000", intermedia: "1.0000", punta: "1.0000" } };
    const priced = Cost.price(
      { kwh: 3, start: new Date("2026-03-10T12:00:00Z") },
      version({ kind: "cfe-gdmth", zone: "central", division: "golfo-centro", prices: [noroeste, golfo] }),
    );
    expect(priced.cost).toBe("3.000000");
  });

  test("prices for several divisions need the factory's division", () => {
    const noroeste = { ...march, division: "noroeste" };
    const golfo = { ...march, division: "golfo-centro" };
    expect(() =>
      Cost.price({ kwh: 1, start: new Date("2026-03-10T12:00:00Z") }, version({ kind: "cfe-gdmth", zone: "central", prices: [noroeste, golfo] })),
    ).toThrow(/say which tariff division/);
  });

  test("GDMTO prices every hour alike", () => {
    const gdmto = version({ kind: "cfe-gdmto", zone: "central", prices: [{ ...march, energy: "1.2000" }] });
    expect(Cost.price({ kwh: 2, start: new Date("2026-03-11T02:00:00Z") }, gdmto)).toMatchObject({ period: "energia", cost: "2.400000" });
  });

  test("the flat tariff keeps its one price", () => {
    const flat = version({ kind: "flat", currency: "MXN", energyPrice: "2.1" });
    expect(Cost.price({ kwh: 12.5, start: new Date() }, flat)).toEqual({
      tariffId: "tariff_1",
      period: null,
      unitPrice: "2.100000",
      cost: "26.250000",
      estimated: false,
    });
  });

  test("a tiered price splits a reading across the tier it crosses, month to date", () => {
    const tiered = version({
      kind: "tou",
      currency: "USD",
      holidays: "none",
      seasons: [
        {
          name: "all",
          starts: { month: 1, day: 1 },
          weekday: [{ from: 0, to: 24, period: "p0" }],
          saturday: [{ from: 0, to: 24, period: "p0" }],
          sunday: [{ from: 0, to: 24, period: "p0" }],
        },
      ],
      prices: [{ fixed: [], energy: { p0: [{ price: "0.10", upTo: 100 }, { price: "0.20" }] }, demand: [] }],
      demandWindow: { minutes: 15, rolling: false },
      taxPercent: "0",
      otherCharges: [],
    });
    const priced = Cost.price({ kwh: 10, start: new Date("2026-03-10T12:00:00Z") }, tiered, { timeZone: "UTC", monthToDateKwh: 95 });
    expect(priced).toMatchObject({ cost: "1.500000", unitPrice: "0.150000" });
  });

  test("the columnar path prices like the one-reading path", () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ slot: fc.integer({ min: 0, max: 366 * 288 }), milli: fc.integer({ min: 0, max: 9_999_999 }) }), { minLength: 1, maxLength: 50 }),
        (rows) => {
          const start = Float64Array.from(rows, (row) => Date.UTC(2026, 0, 1) + row.slot * 300_000);
          const kwh = Float64Array.from(rows, (row) => row.milli / 1000);
          const columns = Cost.priceColumns({ start, kwh }, gdmth, { timeZone: "America/Tijuana" });
          rows.forEach((_, index) => {
            const one = Cost.price({ kwh: kwh[index] as number, start: new Date(start[index] as number) }, gdmth, { timeZone: "America/Tijuana" });
            expect(columns.periods[columns.period[index] as number]).toBe(one.period);
            expect(new Decimal(columns.costMicro[index] as number).div(1e6).toFixed(6)).toBe(one.cost);
            expect(columns.estimated[index] === 1).toBe(one.estimated);
          });
        },
      ),
      { numRuns: 100 },
    );
  });

  test("costs add up across any split of a period", () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ slot: fc.integer({ min: 0, max: 31 * 288 - 1 }), milli: fc.integer({ min: 0, max: 50_000 }) }), { minLength: 2, maxLength: 80 }),
        fc.integer({ min: 0, max: 31 * 288 }),
        (rows, cut) => {
          const cost = (part: typeof rows) =>
            part.reduce((sum, row) => {
              const priced = Cost.price({ kwh: row.milli / 1000, start: new Date(Date.UTC(2026, 2, 1, 6) + row.slot * 300_000) }, gdmth);
              return sum.plus(new Decimal(row.milli).div(1000).times(priced.unitPrice));
            }, new Decimal(0));
          const whole = cost(rows);
          const split = cost(rows.filter((row) => row.slot < cut)).plus(cost(rows.filter((row) => row.slot >= cut)));
          expect(split.toFixed()).toBe(whole.toFixed());
        },
      ),
      { numRuns: 100 },
    );
  });
});
