import Decimal from "decimal.js";
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { Bill } from "../src/billing";
import { Cost } from "../src/cost";
import { Published } from "../src/prices/published";
import type { Tariff } from "../src/tariff";

/** GDMTH Noroeste, March 2026 (../shared/reference/cfe-gdmth.md). */
const noroeste = { fixed: "197.77", energy: { base: "0.9715", intermedia: "1.5573", punta: "1.7262" }, distribution: "90.85", capacity: "392.66" };
const gdmth = (options: Partial<Extract<Tariff.Definition, { kind: "cfe-gdmth" }>> = {}): Bill.Input["definition"] => ({
  kind: "cfe-gdmth",
  zone: "central",
  prices: [{ month: "2026-03", ...noroeste }],
  ...options,
});
/** An April 2026 GDMTO bill in the central zone: fixed 197.77, energy 1.2000, distribution 90.85, capacity 300.00. */
const gdmtoApril = (usage: Bill.Input["usage"]) =>
  Bill.compute({
    definition: {
      kind: "cfe-gdmto",
      zone: "central",
      prices: [{ month: "2026-04", fixed: "197.77", energy: "1.2000", distribution: "90.85", capacity: "300.00" }],
    },
    period: { start: "2026-04-01", end: "2026-05-01" },
    usage,
  });
/** The demand lines of a bill as [code, kW, amount]. */
const kwLines = (bill: Bill.Bill) => bill.lines.filter((line) => line.unit === "kW").map((line) => [line.code, line.quantity, line.amount]);
const amounts = (bill: Bill.Bill) => Object.fromEntries(bill.lines.map((line) => [line.code, line.amount]));

/** March 2026 in Mexico City: meter A draws 10 kWh every 5 minutes (120 kW) with 4 kVArh; meter B adds two spikes. */
function marchReadings(): Bill.Reading[] {
  const readings: Bill.Reading[] = [];
  const first = Date.parse("2026-03-01T06:00:00Z");
  for (let slot = 0; slot < 31 * 288; slot++) readings.push({ start: new Date(first + slot * 300_000), seconds: 300, kwh: 10, kvarh: 4 });
  // Tuesday 10 March, 19:00–19:15 local (winter punta): +5 kWh a reading → 45 kWh in the window, 180 kW.
  for (const minute of [0, 5, 10]) readings.push({ start: new Date(Date.parse("2026-03-11T01:00:00Z") + minute * 60_000), seconds: 300, kwh: 5 });
  // Wednesday 11 March, 03:00–03:15 local (base): +10 kWh a reading → 60 kWh in the window, 240 kW.
  for (const minute of [0, 5, 10]) readings.push({ start: new Date(Date.parse("2026-03-11T09:00:00Z") + minute * 60_000), seconds: 300, kwh: 10 });
  return readings;
}

describe("monthly bill, CFE GDMTH", () => {
  test("golden bill from sums: March 2026, Noroeste prices", () => {
    // Prepare. By hand: Q = 170,000 kWh, d = 31, Q / (24 · 31 · 0.57) = 400.87 kW, so demands are the measured 400 and 380 kW.
    // FP = 170,000 / √(170,000² + 60,000²) = 94.30 %; bonus ¼ (1 − 90/94.299) = 1.1397 % → 1.1 %.
    const input: Bill.Input = {
      definition: gdmth(),
      period: { start: "2026-03-01", end: "2026-04-01" },
      usage: { kwh: { base: 50_000, intermedia: 100_000, punta: 20_000 }, kvarh: 60_000, demandKw: { max: 400, punta: 380 } },
    };
    // Act
    const bill = Bill.compute(input);
    // Assess
    // Lines in CFE's order with its names: supply 424,577.57; bonus 1.1 % of it = −4,670.35; subtotal 419,907.22;
    // IVA 16 % = 67,185.16; no DAP; total 487,092.38.
    const es = (code: string, quantity: string, unit: string, unitPrice: string, amount: string, name: string, en: string) => ({
      code,
      name: { es: name, en },
      quantity,
      unit,
      unitPrice,
      amount,
    });
    expect(bill.lines).toEqual([
      es("fixed", "1", "month", "197.77", "197.77", "Cargo fijo", "Fixed charge"),
      es("energy-base", "50000", "kWh", "0.9715", "48575.00", "Energía base", "Base energy"),
      es("energy-intermedia", "100000", "kWh", "1.5573", "155730.00", "Energía intermedia", "Intermediate energy"),
      es("energy-punta", "20000", "kWh", "1.7262", "34524.00", "Energía punta", "Peak energy"),
      es("distribution", "400", "kW", "90.85", "36340.00", "Distribución", "Distribution"),
      es("capacity", "380", "kW", "392.66", "149210.80", "Capacidad", "Capacity"),
      es("power-factor", "424577.57", "MXN", "-0.011", "-4670.35", "Bonificación por factor de potencia", "Power factor bonus"),
      es("subtotal", "1", "MXN", "419907.22", "419907.22", "Subtotal", "Subtotal"),
      es("iva", "419907.22", "MXN", "0.16", "67185.16", "IVA", "VAT (IVA)"),
      es("total", "1", "MXN", "487092.38", "487092.38", "Total", "Total"),
    ]);
    expect(bill).toMatchObject({ subtotal: "424577.57", powerFactor: "94.30", pfAdjustment: "-4670.35", iva: "67185.16", dap: "0.00", total: "487092.38" });
  });

  test("golden bill from 5-minute readings: demand capped by the load factor and rounded up", () => {
    // Prepare. By hand, March 2026 has 266 base, 386 intermedia and 92 punta hours (16 March is a holiday).
    // Energy: base 266 · 120 + 30 = 31,950; intermedia 386 · 120 = 46,320; punta 92 · 120 + 15 = 11,055 kWh.
    // Q = 89,325 kWh → Q / (24 · 31 · 0.57) = 210.63 kW < 240 kW measured → distribution 211 kW; capacity min(180, 210.63) = 180 kW.
    // FP = 89,325 / √(89,325² + 35,712²) = 92.85 % → bonus ¼ (1 − 90/92.854) = 0.768 % → 0.8 %.
    const input: Bill.Input = { definition: gdmth(), period: { start: "2026-03-01", end: "2026-04-01" }, usage: { readings: marchReadings() } };
    // Act
    const bill = Bill.compute(input);
    // Assess
    expect(bill.lines.map((line) => [line.code, line.quantity, line.amount])).toEqual([
      ["fixed", "1", "197.77"],
      ["energy-base", "31950", "31039.43"],
      ["energy-intermedia", "46320", "72134.14"],
      ["energy-punta", "11055", "19083.14"],
      ["distribution", "211", "19169.35"],
      ["capacity", "180", "70678.80"],
      ["power-factor", "212302.63", "-1698.42"],
      ["subtotal", "1", "210604.21"],
      ["iva", "210604.21", "33696.67"],
      ["total", "1", "244300.88"],
    ]);
    expect(bill).toMatchObject({ subtotal: "212302.63", powerFactor: "92.85", pfAdjustment: "-1698.42", iva: "33696.67", total: "244300.88" });
  });

  test("measured demand rounds up to the whole kW: 212.4 kW bills 213, 200.2 kW in punta bills 201", () => {
    // Prepare. CFE GDMTH §7.1: "Cualquier fracción de kilowatt de demanda medida se tomará como kilowatt completo".
    // Q = 220,000 kWh, d = 31 → Q / (24 · 31 · 0.57) = 220,000 / 424.08 = 518.77 kW: the cap does not bind.
    const input: Bill.Input = {
      definition: gdmth(),
      period: { start: "2026-03-01", end: "2026-04-01" },
      usage: { kwh: { base: 70_000, intermedia: 120_000, punta: 30_000 }, demandKw: { max: 212.4, punta: 200.2 } },
    };
    // Act
    const bill = Bill.compute(input);
    // Assess: distribution 213 kW · 90.85 = 19,351.05; capacity 201 kW · 392.66 = 78,924.66.
    expect(kwLines(bill)).toEqual([
      ["distribution", "213", "19351.05"],
      ["capacity", "201", "78924.66"],
    ]);
  });

  test("a whole measured kW stays as it is", () => {
    const bill = Bill.compute({
      definition: gdmth(),
      period: { start: "2026-03-01", end: "2026-04-01" },
      usage: { kwh: { base: 220_000, intermedia: 0, punta: 0 }, demandKw: { max: 212, punta: 200 } },
    });
    expect(bill.lines.filter((line) => line.unit === "kW").map((line) => line.quantity)).toEqual(["212", "200"]);
  });

  test("Baja California in January has no punta: capacity is Q / (24 · d · 0.57) alone, rounded up", () => {
    // Prepare: a flat 100 kW in Tijuana all January 2026 (8.333… kWh every 5 minutes, 31 · 288 readings).
    // By hand (CFE GDMTH §7.3, "para el caso de que no haya periodo de punta"): Q = 100 kW · 744 h = 74,400 kWh;
    // Q / (24 · 31 · 0.57) = 74,400 / 424.08 = 175.44 kW → 176 kW (Config.cfeBilling: any fraction is a whole kW).
    // Distribution: min(100 measured, 175.44) = 100 kW. Capacity 176 · 392.66 = 69,108.16 (it was 100 kW · 392.66 = 39,266.00).
    const definition: Bill.Input["definition"] = { kind: "cfe-gdmth", zone: "baja-california", prices: [{ month: "2026-01", ...noroeste }] };
    const readings: Bill.Reading[] = [];
    for (let slot = 0; slot < 31 * 288; slot++)
      readings.push({ start: new Date(Date.parse("2026-01-01T08:00:00Z") + slot * 300_000), seconds: 300, kwh: 100 / 12 });
    // Act
    const bill = Bill.compute({ definition, period: { start: "2026-01-01", end: "2026-02-01" }, usage: { readings } });
    // Assess
    expect(kwLines(bill)).toEqual([
      ["distribution", "100", "9085.00"],
      ["capacity", "176", "69108.16"],
    ]);
  });

  test("a Tijuana January on the published Baja California prices (bundled data), capacity on the no-punta formula", () => {
    // Prepare: CFE's GDMTH Baja California prices for January 2026 as shipped (prices/published.ts): fixed 414.90,
    // base 0.6124, intermedia 0.951, punta 1.2837, distribution 90.01, capacity 357.99; a flat 100 kW all month.
    const [row] = Published.of("cfe-gdmth", "Baja California").filter((entry) => entry.month === "2026-01");
    if (!row?.energyBase || !row.energyIntermedia || !row.energyPunta) throw new Error("no published January 2026 row");
    const prices = { month: row.month, fixed: row.fixed, distribution: row.distribution, capacity: row.capacity };
    const definition: Bill.Input["definition"] = {
      kind: "cfe-gdmth",
      zone: "baja-california",
      prices: [{ ...prices, energy: { base: row.energyBase, intermedia: row.energyIntermedia, punta: row.energyPunta } }],
    };
    const readings: Bill.Reading[] = [];
    for (let slot = 0; slot < 31 * 288; slot++)
      readings.push({ start: new Date(Date.parse("2026-01-01T08:00:00Z") + slot * 300_000), seconds: 300, kwh: 100 / 12 });
    // Act
    const bill = Bill.compute({ definition, timeZone: "America/Tijuana", period: { start: "2026-01-01", end: "2026-02-01" }, usage: { readings } });
    // Assess. By hand: 21 weekdays (1 January is a holiday) · 5 h + 5 Saturdays · 3 h = 120 intermedia hours, 624 base hours;
    // 62,400 kWh · 0.6124 = 38,213.76; 12,000 kWh · 0.951 = 11,412.00; distribution 100 kW · 90.01 = 9,001.00; capacity
    // 74,400 / (24 · 31 · 0.57) = 175.44 → 176 kW · 357.99 = 63,006.24; + 414.90 = 122,047.90; IVA 19,527.66; total 141,575.56.
    // (8.333333 kWh a reading: the energy lines' quantities are a few Wh short of 62,400 and 12,000, their cents the same.)
    expect(bill.lines.map((line) => [line.code, line.amount]).slice(0, 6)).toEqual([
      ["fixed", "414.90"],
      ["energy-base", "38213.76"],
      ["energy-intermedia", "11412.00"],
      ["energy-punta", "0.00"],
      ["distribution", "9001.00"],
      ["capacity", "63006.24"],
    ]);
    expect(kwLines(bill).map(([, kw]) => kw)).toEqual(["100", "176"]);
    expect(bill).toMatchObject({ subtotal: "122047.90", iva: "19527.66", total: "141575.56", estimated: false });
  });

  test("Baja California Sur in winter has no punta: capacity from the formula, from sums too", () => {
    // Prepare: December 2026 in La Paz, sums only. By hand: Q = 60,000 kWh, d = 31 → 60,000 / 424.08 = 141.48 → 142 kW.
    // The measured 300 kW never bills capacity (no punta hour in the period); distribution min(300, 141.48) → 142 kW.
    const definition: Bill.Input["definition"] = { kind: "cfe-gdmth", zone: "baja-california-sur", prices: [{ month: "2026-12", ...noroeste }] };
    // Act
    const bill = Bill.compute({
      definition,
      period: { start: "2026-12-01", end: "2027-01-01" },
      usage: { kwh: { base: 40_000, intermedia: 20_000, punta: 0 }, demandKw: { max: 300, punta: 0 } },
    });
    // Assess
    expect(bill.lines.filter((line) => line.unit === "kW").map((line) => [line.code, line.quantity])).toEqual([
      ["distribution", "142"],
      ["capacity", "142"],
    ]);
  });

  test("bills do not depend on the order of the readings", () => {
    const readings = marchReadings();
    const expected = Bill.compute({ definition: gdmth(), period: { start: "2026-03-01", end: "2026-04-01" }, usage: { readings } });
    fc.assert(
      fc.property(fc.infiniteStream(fc.double({ min: 0, max: 1, noNaN: true })), (randoms) => {
        const order = readings.map((reading) => ({ reading, key: randoms.next().value as number }));
        order.sort((a, b) => a.key - b.key);
        const shuffled = order.map((entry) => entry.reading);
        expect(Bill.compute({ definition: gdmth(), period: { start: "2026-03-01", end: "2026-04-01" }, usage: { readings: shuffled } })).toEqual(expected);
      }),
      { numRuns: 10 },
    );
  });

  test("each energy line is the cents of the readings' exact costs in its period", () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ slot: fc.integer({ min: 0, max: 31 * 288 - 1 }), milli: fc.integer({ min: 0, max: 99_999 }) }), { maxLength: 60 }),
        (rows) => {
          const readings = rows.map((row) => ({
            start: new Date(Date.parse("2026-03-01T06:00:00Z") + row.slot * 300_000),
            seconds: 300,
            kwh: row.milli / 1000,
          }));
          const version = { id: "t", factoryId: "f", effectiveFrom: new Date(0), definition: gdmth() };
          const exact = new Map<string, Decimal>();
          for (const reading of readings) {
            const priced = Cost.price(reading, version);
            exact.set(priced.period as string, (exact.get(priced.period as string) ?? new Decimal(0)).plus(new Decimal(reading.kwh).times(priced.unitPrice)));
          }
          const bill = amounts(Bill.compute({ definition: gdmth(), period: { start: "2026-03-01", end: "2026-04-01" }, usage: { readings } }));
          for (const period of ["base", "intermedia", "punta"])
            expect(bill[`energy-${period}`]).toBe((exact.get(period) ?? new Decimal(0)).toDecimalPlaces(2, Decimal.ROUND_HALF_UP).toFixed(2));
        },
      ),
      { numRuns: 50 },
    );
  });

  test("15-minute demand is aligned to the quarter hour unless the tariff rolls it every 5 minutes", () => {
    // Prepare: 30 kWh in each of 19:10, 19:15, 19:20 on a winter weekday (punta), nothing else but a base load.
    const readings: Bill.Reading[] = [];
    const first = Date.parse("2026-03-01T06:00:00Z");
    for (let slot = 0; slot < 31 * 288; slot++) readings.push({ start: new Date(first + slot * 300_000), seconds: 300, kwh: 100 });
    for (const minute of [10, 15, 20]) readings.push({ start: new Date(Date.parse("2026-03-11T01:00:00Z") + minute * 60_000), seconds: 300, kwh: 30 });
    const period = { start: "2026-03-01", end: "2026-04-01" };
    // Act
    const aligned = Bill.compute({ definition: gdmth(), period, usage: { readings } });
    const rolling = Bill.compute({ definition: gdmth({ rollingDemand: true }), period, usage: { readings } });
    // Assess: aligned windows see 60 kWh of the spike at most (1,440 kW); a rolling window sees all 90 (1,560 kW).
    expect(aligned.lines.find((line) => line.code === "capacity")?.quantity).toBe("1440");
    expect(rolling.lines.find((line) => line.code === "capacity")?.quantity).toBe("1560");
  });

  test("the power-factor penalty stops at 120 % and the bonus at 2.5 %", () => {
    const base = { definition: gdmth(), period: { start: "2026-03-01", end: "2026-04-01" } };
    const usage = { kwh: { base: 1000, intermedia: 0, punta: 0 }, demandKw: { max: 0, punta: 0 } };
    const poor = Bill.compute({ ...base, usage: { ...usage, kvarh: 10_000 } });
    const perfect = Bill.compute({ ...base, usage: { ...usage, kvarh: 0 } });
    // Subtotal 197.77 + 971.50 = 1,169.27.
    expect(poor).toMatchObject({ subtotal: "1169.27", powerFactor: "9.95", pfAdjustment: "1403.12" });
    expect(perfect).toMatchObject({ powerFactor: "100.00", pfAdjustment: "-29.23" });
  });

  test("power factor pairs kVArh with the kWh of the readings that carry it (a meter without a reactive register is left out)", () => {
    const period = { start: "2026-03-01", end: "2026-04-01" };
    const at = new Date("2026-03-10T16:00:00Z");
    // Meter A: 100 kWh with 75 kVArh; meter B: 100 kWh, no kVArh → 100 / √(100² + 75²) = 80 %, not 200 / √(200² + 75²) = 93.63 %.
    const readings: Bill.Reading[] = [
      { start: at, seconds: 300, kwh: 100, kvarh: 75 },
      { start: at, seconds: 300, kwh: 100 },
    ];
    const bill = Bill.compute({ definition: gdmth(), period, usage: { readings } });
    // The same from sums: 200 kWh of which 100 measured with the 75 kVArh.
    const summed = Bill.compute({
      definition: gdmth(),
      period,
      usage: { kwh: { base: 200, intermedia: 0, punta: 0 }, kvarh: 75, kwhWithKvarh: 100, demandKw: { max: 0, punta: 0 } },
    });

    expect(bill.powerFactor).toBe("80.00");
    expect(summed.powerFactor).toBe("80.00");
  });

  test("the power-factor threshold is a tariff parameter", () => {
    const bill = Bill.compute({
      definition: gdmth({ powerFactorThreshold: 95 }),
      period: { start: "2026-03-01", end: "2026-04-01" },
      usage: { kwh: { base: 1000, intermedia: 0, punta: 0 }, kvarh: 400, demandKw: { max: 0, punta: 0 } },
    });
    // FP 92.85 % < 95 % → surcharge ⅗ (95/92.848 − 1) = 1.39 % → 1.4 % of 1,169.27.
    expect(bill).toMatchObject({ powerFactor: "92.85", pfAdjustment: "16.37" });
  });

  describe("the power-factor threshold follows the contract and the bill month", () => {
    // FP = 1,000 / √(1,000² + 400²) = 92.85 % on a 1,169.27 supply subtotal (197.77 + 971.50).
    // At 95: surcharge ⅗ (95/92.848 − 1) = 1.391 % → 1.4 % → +16.37. At 90: bonus ¼ (1 − 90/92.848) = 0.767 % → 0.8 % → −9.35.
    const pfBill = (month: string, contract: Bill.Contract, options: Partial<Extract<Tariff.Definition, { kind: "cfe-gdmth" }>> = {}) =>
      Bill.compute({
        definition: gdmth({ prices: [{ month, ...noroeste }], ...options }),
        contract,
        period: { start: `${month}-01`, end: `${month}-28` },
        usage: { kwh: { base: 1000, intermedia: 0, punta: 0 }, kvarh: 400, demandKw: { max: 0, punta: 0 } },
      }).pfAdjustment;

    test.each([
      ["medium voltage, 1,200 kW contracted, January 2024", "2024-01", { supplyVoltage: "medium", contractedDemandKw: 1200 }, "16.37"],
      ["medium voltage, 1,000 kW contracted, March 2026", "2026-03", { supplyVoltage: "medium", contractedDemandKw: 1000 }, "16.37"],
      ["high voltage, 500 kW contracted, June 2025", "2025-06", { supplyVoltage: "high", contractedDemandKw: 500 }, "16.37"],
      ["medium voltage, 1,200 kW contracted, December 2023", "2023-12", { supplyVoltage: "medium", contractedDemandKw: 1200 }, "-9.35"],
      ["high voltage, December 2023", "2023-12", { supplyVoltage: "high", contractedDemandKw: 5000 }, "-9.35"],
      ["medium voltage, 999 kW contracted, January 2024", "2024-01", { supplyVoltage: "medium", contractedDemandKw: 999 }, "-9.35"],
      ["no contract data (GDMTH is medium voltage), 2026", "2026-03", {}, "-9.35"],
    ] as const)("%s", (_name, month, contract, adjustment) => {
      expect(pfBill(month, contract)).toBe(adjustment);
    });

    test("a threshold set on the factory's tariff overrides the contract's", () => {
      expect(pfBill("2024-01", { supplyVoltage: "medium", contractedDemandKw: 1200 }, { powerFactorThreshold: 90 })).toBe("-9.35");
    });
  });

  test("metering on the low-voltage side adds 2 % to the supply charges, before the power factor and IVA", () => {
    const bill = Bill.compute({
      definition: gdmth({ lowVoltageMetering: true }),
      period: { start: "2026-03-01", end: "2026-04-01" },
      usage: { kwh: { base: 1000, intermedia: 0, punta: 0 }, demandKw: { max: 0, punta: 0 } },
    });
    expect(bill.lines.find((line) => line.code === "low-voltage")).toEqual({
      code: "low-voltage",
      name: { es: "Cargo 2 % por medición en baja tensión", en: "2 % low-voltage metering surcharge" },
      quantity: "1169.27",
      unit: "MXN",
      unitPrice: "0.02",
      amount: "23.39",
    });
    expect(bill.lines.map((line) => line.code).slice(5)).toEqual(["capacity", "low-voltage", "subtotal", "iva", "total"]);
    expect(bill).toMatchObject({ subtotal: "1192.66", powerFactor: null, pfAdjustment: "0.00", iva: "190.83", total: "1383.49" });
  });

  const sumsMarch = { kwh: { base: 1000, intermedia: 0, punta: 0 }, demandKw: { max: 0, punta: 0 } };
  const dapBill = (options: Partial<Extract<Tariff.Definition, { kind: "cfe-gdmth" }>>, contract?: Bill.Contract) =>
    Bill.compute({ definition: gdmth(options), contract, period: { start: "2026-03-01", end: "2026-04-01" }, usage: sumsMarch });

  test("the street-lighting charge (DAP) comes after IVA and is not taxed", () => {
    // By hand: energy amount 197.77 + 971.50 = 1,169.27; IVA 16 % = 187.08 (on the energy amount only);
    // DAP 5 % of 1,169.27 = 58.46; total 1,169.27 + 187.08 + 58.46 = 1,414.81.
    const bill = dapBill({ streetLighting: { percent: "5" } });
    expect(bill.lines.map((line) => [line.code, line.amount]).slice(6)).toEqual([
      ["subtotal", "1169.27"],
      ["iva", "187.08"],
      ["dap", "58.46"],
      ["total", "1414.81"],
    ]);
    expect(bill).toMatchObject({ subtotal: "1169.27", iva: "187.08", dap: "58.46", total: "1414.81" });
  });

  test("a DAP percentage stops at its monthly cap", () => {
    // 12 % of 1,169.27 = 140.31 > the 100.00 cap → 100.00; total 1,169.27 + 187.08 + 100.00 = 1,456.35.
    expect(dapBill({ streetLighting: { percent: "12", cap: "100" } })).toMatchObject({ dap: "100.00", total: "1456.35" });
  });

  test("the factory's municipality brings its bundled DAP; a tariff setting overrides it", () => {
    // Tecomán, Colima: 10 % (billing/dap.ts) of 1,169.27 = 116.93 → total 1,473.28. Atlixco, Puebla: 71.64 a month → 1,427.99.
    expect(dapBill({}, { state: "Colima", municipality: "Tecoman" })).toMatchObject({ dap: "116.93", total: "1473.28" });
    expect(dapBill({}, { state: "Puebla", municipality: "Atlixco" })).toMatchObject({ dap: "71.64", total: "1427.99" });
    expect(dapBill({ streetLighting: { none: true } }, { state: "Colima", municipality: "Colima" })).toMatchObject({ dap: "0.00", total: "1356.35" });
    expect(dapBill({}, { state: "Nuevo León", municipality: "Apodaca" })).toMatchObject({ dap: "0.00" });
  });

  test("a billing period across two calendar months (28 Feb – 31 Mar) is billed with its end month's prices over its own days", () => {
    // Prepare: February prices that differ from March's, to see which apply (Config.cfeBilling.periodPriceMonth: "end").
    const february = {
      month: "2026-02",
      fixed: "150.00",
      energy: { base: "2.0000", intermedia: "3.0000", punta: "4.0000" },
      distribution: "50.00",
      capacity: "300.00",
    };
    const definition = gdmth({ prices: [february, { month: "2026-03", ...noroeste }] });
    // By hand, March prices, d = 31 (28 Feb → 31 Mar): Q = 10,000 kWh → Q / (24 · 31 · 0.57) = 23.58 kW → 24 kW < 30 measured;
    // capacity min(15, 23.58) = 15 kW. 197.77 + 10,000 · 0.9715 + 24 · 90.85 + 15 · 392.66 = 197.77 + 9,715.00 + 2,180.40 + 5,889.90
    // = 17,983.07; IVA 2,877.29; total 20,860.36.
    const input: Bill.Input = {
      definition,
      period: { start: "2026-02-28", end: "2026-03-31" },
      usage: { kwh: { base: 10_000, intermedia: 0, punta: 0 }, demandKw: { max: 30, punta: 15 } },
    };
    // Act
    const bill = Bill.compute(input);
    // Assess
    expect(kwLines(bill)).toEqual([
      ["distribution", "24", "2180.40"],
      ["capacity", "15", "5889.90"],
    ]);
    expect(bill).toMatchObject({ subtotal: "17983.07", iva: "2877.29", total: "20860.36", estimated: false });
  });

  test("a factory's cycle day makes its billing periods: from that day of the month before to that day", () => {
    expect(Bill.BillingPeriod.cycle("2026-03", 28)).toEqual({ start: "2026-02-28", end: "2026-03-28" });
    expect(Bill.BillingPeriod.cycle("2026-01", 5)).toEqual({ start: "2025-12-05", end: "2026-01-05" });
    expect(Bill.BillingPeriod.cycle("2026-03", null)).toEqual({ start: "2026-03-01", end: "2026-04-01" });
    // Read on the 1st: the calendar month, labelled (and priced) by the month it covers, not the one after.
    expect(Bill.BillingPeriod.cycle("2026-04", 1)).toEqual({ start: "2026-04-01", end: "2026-05-01" });
    expect(Bill.BillingPeriod.labelOf("2026-04-01", 1)).toBe("2026-04");
    expect(Bill.BillingPeriod.priceMonth(Bill.BillingPeriod.cycle("2026-04", 1))).toBe("2026-04");
    expect(() => Bill.BillingPeriod.cycle("2026-03", 31)).toThrow("1–28");
    expect(Bill.BillingPeriod.priceMonth({ start: "2026-02-28", end: "2026-04-01" })).toBe("2026-03");
  });

  test("a month without published prices is billed with the latest ones and flagged estimated", () => {
    const usage = { kwh: { base: 1000, intermedia: 0, punta: 0 }, demandKw: { max: 0, punta: 0 } };
    const march = Bill.compute({ definition: gdmth(), period: { start: "2026-03-01", end: "2026-04-01" }, usage });
    const april = Bill.compute({ definition: gdmth(), period: { start: "2026-04-01", end: "2026-05-01" }, usage });
    expect(march.estimated).toBe(false);
    expect(april).toMatchObject({ estimated: true, subtotal: "1169.27" });
  });

  test("a reading longer than 5 minutes is costed slot by slot in each period and sets no demand", () => {
    // Prepare: one hour from 17:30 local on a winter weekday (intermedia until 18:00, punta after).
    const readings = [{ start: new Date("2026-03-10T23:30:00Z"), seconds: 3600, kwh: 120 }];
    // Act
    const bill = Bill.compute({ definition: gdmth(), period: { start: "2026-03-01", end: "2026-04-01" }, usage: { readings } });
    // Assess: 12 slots of 10 kWh: 6 in intermedia (60 kWh × 1.5573 = 93.438 → 93.44), 6 in punta
    // (60 kWh × 1.7262 = 103.572 → 103.57). The spread slots are estimates: no demand, all 120 kWh estimated.
    expect(amounts(bill)).toMatchObject({ "energy-intermedia": "93.44", "energy-punta": "103.57", distribution: "0.00", capacity: "0.00" });
    expect(bill.estimatedKwh).toBe("120");
  });

  test("estimated 5-minute slots count as energy but never set the demand peak", () => {
    // Prepare: a measured quarter hour of 3 × 10 kWh (120 kW) and an estimated one of 3 × 50 kWh (600 kW if it counted).
    const measured = [0, 5, 10].map((minute) => ({ start: new Date(Date.parse("2026-03-11T01:00:00Z") + minute * 60_000), seconds: 300, kwh: 10 }));
    const estimated = [0, 5, 10].map((minute) => ({
      start: new Date(Date.parse("2026-03-11T03:00:00Z") + minute * 60_000),
      seconds: 300,
      kwh: 50,
      quality: "estimated" as const,
    }));
    // Act
    const bill = Bill.compute({ definition: gdmth(), period: { start: "2026-03-01", end: "2026-04-01" }, usage: { readings: [...measured, ...estimated] } });
    // Assess: the month's peak is the measured 120 kW; energy holds all 180 kWh, 150 of it estimated.
    const energy = bill.lines.filter((line) => line.code.startsWith("energy-")).reduce((sum, line) => sum + Number(line.quantity), 0);
    expect(energy).toBe(180);
    expect(bill.estimatedKwh).toBe("150");
    const capped = Bill.compute({ definition: gdmth(), period: { start: "2026-03-01", end: "2026-04-01" }, usage: { readings: measured } });
    expect(bill.lines.find((line) => line.code === "capacity")?.quantity).toBe(capped.lines.find((line) => line.code === "capacity")?.quantity);
  });

  test("a Baja California month with the autumn clock change has 25 hours on its first Sunday", () => {
    // Prepare: November 2026 in Tijuana, 1 kWh every 5 minutes of local time.
    const definition: Bill.Input["definition"] = { kind: "cfe-gdmth", zone: "baja-california", prices: [{ month: "2026-11", ...noroeste }] };
    const readings: Bill.Reading[] = [];
    for (let ms = Date.parse("2026-11-01T07:00:00Z"); ms < Date.parse("2026-12-01T08:00:00Z"); ms += 300_000)
      readings.push({ start: new Date(ms), seconds: 300, kwh: 1 });
    // Act
    const bill = Bill.compute({ definition, period: { start: "2026-11-01", end: "2026-12-01" }, usage: { readings } });
    // Assess: 30 · 24 + 1 hours; winter has no punta, so capacity is Q / (24 · d · 0.57) = 8,652 / 410.4 = 21.08 → 22 kW.
    const energy = bill.lines.filter((line) => line.code.startsWith("energy-")).reduce((sum, line) => sum + Number(line.quantity), 0);
    expect(energy).toBe((30 * 24 + 1) * 12);
    expect(bill.lines.find((line) => line.code === "capacity")?.quantity).toBe("22");
  });

  test("GDMTO golden bill: one energy price, load factor 0.55, power-factor penalty", () => {
    // By hand: Q = 30,000 kWh, d = 30 → Q / (24 · 30 · 0.55) = 75.76 kW < 80 → 76 kW (rounded up); FP = 83.21 % → ⅗ (90/83.205 − 1) = 4.8999 % → 4.9 %.
    const bill = gdmtoApril({ kwh: { energia: 30_000 }, kvarh: 20_000, demandKw: { max: 80 } });
    expect(bill.lines.map((line) => [line.code, line.quantity, line.amount])).toEqual([
      ["fixed", "1", "197.77"],
      ["energy-energia", "30000", "36000.00"],
      ["distribution", "76", "6904.60"],
      ["capacity", "76", "22800.00"],
      ["power-factor", "65902.37", "3229.22"],
      ["subtotal", "1", "69131.59"],
      ["iva", "69131.59", "11061.05"],
      ["total", "1", "80192.64"],
    ]);
    expect(bill.lines.find((line) => line.code === "power-factor")?.name.es).toBe("Cargo por factor de potencia");
    expect(bill).toMatchObject({ subtotal: "65902.37", powerFactor: "83.21", pfAdjustment: "3229.22", iva: "11061.05", total: "80192.64" });
  });

  test("GDMTO capacity is Q / (24 · d · 0.55) even above the measured maximum; distribution stays capped by it", () => {
    // By hand: Q = 30,000 kWh, d = 30 → 30,000 / (24 · 30 · 0.55) = 30,000 / 396 = 75.76 kW → 76 kW capacity
    // (GDMTO has no punta: GDMTH §7.3's no-punta rule; see Cfe.gdmtoCapacity). Distribution min(50 measured, 75.76) = 50 kW.
    const bill = gdmtoApril({ kwh: { energia: 30_000 }, demandKw: { max: 49.2 } });
    expect(kwLines(bill)).toEqual([
      ["distribution", "50", "4542.50"],
      ["capacity", "76", "22800.00"],
    ]);
  });

  test("where the clocks skip midnight, the period starts at the first local time that exists", () => {
    // Santiago de Chile springs forward at 00:00 on 6 September 2026: that day starts at 01:00 (04:00 UTC).
    const readings = [{ start: new Date("2026-09-06T04:00:00Z"), seconds: 300, kwh: 1 }];
    const bill = Bill.compute({ definition: gdmth(), timeZone: "America/Santiago", period: { start: "2026-09-06", end: "2026-09-07" }, usage: { readings } });
    expect(amounts(bill)["energy-base"]).toBe("0.97");
  });

  test("a reading outside the billing period is refused with its place", () => {
    const readings = [{ start: new Date("2026-04-01T06:00:00Z"), seconds: 300, kwh: 1 }];
    expect(() => Bill.compute({ definition: gdmth(), period: { start: "2026-03-01", end: "2026-04-01" }, usage: { readings } })).toThrow(
      expect.objectContaining({ path: "usage.readings.0.start" }),
    );
  });

  test("an impossible date is refused", () => {
    expect(() => Bill.compute({ definition: gdmth(), period: { start: "2026-02-30", end: "2026-04-01" }, usage: { readings: [] } })).toThrow(
      expect.objectContaining({ path: "period.start" }),
    );
  });
});
