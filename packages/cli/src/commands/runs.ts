import { Workflow } from "@wattflow/core/workflow";
import { AwsRunner } from "@wattflow/core/workflow/aws";
import { RunProgress } from "@wattflow/core/workflow/progress";
import { Argument, type Command } from "commander";
import { api, CliError, type Target, target } from "../client";

/** The local stack's runs through its API, answering like Step Functions (see packages/functions/src/api/runs.ts). */
class ApiRunner implements Workflow.Runner {
  constructor(private readonly to: Target) {}

  async start(workflow: string, input: unknown): Promise<{ executionArn: string; startDate: string }> {
    return api(this.to, "POST", "/v1/runs", { workflow, ...(input as object) });
  }

  async list(options: Workflow.ListOptions = {}): Promise<Workflow.Execution[]> {
    const query = new URLSearchParams();
    if (options.workflow) query.set("workflow", options.workflow);
    if (options.status) query.set("status", options.status);
    if (options.limit) query.set("limit", String(options.limit));
    return (await api<{ executions: Workflow.Execution[] }>(this.to, "GET", `/v1/runs?${query}`)).executions;
  }

  async describe(execution: string): Promise<Workflow.Execution | undefined> {
    try {
      return await api<Workflow.Execution>(this.to, "GET", `/v1/runs/${encodeURIComponent(execution)}`);
    } catch (error) {
      if (error instanceof CliError && / answered 404:/.test(error.message)) return undefined;
      throw error;
    }
  }

  async history(execution: string, options: { nextToken?: string } = {}): Promise<Workflow.HistoryPage> {
    const query = options.nextToken ? `?nextToken=${encodeURIComponent(options.nextToken)}` : "";
    return api<Workflow.HistoryPage>(this.to, "GET", `/v1/runs/${encodeURIComponent(execution)}/history${query}`);
  }
}

/** Step Functions when configured for a stage (WATTFLOW_WORKFLOW_ARN_PREFIX), else the local stack's API. */
export function runner(): Workflow.Runner {
  const arnPrefix = process.env.WATTFLOW_WORKFLOW_ARN_PREFIX;
  return arnPrefix ? new AwsRunner({ arnPrefix }) : new ApiRunner(target("operatorToken"));
}

/** Earlier successful runs of the same workflow, summarized for the ETA (the last few are enough for a median). */
async function previousDurations(runs: Workflow.Runner, execution: Workflow.Execution) {
  const earlier = (await runs.list({ workflow: execution.workflow, status: "SUCCEEDED", limit: 5 })).filter(
    (run) => run.executionArn !== execution.executionArn,
  );
  const durations = [];
  for (const run of earlier) durations.push(RunProgress.durations(run.workflow, await Workflow.fullHistory(runs, run.executionArn)));
  return RunProgress.medians(durations);
}

const seconds = (ms: number) =>
  ms < 60_000 ? `${(ms / 1000).toFixed(1)}s` : `${Math.floor(ms / 60_000)}m${String(Math.round((ms % 60_000) / 1000)).padStart(2, "0")}s`;

function bar(done: number, total: number, width = 24): string {
  const filled = total > 0 ? Math.round((done / total) * width) : 0;
  return `[${"#".repeat(filled)}${"-".repeat(width - filled)}]`;
}

/** One line of progress: states, Map items (with a bar on a terminal) and the ETA. */
export function progressLine(progress: RunProgress.Progress, tty: boolean): string {
  const parts = [
    `${progress.workflow} ${progress.status}`,
    `states ${progress.states.done}/${progress.states.total}${progress.states.current ? ` (${progress.states.current})` : ""}`,
  ];
  if (progress.items) {
    const { done, failed, total, map } = progress.items;
    parts.push(`${map} items ${done}/${total}${failed > 0 ? ` (${failed} failed)` : ""}${tty ? ` ${bar(done, total)}` : ""}`);
  }
  if (progress.etaMs !== undefined) parts.push(`ETA ${seconds(progress.etaMs)}`);
  parts.push(`elapsed ${seconds(progress.elapsedMs)}`);
  return parts.join("  ");
}

function summary(result: unknown): string | undefined {
  if (!result || typeof result !== "object") return undefined;
  const value = result as { rows?: number; inserted?: number; updated?: number; unchanged?: number; changed?: number; readings?: number; factories?: number };
  if (value.rows !== undefined) return `${value.rows} rows (${value.inserted ?? 0} inserted, ${value.updated ?? 0} updated, ${value.unchanged ?? 0} unchanged)`;
  if (value.changed !== undefined) return `${value.readings ?? 0} readings repriced, ${value.changed} changed`;
  if (value.factories !== undefined) {
    const skipped = (result as { skipped?: { factoryId: string; reason: string }[] }).skipped ?? [];
    return `${value.factories} factory bill(s) closed${skipped.length > 0 ? `; skipped ${skipped.map((item) => `${item.factoryId} (${item.reason})`).join(", ")}` : ""}`;
  }
  return undefined;
}

/** A reader that stops early (`| head`) is no error of ours: exit quietly, with the exit code already set. */
function quietWhenPipeCloses(): void {
  process.stdout.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code !== "EPIPE") throw error;
    process.exit();
  });
}

export function register(program: Command): void {
  const runs = program.command("runs").description("workflow runs (imports, cost recompute, monthly close): list them, watch one");
  runs
    .command("list")
    .description("recent runs, newest first")
    .option("--workflow <name>", "ImportFiles, CostRecompute or MonthlyClose")
    .option("--status <status>", "RUNNING, SUCCEEDED, FAILED, TIMED_OUT or ABORTED")
    .option("--limit <n>", "at most this many", "20")
    .option("--json", "print JSON")
    .action(async (options: { workflow?: string; status?: Workflow.Status; limit: string; json?: boolean }) => {
      quietWhenPipeCloses();
      const executions = await runner().list({ workflow: options.workflow, status: options.status, limit: Number(options.limit) });
      if (options.json) return console.log(JSON.stringify(executions, null, 2));
      if (executions.length === 0) return console.log("no runs yet");
      for (const execution of executions) {
        const took = execution.stopDate ? seconds(Date.parse(execution.stopDate) - Date.parse(execution.startDate)) : "running";
        console.log(`${execution.startDate}  ${execution.workflow.padEnd(13)}  ${execution.status.padEnd(9)}  ${took.padStart(7)}  ${execution.executionArn}`);
      }
      console.log(`${executions.length} run(s)`);
    });
  runs
    .command("start")
    .description("start a monthly close or a cost recompute on the local stack; prints the execution id on the last line")
    .addArgument(new Argument("<workflow>", "close (MonthlyClose) or recompute (CostRecompute)").choices(["close", "recompute"]))
    .requiredOption("--month <YYYY-MM>", "the month (repeatable for recompute)", (value: string, previous: string[] = []) => [...previous, value])
    .option("--factory <id>", "only this factory (repeatable)", (value: string, previous: string[] = []) => [...previous, value])
    .action(async (workflow: "close" | "recompute", options: { month: string[]; factory?: string[] }) => {
      const input =
        workflow === "close"
          ? { workflow: "MonthlyClose", month: options.month[0], factoryIds: options.factory }
          : { workflow: "CostRecompute", months: options.month, factoryIds: options.factory };
      const started = await api<{ executionArn: string }>(target("operatorToken"), "POST", "/v1/runs", input);
      console.log(started.executionArn);
    });
  runs
    .command("watch")
    .description("follow a run to its end: progress, ETA, the result, or what failed and what to do; exits 1 when it failed")
    .argument("<id>", "the execution id (ARN) that `wattflow import` printed")
    .option("--json", "print only the outcome, as one JSON line: { status, result?, error? }")
    .option("--interval <ms>", "poll interval", "1000")
    .action(async (id: string, options: { json?: boolean; interval: string }) => {
      quietWhenPipeCloses();
      const source = runner();
      const tty = Boolean(process.stdout.isTTY) && !options.json;
      let previous: Awaited<ReturnType<typeof previousDurations>> | undefined;
      let lastLine = "";
      for (;;) {
        const execution = await source.describe(id);
        if (!execution) throw new CliError(`no run ${id}: see \`wattflow runs list\``);
        previous ??= await previousDurations(source, execution);
        const progress = RunProgress.of(execution, await Workflow.fullHistory(source, execution.executionArn), previous);
        if (progress.status === "RUNNING") {
          const line = progressLine(progress, tty);
          if (tty) process.stdout.write(`\r\x1b[2K${line}`);
          else if (!options.json && line.replace(/ETA \S+|elapsed \S+/g, "") !== lastLine.replace(/ETA \S+|elapsed \S+/g, "")) console.log(line);
          lastLine = line;
          await new Promise((resolve) => setTimeout(resolve, Number(options.interval)));
          continue;
        }
        if (tty) process.stdout.write("\r\x1b[2K");
        const failed = progress.status !== "SUCCEEDED";
        process.exitCode = failed ? 1 : 0;
        if (options.json) {
          const error = progress.error
            ? { state: progress.error.state, type: progress.error.type, message: progress.error.message, explanation: progress.error.explanation }
            : undefined;
          console.log(JSON.stringify({ status: progress.status, ...(failed ? {} : { result: progress.result }), ...(error ? { error } : {}) }));
        } else if (!failed) {
          console.log(`${progress.workflow} SUCCEEDED in ${seconds(progress.elapsedMs)}${summary(progress.result) ? `: ${summary(progress.result)}` : ""}`);
          console.log(JSON.stringify(progress.result, null, 2));
        } else {
          const error = progress.error;
          console.log(
            `${progress.workflow} ${progress.status} after ${seconds(progress.elapsedMs)}${error ? ` in ${error.state}${error.item ? ` (item ${error.item.index} of ${error.item.map})` : ""}` : ""}`,
          );
          if (error) {
            console.log(`  error:   ${error.type}${error.message ? `: ${error.message}` : ""}`);
            console.log(`  retries: ${error.retries}`);
            console.log(`  next:    ${error.explanation}`);
          }
        }
        return;
      }
    });
}
