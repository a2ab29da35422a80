import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { Testing } from "@wattflow/core/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningStack, startStack, wattflow } from "./support";

type Outcome = { status: string; result?: { rows: number; inserted: number; updated: number; unchanged: number }; error?: Record<string, string> };

const lastLine = (text: string) => text.trim().split("\n").pop() as string;

describe("wattflow import and runs: workflows on the local stack", () => {
  const data = Testing.temporaryDir();
  let stack: RunningStack;
  let env: Record<string, string>;
  beforeAll(async () => {
    stack = await startStack(data.path, ["--no-demo-traffic", "--demo-history", "0"]);
    env = { WATTFLOW_DATA: data.path };
  });
  afterAll(async () => {
    await stack?.stop();
    data.remove();
  });

  const file = (name: string, lines: string[]) => {
    const path = join(data.path, name);
    writeFileSync(path, `${lines.join("\n")}\n`);
    return path;
  };
  const good = () => file("production-march.csv", ["date,line,units,shift", ...stack.demo.lines.map((line, index) => `2026-03-02,${line},${100 + index},A`)]);

  it("imports a valid production file: the execution id alone on the last line, then `runs watch` ends SUCCEEDED with the row count", () => {
    // Act
    const started = wattflow(["import", "production", good()], env);
    const executionArn = lastLine(started.stdout);
    const watched = wattflow(["runs", "watch", executionArn], env);
    const json = wattflow(["runs", "watch", executionArn, "--json"], env);

    // Assess
    expect(started.status).toBe(0);
    expect(executionArn).toMatch(/^arn:aws:states:[^:]+:\d{12}:execution:wattflow-local-ImportFiles:import-[0-9a-z]+$/);
    expect(watched.status).toBe(0);
    expect(watched.stdout).toContain(`ImportFiles SUCCEEDED`);
    expect(watched.stdout).toContain(`${stack.demo.lines.length} rows (${stack.demo.lines.length} inserted, 0 updated, 0 unchanged)`);
    expect(json.status).toBe(0);
    const outcome = JSON.parse(lastLine(json.stdout)) as Outcome;
    expect(outcome).toMatchObject({ status: "SUCCEEDED", result: { rows: stack.demo.lines.length } });
    expect(outcome.error).toBeUndefined();
  });

  it("re-importing the same file changes nothing", () => {
    const executionArn = lastLine(wattflow(["import", "production", good()], env).stdout);
    const json = wattflow(["runs", "watch", executionArn, "--json"], env);

    expect(JSON.parse(lastLine(json.stdout))).toMatchObject({
      status: "SUCCEEDED",
      result: { rows: stack.demo.lines.length, inserted: 0, updated: 0, unchanged: stack.demo.lines.length },
    });
  });

  it("ends FAILED on a file with a bad row, exit code 1, the explanation naming the row's line", () => {
    const bad = file("production-bad.csv", ["date,line,units", `2026-03-03,${stack.demo.lines[0]},10`, `2026-03-03,${stack.demo.lines[1]},ten`]);

    const executionArn = lastLine(wattflow(["import", "production", bad], env).stdout);
    const json = wattflow(["runs", "watch", executionArn, "--json"], env);
    const text = wattflow(["runs", "watch", executionArn], env);

    expect(json.status).toBe(1);
    const outcome = JSON.parse(lastLine(json.stdout)) as Outcome;
    expect(outcome.status).toBe("FAILED");
    expect(outcome.result).toBeUndefined();
    expect(Object.keys(outcome.error ?? {}).sort()).toEqual(["explanation", "message", "state", "type"]);
    expect(outcome.error).toMatchObject({ state: "ValidateFile", type: "ImportValidationError" });
    expect(outcome.error?.message).toContain('line 3 (units): units must be a non-negative number, got "ten"');
    expect(outcome.error?.explanation).toContain("line 3 of production-bad.csv");
    expect(text.status).toBe(1);
    expect(text.stdout).toMatch(/FAILED after .* in ValidateFile \(item 0 of ValidateFiles\)/);
  });

  it("lists the runs, newest first", () => {
    const listed = wattflow(["runs", "list"], env);

    expect(listed.status).toBe(0);
    const rows = listed.stdout.split("\n").filter((line) => line.includes("ImportFiles"));
    expect(rows.map((row) => row.split(/\s+/)[2])).toEqual(["FAILED", "SUCCEEDED", "SUCCEEDED"]);
  });

  it("starts a monthly close and watches it to its result", () => {
    const started = wattflow(["runs", "start", "close", "--month", "2026-03"], env);
    const json = wattflow(["runs", "watch", lastLine(started.stdout), "--json"], env);

    expect(started.status).toBe(0);
    expect(lastLine(started.stdout)).toMatch(/:execution:wattflow-local-MonthlyClose:/);
    // The demo factory has no readings in March here (no demo history): the close skips it and says why.
    expect(JSON.parse(lastLine(json.stdout))).toMatchObject({
      status: "SUCCEEDED",
      result: { month: "2026-03", factories: 0, skipped: [{ reason: expect.stringContaining("has no readings in its billing period") }] },
    });
  });

  it("refuses an unknown kind before uploading anything", () => {
    const refused = wattflow(["import", "inventory", good()], env);
    expect(refused.status).not.toBe(0);
    expect(refused.stderr).toContain("Allowed choices are production, bill, prices");
  });
});
