/**
 * Runs of every kind in one list for the console and `GET /v1/runs`: file imports (ImportFiles), monthly closes
 * (MonthlyClose, started by the schedule or by a person) and cost recomputes (CostRecompute) are all workflow
 * executions; each comes with its kind, duration, the files it imported and, when it failed, the plain explanation
 * RunProgress gives `wattflow runs watch`.
 */
import Decimal from "decimal.js";
import { and, eq, inArray } from "drizzle-orm";
import { z } from "zod";
import { billTable } from "../close/bill.sql";
import { Database } from "../database";
import { factoryTable } from "../factory/factory.sql";
import { importRunTable } from "../import/import.sql";
import { parseJsonOr } from "../util/json";
import { Execution, fullHistory, type ListOptions, use } from "./index";
import { RunProgress } from "./progress";

export * as Runs from "./runs";

/** What a run did, by its workflow's registry name. */
export const Kind = z.enum(["import", "close", "recompute", "other"]);
export type Kind = z.infer<typeof Kind>;
const kinds: Record<string, Kind> = { ImportFiles: "import", MonthlyClose: "close", CostRecompute: "recompute" };

/** A file an import run took in, as the import recorded it (rows counted in the file, bad rows with their lines). */
export const File = z.object({
  id: z.string(),
  fileName: z.string(),
  kind: z.string(),
  status: z.string(),
  rows: z.number().int().nullable(),
  inserted: z.number().int().nullable(),
  updated: z.number().int().nullable(),
  errors: z.number().int(),
});
export type File = z.infer<typeof File>;

/** One run: the execution without its input, plus kind, duration (ms, null while running), months, files and failure. */
export const Item = Execution.omit({ input: true }).extend({
  kind: Kind,
  durationMs: z.number().nullable(),
  /** The months (YYYY-MM) a close or recompute was asked for; empty when the schedule chose (the month just ended). */
  months: z.array(z.string()),
  files: z.array(File),
  /** The parsed output of a run that succeeded (the workflow's summary, e.g. factories and bills of a close). */
  result: z.unknown(),
  /** Where and why it failed, in RunProgress's plain words (`wattflow runs watch`). */
  failure: z.object({ state: z.string(), type: z.string(), message: z.string(), explanation: z.string() }).nullable(),
});
export type Item = z.infer<typeof Item>;
// The failure is RunProgress's, whose fields it picks: a change there must change the schema.
true satisfies Pick<RunProgress.Failure, "state" | "type" | "message" | "explanation"> extends NonNullable<Item["failure"]> ? true : false;

/** Another organization's run is not the caller's; runs started by the schedule (no organization in the input) are everyone's, scoped by `scoped`. */
export function visible(execution: Execution, organizationId: string): boolean {
  return scheduled(execution) || ownerOf(execution) === organizationId;
}

function ownerOf(execution: Execution): string | undefined {
  if (!execution.input) return undefined;
  return (parseJsonOr(execution.input, {}) as { organizationId?: string }).organizationId;
}

/** A run the schedule started (the monthly close of a clock's factories): its input names no organization, its output sums them all. */
export function scheduled(execution: Execution): boolean {
  return ownerOf(execution) === undefined;
}

/**
 * What an organization may read of a run: its own runs whole; a scheduled run (it closes every organization's
 * factories on one clock) with its output replaced by the organization's own part, read from the bills the close
 * stored (`closeResultOf`), so no total, reading count or factory id of another organization leaks.
 * A platform actor reads every run whole.
 */
export async function scoped(execution: Execution, actor: { organizationId: string; platform?: boolean }): Promise<Execution> {
  if (actor.platform || !scheduled(execution) || execution.output === undefined) return execution;
  const output = parseJsonOr(execution.output, {}) as { month?: unknown; skipped?: unknown; differences?: unknown };
  const month = typeof output.month === "string" ? output.month : monthsOf(execution.input)[0];
  if (month === undefined) return { ...execution, output: undefined };
  return { ...execution, output: JSON.stringify(await closeResultOf(actor.organizationId, month, output)) };
}

/**
 * The organization's part of a scheduled monthly close of `month`: its factories' bills stored for the month (count,
 * readings, total per currency, MXN as decimal strings) and, of the run's `skipped` and `differences`, the entries
 * that name its factories.
 */
async function closeResultOf(organizationId: string, month: string, output: { skipped?: unknown; differences?: unknown }) {
  const db = Database.use();
  const factories = await db.select({ id: factoryTable.id }).from(factoryTable).where(eq(factoryTable.organizationId, organizationId));
  const own = new Set(factories.map((factory) => factory.id));
  const bills =
    own.size === 0
      ? []
      : await db
          .select({ factoryId: billTable.factoryId, readings: billTable.readings, total: billTable.total, currency: billTable.currency })
          .from(billTable)
          .where(and(inArray(billTable.factoryId, [...own]), eq(billTable.month, month), eq(billTable.source, "wattflow")));
  const totals: Record<string, string> = {};
  for (const bill of bills) totals[bill.currency] = new Decimal(totals[bill.currency] ?? 0).plus(bill.total).toFixed(2);
  const ownEntries = (list: unknown) =>
    Array.isArray(list)
      ? list.filter((entry) => typeof entry === "object" && entry !== null && own.has((entry as { factoryId?: string }).factoryId ?? ""))
      : [];
  return {
    month,
    factories: bills.length,
    readings: bills.reduce((sum, bill) => sum + (bill.readings ?? 0), 0),
    totals,
    differences: ownEntries(output.differences),
    skipped: ownEntries(output.skipped),
  };
}

function monthsOf(input: string | undefined): string[] {
  if (!input) return [];
  const parsed = JSON.parse(input) as { month?: unknown; months?: unknown };
  if (typeof parsed.month === "string") return [parsed.month];
  return Array.isArray(parsed.months) ? parsed.months.filter((month): month is string => typeof month === "string") : [];
}

function parsed(output: string | undefined): unknown {
  return output === undefined ? null : parseJsonOr(output, output);
}

/**
 * The organization's runs of every kind, newest first (the workflow port's order), `limit` at most (default 100).
 * A failed run's explanation is read from its history (one read per failed run in the page).
 */
export async function list(actor: { organizationId: string; platform?: boolean }, options: ListOptions = {}): Promise<Item[]> {
  const { organizationId } = actor;
  const runner = await use();
  const executions = await Promise.all(
    (await runner.list({ ...options, limit: options.limit ?? 100 }))
      .filter((execution) => visible(execution, organizationId))
      .map((execution) => scoped(execution, actor)),
  );
  const arns = executions.filter((execution) => execution.workflow === "ImportFiles").map((execution) => execution.executionArn);
  const files =
    arns.length === 0
      ? []
      : await Database.use()
          .select()
          .from(importRunTable)
          .where(and(eq(importRunTable.organizationId, organizationId), inArray(importRunTable.executionArn, arns)));
  return Promise.all(
    executions.map(async ({ input, ...execution }): Promise<Item> => {
      const failed = execution.status !== "RUNNING" && execution.status !== "SUCCEEDED";
      const error = failed ? RunProgress.of({ ...execution, input }, await fullHistory(runner, execution.executionArn)).error : undefined;
      return {
        ...execution,
        kind: kinds[execution.workflow] ?? "other",
        durationMs: execution.stopDate ? Date.parse(execution.stopDate) - Date.parse(execution.startDate) : null,
        months: monthsOf(input),
        files: files
          .filter((file) => file.executionArn === execution.executionArn)
          .map((file) => ({
            id: file.id,
            fileName: file.fileName,
            kind: file.kind,
            status: file.status,
            rows: file.rows,
            inserted: file.inserted,
            updated: file.updated,
            errors: file.errors?.length ?? 0,
          })),
        result: execution.status === "SUCCEEDED" ? parsed(execution.output) : null,
        failure: error ? { state: error.state, type: error.type, message: error.message, explanation: error.explanation } : null,
      };
    }),
  );
}
