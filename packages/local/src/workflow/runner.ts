/**
 * The local Step Functions: aws-local-stepfunctions runs a registry definition with its Lambda steps
 * called in-process, and its event log is recorded as a GetExecutionHistory-shaped history (under
 * `dir`, so `wattflow runs` sees runs of earlier starts). Step Functions' limits are enforced: a state
 * payload over 256 KiB or a history past 25,000 events fails the run as it would on AWS.
 * Node 20 needs Promise.withResolvers polyfilled before this module runs (bin/wattflow.mjs does).
 */
import { randomUUID } from "node:crypto";
import { appendFileSync, existsSync, mkdirSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { readJsonState, setAside, writeFileAtomicSync } from "@wattflow/core/util/files";
import { Workflow } from "@wattflow/core/workflow";
import { type Deployment, limits, Workflows } from "@wattflow/core/workflow/definitions";
import { WorkflowIam } from "@wattflow/core/workflow/iam";
import type { StateMachine as LocalStateMachine } from "aws-local-stepfunctions";

/** One entry of the library's event log (its type is not exported by name). */
type EventLog = ReturnType<LocalStateMachine["run"]>["eventLogs"] extends AsyncIterable<infer E> ? E : never;

/** A Lambda step as the runner calls it: the state's Payload in, the function's return value out. */
export type StepHandler = (payload: unknown) => Promise<unknown>;

export type LocalOptions = {
  /** Where executions and their histories are kept; in memory only when absent. */
  dir?: string;
  /** The handler of a registry step, e.g. "packages/functions/src/workflows/import.validate". */
  resolveStep: (handler: string) => Promise<StepHandler>;
  region?: string;
  accountId?: string;
  /** Replaces every Retry interval (ms), e.g. 0 in tests. */
  retryIntervalMs?: number;
  log?: (line: string) => void;
};

type Record = { execution: Workflow.Execution; events: Workflow.HistoryEvent[] };

const historyPageSize = 100;
const bytes = (value: unknown) => Buffer.byteLength(JSON.stringify(value ?? null), "utf8");

/** Raised inside a run when a state's payload or the history goes past a Step Functions quota. */
class LimitExceeded extends Error {
  constructor(
    readonly error: "States.DataLimitExceeded" | "States.Runtime",
    message: string,
  ) {
    super(message);
    this.name = error;
  }
}

export class LocalRunner implements Workflow.Runner {
  private readonly records = new Map<string, Record>();
  private readonly running = new Set<Promise<void>>();
  private readonly region: string;
  private readonly accountId: string;
  private stopped = false;

  constructor(private readonly options: LocalOptions) {
    this.region = options.region ?? "us-east-1";
    this.accountId = options.accountId ?? "000000000000";
    if (options.dir) this.load(options.dir);
  }

  stateMachineArn(workflow: string): string {
    return `arn:aws:states:${this.region}:${this.accountId}:stateMachine:wattflow-local-${workflow}`;
  }

  async start(workflow: string, input: unknown, name: string = randomUUID()): Promise<{ executionArn: string; startDate: string }> {
    if (this.stopped) throw new Workflow.WorkflowError("the local workflow runner has stopped");
    const deployment = Workflows.byName(workflow);
    if (!deployment) throw new Workflow.WorkflowError(`no workflow named ${workflow}`);
    if (!/^[A-Za-z0-9_-]{1,80}$/.test(name)) throw new Workflow.WorkflowError(`execution name ${name} must be 1-80 letters, digits, - or _`);
    const stateMachineArn = this.stateMachineArn(workflow);
    const executionArn = `${stateMachineArn.replace(":stateMachine:", ":execution:")}:${name}`;
    if (this.records.has(executionArn)) throw new Workflow.ExecutionAlreadyExists(executionArn);
    const size = bytes(input);
    if (size > limits.payloadBytes) throw new Workflow.WorkflowError(`the input is ${size} bytes; Step Functions takes at most ${limits.payloadBytes}`);
    const startDate = new Date().toISOString();
    const record: Record = {
      execution: { executionArn, name, stateMachineArn, workflow, status: "RUNNING", startDate, input: JSON.stringify(input) },
      events: [],
    };
    this.records.set(executionArn, record);
    this.save(record);
    const run = this.run(deployment, record, input).catch((error: Error) => {
      // The runner itself failed (a step that cannot be loaded, an invalid definition): the run fails with it, visibly.
      this.options.log?.(`workflow ${name}: ${error.message}`);
      Object.assign(record.execution, { status: "FAILED", stopDate: new Date().toISOString(), error: "States.Runtime", cause: error.message });
      new HistoryRecorder(record, (event) => this.append(record, event)).finish("FAILED", "States.Runtime", error.message);
      this.save(record);
    });
    this.running.add(run);
    void run.finally(() => this.running.delete(run));
    return { executionArn, startDate };
  }

  async list(options: Workflow.ListOptions = {}): Promise<Workflow.Execution[]> {
    const all = [...this.records.values()]
      .map((record) => record.execution)
      .filter((execution) => (!options.workflow || execution.workflow === options.workflow) && (!options.status || execution.status === options.status))
      .sort((a, b) => b.startDate.localeCompare(a.startDate));
    return all.slice(0, options.limit ?? 100);
  }

  async describe(execution: string): Promise<Workflow.Execution | undefined> {
    return this.find(execution)?.execution;
  }

  async history(execution: string, options: { nextToken?: string; maxResults?: number } = {}): Promise<Workflow.HistoryPage> {
    const record = this.find(execution);
    if (!record) throw new Workflow.WorkflowError(`no execution ${execution}`);
    const from = options.nextToken ? Number(options.nextToken) : 0;
    const size = Math.min(options.maxResults ?? historyPageSize, 1000);
    const events = record.events.slice(from, from + size);
    return { events, nextToken: from + size < record.events.length ? String(from + size) : undefined };
  }

  /** Waits for the runs in flight (used on shutdown and in tests). */
  async idle(): Promise<void> {
    while (this.running.size > 0) await Promise.all([...this.running]);
  }

  /** Refuses new runs and waits for those in flight. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.idle();
  }

  private find(execution: string): Record | undefined {
    return this.records.get(execution) ?? [...this.records.values()].find((record) => record.execution.name === execution);
  }

  private async run(deployment: Deployment, record: Record, input: unknown): Promise<void> {
    const { StateMachine } = await import("aws-local-stepfunctions");
    const handlers = new Map<string, StepHandler>();
    for (const [placeholder, step] of Object.entries(deployment.steps)) handlers.set(placeholder, await this.options.resolveStep(step.handler));
    const history = new HistoryRecorder(record, (event) => this.append(record, event));
    let violation: LimitExceeded | undefined;
    let failed: { error: string; cause: string } | undefined;

    const invoke = async (state: string, parameters: unknown): Promise<unknown> => {
      const { FunctionName, Payload } = (parameters ?? {}) as { FunctionName?: string; Payload?: unknown };
      const placeholder = /^\$\{([A-Za-z0-9_]+)\}$/.exec(FunctionName ?? "")?.[1];
      const handler = placeholder ? handlers.get(placeholder) : undefined;
      if (!handler) throw new Workflow.WorkflowError(`${state}: no step handler for FunctionName ${FunctionName}`);
      let result: unknown;
      try {
        result = await handler(Payload);
      } catch (error) {
        throw lambdaError(error);
      }
      const size = bytes(result);
      if (size > limits.payloadBytes) {
        const error = new Error(
          `The state/task '${state}' returned a result with a size of ${size} bytes, exceeding the maximum of ${limits.payloadBytes} bytes.`,
        );
        error.name = "States.DataLimitExceeded";
        throw error;
      }
      // What the lambda:invoke integration returns; definitions select $.Payload.
      return { ExecutedVersion: "$LATEST", Payload: result ?? null, StatusCode: 200 };
    };
    const taskNames = WorkflowIam.tasks(deployment.definition).map((task) => task.path.split(".").pop() as string);
    const taskResourceLocalHandlers = Object.fromEntries(taskNames.map((name) => [name, (parameters: unknown) => invoke(name, parameters)]));
    const retryIntervalOverrides =
      this.options.retryIntervalMs === undefined ? undefined : Object.fromEntries(taskNames.map((name) => [name, this.options.retryIntervalMs as number]));

    const machine: LocalStateMachine = new StateMachine(deployment.definition as never, { validationOptions: { checkPaths: true, checkArn: true } });
    const execution = machine.run(
      input as never,
      {
        overrides: { taskResourceLocalHandlers: taskResourceLocalHandlers as never, retryIntervalOverrides },
        context: {
          Execution: { Id: record.execution.executionArn, Name: record.execution.name, StartTime: record.execution.startDate, Input: input as never },
        },
      } as never,
    );
    const pump = (async () => {
      for await (const event of execution.eventLogs) {
        if (event.type === "ExecutionFailed") failed = { error: event.Error, cause: String(event.Cause ?? "") };
        if (violation) continue;
        try {
          history.take(event, deployment);
        } catch (error) {
          if (!(error instanceof LimitExceeded)) throw error;
          violation = error;
          execution.abort();
        }
      }
    })();

    let outcome: { output: unknown } | { error: string; cause: string } | { aborted: true };
    try {
      outcome = { output: await execution.result };
    } catch (error) {
      const failure = error as Error;
      if (failure.name === "ExecutionAbortedError") outcome = { aborted: true };
      else if (failure.name === "ExecutionTimeoutError") outcome = { error: "States.Timeout", cause: "" };
      else outcome = { error: failure.name, cause: failure.message };
    }
    // The event log runs behind the result: only once it is drained are a quota breach and the failure's own error known.
    await pump;
    if (violation) outcome = { error: violation.error, cause: violation.message };
    else if (failed && "error" in outcome) outcome = failed;
    const execution_ = record.execution;
    execution_.stopDate = new Date().toISOString();
    if ("output" in outcome) {
      const size = bytes(outcome.output);
      if (size > limits.payloadBytes) {
        outcome = { error: "States.DataLimitExceeded", cause: `The execution output has ${size} bytes, over the maximum of ${limits.payloadBytes}.` };
      }
    }
    if ("output" in outcome) {
      execution_.status = "SUCCEEDED";
      execution_.output = JSON.stringify(outcome.output);
    } else if ("aborted" in outcome) {
      execution_.status = "ABORTED";
    } else {
      execution_.status = outcome.error === "States.Timeout" ? "TIMED_OUT" : "FAILED";
      execution_.error = outcome.error;
      execution_.cause = outcome.cause;
      // The library's own failure events carry the cause of the last state; a limit or timeout is ours to record.
      if (violation || !history.finished) history.finish(execution_.status, outcome.error, outcome.cause);
    }
    this.save(record);
  }

  private append(record: Record, event: Workflow.HistoryEvent): void {
    record.events.push(event);
    if (this.options.dir) appendFileSync(join(this.options.dir, `${record.execution.name}.events.jsonl`), `${JSON.stringify(event)}\n`);
  }

  private save(record: Record): void {
    if (!this.options.dir) return;
    mkdirSync(this.options.dir, { recursive: true });
    writeFileAtomicSync(join(this.options.dir, `${record.execution.name}.json`), JSON.stringify(record.execution, null, 2));
  }

  /** Loads the executions kept in `dir`; a state file that does not parse is set aside (util/files), never a failed start. */
  private load(dir: string): void {
    if (!existsSync(dir)) return;
    for (const file of readdirSync(dir)) {
      if (!file.endsWith(".json")) continue;
      const execution = readJsonState<Workflow.Execution>(join(dir, file));
      if (!execution) continue;
      const record: Record = { execution, events: readHistory(join(dir, `${execution.name}.events.jsonl`)) };
      this.records.set(execution.executionArn, record);
      if (execution.status === "RUNNING") {
        // The process that ran it is gone: on AWS it would have finished; here it cannot, so say so.
        execution.status = "FAILED";
        execution.stopDate = new Date().toISOString();
        execution.error = "States.Runtime";
        execution.cause = "The local stack stopped while this execution was running; start it again.";
        new HistoryRecorder(record, (event) => this.append(record, event)).finish("FAILED", execution.error, execution.cause);
        this.save(record);
      }
    }
  }
}

/**
 * An execution's history file, appended one event per line: a crash mid-append leaves a torn last
 * line. Unreadable lines are dropped; the file as found is set aside and rewritten without them.
 */
function readHistory(path: string): Workflow.HistoryEvent[] {
  if (!existsSync(path)) return [];
  const lines = readFileSync(path, "utf8")
    .split("\n")
    .filter((line) => line.length > 0);
  const events: Workflow.HistoryEvent[] = [];
  for (const line of lines) {
    try {
      events.push(JSON.parse(line) as Workflow.HistoryEvent);
    } catch (error) {
      if (!(error instanceof SyntaxError)) throw error;
    }
  }
  if (events.length < lines.length) {
    setAside(path, `${lines.length - events.length} of ${lines.length} history line(s) are not JSON (a torn append); the rest were kept`);
    writeFileAtomicSync(path, events.map((event) => `${JSON.stringify(event)}\n`).join(""));
  }
  return events;
}

/** Lambda's error shape: Step Functions sees errorType as the error and the JSON document as the cause. */
function lambdaError(error: unknown): Error {
  const original = error instanceof Error ? error : new Error(String(error));
  const type = original.name || "Error";
  const cause = JSON.stringify({
    errorType: type,
    errorMessage: original.message,
    requestId: randomUUID(),
    stackTrace: (original.stack ?? "")
      .split("\n")
      .slice(1, 6)
      .map((line) => line.trim()),
  });
  const wrapped = new Error(cause);
  wrapped.name = type;
  return wrapped;
}

const stateTypePrefix: { [type: string]: string } = {
  Task: "Task",
  Map: "Map",
  Parallel: "Parallel",
  Pass: "Pass",
  Wait: "Wait",
  Choice: "Choice",
  Succeed: "Succeed",
  Fail: "Fail",
};

/** Turns aws-local-stepfunctions' event log into GetExecutionHistory events, ids and previousEventId chains included. */
class HistoryRecorder {
  private lastId: number;
  /** The last event of each lane (the main path, or one Map iteration), for previousEventId. */
  private readonly lanes = new Map<string, number>();
  finished = false;

  constructor(
    record: Record,
    private readonly emit: (event: Workflow.HistoryEvent) => void,
  ) {
    this.lastId = record.events.at(-1)?.id ?? 0;
  }

  private push(lane: string, type: string, details?: { [key: string]: unknown }, timestamp = Date.now(), final = false): void {
    if (!final && this.lastId + 1 > limits.historyEvents) {
      throw new LimitExceeded("States.Runtime", `The execution reached the limit of ${limits.historyEvents} history events.`);
    }
    const id = ++this.lastId;
    const previousEventId = this.lanes.get(lane) ?? (lane === "main" ? undefined : this.lanes.get("main"));
    this.lanes.set(lane, id);
    const event: Workflow.HistoryEvent = { id, timestamp: new Date(timestamp).toISOString(), type };
    if (previousEventId !== undefined) event.previousEventId = previousEventId;
    if (details) {
      const key = `${type.charAt(0).toLowerCase()}${type.slice(1)}EventDetails`;
      event[key] = details;
    }
    this.emit(event);
  }

  private checkSize(state: string, what: "input" | "output", value: unknown): void {
    const size = bytes(value);
    if (size > limits.payloadBytes)
      throw new LimitExceeded("States.DataLimitExceeded", `The ${what} of state '${state}' has ${size} bytes, over the maximum of ${limits.payloadBytes}.`);
  }

  take(event: EventLog, deployment: Deployment): void {
    const lane = "index" in event && typeof event.index === "number" && !("parentState" in event) ? `item-${event.index}` : "main";
    const at = event.timestamp;
    switch (event.type) {
      case "ExecutionStarted":
        this.push(
          "main",
          "ExecutionStarted",
          { input: JSON.stringify(event.input), roleArn: `arn:aws:iam::000000000000:role/wattflow-local-${deployment.name}Role` },
          at,
        );
        return;
      case "StateEntered": {
        const { name, type, input } = event.state;
        this.checkSize(name, "input", input);
        this.push(lane, `${stateTypePrefix[type]}StateEntered`, { name, input: JSON.stringify(input) }, at);
        if (type === "Task") this.taskScheduled(lane, at);
        if (type === "Map") {
          const state = findState(deployment.definition, name);
          const items = readPath(input, (state?.ItemsPath as string | undefined) ?? "$");
          this.push(lane, "MapStateStarted", { length: Array.isArray(items) ? items.length : 0 }, at);
        }
        return;
      }
      case "StateExited": {
        const { name, type, output } = event.state;
        this.checkSize(name, "output", output);
        if (type === "Task") this.push(lane, "TaskSucceeded", { resourceType: "lambda", resource: "invoke", output: JSON.stringify(output) }, at);
        if (type === "Map") this.push(lane, "MapStateSucceeded", undefined, at);
        this.push(lane, `${stateTypePrefix[type]}StateExited`, { name, output: JSON.stringify(output) }, at);
        return;
      }
      case "StateFailed": {
        const { type } = event.state;
        if (type === "Task") {
          if (event.Error === "States.Timeout") this.push(lane, "TaskTimedOut", { resourceType: "lambda", resource: "invoke", error: event.Error }, at);
          else this.push(lane, "TaskFailed", { resourceType: "lambda", resource: "invoke", error: event.Error, cause: String(event.Cause ?? "") }, at);
        }
        if (type === "Map") this.push(lane, "MapStateFailed", undefined, at);
        return;
      }
      case "StateRetried":
        this.taskScheduled(lane, at);
        return;
      case "MapIterationStarted":
      case "MapIterationSucceeded":
      case "MapIterationFailed": {
        const itemLane = `item-${event.index}`;
        if (event.type === "MapIterationStarted") this.lanes.set(itemLane, this.lanes.get("main") ?? 0);
        this.push(event.type === "MapIterationStarted" ? itemLane : "main", event.type, { name: event.parentState.name, index: event.index }, at);
        return;
      }
      case "ExecutionSucceeded":
        this.finished = true;
        this.push("main", "ExecutionSucceeded", { output: JSON.stringify(event.output) }, at);
        return;
      case "ExecutionFailed":
        this.finished = true;
        this.push("main", "ExecutionFailed", { error: event.Error, cause: String(event.Cause ?? "") }, at);
        return;
      case "ExecutionTimeout":
        this.finished = true;
        this.push("main", "ExecutionTimedOut", { error: "States.Timeout" }, at);
        return;
      case "ExecutionAborted":
        this.finished = true;
        this.push("main", "ExecutionAborted", {}, at);
        return;
      default:
        // Parallel branch events and StateCaught have no event of their own in Step Functions' history.
        return;
    }
  }

  private taskScheduled(lane: string, at: number): void {
    this.push(lane, "TaskScheduled", { resourceType: "lambda", resource: "invoke", region: "us-east-1", parameters: "{}" }, at);
    this.push(lane, "TaskStarted", { resourceType: "lambda", resource: "invoke" }, at);
  }

  /** Records the end of a run the library could not record (a quota, a lost process). */
  finish(status: Workflow.Execution["status"], error: string, cause: string): void {
    this.finished = true;
    this.push("main", status === "TIMED_OUT" ? "ExecutionTimedOut" : "ExecutionFailed", { error, cause }, Date.now(), true);
  }
}

function findState(definition: Deployment["definition"], name: string): { [key: string]: unknown } | undefined {
  for (const [key, state] of Object.entries(definition.States)) {
    if (key === name) return state;
    const processor = state.ItemProcessor ?? state.Iterator;
    const inner = processor ? findState(processor, name) : undefined;
    if (inner) return inner;
    for (const branch of state.Branches ?? []) {
      const found = findState(branch, name);
      if (found) return found;
    }
  }
  return undefined;
}

/** Reads a plain `$.a.b` path (the only kind our ItemsPath uses). */
function readPath(value: unknown, path: string): unknown {
  let current = value;
  for (const part of path
    .replace(/^\$\.?/, "")
    .split(".")
    .filter(Boolean)) {
    if (!current || typeof current !== "object") return undefined;
    current = (current as { [key: string]: unknown })[part];
  }
  return current;
}
