import { describe, expect, it } from "vitest";
import { lineCode, lineName } from "../src/billing/lines";
import { parseCsv } from "../src/import/parse";
import { check } from "../src/import/rows";

describe("a utility bill's line names to our line codes", () => {
  it("takes our code, CFE's printed Spanish name and its ASCII slug, case, accents and blanks aside", () => {
    // Names from billing/lines.ts (CFE's printed names) and the bill's shorter forms (shared reference cfe-gdmth.md).
    const given: [string, string][] = [
      ["energy-intermedia", "energy-intermedia"],
      ["Energía Intermedia", "energy-intermedia"],
      ["energia-intermedia", "energy-intermedia"],
      ["ENERGIA INTERMEDIA", "energy-intermedia"],
      ["  energía_base ", "energy-base"],
      ["Energía punta", "energy-punta"],
      ["Cargo fijo", "fixed"],
      ["cargo-fijo", "fixed"],
      ["Suministro", "fixed"],
      ["Distribución", "distribution"],
      ["Capacidad", "capacity"],
      ["IVA", "iva"],
      // The tax as bills print it with its rate or dots (a review found "IVA 16%" taken for a charge of its own).
      ["IVA 16%", "iva"],
      ["I.V.A.", "iva"],
      ["I.V.A. 16 %", "iva"],
      ["DAP", "dap"],
      ["Derecho de alumbrado público", "dap"],
      ["Total", "total"],
      ["Subtotal", "subtotal"],
      ["Bonificación por factor de potencia", "power-factor"],
      ["Cargo por factor de potencia", "power-factor"],
      ["Bonificación/Cargo por factor de potencia", "power-factor"],
      ["2% baja tensión", "low-voltage"],
      ["Cargo 2 % por medición en baja tensión", "low-voltage"],
      ["Mínimo mensual", "minimum"],
      // GDMTO's single energy line is printed "Energía"; a flat tariff's own code stays itself.
      ["Energía", "energy-energia"],
      ["energy", "energy"],
      ["energia-punta-tier2", "energy-punta-tier2"],
    ];
    expect(given.map(([name]) => [name, lineCode(name)])).toEqual(given);
  });

  it("knows every line it names: a line's own Spanish name leads back to its code", () => {
    for (const code of [
      "fixed",
      "energy-base",
      "energy-intermedia",
      "energy-punta",
      "distribution",
      "capacity",
      "low-voltage",
      "minimum",
      "subtotal",
      "iva",
      "dap",
      "total",
    ])
      expect(lineCode(lineName(code).es)).toBe(code);
    expect(lineCode(lineName("power-factor", "-10").es)).toBe("power-factor");
    expect(lineCode(lineName("power-factor", "10").es)).toBe("power-factor");
  });

  it("answers nothing for a utility's own charge", () => {
    expect(lineCode("Cargo por reconexión")).toBeUndefined();
    expect(lineCode("")).toBeUndefined();
  });

  it("stores a bill file's lines under our codes and an unknown one as written, marked unmatched", () => {
    const file = [
      "month,code,quantity,unit,unit_price,amount",
      "2026-10,Energía Intermedia,52000,kWh,1.5573,80979.60",
      "2026-10,cargo-fijo,1,month,197.77,197.77",
      "2026-10,Cargo por reconexión,1,,0,150.00",
    ].join("\n");
    const result = check("bill", parseCsv(file), { now: new Date("2026-11-30T00:00:00Z") });
    expect(result).toMatchObject({ ok: true });
    if (!result.ok) return;
    expect(result.rows.rows.map((row) => ("code" in row ? [row.code, "unmatched" in row] : []))).toEqual([
      ["energy-intermedia", false],
      ["fixed", false],
      ["Cargo por reconexión", true],
    ]);
  });

  it("refuses a line given twice under two of its names in one month", () => {
    const file = "month,code,amount\n2026-10,energia-base,10\n2026-10,Energía base,10\n";
    expect(check("bill", parseCsv(file), { now: new Date("2026-11-30T00:00:00Z") })).toEqual({
      ok: false,
      errors: [{ line: 3, column: undefined, message: "duplicate of line 2" }],
    });
  });
});
