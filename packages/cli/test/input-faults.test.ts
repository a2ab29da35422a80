/**
 * Hostile input through the running stack's HTTP doors (issue 11): impossible dates, oversize bodies
 * and spreadsheet bombs, with /health watched while large files are parsed.
 */
import { readFileSync } from "node:fs";
import { Testing } from "@wattflow/core/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { call, eventually, type RunningStack, startStack } from "./support";

type Ingest = { accepted: number; duplicates: number; rejected: { index: number; errors: { path: string; message: string }[] }[] };
type Execution = { status: string; error?: string; cause?: string };

/** Rows of the large import (WATTFLOW_FAULT_IMPORT_ROWS; 1,000,000 is the benchmark figure in the README). */
const importRows = Number(process.env.WATTFLOW_FAULT_IMPORT_ROWS ?? 200_000);

/** The stack process's resident memory, MiB (the CLI runs the stack in its own process). */
const rssMiB = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1]) / 1024;

/** Polls /health every 100 ms until `stop` resolves; returns the slowest answer, ms. */
async function healthLatency(apiUrl: string, stop: Promise<unknown>): Promise<{ maxMs: number; probes: number }> {
  let running = true;
  void stop.finally(() => {
    running = false;
  });
  let maxMs = 0;
  let probes = 0;
  while (running) {
    const began = performance.now();
    // A keep-alive socket the server closed as it was reused fails at once: ask again on a new one.
    await fetch(`${apiUrl}/health`)
      .catch(() => fetch(`${apiUrl}/health`))
      .then((response) => response.arrayBuffer());
    maxMs = Math.max(maxMs, performance.now() - began);
    probes++;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return { maxMs, probes };
}

describe("hostile input on the running stack", () => {
  const data = Testing.temporaryDir();
  let stack: RunningStack;
  beforeAll(async () => {
    stack = await startStack(data.path);
    // The import path's modules load (and compile) on first use: warm them before timing /health.
    const warm = await upload("warm.csv", `date,line,units\n${new Date().toISOString().slice(0, 10)},${stack.demo.lines[0]},1\n`);
    await finished(((await warm.json()) as { executionArn: string }).executionArn);
  });
  afterAll(async () => {
    if (process.env.WATTFLOW_FAULT_OUTPUT) console.log(stack?.output().slice(-4000));
    await stack?.stop();
    data.remove();
  });

  const upload = (name: string, body: string | Uint8Array) =>
    fetch(`${stack.apiUrl}/v1/imports?kind=production&factory=${stack.demo.factoryId}&name=${name}`, {
      method: "POST",
      // Importing needs an operator (the demo's apiToken only reads).
      headers: { authorization: `Bearer ${stack.demo.operatorToken}` },
      body,
    });
  const finished = (executionArn: string) =>
    eventually(async () => {
      const { body } = await call<Execution>(`${stack.apiUrl}/v1/runs/${encodeURIComponent(executionArn)}`, stack.demo.apiToken);
      return body.status === "RUNNING" ? undefined : body;
    }, 600_000);
  /** Uploads `name` as a production import (202, or the test fails), timing /health until its run ends: the run's end and those times. */
  const importTimingHealth = async (name: string, body: string | Uint8Array) => {
    const response = await upload(name, body);
    expect(response.status).toBe(202);
    const { executionArn } = (await response.json()) as { executionArn: string };
    const run = finished(executionArn);
    const health = await healthLatency(stack.apiUrl, run);
    return { execution: await run, health };
  };

  it("refuses impossible dates and years 0000 and 1900 per reading and stores the genuine next-day reading", async () => {
    const year = new Date().getUTCFullYear() - 2;
    const meterId = stack.demo.meterIds[0];
    const reading = (start: string, kwh: number) => ({ meterId, start, seconds: 300, kwh });
    const { status, body } = await call<Ingest>(`${stack.apiUrl}/v1/ingest`, stack.demo.deviceToken, {
      method: "POST",
      body: {
        readings: [
          reading(`${year}-04-31T00:00:00Z`, 9),
          reading(`${year}-05-01T00:00:00Z`, 3),
          reading("0000-01-01T00:00:00Z", 1),
          reading("1900-01-01T00:00:00Z", 1),
        ],
      },
    });
    expect(status).toBe(200);
    expect(body.accepted).toBe(1);
    expect(body.rejected.map((item) => item.errors[0]?.path)).toEqual(["readings.0.start", "readings.2.start", "readings.3.start"]);
    const stored = await eventually(async () => {
      const { body } = await call<{ readings: { start: string; kwh: number }[] }>(
        `${stack.apiUrl}/v1/meters/${meterId}/readings?from=${year}-04-30T00:00:00Z&to=${year}-05-02T00:00:00Z`,
        stack.demo.apiToken,
      );
      return body.readings.length > 0 ? body.readings : undefined;
    }, 10_000);
    expect(stored.map((row) => [row.start, row.kwh])).toEqual([[`${year}-05-01T00:00:00.000Z`, 3]]);
    const query = await call<{ errors: { path: string }[] }>(
      `${stack.apiUrl}/v1/factories/${stack.demo.factoryId}/usage?from=0000-01-01T00:00:00Z&to=${year}-01-01T00:00:00Z`,
      stack.demo.apiToken,
    );
    expect([query.status, query.body.errors[0]?.path]).toEqual([400, "from"]);
  });

  it("answers a 150 MB ingest body with 413 while it streams, and stays healthy", async () => {
    let sent = 0;
    const chunk = new Uint8Array(64 * 1024).fill(0x20);
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent >= 150 * 1024 * 1024) return controller.close();
        sent += chunk.length;
        controller.enqueue(chunk);
      },
    });
    const began = performance.now();
    const response = await fetch(`${stack.apiUrl}/v1/ingest`, {
      method: "POST",
      headers: { authorization: `Bearer ${stack.demo.deviceToken}`, "content-type": "application/json" },
      body,
      duplex: "half",
    } as RequestInit);
    console.log(`150 MB ingest: ${response.status} after ${(performance.now() - began).toFixed(0)} ms, ${(sent / 1048576).toFixed(1)} MiB sent`);
    expect(response.status).toBe(413);
    expect(((await response.json()) as { code: string }).code).toBe("request.too_large");
    expect((await fetch(`${stack.apiUrl}/health`)).status).toBe(200);
  });

  it("refuses a 400 MB XLSX bomb before inflating it, with /health answering throughout", async () => {
    const bomb = await Testing.xlsxBomb(400);
    const rssBefore = rssMiB(stack.child.pid as number);
    const { execution, health } = await importTimingHealth("bomb.xlsx", bomb);
    const rssAfter = rssMiB(stack.child.pid as number);
    console.log(
      `XLSX bomb (${bomb.length} bytes → 400 MiB): run ${execution.status}; /health max ${health.maxMs.toFixed(0)} ms over ${health.probes} probes; stack RSS ${rssBefore.toFixed(0)} → ${rssAfter.toFixed(0)} MiB`,
    );
    expect(execution.status).toBe("FAILED");
    const { body } = await call<{ imports: { fileName: string; errors: { message: string }[] }[] }>(`${stack.apiUrl}/v1/imports`, stack.demo.apiToken);
    expect(body.imports.find((run) => run.fileName === "bomb.xlsx")?.errors[0]?.message).toMatch(/^the workbook inflates to 41943\d{4} bytes, over the limit/);
    expect(health.maxMs).toBeLessThan(1000);
  });

  it(`answers /health within 1 s while ${importRows} production rows are parsed and checked`, async () => {
    const lines = ["date,line,shift,units"];
    const day = (index: number) => new Date(Date.UTC(new Date().getUTCFullYear() - 1, 0, 1 + (index % 300))).toISOString().slice(0, 10);
    for (let index = 0; index < importRows; index++) lines.push(`${day(index)},${stack.demo.lines[0]},s${Math.floor(index / 300)},${index % 500}`);
    // The last row is bad, so the whole file is parsed and checked and the run stops before loading
    // (loading into the local stack's PGlite runs each statement on the event loop; see the README).
    lines.push("2026-02-30,nowhere,s,1");
    const csv = new TextEncoder().encode(lines.join("\n"));
    const idle = await healthLatency(stack.apiUrl, new Promise((resolve) => setTimeout(resolve, 1000)));
    const began = performance.now();
    const { execution, health } = await importTimingHealth("large.csv", csv);
    console.log(
      `validation of ${importRows} rows (${(csv.length / 1e6).toFixed(1)} MB): ${execution.status} in ${((performance.now() - began) / 1000).toFixed(1)} s; /health max ${health.maxMs.toFixed(0)} ms over ${health.probes} probes (idle: max ${idle.maxMs.toFixed(0)} ms)`,
    );
    expect(execution.status).toBe("FAILED");
    expect(health.maxMs).toBeLessThan(1000);
  });
});
