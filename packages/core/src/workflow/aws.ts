/**
 * Workflows on AWS Step Functions: the state machines stacks/workflows.ts deployed, named
 * `wattflow-<stage>-<Workflow>`. The client is created on first use, never at import.
 */
import type { SFNClient, HistoryEvent as SfnHistoryEvent } from "@aws-sdk/client-sfn";
import { Workflows } from "./definitions";
import {
  type Execution,
  ExecutionAlreadyExists,
  type HistoryEvent,
  type HistoryPage,
  type ListOptions,
  type Runner,
  type Status,
  WorkflowError,
  workflowOf,
} from "./index";

export type AwsOptions = {
  /** State machine ARN up to the workflow name: `arn:aws:states:<region>:<account>:stateMachine:wattflow-<stage>-`. */
  arnPrefix: string;
  client?: SFNClient;
  region?: string;
};

export class AwsRunner implements Runner {
  private client?: SFNClient;

  constructor(private readonly options: AwsOptions) {
    this.client = options.client;
  }

  private async sfn(): Promise<typeof import("@aws-sdk/client-sfn") & { client: SFNClient }> {
    const sdk = await import("@aws-sdk/client-sfn");
    this.client ??= new sdk.SFNClient({ region: this.options.region ?? this.options.arnPrefix.split(":")[3] });
    return { ...sdk, client: this.client };
  }

  stateMachineArn(workflow: string): string {
    return `${this.options.arnPrefix}${workflow}`;
  }

  async start(workflow: string, input: unknown, name?: string): Promise<{ executionArn: string; startDate: string }> {
    if (!Workflows.byName(workflow)) throw new WorkflowError(`no workflow named ${workflow}`);
    const { client, StartExecutionCommand, ExecutionAlreadyExists: AlreadyExists } = await this.sfn();
    try {
      const answer = await client.send(new StartExecutionCommand({ stateMachineArn: this.stateMachineArn(workflow), input: JSON.stringify(input), name }));
      return { executionArn: answer.executionArn as string, startDate: (answer.startDate ?? new Date()).toISOString() };
    } catch (error) {
      if (error instanceof AlreadyExists)
        throw new ExecutionAlreadyExists(`${this.stateMachineArn(workflow).replace(":stateMachine:", ":execution:")}:${name}`);
      throw error;
    }
  }

  async list(options: ListOptions = {}): Promise<Execution[]> {
    const { client, ListExecutionsCommand } = await this.sfn();
    const workflows = options.workflow ? [options.workflow] : Workflows.registry.map((workflow) => workflow.name);
    const limit = options.limit ?? 100;
    const found: Execution[] = [];
    for (const workflow of workflows) {
      const answer = await client.send(
        new ListExecutionsCommand({
          stateMachineArn: this.stateMachineArn(workflow),
          statusFilter: options.status as never,
          maxResults: Math.min(limit, 1000),
        }),
      );
      for (const item of answer.executions ?? []) found.push(toExecution(item));
    }
    return found.sort((a, b) => b.startDate.localeCompare(a.startDate)).slice(0, limit);
  }

  async describe(execution: string): Promise<Execution | undefined> {
    const { client, DescribeExecutionCommand, ExecutionDoesNotExist } = await this.sfn();
    try {
      const answer = await client.send(new DescribeExecutionCommand({ executionArn: execution }));
      return { ...toExecution(answer), input: answer.input, output: answer.output, error: answer.error, cause: answer.cause };
    } catch (error) {
      if (error instanceof ExecutionDoesNotExist) return undefined;
      throw error;
    }
  }

  async history(execution: string, options: { nextToken?: string; maxResults?: number } = {}): Promise<HistoryPage> {
    const { client, GetExecutionHistoryCommand } = await this.sfn();
    const answer = await client.send(
      new GetExecutionHistoryCommand({
        executionArn: execution,
        nextToken: options.nextToken,
        maxResults: options.maxResults ?? 1000,
        includeExecutionData: true,
      }),
    );
    return { events: (answer.events ?? []).map(toEvent), nextToken: answer.nextToken };
  }
}

/** A ListExecutions item or DescribeExecution answer, its dates as ISO strings. */
function toExecution(item: { executionArn?: string; name?: string; stateMachineArn?: string; status?: string; startDate?: Date; stopDate?: Date }): Execution {
  return {
    executionArn: item.executionArn as string,
    name: item.name as string,
    stateMachineArn: item.stateMachineArn as string,
    workflow: workflowOf(item.stateMachineArn as string),
    status: item.status as Status,
    startDate: (item.startDate ?? new Date(0)).toISOString(),
    stopDate: item.stopDate?.toISOString(),
  };
}

/** The SDK's event with its Date timestamp as an ISO string, so it travels as JSON like the local runner's. */
function toEvent(event: SfnHistoryEvent): HistoryEvent {
  const { timestamp, id, previousEventId, type, ...rest } = event;
  const out: HistoryEvent = { id: id ?? 0, timestamp: (timestamp ?? new Date(0)).toISOString(), type: type ?? "Unknown", ...rest };
  if (previousEventId !== undefined) out.previousEventId = previousEventId;
  return out;
}
