/**
 * GDBT, PDBT, DIST and DIT through `wattflow bill`, `period` and `cost`. Golden bills derived by hand from each
 * tariff's structure (packages/core/src/tariff/cfe.ts `structures`: which charges, load factor, supply voltage) and
 * CFE's billing rules (shared/reference/cfe-gdmth.md: demand rounds up, min(measured, Q / (24 · d · FC)), IVA 16 %).
 * The prices are round illustrative figures, not published ones: the arithmetic is the point.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Testing } from "@wattflow/core/testing";
import { describe, expect, test } from "vitest";
import { wattflow as run } from "./support";

const dir = mkdtempSync(join(tmpdir(), "wattflow-cfe-tariffs-"));

/** A command that needs no stack, kept away from any configured one. */
function wattflow(...args: string[]) {
  const { status, stdout, stderr } = run(args, { WATTFLOW_API: "", WATTFLOW_TOKEN: "" });
  return { code: status, stdout, stderr };
}

/** Writes a JSON (or text) file for a command to read; returns its path. */
const file = (name: string, content: unknown) => {
  writeFileSync(join(dir, name), typeof content === "string" ? content : JSON.stringify(content));
  return join(dir, name);
};

/** March 2026, central zone: d = 31 days, winter (punta on weekdays 18–22). */
const march = { zone: "central", period: { start: "2026-03-01", end: "2026-04-01" } };
const prices = {
  "cfe-gdbt": { fixed: "100.00", energy: "2.5000", distribution: "120.00", capacity: "400.00" },
  "cfe-pdbt": { fixed: "60.00", energy: "3.2000" },
  "cfe-dist": { fixed: "500.00", energy: { base: "0.8000", intermedia: "1.3000", punta: "1.5000" }, distribution: "20.00", capacity: "350.00" },
  "cfe-dit": { fixed: "800.00", energy: { base: "0.7000", intermedia: "1.1000", punta: "1.3000" }, capacity: "300.00" },
};

function bill(name: string, request: Record<string, unknown>) {
  const result = wattflow("bill", "--input", file(name, { ...march, ...request }));
  expect(result.stderr).toBe("");
  return JSON.parse(result.stdout) as { lines: { code: string; quantity: string; unitPrice: string; amount: string }[]; total: string };
}
const summary = (lines: { code: string; quantity: string; amount: string }[]) => lines.map((line) => [line.code, line.quantity, line.amount]);

describe("wattflow bill: one golden bill per tariff", () => {
  test("GDBT: one energy price, distribution on min(Dmax, Q / (24 · d · 0.49)), capacity on the formula without a punta demand", () => {
    const result = bill("gdbt.json", { tariff: "cfe-gdbt", prices: prices["cfe-gdbt"], usage: { kwh: 10000, demandKw: { max: 40.2 } } });

    // Q / (24 · 31 · 0.49) = 10,000 / 364.56 = 27.43 → 28 kW (up); measured 40.2 → 41 kW, so distribution bills 28.
    // No punta demand measured: capacity on Q / (24 · d · FC) alone = 28 kW (CFE's GDBT page, §5.1).
    // 100.00 + 10,000 × 2.5 = 25,000.00 + 28 × 120 = 3,360.00 + 28 × 400 = 11,200.00 → 39,660.00; IVA 6,345.60; 46,005.60.
    expect(summary(result.lines)).toEqual([
      ["fixed", "1", "100.00"],
      ["energy-energia", "10000", "25000.00"],
      ["distribution", "28", "3360.00"],
      ["capacity", "28", "11200.00"],
      ["subtotal", "1", "39660.00"],
      ["iva", "39660", "6345.60"],
      ["total", "1", "46005.60"],
    ]);
  });

  test("GDBT: capacity on the demand coincident with punta when it is measured, under the formula", () => {
    const result = bill("gdbt-punta.json", { tariff: "cfe-gdbt", prices: prices["cfe-gdbt"], usage: { kwh: 10000, demandKw: { max: 40.2, punta: 20.3 } } });

    // CFE's GDBT page, §5.1: capacity on min(Dmax punta, Q / (24 · d · FC)) = min(20.3 → 21, 28) = 21 kW × 400 = 8,400.00.
    // 100.00 + 25,000.00 + 3,360.00 + 8,400.00 = 36,860.00; IVA 5,897.60; total 42,757.60.
    expect(summary(result.lines).slice(3)).toEqual([
      ["capacity", "21", "8400.00"],
      ["subtotal", "1", "36860.00"],
      ["iva", "36860", "5897.60"],
      ["total", "1", "42757.60"],
    ]);
  });

  test("PDBT: a fixed charge and energy, no per-kW line; a capacity price is refused at its path", () => {
    const result = bill("pdbt.json", { tariff: "cfe-pdbt", prices: prices["cfe-pdbt"], usage: { kwh: 1500, demandKw: { max: 12 } } });
    const refused = wattflow(
      "bill",
      "--input",
      file("pdbt-capacity.json", { ...march, tariff: "cfe-pdbt", prices: { ...prices["cfe-pdbt"], capacity: "300" }, usage: { kwh: 1, demandKw: { max: 1 } } }),
    );

    // 60.00 + 1,500 × 3.2 = 4,800.00 → 4,860.00; IVA 777.60; total 5,637.60.
    expect(summary(result.lines)).toEqual([
      ["fixed", "1", "60.00"],
      ["energy-energia", "1500", "4800.00"],
      ["subtotal", "1", "4860.00"],
      ["iva", "4860", "777.60"],
      ["total", "1", "5637.60"],
    ]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain("prices.capacity: PDBT has no capacity charge per kW");
  });

  test("DIST: GDMTH's periods, FC 0.74, and the high-voltage 95 % power-factor threshold when the contract says none", () => {
    const result = bill("dist.json", {
      tariff: "cfe-dist",
      prices: prices["cfe-dist"],
      usage: { kwh: { base: 200000, intermedia: 300000, punta: 100000 }, kvarh: 450000, demandKw: { max: 1500.3, punta: 1400.2 } },
    });

    // Q = 600,000; Q / (24 · 31 · 0.74) = 600,000 / 550.56 = 1,089.80 → 1,090 kW caps distribution (1,501) and capacity (1,401).
    // Energy 200,000 × 0.8 = 160,000.00; 300,000 × 1.3 = 390,000.00; 100,000 × 1.5 = 150,000.00.
    // Supply 500 + 700,000 + 1,090 × 20 = 21,800 + 1,090 × 350 = 381,500 → 1,103,800.00.
    // PF = 600,000 / √(600,000² + 450,000²) = 80 %; DIST is high voltage, so from 2024 the threshold is 95:
    // 3/5 × (95/80 − 1) × 100 = 11.25 → 11.3 % (one decimal) × 1,103,800 = 124,729.40 (at 90 it would be 7.5 %).
    // Subtotal 1,228,529.40; IVA 196,564.704 → 196,564.70; total 1,425,094.10.
    expect(summary(result.lines)).toEqual([
      ["fixed", "1", "500.00"],
      ["energy-base", "200000", "160000.00"],
      ["energy-intermedia", "300000", "390000.00"],
      ["energy-punta", "100000", "150000.00"],
      ["distribution", "1090", "21800.00"],
      ["capacity", "1090", "381500.00"],
      ["power-factor", "1103800", "124729.40"],
      ["subtotal", "1", "1228529.40"],
      ["iva", "1228529.4", "196564.70"],
      ["total", "1", "1425094.10"],
    ]);
  });

  test("DIT: GDMTH's periods, FC 0.71, capacity on the punta demand, no distribution line on a transmission supply", () => {
    const result = bill("dit.json", {
      tariff: "cfe-dit",
      prices: prices["cfe-dit"],
      usage: { kwh: { base: 3000000, intermedia: 4000000, punta: 1000000 }, demandKw: { max: 15000, punta: 13999.2 } },
    });

    // Q = 8,000,000; Q / (24 · 31 · 0.71) = 8,000,000 / 528.24 = 15,144.6 → 15,145 kW; punta 13,999.2 → 14,000 kW (up) is less.
    // 800 + 2,100,000 + 4,400,000 + 1,300,000 + 14,000 × 300 = 4,200,000 → 12,000,800.00; IVA 1,920,128.00; 13,920,928.00.
    expect(summary(result.lines)).toEqual([
      ["fixed", "1", "800.00"],
      ["energy-base", "3000000", "2100000.00"],
      ["energy-intermedia", "4000000", "4400000.00"],
      ["energy-punta", "1000000", "1300000.00"],
      ["capacity", "14000", "4200000.00"],
      ["subtotal", "1", "12000800.00"],
      ["iva", "12000800", "1920128.00"],
      ["total", "1", "13920928.00"],
    ]);
  });
});

describe("wattflow period and cost with the new tariffs", () => {
  test("DIST and DIT keep GDMTH's bands; GDBT and PDBT have one period at all hours (CFE's own spelling accepted)", () => {
    // Monday 6 April 2026 20:30, central summer: punta 20–22 on weekdays.
    const at = (tariff: string) => wattflow("period", "--tariff", tariff, "--zone", "central", "--at", "2026-04-06T20:30").stdout;
    expect([at("cfe-dist"), at("DIT"), at("cfe-gdbt"), at("PDBT")]).toEqual(["punta\n", "punta\n", "energia\n", "energia\n"]);
    expect(wattflow("period", "--tariff", "cfe-xyz", "--at", "2026-04-06T20:30").stderr).toContain(
      "cfe-gdmth, cfe-gdmto, cfe-gdbt, cfe-pdbt, cfe-dist, cfe-dit",
    );
  });

  test("cost prices a reading under each tariff's energy price", () => {
    // 10 kWh at 10:00 on Tuesday 10 March 2026 in Mexico City (16:00Z): intermedia for DIST/DIT, the one price for GDBT/PDBT.
    const input = file("reading.ndjson", `${JSON.stringify({ meterId: "m", start: "2026-03-10T16:00:00Z", seconds: 300, kwh: 10 })}\n`);
    const cost = (tariff: keyof typeof prices) =>
      JSON.parse(
        wattflow("cost", "--tariff", tariff, "--zone", "central", "--prices", file(`${tariff}.json`, prices[tariff]), "--input", input, "--summary").stdout,
      ).cost;
    // 10 × 2.5, 10 × 3.2, 10 × 1.3, 10 × 1.1.
    expect([cost("cfe-gdbt"), cost("cfe-pdbt"), cost("cfe-dist"), cost("cfe-dit")]).toEqual(["25.00", "32.00", "13.00", "11.00"]);
  });
});

describe("wattflow bill with meters", () => {
  // Testing.meterTree (the golden allocation of packages/functions/test/meter-hierarchy.test.ts), as a bill request.
  const { at, kwh } = Testing.meterTree;
  const readings = kwh.map(([meterId, period, value]) => ({ meterId, start: at[period], kwh: value }));
  const meters = Testing.meterTree.meters.map(({ name, role, parent }) => ({ id: name, role, parentId: parent }));
  const { month: _month, ...gdmth } = Testing.gdmthNoroesteMarch2026;

  test("bills the billing meter alone and prints the allocation with the unmetered remainder", () => {
    const result = bill("tree.json", { tariff: "cfe-gdmth", prices: gdmth, meters, usage: { readings } }) as unknown as {
      total: string;
      allocation: { total: string; unmetered: { kwh: string; amount: string }; meters: { meterId: string; amount: string; unmetered?: unknown }[] };
    };

    // The main meter's bill (derivation in meter-hierarchy.test.ts): 895.80. Allocation: lineA 300.78 (of which
    // pressA1 74.86, unmetered 225.92), lineB 192.29; unmetered 27 kWh, 895.80 − 300.78 − 192.29 = 402.73.
    expect(result.total).toBe("895.80");
    expect(result.allocation.total).toBe("895.80");
    expect(result.allocation.meters.map((meter) => [meter.meterId, meter.amount, meter.unmetered])).toEqual([
      ["lineA", "300.78", { kwh: "15", amount: "225.92" }],
      ["pressA1", "74.86", undefined],
      ["lineB", "192.29", undefined],
    ]);
    expect(result.allocation.unmetered).toEqual({ kwh: "27", amount: "402.73" });
  });

  test("a reading of an unlisted meter, or a billing meter with a parent, exits 2 at its path", () => {
    const stray = wattflow(
      "bill",
      "--input",
      file("stray.json", {
        ...march,
        tariff: "cfe-gdmth",
        prices: gdmth,
        meters,
        usage: { readings: [...readings, { meterId: "ghost", start: at.base, kwh: 1 }] },
      }),
    );
    const parented = wattflow(
      "bill",
      "--input",
      file("parented.json", {
        ...march,
        tariff: "cfe-gdmth",
        prices: gdmth,
        meters: [{ id: "main", role: "billing", parentId: "lineA" }, ...meters.slice(1)],
        usage: { readings },
      }),
    );

    expect(stray.code).toBe(2);
    expect(stray.stderr).toContain("usage.readings.8.meterId: meterId must be one of the meters (main, lineA, lineB, pressA1)");
    expect(parented.code).toBe(2);
    expect(parented.stderr).toContain("meters.0.parentId: a billing meter is at the point of supply and has no parent");
  });
});
