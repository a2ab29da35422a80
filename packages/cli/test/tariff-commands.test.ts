import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, test } from "vitest";

const bin = fileURLToPath(new URL("../bin/wattflow.mjs", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "wattflow-tariff-cli-"));

function wattflow(...args: string[]) {
  const result = spawnSync(process.execPath, [bin, ...args], { encoding: "utf8", env: { ...process.env, WATTFLOW_API: "", WATTFLOW_TOKEN: "" } });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

function file(name: string, content: unknown): string {
  const path = join(dir, name);
  writeFileSync(path, typeof content === "string" ? content : JSON.stringify(content));
  return path;
}

const prices = { fixed: "197.77", energy: { base: "0.9715", intermedia: "1.5573", punta: "1.7262" }, distribution: "90.85", capacity: "392.66" };

describe("wattflow period", () => {
  test("prints the period of a local time in the zone's clock", () => {
    expect(wattflow("period", "--tariff", "cfe-gdmth", "--zone", "central", "--at", "2026-04-06T20:30")).toEqual({ code: 0, stdout: "punta\n", stderr: "" });
  });

  test("--json names the season, the day type and whether it is a holiday", () => {
    const result = wattflow("period", "--tariff", "cfe-gdmth", "--zone", "central", "--at", "2026-02-02T19:00", "--json");
    expect(JSON.parse(result.stdout)).toEqual({ period: "intermedia", season: "winter", dayType: "sunday", holiday: true });
  });

  test("Baja California Sur's summer punta starts at noon", () => {
    expect(wattflow("period", "--tariff", "cfe-gdmth", "--zone", "baja-california-sur", "--at", "2026-07-01T12:00").stdout).toBe("punta\n");
  });

  test("an unknown zone exits 2 with one line naming it", () => {
    const result = wattflow("period", "--tariff", "cfe-gdmth", "--zone", "narnia", "--at", "2026-04-06T20:30");
    expect(result.code).toBe(2);
    expect(result.stderr.trim().split("\n")).toEqual([expect.stringContaining('--zone: unknown zone "narnia"')]);
  });

  test("an impossible date, or a time the clocks skip, exits 2", () => {
    expect(wattflow("period", "--tariff", "cfe-gdmth", "--zone", "central", "--at", "2026-02-30T10:00").code).toBe(2);
    const skipped = wattflow("period", "--tariff", "cfe-gdmth", "--zone", "baja-california", "--at", "2026-03-08T02:30");
    expect(skipped.code).toBe(2);
    expect(skipped.stderr).toContain("does not exist in America/Tijuana");
  });
});

describe("wattflow period --municipality / --division", () => {
  test("the municipality's clock decides the period: Hermosillo and Cancún are not on Mexico City's", () => {
    // 02:30Z on Thursday 11 June 2026 is 19:30 Wednesday in Hermosillo (UTC−7, intermedia until 20:00 in summer)
    // and 20:30 in Mexico City (punta); 01:30Z is 20:30 in Cancún (UTC−5, punta) and 19:30 in Mexico City.
    const at = (place: string[], instant: string) => wattflow("period", "--tariff", "cfe-gdmth", ...place, "--at", instant).stdout;
    expect(at(["--municipality", "Sonora/Hermosillo"], "2026-06-11T02:30:00Z")).toBe("intermedia\n");
    expect(at(["--zone", "central"], "2026-06-11T02:30:00Z")).toBe("punta\n");
    expect(at(["--municipality", "Quintana Roo/Benito Juárez"], "2026-06-11T01:30:00Z")).toBe("punta\n");
    expect(at(["--division", "Baja California Sur"], "2026-07-01T19:00:00Z")).toBe("punta\n");
  });

  test.each([
    [
      ["--municipality", "Sonora/Hermosillo", "--time-zone", "America/Mexico_City"],
      "--time-zone: Hermosillo (Sonora) is on America/Hermosillo, not America/Mexico_City",
    ],
    [
      ["--zone", "baja-california", "--time-zone", "America/Mexico_City"],
      "--time-zone: the baja-california schedule is read on America/Hermosillo or America/Tijuana, not America/Mexico_City",
    ],
    [
      ["--municipality", "Sonora/San Luis Río Colorado", "--zone", "central"],
      "--zone: San Luis Río Colorado (Sonora) bills on the baja-california schedule, not central",
    ],
    [
      ["--division", "Noroeste"],
      "--division: the Noroeste division spans clocks America/Hermosillo or America/Mazatlan: give the municipality or the time zone",
    ],
  ])("an inconsistent place exits 2 naming the right one (%j)", (place, message) => {
    const result = wattflow("period", "--tariff", "cfe-gdmth", ...place, "--at", "2026-06-10T12:00");
    expect(result.code).toBe(2);
    expect(result.stderr.trim()).toBe(`wattflow: ${message}`);
  });
});

describe("wattflow bill", () => {
  test("prints the itemized bill from sums", () => {
    // Prepare: the golden March 2026 bill (packages/core/test/billing.test.ts).
    const input = file("sums.json", {
      tariff: "cfe-gdmth",
      zone: "central",
      period: { start: "2026-03-01", end: "2026-04-01" },
      prices,
      usage: { kwh: { base: 50000, intermedia: 100000, punta: 20000 }, kvarh: 60000, demandKw: { max: 400, punta: 380 } },
    });
    // Act
    const result = wattflow("bill", "--input", input);
    // Assess
    expect(result.code).toBe(0);
    const bill = JSON.parse(result.stdout);
    expect(Object.keys(bill)).toEqual(["lines", "subtotal", "powerFactor", "pfAdjustment", "iva", "dap", "total", "peakDemandKw"]);
    expect(bill.lines[4]).toEqual({
      code: "distribution",
      name: { es: "Distribución", en: "Distribution" },
      quantity: "400",
      unit: "kW",
      unitPrice: "90.85",
      amount: "36340.00",
    });
    expect(bill).toMatchObject({ subtotal: "424577.57", powerFactor: "94.30", pfAdjustment: "-4670.35", iva: "67185.16", total: "487092.38" });
  });

  test("a request with a __proto__ key exits 2 naming its path: its schema would drop the key and what it holds", () => {
    // Written as text: an object literal's __proto__ would set a prototype, not a key. The demand under __proto__
    // would have been dropped, and the bill printed without it.
    const text = `{"tariff":"cfe-gdmth","zone":"central","period":{"start":"2026-03-01","end":"2026-04-01"},"prices":${JSON.stringify(prices)},"usage":{"kwh":{"base":1,"intermedia":1,"punta":1},"kvarh":0,"__proto__":{"demandKw":{"max":400,"punta":380}}}}`;
    const input = file("proto.json", text);

    const result = wattflow("bill", "--input", input);

    expect(result.code).toBe(2);
    expect(result.stderr.trim().split("\n")).toEqual([
      expect.stringContaining(`--input: ${input}: usage.__proto__: is a key "__proto__", which would be dropped without a word: name the field you meant`),
    ]);
  });

  test("prints the bill from 5-minute readings", () => {
    const readings = [];
    for (let slot = 0; slot < 30 * 288; slot++)
      readings.push({ start: new Date(Date.parse("2026-04-01T06:00:00Z") + slot * 300_000).toISOString(), seconds: 300, kwh: 10 });
    const input = file("readings.json", { tariff: "cfe-gdmth", period: { start: "2026-04-01", end: "2026-05-01" }, prices, usage: { readings } });
    const bill = JSON.parse(wattflow("bill", "--input", input).stdout);
    // 120 kW all month: Q / (24 · 30 · 0.57) = 210.5 kW does not cap it.
    expect(bill.lines.map((line: { code: string; quantity: string }) => [line.code, line.quantity])).toEqual([
      ["fixed", "1"],
      ["energy-base", expect.any(String)],
      ["energy-intermedia", expect.any(String)],
      ["energy-punta", expect.any(String)],
      ["distribution", "120"],
      ["capacity", "120"],
      ["subtotal", "1"],
      ["iva", expect.any(String)],
      ["total", "1"],
    ]);
    expect(bill.powerFactor).toBeNull();
  });

  test("measured demand rounds up to the whole kW", () => {
    // CFE GDMTH §7.1, "cualquier fracción de kilowatt de demanda medida se tomará como kilowatt completo":
    // Q = 220,000 kWh → Q / (24 · 31 · 0.57) = 518.77 kW does not cap; 212.4 → 213 kW, 200.2 → 201 kW.
    const input = file("rounding.json", {
      tariff: "cfe-gdmth",
      period: { start: "2026-03-01", end: "2026-04-01" },
      prices,
      usage: { kwh: { base: 70000, intermedia: 120000, punta: 30000 }, demandKw: { max: 212.4, punta: 200.2 } },
    });
    const bill = JSON.parse(wattflow("bill", "--input", input).stdout);
    const kw = bill.lines.filter((line: { unit: string }) => line.unit === "kW").map((line: { code: string; quantity: string }) => [line.code, line.quantity]);
    expect(kw).toEqual([
      ["distribution", "213"],
      ["capacity", "201"],
    ]);
  });

  test("the contract sets the power-factor threshold and the municipality its DAP, after IVA", () => {
    // By hand, January 2024 (31 days): supply 197.77 + 971.50 + distribution 3 kW (1,000 / (24 · 31 · 0.57) = 2.36 → 3) · 90.85
    // = 1,441.82. FP 92.85 %; medium voltage with 1,200 kW contracted bills at 95 % from January 2024: ⅗ (95/92.848 − 1) → 1.4 %
    // = +20.19; subtotal 1,462.01; IVA 233.92; DAP of Manzanillo, Colima 10 % = 146.20; total 1,842.13.
    const input = file("contract.json", {
      tariff: "cfe-gdmth",
      period: { start: "2024-01-01", end: "2024-02-01" },
      prices,
      contract: { supplyVoltage: "medium", contractedDemandKw: 1200, state: "Colima", municipality: "Manzanillo" },
      usage: { kwh: { base: 1000, intermedia: 0, punta: 0 }, kvarh: 400, demandKw: { max: 50, punta: 0 } },
    });
    const bill = JSON.parse(wattflow("bill", "--input", input).stdout);
    expect(bill.lines.slice(6).map((line: { name: { es: string }; amount: string }) => [line.name.es, line.amount])).toEqual([
      ["Cargo por factor de potencia", "20.19"],
      ["Subtotal", "1462.01"],
      ["IVA", "233.92"],
      ["DAP", "146.20"],
      ["Total", "1842.13"],
    ]);
  });

  test("the request's municipality picks zone, clock and DAP; an inconsistent clock exits 2 at its path", () => {
    // Manzanillo, Colima: central schedule on Mexico City's clock, DAP 10 % (billing/dap.ts). Sums of January 2024 with
    // 1,000 kWh base: 197.77 + 971.50 + 3 kW · 90.85 = 1,441.82; no kVArh; IVA 230.69; DAP 144.18; total 1,816.69.
    const request = {
      tariff: "cfe-gdmth",
      state: "Colima",
      municipality: "Manzanillo",
      period: { start: "2024-01-01", end: "2024-02-01" },
      prices,
      usage: { kwh: { base: 1000, intermedia: 0, punta: 0 }, demandKw: { max: 50, punta: 0 } },
    };
    expect(JSON.parse(wattflow("bill", "--input", file("manzanillo.json", request)).stdout)).toMatchObject({ dap: "144.18", total: "1816.69" });
    const wrong = wattflow("bill", "--input", file("wrong-clock.json", { ...request, timeZone: "America/Tijuana" }));
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toContain("wrong-clock.json: timeZone: Manzanillo (Colima) is on America/Mexico_City, not America/Tijuana");
  });

  test("a place given only in the contract picks zone and clock; a contract place that disagrees exits 2", () => {
    // Tijuana, Baja California, March 2026 (baja-california winter: no punta hours), given as the README's
    // "contract". Q = 220,000 kWh, d = 31: capacity = Q / (24 · 31 · 0.57) = 220,000 / 424.08 = 518.77 → 519 kW
    // (CFE §7.2, no punta period), not the 201 kW of punta a central-zone reading of the sums gave.
    const request = {
      tariff: "cfe-gdmth",
      contract: { state: "Baja California", municipality: "Tijuana" },
      period: { start: "2026-03-01", end: "2026-04-01" },
      prices,
      usage: { kwh: { base: 190000, intermedia: 30000, punta: 0 }, demandKw: { max: 212.4, punta: 0 } },
    };
    const bill = JSON.parse(wattflow("bill", "--input", file("contract-place.json", request)).stdout);
    expect(bill.lines.find((line: { code: string }) => line.code === "capacity").quantity).toBe("519");
    const clash = wattflow("bill", "--input", file("clash.json", { ...request, state: "Colima", municipality: "Manzanillo" }));
    expect(clash.code).toBe(2);
    expect(clash.stderr).toContain('clash.json: contract.state: the contract\'s state "Baja California" disagrees with state "Colima"');
  });

  test("GDMTO takes one energy price", () => {
    const input = file("gdmto.json", {
      tariff: "cfe-gdmto",
      period: { start: "2026-04-01", end: "2026-05-01" },
      prices: { fixed: "197.77", energy: "1.2000", distribution: "90.85", capacity: "300.00" },
      usage: { kwh: 30000, kvarh: 20000, demandKw: { max: 80 } },
    });
    expect(JSON.parse(wattflow("bill", "--input", input).stdout)).toMatchObject({ total: "80192.64" });
  });

  test.each([
    ["an impossible date", { period: { start: "2026-02-30", end: "2026-04-01" } }, "period.start"],
    ["negative energy", { usage: { kwh: { base: -1, intermedia: 0, punta: 0 }, demandKw: { max: 0, punta: 0 } } }, "usage"],
    ["a missing price", { prices: { ...prices, energy: { base: "1", intermedia: "1" } } }, "prices.energy"],
    ["an unknown zone", { zone: "narnia" }, "zone"],
    // 3,621 days would be billed with one month's fixed charge and cap (Config.cfeBilling.maxPeriodDays: 62).
    ["a ten-year period", { period: { start: "2016-04-01", end: "2026-03-01" } }, "period.end: the period runs 3621 days"],
    // 0.95 read as 0.95 % made every power factor a 2.5 % bonus.
    ["a fraction for the power-factor threshold", { powerFactorThreshold: 0.95 }, "powerFactorThreshold: powerFactorThreshold is a percent"],
    // Tijuana in March is baja-california winter: no punta hours, so no meter measured punta kWh.
    [
      "punta kWh where the period has no punta hours",
      { state: "Baja California", municipality: "Tijuana", usage: { kwh: { base: 1, intermedia: 0, punta: 5 }, demandKw: { max: 0, punta: 0 } } },
      "usage.kwh.punta: 5 kWh in punta, but the billing period has no punta hours",
    ],
    // Each sum is named at its own path, not as "usage is … or …".
    [
      "kWh as a string",
      { usage: { kwh: { base: "100", intermedia: 0, punta: 0 }, demandKw: { max: 0, punta: 0 } } },
      "usage.kwh.base: kwh.base must be a number",
    ],
    // The month's maximum demand includes punta's windows: 500 kW in punta with 10 kW at most cannot be.
    ["punta demand above the maximum", { usage: { kwh: { base: 1, intermedia: 0, punta: 0 }, demandKw: { max: 10, punta: 500 } } }, "usage.demandKw.punta"],
    // The kVArh meters' kWh are part of the period's 1 kWh.
    [
      "kwhWithKvarh above all kWh",
      { usage: { kwh: { base: 1, intermedia: 0, punta: 0 }, kvarh: 1, kwhWithKvarh: 100, demandKw: { max: 0, punta: 0 } } },
      "usage.kwhWithKvarh",
    ],
  ])("%s exits 2 with one line saying where", (_name, change, where) => {
    const input = file("bad.json", {
      tariff: "cfe-gdmth",
      period: { start: "2026-03-01", end: "2026-04-01" },
      prices,
      usage: { kwh: { base: 1, intermedia: 0, punta: 0 }, demandKw: { max: 0, punta: 0 } },
      ...change,
    });
    const result = wattflow("bill", "--input", input);
    expect(result.code).toBe(2);
    expect(result.stderr.trim().split("\n")).toHaveLength(1);
    expect(result.stderr).toContain(`bad.json: ${where}`);
  });
});

describe("wattflow cost", () => {
  const readings = [
    { meterId: "mtr_a", start: "2026-04-07T02:30:00Z", seconds: 300, kwh: 12.5 },
    { meterId: "mtr_a", start: "2026-04-07T02:35:00Z", seconds: 300, kwh: 1.234567 },
    { meterId: "mtr_b", start: "2026-04-07T12:00:00Z", seconds: 300, kwh: 3 },
    { meterId: "mtr_b", start: "2026-04-07T08:00:00Z", seconds: 300, kwh: 0.001 },
  ];
  const pricesFile = () => file("prices.json", prices);

  test("streams each reading back with its period, unit price and cost", () => {
    const input = file("readings.ndjson", `${readings.map((reading) => JSON.stringify(reading)).join("\n")}\n`);
    const result = wattflow("cost", "--tariff", "cfe-gdmth", "--zone", "central", "--prices", pricesFile(), "--input", input);
    expect(result.code).toBe(0);
    expect(
      result.stdout
        .trim()
        .split("\n")
        .map((line) => JSON.parse(line)),
    ).toEqual([
      { ...readings[0], period: "punta", unitPrice: "1.726200", cost: "21.577500" },
      { ...readings[1], period: "punta", unitPrice: "1.726200", cost: "2.131110" },
      { ...readings[2], period: "intermedia", unitPrice: "1.557300", cost: "4.671900" },
      { ...readings[3], period: "base", unitPrice: "0.971500", cost: "0.000972" },
    ]);
  });

  test("--summary sums each period's kWh exactly and rounds its cost to cents once", () => {
    const input = file("readings.ndjson", readings.map((reading) => JSON.stringify(reading)).join("\n"));
    const result = wattflow("cost", "--tariff", "cfe-gdmth", "--zone", "central", "--prices", pricesFile(), "--input", input, "--summary");
    // punta: 13.734567 · 1.7262 = 23.7087… → 23.71; intermedia 4.6719 → 4.67; base 0.0009715 → 0.00; cost 23.71 + 4.67 = 28.38.
    expect(JSON.parse(result.stdout)).toEqual({ readings: 4, kwh: "16.735567", cost: "28.38", byPeriod: { base: "0.00", intermedia: "4.67", punta: "23.71" } });
  });

  test("--summary's cost is the sum of its periods' cents, as a bill's total is the sum of its lines", () => {
    // Monday 2026-04-06, Mexico City (UTC−6): 00:00 is base, 10:00 intermedia. 0.005 kWh at 1 MXN each:
    // each period 0.005 → 0.01 (half away from zero), cost 0.01 + 0.01 = 0.02 (rounding the exact 0.010 once would say 0.01).
    const lines = [
      { meterId: "mtr_a", start: "2026-04-06T06:00:00Z", seconds: 300, kwh: 0.005 },
      { meterId: "mtr_a", start: "2026-04-06T16:00:00Z", seconds: 300, kwh: 0.005 },
    ];
    const input = file("halves.ndjson", lines.map((line) => JSON.stringify(line)).join("\n"));
    const flat = file("unit-prices.json", { fixed: "0", energy: { base: "1", intermedia: "1", punta: "1" }, distribution: "0", capacity: "0" });
    const result = wattflow("cost", "--tariff", "cfe-gdmth", "--zone", "central", "--prices", flat, "--input", input, "--summary");
    expect(JSON.parse(result.stdout)).toEqual({ readings: 2, kwh: "0.01", cost: "0.02", byPeriod: { base: "0.01", intermedia: "0.01", punta: "0.00" } });
  });

  test("a 24-hour gap reading is priced slot by slot in each period it crosses (issue 12, case 2)", () => {
    // Monday 2026-04-06 00:00–24:00 Mexico City (UTC−6) at a flat 10 kW: 240 kWh, 288 slots of 0.833… kWh.
    // GDMTH central, April weekday: base 00–06 (60 kWh × 1 = 60), punta 20–22 (20 kWh × 3 = 60),
    // intermedia 06–20 and 22–24 (160 kWh × 2 = 320): 440.00, where pricing it all at its start gave 240.00 (base).
    const gap = { meterId: "mtr_a", start: "2026-04-06T06:00:00Z", seconds: 86_400, kwh: 240, gap: true };
    const input = file("gap.ndjson", JSON.stringify(gap));
    const flat = file("flat-prices.json", { fixed: "0", energy: { base: "1", intermedia: "2", punta: "3" }, distribution: "0", capacity: "0" });
    const result = wattflow("cost", "--tariff", "cfe-gdmth", "--zone", "central", "--prices", flat, "--input", input, "--summary");
    expect(JSON.parse(result.stdout)).toEqual({ readings: 1, kwh: "240", cost: "440.00", byPeriod: { base: "60.00", intermedia: "320.00", punta: "60.00" } });

    const lines = wattflow("cost", "--tariff", "cfe-gdmth", "--zone", "central", "--prices", flat, "--input", input)
      .stdout.trim()
      .split("\n")
      .map((line) => JSON.parse(line));
    expect(lines).toHaveLength(288);
    expect(lines[0]).toMatchObject({ start: "2026-04-06T06:00:00.000Z", seconds: 300, spanStart: gap.start, quality: "estimated", period: "base" });
    expect(lines[20 * 12]).toMatchObject({ start: "2026-04-07T02:00:00.000Z", period: "punta" });
    // The slots carry the span's energy to the micro-kWh: 240 kWh is 240,000,000 micro-kWh over 288 slots.
    expect(Math.round(lines.reduce((sum, line) => sum + line.kwh * 1e6, 0))).toBe(240_000_000);
  });

  test("a reading with negative energy exits 2 naming its line", () => {
    const input = file("bad.ndjson", `${JSON.stringify(readings[0])}\n${JSON.stringify({ ...readings[1], kwh: -1 })}\n`);
    const result = wattflow("cost", "--tariff", "cfe-gdmth", "--zone", "central", "--prices", pricesFile(), "--input", input, "--summary");
    expect(result.code).toBe(2);
    expect(result.stderr.trim()).toBe(`wattflow: ${input}:2: kwh: kwh must not be negative`);
  });

  test.each([
    ["a __proto__ key", '{"meterId":"mtr_a","start":"2026-04-07T02:35:00Z","kwh":1,"__proto__":{"kwh":999}}', "__proto__"],
    ["a __proto__ key spelt with escapes", '{"meterId":"mtr_a","start":"2026-04-07T02:35:00Z","kwh":1,"\\u005f_proto__":{"kwh":999}}', "__proto__"],
    ["a nested __proto__ key", '{"meterId":"mtr_a","start":"2026-04-07T02:35:00Z","kwh":1,"tags":[{"__proto__":1}]}', "tags.0.__proto__"],
  ])("a line with %s exits 2 naming its line and path, after the good lines before it are written", (_, line, path) => {
    // Line 1 is good, line 2 has the key, line 3 is good: as with any bad line, line 1 is priced and written, then
    // the command stops. Line 1: 12.5 kWh at 20:30 Mexico City on a Monday in April is punta, 12.5 × 1.7262 = 21.5775.
    const input = file("proto.ndjson", `${JSON.stringify(readings[0])}\n${line}\n${JSON.stringify(readings[2])}\n`);
    const result = wattflow("cost", "--tariff", "cfe-gdmth", "--zone", "central", "--prices", pricesFile(), "--input", input);
    expect(result.code).toBe(2);
    expect(result.stderr.trim()).toBe(`wattflow: ${input}:2: ${path}: is a key "__proto__", which would be dropped without a word: name the field you meant`);
    expect(
      result.stdout
        .trim()
        .split("\n")
        .map((text) => JSON.parse(text)),
    ).toEqual([{ ...readings[0], period: "punta", unitPrice: "1.726200", cost: "21.577500" }]);
  });

  test("prices with a __proto__ key exit 2 naming the file and its path, pricing nothing", () => {
    const input = file("readings.ndjson", JSON.stringify(readings[0]));
    const bad = file(
      "proto-prices.json",
      `{"fixed":"197.77","energy":{"base":"0.9715","intermedia":"1.5573","punta":"1.7262","__proto__":{"punta":"9"}},"distribution":"90.85","capacity":"392.66"}`,
    );
    const result = wattflow("cost", "--tariff", "cfe-gdmth", "--zone", "central", "--prices", bad, "--input", input);
    expect(result).toEqual({
      code: 2,
      stdout: "",
      stderr: `wattflow: --prices: ${bad}: energy.__proto__: is a key "__proto__", which would be dropped without a word: name the field you meant\n`,
    });
  });

  test("readings and prices saved with a UTF-8 BOM (Windows Notepad, Excel) and CRLF line ends are read as without them", () => {
    // The first two of `readings` and `prices`, each file starting with U+FEFF, as the first test prices them: line 1 punta
    // 12.5 × 1.7262 = 21.5775, line 2 punta 1.234567 × 1.7262 = 2.13111 (to the micro-peso).
    const input = file("bom.ndjson", `\ufeff${JSON.stringify(readings[0])}\r\n${JSON.stringify(readings[1])}\r\n`);
    const bomPrices = file("bom-prices.json", `\ufeff${JSON.stringify(prices)}\r\n`);
    const result = wattflow("cost", "--tariff", "cfe-gdmth", "--zone", "central", "--prices", bomPrices, "--input", input);
    expect(result).toEqual({
      code: 0,
      stdout:
        '{"meterId":"mtr_a","start":"2026-04-07T02:30:00Z","seconds":300,"kwh":12.5,"period":"punta","unitPrice":"1.726200","cost":"21.577500"}\n' +
        '{"meterId":"mtr_a","start":"2026-04-07T02:35:00Z","seconds":300,"kwh":1.234567,"period":"punta","unitPrice":"1.726200","cost":"2.131110"}\n',
      stderr: "",
    });
  });

  test("a line longer than a read chunk (64 KiB) is priced whole, and the line after it too", () => {
    // A 200,000-character meterId spans four chunks; each line's price as the first test's (its readings 0 and 2):
    // punta 12.5 × 1.7262 = 21.5775, intermedia 3 × 1.5573 = 4.6719.
    const long = { ...readings[0], meterId: `mtr_${"a".repeat(200_000)}` };
    const input = file("long.ndjson", `${JSON.stringify(long)}\r\n${JSON.stringify(readings[2])}\n`);
    const result = wattflow("cost", "--tariff", "cfe-gdmth", "--zone", "central", "--prices", pricesFile(), "--input", input);
    expect(result).toEqual({
      code: 0,
      stdout:
        `{"meterId":"${long.meterId}","start":"2026-04-07T02:30:00Z","seconds":300,"kwh":12.5,"period":"punta","unitPrice":"1.726200","cost":"21.577500"}\n` +
        '{"meterId":"mtr_b","start":"2026-04-07T12:00:00Z","seconds":300,"kwh":3,"period":"intermedia","unitPrice":"1.557300","cost":"4.671900"}\n',
      stderr: "",
    });
  });

  test("missing prices exit 2 naming the file and the price", () => {
    const input = file("readings.ndjson", JSON.stringify(readings[0]));
    const bad = file("no-punta.json", { ...prices, energy: { base: "1", intermedia: "1" } });
    const result = wattflow("cost", "--tariff", "cfe-gdmth", "--zone", "central", "--prices", bad, "--input", input);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`${bad}: energy`);
  });
});

describe("wattflow prices", () => {
  const gdmthPage = "https://app.cfe.mx/Aplicaciones/CCFE/Tarifas/TarifasCRENegocio/Tarifas/GranDemandaMTH.aspx";

  test("list: the published months per tariff and division, each row with its source", () => {
    const result = wattflow("prices", "list", "--division", "Noroeste", "--json");
    const { rows } = JSON.parse(result.stdout) as { rows: { month: string; fixed: string; energyPunta: string; source: { consulted: string } }[] };
    expect(rows.map((row) => row.month)).toEqual(["2026-01", "2026-02", "2026-03", "2026-04", "2026-05", "2026-06", "2026-07", "2026-08", "2026-09"]);
    // March 2026 is the reference's Noroeste example (../shared/reference/cfe-gdmth.md), as the dataset consulted it for Ahome, Sinaloa.
    expect(rows[2]).toMatchObject({ fixed: "197.77", energyPunta: "1.7262", source: { consulted: "AHOME, SINALOA" } });
  });

  test("list: one line per tariff and division with its months, the municipality consulted, the page and the dataset commit", () => {
    const result = wattflow("prices", "list", "--division", "Bajío");
    const via = "EnergiaHollman/tarifas-electricas-mx data/tarifas.json@de9442f911d892ba91452cc55536cebff011c588";
    expect(result.stdout).toBe(
      `cfe-gdmth\tbajío\t2026-01 2026-02 2026-03 2026-04 2026-05 2026-06 2026-07 2026-08 2026-09\tAGUASCALIENTES, AGUASCALIENTES\t${gdmthPage}\t${via}\n`,
    );
  });

  test("list --csv: the shipped rows as the prices import file", () => {
    const result = wattflow("prices", "list", "--division", "valle de mexico sur", "--csv");
    const lines = result.stdout.trim().split("\n");
    expect(lines).toHaveLength(10);
    // CFE's GDMTH Valle de México Sur, January 2026, as shipped (consulted for Coyoacán): 422.07 $/month, 67.68 and 401.78 $/kW.
    expect(lines.slice(0, 2)).toEqual([
      "month,division,tariff,fixed,distribution,capacity,base,intermedia,punta,energy",
      "2026-01,valle de méxico sur,GDMTH,422.07,67.68,401.78,1.117,1.8419,2.1538,",
    ]);
  });

  test("list: an unknown division or tariff exits 2 naming it rather than listing nothing", () => {
    const division = wattflow("prices", "list", "--division", "Narnia");
    expect(division.code).toBe(2);
    expect(division.stderr).toContain('--division: unknown CFE division "Narnia" (Baja California, ');
    const tariff = wattflow("prices", "list", "--tariff", "GDMTH");
    expect(tariff.code).toBe(2);
    expect(tariff.stderr).toContain('--tariff: "GDMTH" is not cfe-gdmth or cfe-gdmto');
  });

  test("import: CFE's published table becomes the prices import file", () => {
    const table = (conceptos: unknown[]) => ({ tarifa: "GDMTO", region: "VALLE DE MEXICO CENTRO", periodo_cfe: "ENE-26", conceptos });
    const concepts = [
      { cargo: "Fijo", int_horario: "-", unidades: "$/mes", valor: 466.83 },
      { cargo: "Variable (Energía)", int_horario: "-", unidades: "$/kWh", valor: 1.699 },
      { cargo: "Distribución", int_horario: "-", unidades: "$/kW", valor: 64.12 },
      { cargo: "Capacidad", int_horario: "-", unidades: "$/kW", valor: 373.75 },
    ];
    const result = wattflow("prices", "import", "--input", file("gdmto-table.json", [table(concepts)]));
    expect(result.stdout).toBe(
      "month,division,tariff,fixed,distribution,capacity,base,intermedia,punta,energy\n2026-01,valle de méxico centro,GDMTO,466.83,64.12,373.75,,,,1.699\n",
    );
    const bad = wattflow("prices", "import", "--input", file("bad-table.json", [table(concepts.slice(0, 3))]));
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim()).toBe(`wattflow: ${join(dir, "bad-table.json")}: 0: conceptos: the table has no "Capacidad" charge`);
    // A table of another shape exits 2 naming the field, not with a TypeError.
    const other = wattflow("prices", "import", "--input", file("other-table.json", [{ x: 1 }]));
    expect(other.code).toBe(2);
    expect(other.stderr.trim()).toBe(`wattflow: ${join(dir, "other-table.json")}: 0: tarifa: tarifa is required: GDMTH or GDMTO`);
  });
});
