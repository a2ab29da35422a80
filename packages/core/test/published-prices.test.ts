/**
 * The published prices shipped with the product (prices/data/published.json through Published): which months of
 * which divisions, with their sources; bills priced with them through the price import's own merge (Prices.merge)
 * are `estimated` only for months not published; and a bad data file is refused naming the row and field.
 */
import { describe, expect, test } from "vitest";
import { Bill } from "../src/billing";
import { Location } from "../src/location";
import { Prices } from "../src/prices";
import { Published } from "../src/prices/published";
import type { Tariff } from "../src/tariff";

const months = ["2026-01", "2026-02", "2026-03", "2026-04", "2026-05", "2026-06", "2026-07", "2026-08", "2026-09"];

/** A factory's GDMTH tariff in a division, its prices the shipped rows merged in as a price import merges them. */
function gdmthOf(division: (typeof Location.divisions)[number]) {
  const base = { kind: "cfe-gdmth", zone: Location.zoneOf(division), prices: [], streetLighting: { none: true } } as unknown as Tariff.Definition;
  return Prices.merge(base, Published.of("cfe-gdmth", division)) as Extract<Tariff.Definition, { kind: "cfe-gdmth" }>;
}

/** A calendar month's bill on sums that fit every zone's calendar (intermedia only: Baja California's winter has no punta). */
function billFor(division: (typeof Location.divisions)[number], month: string) {
  const [year, number] = month.split("-").map(Number) as [number, number];
  const end = number === 12 ? `${year + 1}-01-01` : `${year}-${String(number + 1).padStart(2, "0")}-01`;
  return Bill.compute({
    definition: gdmthOf(division),
    period: { start: `${month}-01`, end },
    usage: { kwh: { base: 0, intermedia: 10000, punta: 0 }, demandKw: { max: 50 } },
  });
}

describe("the bundled published prices", () => {
  test("GDMTH ships January–September 2026 for each of CFE's 17 divisions, each row with its page, municipality, capture and dataset commit", () => {
    // Prepare
    const [dataset] = Published.datasets;

    // Act
    const shipped = Location.divisions.map((division) => [division, Published.of("cfe-gdmth", division).map((row) => row.month)]);

    // Assess
    expect(Location.divisions).toHaveLength(17);
    expect(shipped).toEqual(Location.divisions.map((division) => [division, months]));
    expect(dataset).toMatchObject({ repository: "EnergiaHollman/tarifas-electricas-mx", path: "data/tarifas.json", licence: "MIT" });
    for (const row of Published.rows) {
      expect(row.source.url).toBe("https://app.cfe.mx/Aplicaciones/CCFE/Tarifas/TarifasCRENegocio/Tarifas/GranDemandaMTH.aspx");
      expect(row.source.consulted).toMatch(/^[A-ZÁÉÍÓÚÑ .]+, [A-ZÁÉÍÓÚÑ .]+$/);
      expect(row.source.via).toBe(`EnergiaHollman/tarifas-electricas-mx data/tarifas.json@${dataset?.commit}`);
    }
    expect(Published.version).toBe("2026-09-21");
  });

  test("no dataset found has GDMTO's published prices: none ship, and GDMTO keeps the prices of its tariff or request", () => {
    expect(Location.divisions.flatMap((division) => Published.of("cfe-gdmto", division))).toEqual([]);
  });

  test("a division's name in any spelling finds its rows, keyed as price imports key them", () => {
    // Act
    const rows = ["Bajío", "BAJIO", "bajio", "bajío"].map((name) => Published.of("cfe-gdmth", name).length);

    // Assess
    expect(rows).toEqual([9, 9, 9, 9]);
    expect(Published.of("cfe-gdmth", "Valle de Mexico Norte")[0]?.division).toBe("valle de méxico norte");
  });

  test("a bill of every division is estimated only in a month whose prices are not published", () => {
    for (const division of Location.divisions) {
      // Act
      const published = months.map((month) => billFor(division, month).estimated);
      const october = billFor(division, "2026-10");
      const december2025 = billFor(division, "2025-12");

      // Assess: published months are final; October takes September's prices and December 2025 January's, both estimated.
      const september = Published.of("cfe-gdmth", division).at(-1);
      const january = Published.of("cfe-gdmth", division)[0];
      expect([division, published]).toEqual([division, months.map(() => false)]);
      expect([division, october.estimated, october.lines.find((line) => line.code === "energy-intermedia")?.unitPrice]).toEqual([
        division,
        true,
        september?.energyIntermedia,
      ]);
      expect([division, december2025.estimated, december2025.lines.find((line) => line.code === "energy-intermedia")?.unitPrice]).toEqual([
        division,
        true,
        january?.energyIntermedia,
      ]);
    }
  });

  test("a Valle de México Norte March 2026 bill on the shipped prices, by hand", () => {
    // Prepare: CFE's GDMTH Valle de México Norte prices for March 2026 as shipped (consulted for Acolman, Estado de México):
    // fixed 703.36, base 1.1071, intermedia 1.8204, punta 2.1281, distribution 86.15, capacity 402.26.
    const definition = gdmthOf("Valle de México Norte");

    // Act
    const bill = Bill.compute({
      definition,
      period: { start: "2026-03-01", end: "2026-04-01" },
      usage: { kwh: { base: 50000, intermedia: 80000, punta: 20000 }, demandKw: { max: 300.2, punta: 280.4 } },
    });

    // Assess. By hand: Q = 150,000 kWh; Q / (24 · 31 · 0.57) = 150,000 / 424.08 = 353.71 → 354 kW caps neither demand:
    // distribution 300.2 → 301 kW × 86.15 = 25,931.15; capacity 280.4 → 281 kW × 402.26 = 113,035.06.
    // Energy 50,000 × 1.1071 = 55,355.00; 80,000 × 1.8204 = 145,632.00; 20,000 × 2.1281 = 42,562.00; fixed 703.36.
    // Subtotal 383,218.57 (no kVArh: no power-factor line); IVA 61,314.9712 → 61,314.97; total 444,533.54.
    expect(bill.lines.map((line) => [line.code, line.quantity, line.amount])).toEqual([
      ["fixed", "1", "703.36"],
      ["energy-base", "50000", "55355.00"],
      ["energy-intermedia", "80000", "145632.00"],
      ["energy-punta", "20000", "42562.00"],
      ["distribution", "301", "25931.15"],
      ["capacity", "281", "113035.06"],
      ["subtotal", "1", "383218.57"],
      ["iva", "383218.57", "61314.97"],
      ["total", "1", "444533.54"],
    ]);
    expect(bill.estimated).toBe(false);
  });

  test("a data file with a bad row is refused naming the row and field", () => {
    // Prepare: the shipped file with its first row broken two ways.
    const [first] = Published.rows;
    const data = {
      version: Published.version,
      datasets: Published.datasets,
      rows: [
        { ...first, energyPunta: null },
        { ...first, division: "narnia" },
      ],
    };

    // Act
    const parsed = Published.Data.safeParse(data);

    // Assess
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues.map((issue) => [issue.path.join("."), issue.message])).toEqual([
      ["rows.0.energyPunta", "energyPunta is required for cfe-gdmth"],
      ["rows.1.division", 'division is a CFE division, lower case in CFE\'s spelling (Location.divisionKey), e.g. "bajío"'],
    ]);
  });
});
