/**
 * Runs of every kind in one list for the console and `GET /v1/runs`: file imports (ImportFiles), monthly closes
 * (MonthlyClose, started by the schedule or by a person) and cost recomputes (CostRecompute) are all workflow
 * executions; each comes with its kind, duration, the files it imported and, when it failed, the plain explanation
 * RunProgress gives `wattflow runs watch`.
 */
import { and, eq, inArray } from "drizzle-orm";
import { z } from "zod";
import { Database } from "../database";
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

/** Another organization's run is not the caller's; runs started by the schedule (no organization in the input) are everyone's. */
export function visible(execution: Execution, organizationId: string): boolean {
  if (!execution.input) return true;
  const input = JSON.parse(execution.input) as { organizationId?: string };
  return input.organizationId === undefined || input.organizationId === organizationId;
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
export async function list(organizationId: string, options: ListOptions = {}): Promise<Item[]> {
  const runner = use();
  const executions = (await runner.list({ ...options, limit: options.limit ?? 100 })).filter((execution) => visible(execution, organizationId));
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
