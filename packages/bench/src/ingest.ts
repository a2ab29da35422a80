/**
 * `npm run bench:ingest`: starts a local stack in a child process on a fresh data folder, posts
 * readings through POST /v1/ingest as gateways do, and measures the whole path — POST → stream →
 * consumer → Postgres — by each reading's storedAt.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { CliError } from "@wattflow/cli/client";
import { round } from "@wattflow/core/util/number";
import type { Command } from "commander";
import { benchCommand, numberOption, printFigures } from "./command";

type Demo = { apiUrl: string; deviceToken: string; meterIds: string[]; apiToken: string; factoryId: string };

const bin = fileURLToPath(new URL("../../cli/bin/wattflow.mjs", import.meta.url));

export function registerBenchIngest(bench: Command): void {
  benchCommand(bench, "ingest", "readings per second and POST→stored latency through the local stack")
    .option("--readings <n>", "readings to post", numberOption("--readings"), 60_000)
    .option("--batch <n>", "readings per POST", numberOption("--batch"), 500)
    .option("--concurrency <n>", "POSTs in flight", numberOption("--concurrency"), 4)
    .option("--rate <n>", "readings per second to offer (default: as fast as the API answers)", numberOption("--rate", { min: 0, whole: false }))
    .action(async ({ json, ...options }: { readings: number; batch: number; concurrency: number; rate?: number; json?: boolean }) =>
      printFigures(await benchIngest({ ...options, log: console.error }), json),
    );
}

export async function benchIngest(options: { readings: number; batch: number; concurrency: number; rate?: number; log: (line: string) => void }) {
  const dir = mkdtempSync(join(tmpdir(), "wattflow-bench-"));
  const { DATABASE_URL: _ignored, ...env } = process.env;
  // WATTFLOW_BENCH_NODE_ARGS lets a profiler in (e.g. "--cpu-prof --cpu-prof-dir=.bench/prof").
  const nodeArgs = process.env.WATTFLOW_BENCH_NODE_ARGS?.split(" ").filter(Boolean) ?? [];
  const child = spawn(process.execPath, [...nodeArgs, bin, "start", "--data", dir, "--port", "0", "--kinesis-port", "0", "--no-demo-traffic"], {
    env,
    stdio: ["ignore", "pipe", "inherit"],
  });
  try {
    const demo = await waitForStack(child, dir);
    options.log(
      `bench: stack up at ${demo.apiUrl}; posting ${options.readings} readings in batches of ${options.batch}, ${options.concurrency} in flight${options.rate ? `, offered at ${options.rate}/s` : ""}`,
    );
    const intervalsPerMeter = Math.ceil(options.readings / demo.meterIds.length);
    // Intervals from two years back: the demo only writes the last few days.
    const origin = Math.floor((Date.now() - 2 * 365 * 86_400_000) / 300_000) * 300_000;
    const all: Record<string, unknown>[] = [];
    for (let interval = 0; interval < intervalsPerMeter && all.length < options.readings; interval++) {
      for (const meterId of demo.meterIds) {
        if (all.length >= options.readings) break;
        all.push({ meterId, start: new Date(origin + interval * 300_000).toISOString(), seconds: 300, kwh: 10 + (interval % 7), kvarh: 4, pf: 0.92 });
      }
    }
    const batches: { readings: Record<string, unknown>[]; postedAt: number }[] = [];
    for (let index = 0; index < all.length; index += options.batch) batches.push({ readings: all.slice(index, index + options.batch), postedAt: 0 });

    const began = Date.now();
    let next = 0;
    const worker = async () => {
      while (next < batches.length) {
        const index = next++;
        const batch = batches[index] as (typeof batches)[number];
        // With --rate, batch i is offered no earlier than i × batch / rate seconds after the start:
        // latency then measures the pipeline at that load, not the queue a flood builds.
        if (options.rate) {
          const due = began + ((index * options.batch) / options.rate) * 1000;
          if (due > Date.now()) await new Promise((resolve) => setTimeout(resolve, due - Date.now()));
        }
        for (;;) {
          batch.postedAt = Date.now();
          const response = await fetch(`${demo.apiUrl}/v1/ingest`, {
            method: "POST",
            headers: { authorization: `Bearer ${demo.deviceToken}`, "content-type": "application/json" },
            body: JSON.stringify({ readings: batch.readings }),
          });
          const body = (await response.json()) as { accepted?: number };
          if (response.status === 503) {
            await new Promise((resolve) => setTimeout(resolve, 200));
            continue;
          }
          if (response.status !== 200 || body.accepted !== batch.readings.length)
            throw new CliError(`ingest answered ${response.status}: ${JSON.stringify(body).slice(0, 300)}`);
          break;
        }
      }
    };
    await Promise.all(Array.from({ length: options.concurrency }, worker));
    const postedMs = Date.now() - began;

    const from = new Date(origin).toISOString();
    const to = new Date(origin + intervalsPerMeter * 300_000).toISOString();
    for (;;) {
      const usage = (await get(demo, `/v1/factories/${demo.factoryId}/usage?from=${from}&to=${to}&bucket=1d`)) as { totals: { readings: number } };
      if (usage.totals.readings >= all.length) break;
      if (Date.now() - began > 600_000) throw new CliError(`only ${usage.totals.readings} of ${all.length} readings stored after 10 minutes`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }

    const postedAt = new Map<string, number>();
    for (const batch of batches) for (const reading of batch.readings) postedAt.set(`${reading.meterId}@${reading.start}`, batch.postedAt);
    const latencies: number[] = [];
    let lastStored = 0;
    for (const meterId of demo.meterIds) {
      const { readings } = (await get(demo, `/v1/meters/${meterId}/readings?from=${from}&to=${to}`)) as { readings: { start: string; storedAt: string }[] };
      for (const reading of readings) {
        const stored = Date.parse(reading.storedAt);
        lastStored = Math.max(lastStored, stored);
        const posted = postedAt.get(`${meterId}@${reading.start}`);
        if (posted !== undefined) latencies.push(stored - posted);
      }
    }
    latencies.sort((a, b) => a - b);
    const seconds = (lastStored - began) / 1000;
    const figures = {
      readings: all.length,
      seconds: round(seconds, 2),
      postSeconds: round(postedMs / 1000, 2),
      readingsPerSecond: Math.round(all.length / seconds),
      p50Ms: percentile(latencies, 0.5),
      p99Ms: percentile(latencies, 0.99),
    };
    options.log(
      `bench: ${figures.readings} readings stored in ${figures.seconds} s → ${figures.readingsPerSecond}/s; POST→stored p50 ${figures.p50Ms} ms, p99 ${figures.p99Ms} ms`,
    );
    return figures;
  } finally {
    child.kill("SIGTERM");
    await new Promise((resolve) => child.once("exit", resolve));
    rmSync(dir, { recursive: true, force: true });
  }
}

async function get(demo: Demo, path: string): Promise<unknown> {
  const response = await fetch(`${demo.apiUrl}${path}`, { headers: { authorization: `Bearer ${demo.apiToken}` } });
  if (!response.ok) throw new CliError(`GET ${path} answered ${response.status}: ${await response.text()}`);
  return response.json();
}

async function waitForStack(child: ChildProcess, dir: string): Promise<Demo> {
  const began = Date.now();
  const exited = new Promise<never>((_, reject) => child.once("exit", (code) => reject(new CliError(`the stack exited (${code}) before it was ready`))));
  child.stdout?.resume();
  const ready = (async () => {
    for (;;) {
      const path = join(dir, "demo.json");
      if (existsSync(path)) {
        const demo = JSON.parse(readFileSync(path, "utf8")) as Demo;
        const health = await fetch(`${demo.apiUrl}/health`).catch(() => undefined);
        if (health?.status === 200) return demo;
      }
      if (Date.now() - began > 60_000) throw new CliError("the stack was not healthy within 60 s");
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  })();
  return Promise.race([ready, exited]);
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] as number;
}
