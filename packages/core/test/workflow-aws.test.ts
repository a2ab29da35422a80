import { readFileSync } from "node:fs";
import {
  DescribeExecutionCommand,
  ExecutionAlreadyExists,
  GetExecutionHistoryCommand,
  type GetExecutionHistoryCommandInput,
  type HistoryEvent,
  ListExecutionsCommand,
  type ListExecutionsCommandInput,
  SFNClient,
  StartExecutionCommand,
} from "@aws-sdk/client-sfn";
import { mockClient } from "aws-sdk-client-mock";
import { afterEach, describe, expect, it } from "vitest";
import { Workflow } from "../src/workflow";
import { AwsRunner } from "../src/workflow/aws";
import { RunProgress } from "../src/workflow/progress";

type Fixture = { describeExecution: Record<string, unknown>; events: (Omit<HistoryEvent, "timestamp"> & { timestamp: string })[] };

/** A fixture as the SDK hands it back: instants deserialized to Date. */
function fixture(name: string) {
  const raw = JSON.parse(readFileSync(new URL(`./events/sfn/${name}.json`, import.meta.url), "utf8")) as Fixture;
  const describe = { ...raw.describeExecution } as Record<string, unknown>;
  for (const key of ["startDate", "stopDate"]) if (typeof describe[key] === "string") describe[key] = new Date(describe[key] as string);
  const events: HistoryEvent[] = raw.events.map((event) => ({ ...event, timestamp: new Date(event.timestamp) }));
  return { describe, events, executionArn: describe.executionArn as string };
}

const prefix = "arn:aws:states:us-east-1:123456789012:stateMachine:wattflow-production-";
const sfn = mockClient(SFNClient);
afterEach(() => sfn.reset());

/** GetExecutionHistory answers in pages of `pageSize`, chained by nextToken, as the service does. */
function serveHistory(events: HistoryEvent[], pageSize: number) {
  sfn.on(GetExecutionHistoryCommand).callsFake((input: GetExecutionHistoryCommandInput) => {
    const from = input.nextToken ? Number(input.nextToken.replace("page-", "")) : 0;
    const next = from + pageSize < events.length ? `page-${from + pageSize}` : undefined;
    return { events: events.slice(from, from + pageSize), nextToken: next };
  });
}

async function watchOnce(name: string, previous: ReturnType<typeof RunProgress.medians> = {}, now?: number) {
  const { describe, events, executionArn } = fixture(name);
  sfn.on(DescribeExecutionCommand, { executionArn }).resolves(describe);
  serveHistory(events, 10);
  const runner = new AwsRunner({ arnPrefix: prefix, client: new SFNClient({ region: "us-east-1" }) });
  const execution = (await runner.describe(executionArn)) as Workflow.Execution;
  return RunProgress.of(execution, await Workflow.fullHistory(runner, executionArn), previous, now);
}

describe("runs watch against AWS Step Functions (GetExecutionHistory fixtures)", () => {
  it("reads every history page by nextToken, in order", async () => {
    // Prepare
    const { events, executionArn } = fixture("succeeded");
    serveHistory(events, 10);
    const runner = new AwsRunner({ arnPrefix: prefix, client: new SFNClient({ region: "us-east-1" }) });

    // Act
    const read = await Workflow.fullHistory(runner, executionArn);

    // Assess
    expect(read.map((event) => event.id)).toEqual(events.map((event) => event.id));
    expect(read[0]?.timestamp).toBe("2026-11-02T09:00:00.000Z");
    const tokens = sfn.commandCalls(GetExecutionHistoryCommand).map((call) => call.args[0].input.nextToken);
    expect(tokens).toEqual([undefined, "page-10", "page-20", "page-30", "page-40", "page-50", "page-60", "page-70"].slice(0, Math.ceil(events.length / 10)));
  });

  // Both fixtures fail on the same bad row of march.csv, in a different Map item.
  const badRow = {
    state: "ValidateFile",
    type: "ImportValidationError",
    message: 'march.csv: 1 bad row: line 7 (units): units must be a non-negative number, got "12,5"',
  };
  it.each([
    {
      title: "explains a Lambda error from its JSON cause: the state, the Map item, the type, the message and the retries spent",
      name: "lambda-error",
      items: { map: "ValidateFiles", done: 1, failed: 1, total: 2 },
      error: { ...badRow, item: { map: "ValidateFiles", index: 1 }, retries: 1, explanation: expect.stringContaining("Fix line 7 of march.csv") },
    },
    {
      // Item 0 failed with ImportValidationError (event 12) and failed the run; item 1's Lambda answered
      // TransientError afterwards (event 14, the last TaskFailed) while the Map aborted it (event 15).
      title: "explains the failure the execution reports, on the Map item that raised it, not the last TaskFailed of the history",
      name: "map-items-failed",
      items: { map: "ValidateFiles", done: 0, failed: 1, total: 2 },
      error: {
        ...badRow,
        item: { map: "ValidateFiles", index: 0 },
        retries: 0,
        explanation:
          "The file was rejected in ValidateFile (item 0 of ValidateFiles), so nothing from this run was loaded. Fix line 7 of march.csv (the header is line 1) and import it again.",
      },
    },
  ])("$title", async ({ name, items, error }) => {
    const progress = await watchOnce(name);

    expect(progress.status).toBe("FAILED");
    expect(progress.items).toMatchObject(items);
    expect(progress.error).toMatchObject(error);
  });

  it("explains States.Timeout, which has no cause, on the item that timed out", async () => {
    const progress = await watchOnce("states-timeout");

    expect(progress.states).toMatchObject({ done: 1, total: 3 });
    expect(progress.items).toMatchObject({ map: "CloseFactoryMonths", done: 2, failed: 1, total: 3 });
    expect(progress.error).toMatchObject({ state: "ClosePage", item: { index: 2 }, type: "States.Timeout", message: "", retries: 0 });
    expect(progress.error?.explanation).toMatch(/did not finish within its timeout/);
  });

  it("explains Lambda.Unknown as a function that died without an error type", async () => {
    const progress = await watchOnce("lambda-unknown");

    expect(progress.error).toMatchObject({ state: "RecomputePage", type: "Lambda.Unknown", retries: 0 });
    expect(progress.error?.message).toContain("Task timed out after 900.02 seconds");
    expect(progress.error?.explanation).toContain("out of memory");
  });

  it("shows a running import's states and Map items, with an ETA from the medians of earlier successful runs", async () => {
    // Prepare: the earlier run spent 8,003 ms loading 4 files and 1,043 ms finishing.
    const earlier = fixture("succeeded");
    const durations = RunProgress.durations(
      "ImportFiles",
      earlier.events.map((event) => ({ ...event, id: event.id ?? 0, type: event.type ?? "", timestamp: (event.timestamp as Date).toISOString() })),
    );

    // Act
    const progress = await watchOnce("running", RunProgress.medians([durations]), Date.parse("2026-11-03T09:00:06.500Z"));

    // Assess: 3 files left at 2,000.75 ms each, then FinishImport.
    expect(progress.status).toBe("RUNNING");
    expect(progress.states).toEqual({ done: 1, total: 3, current: "LoadFiles" });
    expect(progress.items).toEqual({ map: "LoadFiles", done: 1, failed: 0, total: 4 });
    expect(progress.etaMs).toBe(7045);
    expect(progress.elapsedMs).toBe(6500);
  });

  it("has no ETA before any run of the workflow succeeded", async () => {
    const progress = await watchOnce("running");
    expect(progress.etaMs).toBeUndefined();
  });

  it("shows the result of a successful run", async () => {
    const progress = await watchOnce("succeeded");
    expect(progress).toMatchObject({ status: "SUCCEEDED", states: { done: 3, total: 3 }, result: { rows: 4000, inserted: 4000 } });
  });

  it("lists runs of every workflow of the stage, newest first, named by their state machine", async () => {
    sfn.on(ListExecutionsCommand).callsFake((input: ListExecutionsCommandInput) => {
      const workflow = (input.stateMachineArn as string).slice(prefix.length);
      const started = { ImportFiles: "2026-11-03T09:00:00Z", CostRecompute: "2026-11-05T10:00:00Z", MonthlyClose: "2026-11-01T08:00:00Z" }[workflow] as string;
      return {
        executions: [
          {
            executionArn: `${(input.stateMachineArn as string).replace(":stateMachine:", ":execution:")}:run-1`,
            stateMachineArn: input.stateMachineArn,
            name: "run-1",
            status: "SUCCEEDED",
            startDate: new Date(started),
            stopDate: new Date(Date.parse(started) + 1000),
          },
        ],
      };
    });
    const runner = new AwsRunner({ arnPrefix: prefix, client: new SFNClient({ region: "us-east-1" }) });

    const runs = await runner.list();

    expect(runs.map((run) => run.workflow)).toEqual(["CostRecompute", "ImportFiles", "MonthlyClose"]);
    expect(sfn.commandCalls(ListExecutionsCommand)).toHaveLength(3);
  });

  it("starts an execution by registry name and reports a reused name as ExecutionAlreadyExists", async () => {
    sfn
      .on(StartExecutionCommand)
      .resolvesOnce({ executionArn: `${prefix.replace(":stateMachine:", ":execution:")}ImportFiles:import-1`, startDate: new Date("2026-11-03T09:00:00Z") })
      .rejectsOnce(new ExecutionAlreadyExists({ message: "Execution Already Exists", $metadata: {} }));
    const runner = new AwsRunner({ arnPrefix: prefix, client: new SFNClient({ region: "us-east-1" }) });

    const started = await runner.start("ImportFiles", { imports: [] }, "import-1");
    const again = runner.start("ImportFiles", { imports: [] }, "import-1");

    expect(started.executionArn).toMatch(/wattflow-production-ImportFiles:import-1$/);
    expect(sfn.commandCalls(StartExecutionCommand)[0]?.args[0].input).toMatchObject({ stateMachineArn: `${prefix}ImportFiles`, name: "import-1" });
    await expect(again).rejects.toBeInstanceOf(Workflow.ExecutionAlreadyExists);
  });
});
