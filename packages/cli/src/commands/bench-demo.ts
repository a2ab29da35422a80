/**
 * `wattflow bench demo-start`: starts `wattflow start` on a fresh data folder, as `npm start` does, and
 * prints how long until /health answers 200, how long until the demo year is visible (the usage API
 * answers with energy in 13 local months), the slowest /health answer while the year loads, and how long
 * until the whole year (closes and imports included) is done. Issue 16's targets: 10 s, 60 s.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { DemoInfo } from "@wattflow/local/stack/demo";
import type { Command } from "commander";
import { CliError } from "../client";

const bin = fileURLToPath(new URL("../../bin/wattflow.mjs", import.meta.url));

export function registerBenchDemo(bench: Command): void {
  bench
    .command("demo-start")
    .description("time to /health, time until the demo year is visible, slowest /health while it loads (fresh data folder)")
    .option("--timeout <s>", "give up after this many seconds", "1800")
    .option("--json", "print the figures as JSON on the last line")
    .action(async (options: { timeout: string; json?: boolean }) => {
      const figures = await benchDemoStart({ timeoutMs: Number(options.timeout) * 1000, log: console.error });
      console.log(options.json ? JSON.stringify(figures) : figures);
    });
}

/** Figures in seconds; `healthMaxMs` is the slowest of the /health answers asked every 250 ms during the load. */
export async function benchDemoStart(options: { timeoutMs: number; log: (line: string) => void }) {
  const dir = mkdtempSync(join(tmpdir(), "wattflow-bench-demo-"));
  const { DATABASE_URL: _ignored, ...env } = process.env;
  const began = Date.now();
  const child = spawn(process.execPath, [bin, "start", "--data", dir, "--port", "0", "--kinesis-port", "0", "--no-demo-traffic"], {
    env,
    stdio: ["ignore", "pipe", "inherit"],
  });
  let output = "";
  child.stdout?.on("data", (chunk) => {
    output += chunk;
  });
  const seconds = (ms: number) => Math.round(ms / 100) / 10;
  try {
    const demo = await healthy(child, dir, began, options.timeoutMs);
    const healthS = seconds(Date.now() - began);
    options.log(`bench: /health 200 after ${healthS} s; waiting for the demo year`);
    let healthMaxMs = 0;
    let healthChecks = 0;
    const healthErrors: string[] = [];
    let stop = false;
    const prober = (async () => {
      while (!stop) {
        const asked = performance.now();
        // A fresh connection each time: a kept-alive one the server closed while busy is a reset, not an answer.
        const response = await fetch(`${demo.apiUrl}/health`, { headers: { connection: "close" } }).catch((error: Error) => {
          healthErrors.push(error.message);
          return undefined;
        });
        await response?.arrayBuffer();
        if (response) healthMaxMs = Math.max(healthMaxMs, performance.now() - asked);
        healthChecks++;
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
    })();
    let visibleS: number | null = null;
    let doneS: number | null = null;
    const year = demo.year as NonNullable<DemoInfo["year"]>;
    const from = year.from.slice(0, 10);
    const to = new Date(Date.parse(year.to) + 86_400_000).toISOString().slice(0, 10);
    while (Date.now() - began < options.timeoutMs && doneS === null && child.exitCode === null) {
      if (visibleS === null) {
        const response = await fetch(`${demo.apiUrl}/v1/factories/${demo.factoryId}/usage?from=${from}T00:00:00Z&to=${to}T00:00:00Z&bucket=1d`, {
          headers: { authorization: `Bearer ${demo.apiToken}`, connection: "close" },
        });
        const body = (await response.json()) as { buckets: { start: string; kwh: number }[] };
        // Local months of the plant (America/Hermosillo, UTC−7 all year).
        const months = new Set(
          body.buckets.filter((bucket) => bucket.kwh > 0).map((bucket) => new Date(Date.parse(bucket.start) - 7 * 3_600_000).toISOString().slice(0, 7)),
        );
        if (months.size >= 13) {
          visibleS = seconds(Date.now() - began);
          options.log(`bench: 13 months visible after ${visibleS} s`);
        }
      }
      if (/demo year: ready/.test(output)) doneS = seconds(Date.now() - began);
      await new Promise((resolve) => setTimeout(resolve, 2000));
    }
    stop = true;
    await prober;
    const stored = /demo year: (\d+) readings stored in ([\d.]+) s/.exec(output);
    return {
      healthS,
      yearVisibleS: visibleS,
      yearDoneS: doneS,
      readings: stored ? Number(stored[1]) : null,
      readingsPerSecond: stored ? Math.round(Number(stored[1]) / Number(stored[2])) : null,
      healthMaxMs: Math.round(healthMaxMs),
      healthChecks,
      healthErrors: healthErrors.length,
      exitedEarly: child.exitCode !== null ? `the stack exited ${child.exitCode}: ${output.slice(-500)}` : null,
    };
  } finally {
    await new Promise<void>((resolve) => {
      if (child.exitCode !== null) return resolve();
      child.once("exit", () => resolve());
      child.kill("SIGTERM");
    });
    rmSync(dir, { recursive: true, force: true });
  }
}

async function healthy(child: ChildProcess, dir: string, began: number, timeoutMs: number): Promise<DemoInfo> {
  const exited = new Promise<never>((_, reject) => child.once("exit", (code) => reject(new CliError(`the stack exited (${code}) before it was ready`))));
  const ready = (async () => {
    for (;;) {
      const path = join(dir, "demo.json");
      if (existsSync(path)) {
        const demo = JSON.parse(readFileSync(path, "utf8")) as DemoInfo;
        const health = await fetch(`${demo.apiUrl}/health`).catch(() => undefined);
        if (health?.status === 200) return demo;
      }
      if (Date.now() - began > timeoutMs) throw new CliError(`the stack was not healthy within ${timeoutMs / 1000} s`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  })();
  return Promise.race([ready, exited]);
}
