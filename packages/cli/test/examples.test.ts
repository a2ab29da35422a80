import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, test } from "vitest";

const bin = fileURLToPath(new URL("../bin/wattflow.mjs", import.meta.url));
const root = fileURLToPath(new URL("../../../", import.meta.url));

/** The README's `npx wattflow …` commands that use the files under examples/, as written. */
const commands = readFileSync(`${root}README.md`, "utf8")
  .split("\n")
  .filter((line) => /^npx wattflow (bill|cost) .*examples\//.test(line))
  .map((line) => (line.split("#")[0] as string).trim().split(/\s+/).slice(2));

function run(args: string[]) {
  const result = spawnSync(process.execPath, [bin, ...args], { cwd: root, encoding: "utf8", env: { ...process.env, WATTFLOW_API: "", WATTFLOW_TOKEN: "" } });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe("README commands on examples/", () => {
  test("the README lists the bill and both cost commands", () => {
    expect(commands.map((args) => args.join(" "))).toEqual([
      "bill --input examples/bill.json",
      "cost --tariff cfe-gdmth --zone central --prices examples/prices.json --input examples/readings.ndjson",
      "cost --tariff cfe-gdmth --zone central --prices examples/prices.json --input examples/readings.ndjson --summary",
    ]);
  });

  test("bill: prices given as JSON numbers bill exactly", () => {
    // Act
    const result = run(commands[0] as string[]);
    // Assess. By hand: "fixed": 197.77 (a number) → 1 month · 197.77 = 197.77; base 40,000 kWh · 0.9715 (a number) = 38,860.00.
    expect(result.code).toBe(0);
    const bill = JSON.parse(result.stdout);
    expect(bill.lines[0]).toMatchObject({ code: "fixed", quantity: "1", unitPrice: "197.77", amount: "197.77" });
    expect(bill.lines[1]).toMatchObject({ code: "energy-base", quantity: "40000", unitPrice: "0.9715", amount: "38860.00" });
  });

  test("cost: every reading back priced, the 1-hour reading as its twelve 5-minute slots", () => {
    // Act
    const result = run(commands[1] as string[]);
    // Assess. CFE GDMTH central, summer weekday (from April's first Sunday): base 0–6 h, intermedia 6–20 h, punta 20–22 h
    // local (UTC−6). 02:30Z on 7 April = 20:30 local → punta: 12.5 · 1.7262 = 21.5775. 18:00Z = 12:00 → intermedia:
    // 3.75 · 1.5573 = 5.839875. The 24 kWh hour from 05:30 local: 6 slots of 2 kWh in base, 6 in intermedia.
    expect(result.code).toBe(0);
    const lines = result.stdout
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line));
    expect(lines).toHaveLength(3 + 12);
    expect(lines[0]).toMatchObject({ period: "punta", unitPrice: "1.726200", cost: "21.577500" });
    expect(lines[2]).toMatchObject({ meterId: "mtr_line1", period: "intermedia", cost: "5.839875" });
    expect(lines.slice(3).map((line) => line.period)).toEqual([...Array(6).fill("base"), ...Array(6).fill("intermedia")]);
  });

  test("cost --summary: each period's cost rounded to cents once, the cost their sum", () => {
    // Act
    const result = run(commands[2] as string[]);
    // Assess. By hand: punta (12.5 + 12.25) · 1.7262 = 42.72345; intermedia (3.75 + 12) · 1.5573 = 24.527475;
    // base 12 · 0.9715 = 11.658; each to the cent 42.72, 24.53, 11.66; cost their sum 78.91.
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({ readings: 4, kwh: "52.5", cost: "78.91", byPeriod: { base: "11.66", intermedia: "24.53", punta: "42.72" } });
  });
});

describe("wattflow cost on bad input", () => {
  test("a bad line stops the command with its line number after the good lines before it are written", () => {
    // Prepare
    const dir = mkdtempSync(join(tmpdir(), "wattflow-cost-bad-"));
    const input = join(dir, "readings.ndjson");
    writeFileSync(
      input,
      [
        '{"meterId":"a","start":"2026-04-07T02:30:00Z","kwh":1}',
        '{"meterId":"a","start":"2026-04-07T02:35:00Z","kwh":-1}',
        '{"meterId":"a","start":"2026-04-07T02:40:00Z","kwh":1}',
      ].join("\n"),
    );
    // Act
    const result = run(["cost", "--tariff", "cfe-gdmth", "--zone", "central", "--prices", "examples/prices.json", "--input", input]);
    // Assess: line 1 priced (20:30 local, punta: 1 · 1.7262), line 2 named, line 3 not reached.
    expect(result.code).toBe(2);
    expect(
      result.stdout
        .trim()
        .split("\n")
        .map((line) => JSON.parse(line).cost),
    ).toEqual(["1.726200"]);
    expect(result.stderr.trim()).toBe(`wattflow: ${input}:2: kwh: kwh must not be negative`);
  });
});
