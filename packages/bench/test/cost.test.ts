import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, test } from "vitest";

const bin = fileURLToPath(new URL("../bin/wattflow-bench.mjs", import.meta.url));

/** Runs `wattflow-bench` (what `npm run bench:*` runs) in a child process. */
function bench(...args: string[]) {
  const result = spawnSync(process.execPath, [bin, ...args], { encoding: "utf8" });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe("bench cost", () => {
  test("--json ends with the figures line after checking the engine against DuckDB", () => {
    const result = bench("cost", "--readings", "20000", "--meters", "20", "--runs", "1", "--end-to-end", "20000", "--json");
    expect(result.code).toBe(0);
    const figures = result.stdout.trim().split("\n");
    const last = JSON.parse(figures.at(-1) as string);
    // The CLI end to end beside the yardstick script and DuckDB, which agreed with its count and total cost.
    const [endToEnd] = JSON.parse(figures.at(-2) as string).endToEnd;
    expect(endToEnd).toMatchObject({ readings: 20000, yardstick: expect.stringMatching(/^(pandas|python-csv)$/) });
    expect(endToEnd.cliOverYardstick).toBeGreaterThan(0);
    expect(endToEnd.cliOverDuckdb).toBeGreaterThan(0);
    expect(result.stderr).toContain("wattflow cost and DuckDB agree on 20000 readings");
    expect(Object.keys(last)).toEqual(["readings", "seconds", "readingsPerSecond", "duckdbSeconds", "ratio"]);
    expect(last.readings).toBe(20000);
    expect(last.ratio).toBeGreaterThan(0);
    expect(result.stderr).toContain("sampled readings and the totals agree");
  });
});

describe("bench options", () => {
  test("a count that is not a whole number stops the benchmark with exit code 2, naming the option", () => {
    const result = bench("usage", "--runs", "1.5");

    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--runs: must be a whole number of at least 1, not "1.5"');
  });

  test("a count below its least stops the benchmark before it starts", () => {
    const result = bench("kpi", "--runs", "-1");

    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--runs: must be a whole number of at least 0, not "-1"');
  });
});
