/**
 * How a run is going, read from its Step Functions history alone (the same for AWS and the local
 * runner): states done of total, Map items done of total, an ETA from the per-state medians of earlier
 * successful runs, the result, and on failure a short explanation a person can act on. Pure.
 */
import { parseJsonOr } from "../util/json";
import { Workflows } from "./definitions";
import type { Execution, HistoryEvent } from "./index";

export * as RunProgress from "./progress";

export type Failure = {
  state: string;
  /** The Map item that failed, when the failure happened inside a Map. */
  item?: { map: string; index: number };
  type: string;
  message: string;
  /** Failed attempts of the state beyond the first. */
  retries: number;
  explanation: string;
};

export type Progress = {
  executionArn: string;
  name: string;
  workflow: string;
  status: Execution["status"];
  startDate: string;
  stopDate?: string;
  elapsedMs: number;
  states: { done: number; total: number; current?: string };
  items?: { map: string; done: number; failed: number; total: number };
  /** Milliseconds left, from earlier successful runs; absent without any. */
  etaMs?: number;
  result?: unknown;
  error?: Failure;
};

type Details = { name?: string; index?: number; length?: number; error?: string; cause?: string; input?: string; output?: string };

function details(event: HistoryEvent): Details {
  for (const [key, value] of Object.entries(event)) if (key.endsWith("EventDetails") && value && typeof value === "object") return value as Details;
  return {};
}

const ms = (iso: string) => Date.parse(iso);

/** The top-level state names of a workflow (registry definition), or undefined for an unknown one. */
function topLevel(workflow: string): { names: Set<string>; path: string[] } | undefined {
  const deployment = Workflows.byName(workflow);
  if (!deployment) return undefined;
  return { names: new Set(Object.keys(deployment.definition.States)), path: Workflows.happyPath(deployment.definition) };
}

/** Time spent in each top-level state of a successful run, for the ETA of later runs. */
export function durations(workflow: string, events: readonly HistoryEvent[]): { [state: string]: { ms: number; items: number } } {
  const top = topLevel(workflow);
  const entered = new Map<string, number>();
  const items = new Map<string, number>();
  const out: { [state: string]: { ms: number; items: number } } = {};
  for (const event of events) {
    const detail = details(event);
    if (event.type.endsWith("StateEntered") && detail.name && (!top || top.names.has(detail.name))) entered.set(detail.name, ms(event.timestamp));
    if (event.type === "MapStateStarted") {
      const last = [...entered.keys()].pop();
      if (last) items.set(last, detail.length ?? 0);
    }
    if (event.type.endsWith("StateExited") && detail.name && entered.has(detail.name)) {
      out[detail.name] = { ms: ms(event.timestamp) - (entered.get(detail.name) as number), items: items.get(detail.name) ?? 0 };
      entered.delete(detail.name);
    }
  }
  return out;
}

/** Medians over earlier runs' durations (see `durations`). */
export function medians(runs: readonly { [state: string]: { ms: number; items: number } }[]): { [state: string]: { ms: number; perItemMs?: number } } {
  const byState = new Map<string, { total: number[]; perItem: number[] }>();
  for (const run of runs) {
    for (const [state, value] of Object.entries(run)) {
      const entry = byState.get(state) ?? { total: [], perItem: [] };
      entry.total.push(value.ms);
      if (value.items > 0) entry.perItem.push(value.ms / value.items);
      byState.set(state, entry);
    }
  }
  const median = (values: number[]) => {
    const sorted = [...values].sort((a, b) => a - b);
    const middle = Math.floor(sorted.length / 2);
    return sorted.length % 2 === 1 ? (sorted[middle] as number) : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
  };
  return Object.fromEntries(
    [...byState.entries()].map(([state, entry]) => [
      state,
      { ms: median(entry.total), perItemMs: entry.perItem.length > 0 ? median(entry.perItem) : undefined },
    ]),
  );
}

/**
 * The progress of one execution from its description and full history; `previous` are the medians of
 * earlier successful runs of the same workflow (see `medians`). `now` is for the elapsed time of a running one.
 */
export function of(
  execution: Execution,
  events: readonly HistoryEvent[],
  previous: { [state: string]: { ms: number; perItemMs?: number } } = {},
  now = Date.now(),
): Progress {
  const top = topLevel(execution.workflow);
  const byId = new Map(events.map((event) => [event.id, event]));
  const done = new Set<string>();
  const entered = new Map<string, number>();
  let current: string | undefined;
  let map: { map: string; done: number; failed: number; total: number } | undefined;
  for (const event of events) {
    const detail = details(event);
    const isTop = detail.name !== undefined && (!top || top.names.has(detail.name));
    if (event.type.endsWith("StateEntered") && isTop && detail.name) {
      current = detail.name;
      entered.set(detail.name, ms(event.timestamp));
    }
    if (event.type.endsWith("StateExited") && isTop && detail.name) {
      done.add(detail.name);
      if (current === detail.name) current = undefined;
    }
    if (event.type === "MapStateStarted" && current) map = { map: current, done: 0, failed: 0, total: detail.length ?? 0 };
    if (event.type === "MapIterationSucceeded" && map) map.done += 1;
    if (event.type === "MapIterationFailed" && map) map.failed += 1;
  }
  const path = top?.path ?? [...entered.keys()];
  const statesDone = path.filter((state) => done.has(state)).length;
  const end = execution.stopDate ? ms(execution.stopDate) : now;
  const progress: Progress = {
    executionArn: execution.executionArn,
    name: execution.name,
    workflow: execution.workflow,
    status: execution.status,
    startDate: execution.startDate,
    stopDate: execution.stopDate,
    elapsedMs: Math.max(0, end - ms(execution.startDate)),
    states: { done: execution.status === "SUCCEEDED" ? path.length : statesDone, total: path.length, current },
    items: map,
  };
  if (execution.status === "RUNNING") progress.etaMs = eta(path, done, current, entered, map, previous, now);
  if (execution.status === "SUCCEEDED" && execution.output !== undefined) progress.result = parseJsonOr(execution.output, execution.output);
  if (execution.status !== "RUNNING" && execution.status !== "SUCCEEDED") progress.error = failure(execution, events, byId, top?.names);
  return progress;
}

function eta(
  path: readonly string[],
  done: ReadonlySet<string>,
  current: string | undefined,
  entered: ReadonlyMap<string, number>,
  map: { map: string; done: number; failed: number; total: number } | undefined,
  previous: { [state: string]: { ms: number; perItemMs?: number } },
  now: number,
): number | undefined {
  let left = 0;
  for (const state of path) {
    if (done.has(state)) continue;
    const median = previous[state];
    if (!median) return undefined;
    if (state !== current) {
      left += median.ms;
      continue;
    }
    const spent = now - (entered.get(state) ?? now);
    if (map && map.map === state && median.perItemMs !== undefined) left += Math.max(0, (map.total - map.done - map.failed) * median.perItemMs);
    else left += Math.max(0, median.ms - spent);
  }
  return Math.round(left);
}

/** Lambda's error document (`{ errorType, errorMessage, … }`) when the cause is one, else the cause as it is. */
export function decodeCause(error: string, cause: string | undefined): { type: string; message: string } {
  if (cause) {
    const parsed = parseJsonOr(cause, cause);
    if (parsed && typeof parsed === "object" && "errorMessage" in parsed) {
      const document = parsed as { errorType?: string; errorMessage?: string };
      return { type: document.errorType ?? error, message: String(document.errorMessage ?? "") };
    }
    return { type: error, message: cause };
  }
  return { type: error, message: "" };
}

const taskFailureTypes = new Set(["TaskFailed", "TaskTimedOut", "LambdaFunctionFailed", "LambdaFunctionTimedOut"]);
const executionFailureTypes = new Set(["ExecutionFailed", "ExecutionTimedOut", "ExecutionAborted"]);
/** Events that close a Map or one of its iterations: walking back past one means leaving the iteration it closed. */
const mapClosers = new Set([
  "MapStateSucceeded",
  "MapStateFailed",
  "MapStateAborted",
  "MapStateExited",
  "MapIterationSucceeded",
  "MapIterationFailed",
  "MapIterationAborted",
]);

type TaskFailure = { event: HistoryEvent; entered: HistoryEvent | undefined; item: { map: string; index: number } | undefined };

/** The StateEntered a task event belongs to, by its previousEventId chain. */
function enteredOf(event: HistoryEvent, byId: Map<number, HistoryEvent>): HistoryEvent | undefined {
  let cursor: HistoryEvent | undefined = event;
  while (cursor && !cursor.type.endsWith("StateEntered")) cursor = cursor.previousEventId === undefined ? undefined : byId.get(cursor.previousEventId);
  return cursor;
}

/**
 * The Map item a state ran in: back along previousEventId to its MapIterationStarted. Reaching the end
 * of a Map or of another iteration first means the state ran after that Map, at the top level.
 */
function itemOf(entered: HistoryEvent | undefined, byId: Map<number, HistoryEvent>, top: Set<string> | undefined): TaskFailure["item"] {
  if (!entered || top?.has(details(entered).name ?? "")) return undefined;
  let cursor = entered.previousEventId === undefined ? undefined : byId.get(entered.previousEventId);
  while (cursor) {
    if (cursor.type === "MapIterationStarted") {
      const detail = details(cursor);
      return detail.name !== undefined && detail.index !== undefined ? { map: detail.name, index: detail.index } : undefined;
    }
    if (mapClosers.has(cursor.type) || cursor.type === "ExecutionStarted") return undefined;
    cursor = cursor.previousEventId === undefined ? undefined : byId.get(cursor.previousEventId);
  }
  return undefined;
}

/**
 * Why the run failed, from the execution's own error and cause and the failed step's own events: the
 * task failure that raised the execution's error (inside a Map, one of the items that failed), else
 * the last task failure of a failed item, else the last task failure (the execution's error may be a
 * consequence, a States.Runtime in the failure path), else the execution itself. Never simply "the
 * last TaskFailed of the history": parallel Map items fail in any order.
 */
function failure(execution: Execution, events: readonly HistoryEvent[], byId: Map<number, HistoryEvent>, top: Set<string> | undefined): Failure {
  const executionEvent = [...events].reverse().find((event) => executionFailureTypes.has(event.type));
  const executionDetails = executionEvent ? details(executionEvent) : {};
  const executionError = executionDetails.error ?? execution.error ?? (execution.status === "TIMED_OUT" ? "States.Timeout" : execution.status);
  const executionCause = executionDetails.cause ?? execution.cause;

  const failedItems = new Set(
    events
      .filter((event) => event.type === "MapIterationFailed")
      .map((event) => details(event))
      .map((detail) => `${detail.name}#${detail.index}`),
  );
  const tasks: TaskFailure[] = events
    .filter((event) => taskFailureTypes.has(event.type))
    .map((event) => {
      const entered = enteredOf(event, byId);
      return { event, entered, item: itemOf(entered, byId, top) };
    });
  const inFailedItem = (task: TaskFailure) => task.item === undefined || failedItems.has(`${task.item.map}#${task.item.index}`);
  const chosen =
    tasks.findLast((task) => details(task.event).error === executionError && inFailedItem(task)) ??
    tasks.findLast((task) => task.item !== undefined && failedItems.has(`${task.item.map}#${task.item.index}`)) ??
    tasks.at(-1);

  const chosenDetails = chosen ? details(chosen.event) : {};
  const decoded = decodeCause(chosenDetails.error ?? executionError, (chosen ? chosenDetails.cause : executionCause) || undefined);
  let state = "(execution)";
  if (chosen) state = (chosen.entered && details(chosen.entered).name) ?? state;
  else {
    const lastEntered = [...events].reverse().find((event) => event.type.endsWith("StateEntered") && event.type !== "FailStateEntered");
    state = (lastEntered && details(lastEntered).name) ?? state;
  }
  // Retries: failed attempts of the same state entry, beyond the first.
  const attempts = chosen?.entered ? tasks.filter((task) => task.entered?.id === chosen.entered?.id).length : 0;
  const retries = Math.max(0, attempts - 1);
  const item = chosen?.item;
  return {
    state,
    item,
    type: decoded.type,
    message: decoded.message,
    retries,
    explanation: explain({ state, item, type: decoded.type, message: decoded.message, retries }),
  };
}

/** A short, plain explanation and the next thing to do, by error type. */
export function explain(failure: Omit<Failure, "explanation">): string {
  const where = `${failure.state}${failure.item ? ` (item ${failure.item.index} of ${failure.item.map})` : ""}`;
  const after = failure.retries > 0 ? ` after ${failure.retries} retr${failure.retries === 1 ? "y" : "ies"}` : "";
  switch (failure.type) {
    case "ImportValidationError": {
      const lines = [...new Set([...failure.message.matchAll(/(?:: |; )line (\d+)/g)].map((match) => match[1]))];
      const file = /^([^:]+):/.exec(failure.message)?.[1] ?? "the file";
      const which = lines.length > 0 ? `line${lines.length === 1 ? "" : "s"} ${lines.join(", ")} of ${file}` : `the rows of ${file} listed above`;
      return `The file was rejected in ${where}, so nothing from this run was loaded. Fix ${which} (the header is line 1) and import it again.`;
    }
    case "States.Timeout":
      return `${where} did not finish within its timeout${after}. Run it again; if it keeps timing out, start it with less input (fewer files or factory-months per run).`;
    case "Lambda.Unknown":
      return `${where} stopped without reporting an error${after}: its function most likely ran out of memory or hit its own timeout. Look up the invocation in the function's logs, raise its memory or timeout, and run again.`;
    case "States.DataLimitExceeded":
      return `${where} produced more than 256 KiB of state data. Workflows must pass references (object keys), not data: this is a defect in the workflow; report it with the execution id.`;
    case "States.Runtime":
      return `The run stopped in ${where}: ${failure.message || "a runtime error in the workflow"}. Start it again; report it if it recurs.`;
    case "Lambda.ServiceException":
    case "Lambda.AWSLambdaException":
    case "Lambda.SdkClientException":
    case "Lambda.TooManyRequestsException":
    case "TransientError":
      return `${where} hit a transient error${after} (${failure.message || failure.type}). Nothing is wrong with the input: run it again in a few minutes.`;
    case "NotFoundError":
      return `${where} could not find what it was given: ${failure.message}. Check the ids in the run's input and start it again.`;
    default:
      return `${where} failed${after} with ${failure.type}${failure.message ? `: ${failure.message}` : ""}. Fix the cause and start the run again.`;
  }
}
