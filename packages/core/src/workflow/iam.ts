/**
 * The IAM permissions a state machine needs, derived from its ASL (JSONPath) definition: every Task
 * state's resource becomes the narrowest statement that lets Step Functions call it, so the
 * deployed role (stacks/workflows.ts) grows and shrinks with the definition. Pure: no I/O.
 */
import { WattflowError } from "../util/error";

export * as WorkflowIam from "./iam";

/** The part of an Amazon States Language document this module reads. */
export type AslDefinition = { StartAt: string; States: Record<string, AslState>; Comment?: string };
export type AslState = {
  Type: string;
  Resource?: string;
  Parameters?: Record<string, unknown>;
  Arguments?: Record<string, unknown>;
  Branches?: AslDefinition[];
  Iterator?: AslDefinition;
  ItemProcessor?: AslDefinition & { ProcessorConfig?: { Mode?: string; ExecutionType?: string } };
  ItemReader?: { Resource: string; Parameters?: Record<string, unknown> };
  ResultWriter?: { Resource: string; Parameters?: Record<string, unknown> };
  [key: string]: unknown;
};

export type Statement = { actions: string[]; resources: string[] };

/** Where the state machine runs; used only for ARNs that the definition names without them. */
export type Scope = { partition?: string; region: string; accountId: string };

/** The definition asks for something the derivation cannot narrow (a dynamic target, an unknown integration). */
export class WorkflowIamError extends WattflowError {
  readonly kind = "internal" as const;
  readonly code = "workflow.iam_invalid";
  override readonly name = "WorkflowIamError";
}

/** Every Task state (and Map reader/writer) of the definition, nested Parallel branches and Map processors included. */
export function tasks(definition: AslDefinition, path: string[] = []): { path: string; state: AslState }[] {
  const found: { path: string; state: AslState }[] = [];
  for (const [name, state] of Object.entries(definition.States)) {
    const here = [...path, name];
    if (state.Type === "Task") found.push({ path: here.join("."), state });
    for (const [index, branch] of (state.Branches ?? []).entries()) found.push(...tasks(branch, [...here, `Branches[${index}]`]));
    const processor = state.ItemProcessor ?? state.Iterator;
    if (processor) found.push(...tasks(processor, [...here, "ItemProcessor"]));
    if (state.ItemReader) found.push({ path: [...here, "ItemReader"].join("."), state: { Type: "Task", ...state.ItemReader } });
    if (state.ResultWriter) found.push({ path: [...here, "ResultWriter"].join("."), state: { Type: "Task", ...state.ResultWriter } });
  }
  return found;
}

/**
 * The statements a role needs to run `definition`, merged by action set and sorted, so the policy is
 * stable between deploys. Throws WorkflowIamError for a task whose target is chosen at run time.
 * @example policy(definition, { region: "us-east-1", accountId: "123456789012" })
 */
export function policy(definition: AslDefinition, scope: Scope): Statement[] {
  const statements = tasks(definition).flatMap(({ path, state }) => taskStatements(path, state, scope));
  const distributedMap = Object.values(definition.States).some((state) => state.ItemProcessor?.ProcessorConfig?.Mode === "DISTRIBUTED");
  if (distributedMap) {
    // A distributed Map starts child executions of the same state machine.
    statements.push({ actions: ["states:StartExecution"], resources: [selfArn(scope)] });
  }
  return merge(statements);
}

/** Replaces `${Name}` placeholders in every string of the definition (like CloudFormation's DefinitionSubstitutions). */
export function substitute<T>(definition: T, values: Record<string, string>): T {
  const replace = (value: unknown): unknown => {
    if (typeof value === "string") {
      return value.replace(/\$\{([A-Za-z0-9_]+)\}/g, (match, name: string) => {
        const replacement = values[name];
        if (replacement === undefined) throw new WorkflowIamError(`no value for placeholder ${match}`);
        return replacement;
      });
    }
    if (Array.isArray(value)) return value.map(replace);
    if (value && typeof value === "object") return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, replace(item)]));
    return value;
  };
  return replace(definition) as T;
}

function selfArn(scope: Scope): string {
  // The role is created before the state machine, so its own ARN is named by pattern.
  return `arn:${scope.partition ?? "aws"}:states:${scope.region}:${scope.accountId}:stateMachine:*`;
}

function taskStatements(path: string, state: AslState, scope: Scope): Statement[] {
  const resource = state.Resource;
  if (!resource) throw new WorkflowIamError(`${path}: a Task state without Resource`);
  const parameters = state.Parameters ?? state.Arguments ?? {};
  const partition = scope.partition ?? "aws";

  // A Lambda function named directly by its ARN.
  if (/^arn:[^:]+:lambda:[^:]+:\d{12}:function:/.test(resource)) return [{ actions: ["lambda:InvokeFunction"], resources: [resource] }];

  const integration = /^arn:[^:]+:states:::(.+?)(\.sync(?::2)?|\.waitForTaskToken)?$/.exec(resource);
  if (!integration?.[1]) throw new WorkflowIamError(`${path}: cannot derive permissions for resource ${resource}`);
  const service = integration[1];
  const mode = integration[2];
  const target = (key: string): string => {
    const value = parameters[key];
    if (typeof value === "string" && value.length > 0) return value;
    if (`${key}.$` in parameters)
      throw new WorkflowIamError(`${path}: ${key} is chosen at run time (${key}.$); name it in the definition so the role can be narrowed`);
    throw new WorkflowIamError(`${path}: ${service} needs Parameters.${key}`);
  };

  switch (service) {
    case "lambda:invoke": {
      const fn = target("FunctionName");
      const arn = fn.startsWith("arn:") ? fn : `arn:${partition}:lambda:${scope.region}:${scope.accountId}:function:${fn}`;
      // Qualified invocations (versions, aliases) use "<arn>:<qualifier>".
      return [{ actions: ["lambda:InvokeFunction"], resources: [arn, `${arn}:*`] }];
    }
    case "states:startExecution": {
      const machine = target("StateMachineArn");
      const statements: Statement[] = [{ actions: ["states:StartExecution"], resources: [machine] }];
      if (mode?.startsWith(".sync")) {
        const executions = machine.replace(":stateMachine:", ":execution:");
        statements.push({ actions: ["states:DescribeExecution", "states:StopExecution"], resources: [`${executions}:*`] });
        statements.push({
          actions: ["events:DescribeRule", "events:PutRule", "events:PutTargets"],
          resources: [`arn:${partition}:events:${scope.region}:${scope.accountId}:rule/StepFunctionsGetEventsForStepFunctionsExecutionRule`],
        });
      }
      return statements;
    }
    case "sns:publish":
      return [{ actions: ["sns:Publish"], resources: [target("TopicArn")] }];
    case "sqs:sendMessage": {
      // The integration takes a queue URL: https://sqs.<region>.amazonaws.com/<account>/<name>.
      const url = /^https:\/\/sqs\.([^.]+)\.[^/]+\/(\d{12})\/([^/]+)$/.exec(target("QueueUrl"));
      if (!url) throw new WorkflowIamError(`${path}: QueueUrl is not an SQS queue URL`);
      return [{ actions: ["sqs:SendMessage"], resources: [`arn:${partition}:sqs:${url[1]}:${url[2]}:${url[3]}`] }];
    }
    case "events:putEvents": {
      const entries = parameters.Entries;
      const buses = Array.isArray(entries)
        ? entries.map((entry) => (entry as Record<string, unknown>).EventBusName).filter((bus): bus is string => typeof bus === "string")
        : [];
      const arns = (buses.length > 0 ? buses : ["default"]).map((bus) =>
        bus.startsWith("arn:") ? bus : `arn:${partition}:events:${scope.region}:${scope.accountId}:event-bus/${bus}`,
      );
      return [{ actions: ["events:PutEvents"], resources: arns }];
    }
    case "s3:getObject":
    case "s3:listObjectsV2":
    case "s3:putObject": {
      const bucket = target("Bucket");
      if (service === "s3:listObjectsV2") return [{ actions: ["s3:ListBucket"], resources: [`arn:${partition}:s3:::${bucket}`] }];
      const key = typeof parameters.Key === "string" ? parameters.Key : typeof parameters.Prefix === "string" ? `${parameters.Prefix}*` : "*";
      const action = service === "s3:getObject" ? "s3:GetObject" : "s3:PutObject";
      return [{ actions: [action], resources: [`arn:${partition}:s3:::${bucket}/${key}`] }];
    }
    default:
      throw new WorkflowIamError(`${path}: no permission mapping for integration ${service}; add one in workflow/iam.ts`);
  }
}

/** Joins statements with the same actions and drops duplicate resources, sorted for stable output. */
function merge(statements: Statement[]): Statement[] {
  const byActions = new Map<string, Set<string>>();
  for (const statement of statements) {
    const key = [...new Set(statement.actions)].sort().join(",");
    const resources = byActions.get(key) ?? new Set<string>();
    for (const resource of statement.resources) resources.add(resource);
    byActions.set(key, resources);
  }
  return [...byActions.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([actions, resources]) => ({ actions: actions.split(","), resources: [...resources].sort() }));
}
