/** Runs the real `wattflow` command in a child process, as a user would. */
import { type ChildProcessWithoutNullStreams, spawn, spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { DemoInfo } from "@wattflow/local/stack/demo";

export const bin = fileURLToPath(new URL("../bin/wattflow.mjs", import.meta.url));

export type Demo = DemoInfo;

export type RunningStack = {
  child: ChildProcessWithoutNullStreams;
  apiUrl: string;
  demo: Demo;
  readyMs: number;
  output: () => string;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
};

/**
 * Starts `wattflow start` on free ports; resolves once /health answers 200. The test runner's
 * DATABASE_URL is not inherited (the stack would share one database between tests): pass `databaseUrl`.
 */
export async function startStack(dataDir: string, args: string[] = [], databaseUrl?: string): Promise<RunningStack> {
  const began = Date.now();
  // A test stack loads three days of demo history, not the year `wattflow start` loads for a user.
  const { DATABASE_URL: _none, ...inherited } = { WATTFLOW_DEMO_HISTORY_DAYS: "3", ...process.env } as NodeJS.ProcessEnv;
  const env = databaseUrl ? { ...inherited, DATABASE_URL: databaseUrl } : inherited;
  const child = spawn(process.execPath, [bin, "start", "--data", dataDir, "--port", "0", "--kinesis-port", "0", ...args], { env });
  let output = "";
  child.stdout.on("data", (chunk) => {
    output += chunk;
  });
  child.stderr.on("data", (chunk) => {
    output += chunk;
  });
  const stop = (signal: NodeJS.Signals = "SIGTERM") =>
    new Promise<number | null>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve(child.exitCode);
      child.once("exit", (code) => resolve(code));
      child.kill(signal);
    });
  for (;;) {
    if (child.exitCode !== null) throw new Error(`wattflow start exited with ${child.exitCode}:\n${output}`);
    const apiUrl = /API\s+(http:\/\/\S+)/.exec(output)?.[1];
    if (apiUrl) {
      const health = await fetch(`${apiUrl}/health`).catch(() => undefined);
      if (health?.status === 200) {
        const demo = JSON.parse(readFileSync(join(dataDir, "demo.json"), "utf8")) as Demo;
        return { child, apiUrl, demo, readyMs: Date.now() - began, output: () => output, stop };
      }
    }
    if (Date.now() - began > 90_000) {
      await stop("SIGKILL");
      throw new Error(`the stack was not healthy within 90 s:\n${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Runs a wattflow command to completion. */
export function wattflow(args: string[], env: Record<string, string> = {}) {
  const result = spawnSync(process.execPath, [bin, ...args], { env: { ...process.env, ...env }, encoding: "utf8", timeout: 60_000 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

export async function call<T>(url: string, token: string, init: { method?: string; body?: unknown } = {}): Promise<{ status: number; body: T }> {
  const response = await fetch(url, {
    method: init.method ?? "GET",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
  });
  return { status: response.status, body: (await response.json()) as T };
}

export async function eventually<T>(probe: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const began = Date.now();
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() - began > timeoutMs) throw new Error(`not within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
