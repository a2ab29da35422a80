/**
 * Workflows (Step Functions): the port that starts executions and reads them back in the shape of
 * the Step Functions API (DescribeExecution, GetExecutionHistory, ListExecutions), so one watcher
 * reads both runtimes. Adapters: ./aws.ts (Step Functions) here, and the local twin's runner (aws-local-stepfunctions) in
 * @wattflow/local `workflow/runner.ts`, which needs the local stack's files and so lives with it.
 */

import { z } from "zod";
import { UnavailableError, WattflowError } from "../util/error";
import { portSlot } from "../util/port";

export * as Workflow from "./index";

export const Status = z.enum(["RUNNING", "SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED", "PENDING_REDRIVE"]);
export type Status = z.infer<typeof Status>;

/** An execution as DescribeExecution tells it; instants are ISO strings so it travels as JSON (`GET /v1/runs/{id}`). */
export const Execution = z.object({
  executionArn: z.string(),
  name: z.string(),
  stateMachineArn: z.string(),
  /** The registry name (ImportFiles, CostRecompute, MonthlyClose), read from the state machine's name. */
  workflow: z.string(),
  status: Status,
  startDate: z.string(),
  stopDate: z.string().optional(),
  /** The input and output as JSON text, as Step Functions gives them. */
  input: z.string().optional(),
  output: z.string().optional(),
  error: z.string().optional(),
  cause: z.string().optional(),
});
export type Execution = z.infer<typeof Execution>;

/** A GetExecutionHistory event: id, previousEventId, timestamp, type and the one `*EventDetails` member its type has. */
export const HistoryEvent = z
  .object({ id: z.number().int(), previousEventId: z.number().int().optional(), timestamp: z.string(), type: z.string() })
  .catchall(z.unknown());
export type HistoryEvent = z.infer<typeof HistoryEvent>;

/** A page of history events and the next page's token (none on the last page): `GET /v1/runs/{id}/history`. */
export const HistoryPage = z.object({ events: z.array(HistoryEvent), nextToken: z.string().optional() });
export type HistoryPage = z.infer<typeof HistoryPage>;

/** A started execution: `POST /v1/runs` answers it (202). */
export const Started = z.object({ executionArn: z.string(), startDate: z.string() });
export type Started = z.infer<typeof Started>;

export type ListOptions = { workflow?: string; status?: Status; limit?: number };

export interface Runner {
  /** Starts `workflow` (a registry name); `name` makes the start idempotent (ExecutionAlreadyExists). */
  start(workflow: string, input: unknown, name?: string): Promise<Started>;
  /** Newest first. */
  list(options?: ListOptions): Promise<Execution[]>;
  /** By ARN; the local runner also takes the bare execution name. */
  describe(execution: string): Promise<Execution | undefined>;
  history(execution: string, options?: { nextToken?: string; maxResults?: number }): Promise<HistoryPage>;
}

export class WorkflowError extends UnavailableError {
  readonly code = "workflow.unavailable";
  override readonly name = "WorkflowError";
}

/** Starting an execution under a name already used for that state machine. */
export class ExecutionAlreadyExists extends WattflowError {
  readonly kind = "conflict" as const;
  readonly code = "workflow.execution_exists";
  constructor(readonly executionArn: string) {
    super(`an execution named ${executionArn.split(":").pop()} already exists`);
    this.name = "ExecutionAlreadyExists";
  }
}

const slot = portSlot<Runner>(
  "wattflow.workflow",
  () => new WorkflowError("no workflow runner: the stack provides the local one; on AWS set WATTFLOW_WORKFLOW_ARN_PREFIX"),
);

/**
 * This process's runner (util/port.ts): `provide` sets it (the local stack: its runner; the Lambda runtime: Step
 * Functions from WATTFLOW_WORKFLOW_ARN_PREFIX, made on first use), `use` returns it and throws WorkflowError when none
 * was provided.
 */
export const { provide, provideLazily, current, provided, use } = slot;

/** Every history page of an execution, in order. */
export async function fullHistory(runner: Runner, execution: string): Promise<HistoryEvent[]> {
  const events: HistoryEvent[] = [];
  let nextToken: string | undefined;
  do {
    const page = await runner.history(execution, { nextToken });
    events.push(...page.events);
    nextToken = page.nextToken;
  } while (nextToken);
  return events;
}

/** `wattflow-<stage>-ImportFiles` → `ImportFiles`: deployed state machines are named by stage and registry name. */
export function workflowOf(stateMachineArn: string): string {
  // Registry names are PascalCase without hyphens; stages may have them (`pr-12`).
  const name = stateMachineArn.split(":").pop() ?? stateMachineArn;
  return name.split("-").pop() ?? name;
}
