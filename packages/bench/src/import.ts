/**
 * `npm run bench:import [-- ROWS]`: a production file of ROWS rows (1,000,000 by default) through the
 * ImportFiles workflow — the local runner (aws-local-stepfunctions) with the real step handlers, on
 * PGlite in a temporary folder (or the Postgres of DATABASE_URL) — then the same file again, which
 * must change nothing. Prints rows/s end to end and the time of each state.
 */
import "../../../scripts/with-resolvers";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { Database } from "@wattflow/core/database";
import { openPglite } from "@wattflow/core/database/pglite";
import { Device } from "@wattflow/core/device";
import { Factory } from "@wattflow/core/factory";
import { Import } from "@wattflow/core/import";
import { Meter } from "@wattflow/core/meter";
import { Organization } from "@wattflow/core/organization";
import { Testing } from "@wattflow/core/testing";
import { Uploads } from "@wattflow/core/upload";
import { LocalStore } from "@wattflow/core/upload/local";
import { Workflow } from "@wattflow/core/workflow";
import { RunProgress } from "@wattflow/core/workflow/progress";
import * as closeSteps from "@wattflow/functions/workflows/close";
import * as importSteps from "@wattflow/functions/workflows/import";
import * as recomputeSteps from "@wattflow/functions/workflows/recompute";
import { LocalRunner, type StepHandler } from "@wattflow/local/workflow/runner";

const rows = Number(process.argv[2] ?? 1_000_000);
const lines = Array.from({ length: 20 }, (_, index) => `Line ${index + 1}`);
const shifts = ["A", "B", "C"];

const steps: Record<string, Record<string, unknown>> = { import: importSteps, recompute: recomputeSteps, close: closeSteps };
async function resolveStep(handler: string): Promise<StepHandler> {
  const [, file, name] = /^packages\/functions\/src\/workflows\/(\w+)\.(\w+)$/.exec(handler) ?? [];
  return steps[file as string]?.[name as string] as StepHandler;
}

/** `rows` distinct (date, line, shift) rows, one file. */
function productionCsv(count: number): Buffer {
  const out: string[] = ["date,line,units,shift"];
  const perDay = lines.length * shifts.length;
  const day0 = Date.UTC(1990, 0, 1);
  for (let index = 0; index < count; index++) {
    const date = new Date(day0 + Math.floor(index / perDay) * 86_400_000).toISOString().slice(0, 10);
    out.push(`${date},${lines[Math.floor(index / shifts.length) % lines.length]},${(index % 997) + 0.5},${shifts[index % shifts.length]}`);
  }
  return Buffer.from(`${out.join("\n")}\n`);
}

async function run(runner: LocalRunner, organizationId: string, factoryId: string, bytes: Buffer) {
  const began = performance.now();
  const { executionArn } = await Import.start({ organizationId, kind: "production", factoryId, files: [{ name: "production.csv", bytes }] });
  await runner.idle();
  const seconds = (performance.now() - began) / 1000;
  const execution = (await runner.describe(executionArn)) as Workflow.Execution;
  const events = await Workflow.fullHistory(runner, executionArn);
  const progress = RunProgress.of(execution, events);
  if (progress.status !== "SUCCEEDED") throw new Error(`the import ${progress.status}: ${JSON.stringify(progress.error)}`);
  const states = RunProgress.durations("ImportFiles", events);
  return { seconds, result: progress.result as { rows: number; inserted: number; updated: number; unchanged: number }, states };
}

const dir = Testing.temporaryDir("wattflow-bench-import-");
const lane = process.env.DATABASE_URL ? "postgres" : "pglite";
const handle = lane === "pglite" ? await openPglite(join(dir.path, "pg")) : undefined;
const database = handle ?? (await Testing.database("postgres"));
try {
  if (handle) {
    await Database.migrate(handle);
    Database.provide(handle);
  }
  const organization = await Organization.create({ name: "Bench" });
  const factory = await Factory.create({ organizationId: organization.id, name: "Bench plant", timeZone: "America/Monterrey", tariffCode: "flat" });
  const device = await Device.create({ organizationId: organization.id, factoryId: factory.id, name: "Gateway" });
  for (const line of lines) await Meter.create({ organizationId: organization.id, factoryId: factory.id, deviceId: device.id, name: line, line });
  Uploads.provide(new LocalStore(join(dir.path, "uploads")));
  const runner = new LocalRunner({ dir: join(dir.path, "workflows"), resolveStep });
  Workflow.provide(runner);

  const generated = performance.now();
  const bytes = productionCsv(rows);
  writeFileSync(join(dir.path, "production.csv"), bytes);
  console.log(
    `${rows.toLocaleString("en")} rows, ${(bytes.byteLength / 1e6).toFixed(1)} MB CSV (generated in ${((performance.now() - generated) / 1000).toFixed(1)} s); database: ${lane}`,
  );

  for (const label of ["first import", "same file again"]) {
    const { seconds, result, states } = await run(runner, organization.id, factory.id, bytes);
    const perState = Object.entries(states)
      .map(([state, { ms }]) => `${state} ${(ms / 1000).toFixed(1)} s`)
      .join(", ");
    console.log(
      `${label}: ${seconds.toFixed(1)} s, ${Math.round(result.rows / seconds).toLocaleString("en")} rows/s — inserted ${result.inserted}, updated ${result.updated}, unchanged ${result.unchanged} (${perState})`,
    );
  }
  await runner.stop();
} finally {
  Workflow.provide(undefined);
  Uploads.provide(undefined);
  await database.close();
  dir.remove();
}
