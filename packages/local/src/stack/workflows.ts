/**
 * Step Functions in the local stack: the registry's workflows run by aws-local-stepfunctions with the
 * same step handlers as the Lambdas (packages/functions/src/workflows/), customer files under
 * uploads/, executions and their histories under workflows/, and the monthly close started for each
 * factory time zone once its month has ended (02:00 on the 1st, local), as EventBridge Scheduler does on AWS.
 */
import { join } from "node:path";
import { Close } from "@wattflow/core/close";
import { Database } from "@wattflow/core/database";
import { factoryTable } from "@wattflow/core/factory/factory.sql";
import { toLocal } from "@wattflow/core/time";
import { Uploads } from "@wattflow/core/upload";
import { LocalStore } from "@wattflow/core/upload/local";
import { Workflow } from "@wattflow/core/workflow";
import { LocalRunner, type StepHandler } from "../workflow/runner";

/** How often the local schedule looks for a month to close; the first look waits as long, so a fresh stack starts quietly. */
const scheduleCheckMs = 60_000;

/** Loads a registry handler ("packages/functions/src/workflows/import.validate") from the functions package. */
async function resolveStep(handler: string): Promise<StepHandler> {
  const match = /^packages\/functions\/src\/(.+)\.([A-Za-z0-9_]+)$/.exec(handler);
  if (!match) throw new Error(`step handler ${handler} is not in packages/functions/src`);
  const module = (await import(`@wattflow/functions/${match[1]}`)) as Record<string, unknown>;
  const fn = module[match[2] as string];
  if (typeof fn !== "function") throw new Error(`${handler}: no exported function ${match[2]}`);
  return (payload) => (fn as (event: unknown) => Promise<unknown>)(payload);
}

/**
 * Starts the local runner and schedule; returns the function that stops them. The schedule looks for months
 * to close only once `scheduleAfter` settles (the demo's history is loaded), so it never closes a month
 * whose readings are still on their way in.
 */
export function startWorkflows(dataDir: string, log: (line: string) => void, options: { scheduleAfter?: Promise<unknown> } = {}): () => Promise<void> {
  Uploads.provide(new LocalStore(join(dataDir, "uploads")));
  const runner = new LocalRunner({ dir: join(dataDir, "workflows"), resolveStep, log });
  Workflow.provide(runner);
  let ready = options.scheduleAfter === undefined;
  const open = () => {
    ready = true;
  };
  void options.scheduleAfter?.then(open, open);
  const timer = setInterval(() => {
    if (!ready) return;
    void closeEndedMonths(runner).catch((error: Error) => log(`monthly close schedule: ${error.message}`));
  }, scheduleCheckMs);
  return async () => {
    clearInterval(timer);
    await runner.stop();
    Workflow.provide(undefined);
    Uploads.provide(undefined);
  };
}

/** Starts MonthlyClose for each factory time zone whose previous month has ended and was not closed yet (the name makes it once). */
export async function closeEndedMonths(runner: Workflow.Runner, now = new Date()): Promise<string[]> {
  const zones = await Database.use().selectDistinct({ timeZone: factoryTable.timeZone }).from(factoryTable);
  const started: string[] = [];
  for (const { timeZone } of zones) {
    const local = toLocal(now.getTime(), timeZone);
    if (local.day === 1 && local.hour < 2) continue;
    const month = Close.previousMonth(now, timeZone);
    const name = `close-${month}-${timeZone.replace(/[^A-Za-z0-9]/g, "")}`.slice(0, 80);
    try {
      started.push((await runner.start("MonthlyClose", { timeZone }, name)).executionArn);
    } catch (error) {
      if (!(error instanceof Workflow.ExecutionAlreadyExists)) throw error;
    }
  }
  return started;
}
