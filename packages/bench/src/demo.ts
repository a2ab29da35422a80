/**
 * `npm run bench:demo [-- DAYS]`: `wattflow start` in a fresh temporary data folder with DAYS of demo history
 * (400 by default, as a user gets it), then how long until GET /health answers 200 and until the year is
 * visible: the loader's progress done (GET /v1/health → demoHistory), the oldest whole month's readings in
 * the usage API, and a closed bill for every whole past month; meanwhile the slowest /health answer, and the stack's
 * CPU seconds at the end. Prints JSON; the folder is removed after.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const days = process.argv[2] ?? "400";
const bin = fileURLToPath(new URL("../../cli/bin/wattflow.mjs", import.meta.url));
const dataDir = mkdtempSync(join(tmpdir(), "wattflow-bench-demo-"));
const timeoutMs = Number(process.env.BENCH_DEMO_TIMEOUT_MS ?? 1_800_000);

const { DATABASE_URL: _none, ...env } = process.env;
const began = performance.now();
const seconds = () => Math.round(performance.now() - began) / 1000;
const child: ChildProcess = spawn(process.execPath, [bin, "start", "--data", dataDir, "--port", "0", "--kinesis-port", "0", "--demo-history", days], {
  env: { ...env, WATTFLOW_NO_CONSOLE_BUILD: "1" },
});
let output = "";
child.stdout?.on("data", (chunk) => {
  output += chunk;
});
child.stderr?.on("data", (chunk) => {
  output += chunk;
});
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** CPU seconds (user + system, every thread) a process has used, from /proc on Linux; null elsewhere. */
function cpuSecondsOf(pid: number | undefined): number | null {
  if (process.platform !== "linux" || pid === undefined) return null;
  // Fields 14 and 15 of /proc/PID/stat (after the command in parentheses) are utime and stime, in clock ticks (100 a second on Linux).
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

type Progress = { status: string; months: number; monthsLoaded: number; stored: number; oldestLoaded: string | null; error?: string };
type Bill = { month: string; source: "wattflow" | "utility"; coverage: string | null; readings?: number };

/** A GET; a kept-alive connection the server closes as the request goes out is reset (ECONNRESET), and the GET sent again once. */
function send(url: string, init?: RequestInit): Promise<Response> {
  return fetch(url, init).catch((error: Error & { cause?: { code?: string } }) => {
    if (error.cause?.code !== "ECONNRESET") throw error;
    return fetch(url, init);
  });
}

const cpu: { health?: number | null; loaded?: number | null } = {};

async function main() {
  let apiUrl: string | undefined;
  let healthSeconds: number | undefined;
  while (healthSeconds === undefined) {
    if (child.exitCode !== null) throw new Error(`wattflow start exited with ${child.exitCode}:\n${output}`);
    apiUrl ??= /API\s+(http:\/\/\S+)/.exec(output)?.[1];
    if (apiUrl && (await fetch(`${apiUrl}/health`).catch(() => undefined))?.status === 200) {
      healthSeconds = seconds();
      cpu.health = cpuSecondsOf(child.pid);
    } else await sleep(100);
  }
  const demo = JSON.parse(readFileSync(join(dataDir, "demo.json"), "utf8")) as { operatorToken: string; apiToken: string; factoryId: string };
  const get = async <T>(path: string, token = demo.apiToken): Promise<T> => {
    const response = await send(`${apiUrl}${path}`, { headers: { authorization: `Bearer ${token}` } });
    if (!response.ok) throw new Error(`${path}: ${response.status} ${await response.text()}`);
    return (await response.json()) as T;
  };
  const marks: Record<string, number> = {};
  let progress: Progress | undefined;
  // The load must not keep /health waiting: poll it four times a second meanwhile and keep the slowest answer.
  let healthWorstMs = 0;
  let polling = true;
  const poller = (async () => {
    while (polling) {
      const sent = performance.now();
      await send(`${apiUrl}/health`).then((response) => response.arrayBuffer());
      healthWorstMs = Math.max(healthWorstMs, performance.now() - sent);
      await sleep(250);
    }
  })();
  for (;;) {
    if (seconds() * 1000 > timeoutMs) throw new Error(`the history was not loaded within ${timeoutMs / 1000} s: ${JSON.stringify(progress)}`);
    const health = await get<{ components: { demoHistory?: { detail: Progress } } }>("/v1/health", demo.operatorToken);
    progress = health.components.demoHistory?.detail;
    if (progress && progress.monthsLoaded >= 1) marks.newestMonth ??= seconds();
    if (progress && progress.months > 1 && progress.monthsLoaded >= progress.months / 2) marks.halfTheMonths ??= seconds();
    if (progress?.status === "failed") throw new Error(`the history failed: ${progress.error}`);
    if (progress?.status === "done") break;
    await sleep(500);
  }
  marks.loaded = seconds();
  cpu.loaded = cpuSecondsOf(child.pid);
  polling = false;
  await poller;
  // The year as a client sees it: the oldest month's readings and a closed bill for each whole past month.
  const oldest = progress.oldestLoaded as string;
  const from = new Date(`${oldest}-01T06:00:00Z`);
  const to = new Date(Date.UTC(from.getUTCFullYear(), from.getUTCMonth() + 1, 1, 6));
  const usage = await get<{ totals: { kwh: number; readings: number; cost: number } }>(
    `/v1/factories/${demo.factoryId}/usage?from=${from.toISOString()}&to=${to.toISOString()}&bucket=1d`,
  );
  const bills = await get<{ bills: Bill[] } | Bill[]>(`/v1/factories/${demo.factoryId}/bills`);
  const list = Array.isArray(bills) ? bills : bills.bills;
  console.log(
    JSON.stringify(
      {
        days: Number(days),
        healthSeconds,
        ...Object.fromEntries(Object.entries(marks).map(([key, value]) => [`${key}Seconds`, value])),
        healthWorstMs: Math.round(healthWorstMs),
        // The stack's CPU seconds when /health first answered and when the history was loaded: the load's own
        // cost is their difference, steadier than wall-clock seconds on a busy machine.
        stackCpuSeconds: cpu,
        loadAverage: loadavg().map((value) => Math.round(value * 100) / 100),
        months: progress.months,
        readingsStored: progress.stored,
        oldestMonth: { month: oldest, ...usage.totals },
        closedBills: list
          .filter((bill) => bill.source === "wattflow")
          .map((bill) => bill.month)
          .sort(),
        utilityBills: list.filter((bill) => bill.source === "utility").map((bill) => bill.month),
        // The closed bills' lowest coverage: the demo's whole months are read in full (1.0000).
        lowestCoverage: list
          .filter((bill) => bill.source === "wattflow")
          .map((bill) => bill.coverage)
          .sort()[0],
      },
      null,
      2,
    ),
  );
}

try {
  await main();
} catch (error) {
  console.error(`${output.slice(-4000)}\n`);
  throw error;
} finally {
  child.kill("SIGTERM");
  await new Promise((resolve) => (child.exitCode === null ? child.once("exit", resolve) : resolve(null)));
  rmSync(dataDir, { recursive: true, force: true });
}
