/**
 * Workflows: every state machine in `registry` is deployed from its ASL (JSONPath) definition in core
 * with `aws.sfn.StateMachine` (SST's StepFunctions component emits JSONata, which the local runner
 * cannot execute), with a role whose permissions are derived from the definition's task resources.
 * Workflows marked `monthlyClose` are started at 02:00 on the 1st in each factory time zone.
 */
import { Workflows } from "../packages/core/src/workflow/definitions";
import { type AslDefinition, WorkflowIam } from "../packages/core/src/workflow/iam";
import { configFor } from "./config";
import { databaseAccess } from "./database";
import { assumedBy } from "./iam";
import { alarm } from "./monitoring";

const config = configFor($app.stage);

/** A step function the definition names as `${Placeholder}` in Parameters.FunctionName. */
export type WorkflowStep = { handler: string; timeoutSeconds?: number; memoryMb?: number };

export type WorkflowDeployment = {
  /** PascalCase component name, e.g. "MonthlyClose". */
  name: string;
  definition: AslDefinition;
  /** The Lambda steps, by the placeholder the definition uses for each. */
  steps: Record<string, WorkflowStep>;
  /** Started by the monthly close schedule, with `{ "timeZone": "<IANA zone>" }` as input. */
  monthlyClose?: boolean;
};

/** The deployed workflows: every definition core registers (packages/core/src/workflow/definitions.ts). */
export const registry: WorkflowDeployment[] = Workflows.registry;

const identity = aws.getCallerIdentityOutput({});
const region = aws.getRegionOutput({});
const partition = aws.getPartitionOutput({});

/** Customers' files (production, utility bills, price tables) that the import workflow reads. */
export const uploads = new sst.aws.Bucket("Uploads", { versioning: config.production });

/** Every state machine of the stage is `<prefix><Workflow>`; core's AWS runner starts and watches them by it. */
export const workflowArnPrefix = $interpolate`arn:${partition.partition}:states:${region.region}:${identity.accountId}:stateMachine:wattflow-${$app.stage}-`;

/** What the API and the steps need to read and write uploads and start and watch runs (`wattflow runs watch`). */
export const workflowClient = {
  environment: { WATTFLOW_UPLOADS_BUCKET: uploads.name, WATTFLOW_WORKFLOW_ARN_PREFIX: workflowArnPrefix },
  permissions: [
    { actions: ["s3:PutObject", "s3:GetObject"], resources: [$interpolate`${uploads.arn}/*`] },
    { actions: ["states:StartExecution", "states:ListExecutions"], resources: [$interpolate`${workflowArnPrefix}*`] },
    {
      actions: ["states:DescribeExecution", "states:GetExecutionHistory"],
      resources: [$interpolate`arn:${partition.partition}:states:${region.region}:${identity.accountId}:execution:wattflow-${$app.stage}-*:*`],
    },
  ],
};

export const stateMachines = registry.map((workflow) => deploy(workflow));

function deploy(workflow: WorkflowDeployment): aws.sfn.StateMachine {
  const steps = Object.fromEntries(
    Object.entries(workflow.steps).map(([placeholder, step]) => [
      placeholder,
      new sst.aws.Function(`${workflow.name}${placeholder}`, {
        handler: step.handler,
        ...databaseAccess(),
        timeout: `${step.timeoutSeconds ?? 300} seconds`,
        memory: `${step.memoryMb ?? 1024} MB`,
        // Steps read uploads and may start or watch other runs (an import that triggers a recompute).
        environment: workflowClient.environment,
        permissions: workflowClient.permissions,
      }).arn,
    ]),
  );
  const definition = $resolve(steps).apply((arns) => WorkflowIam.substitute(workflow.definition, arns));

  const role = new aws.iam.Role(`${workflow.name}Role`, {
    assumeRolePolicy: assumedBy("states.amazonaws.com", { StringEquals: { "aws:SourceAccount": identity.accountId } }),
  });

  const statements = $resolve({ asl: definition, accountId: identity.accountId, region: region.region, partition: partition.partition }).apply(
    ({ asl, accountId, region, partition }) => WorkflowIam.policy(asl, { accountId, region, partition }),
  );
  new aws.iam.RolePolicy(`${workflow.name}Policy`, {
    role: role.id,
    policy: statements.apply((list) =>
      JSON.stringify({
        Version: "2012-10-17",
        Statement: [
          ...list.map((statement) => ({ Effect: "Allow", Action: statement.actions, Resource: statement.resources })),
          {
            // Vended log delivery: these actions take no resource-level permissions ("*" is required by AWS).
            Effect: "Allow",
            Action: [
              "logs:CreateLogDelivery",
              "logs:GetLogDelivery",
              "logs:UpdateLogDelivery",
              "logs:DeleteLogDelivery",
              "logs:ListLogDeliveries",
              "logs:PutResourcePolicy",
              "logs:DescribeResourcePolicies",
              "logs:DescribeLogGroups",
            ],
            Resource: "*",
          },
        ],
      }),
    ),
  });

  const logs = new aws.cloudwatch.LogGroup(`${workflow.name}Logs`, {
    name: `/aws/vendedlogs/states/wattflow-${$app.stage}-${workflow.name}`,
    retentionInDays: config.production ? 90 : 7,
  });

  const machine = new aws.sfn.StateMachine(workflow.name, {
    name: `wattflow-${$app.stage}-${workflow.name}`,
    type: "STANDARD",
    roleArn: role.arn,
    definition: definition.apply((asl) => JSON.stringify(asl)),
    loggingConfiguration: { level: "ERROR", includeExecutionData: false, logDestination: $interpolate`${logs.arn}:*` },
  });

  alarm(`${workflow.name}Failed`, {
    description: `The ${workflow.name} workflow failed, timed out or was aborted (wattflow runs watch)`,
    namespace: "AWS/States",
    metricName: "ExecutionsFailed",
    dimensions: { StateMachineArn: machine.arn },
    statistic: "Sum",
    threshold: 1,
  });

  if (workflow.monthlyClose) {
    for (const timeZone of config.workflows.closeTimeZones) scheduleClose(workflow.name, machine, timeZone);
  }
  return machine;
}

/**
 * EventBridge Scheduler starts the state machine directly: CronV2 takes its ARN as the target, and the
 * scheduler's role is narrowed to StartExecution on that machine.
 */
function scheduleClose(name: string, machine: aws.sfn.StateMachine, timeZone: string): void {
  const zone = timeZone.replace(/[^A-Za-z0-9]/g, "");
  new sst.aws.CronV2(`${name}Schedule${zone}`, {
    // 02:00 local on the 1st: the month just ended is complete in the factory's own time.
    schedule: "cron(0 2 1 * ? *)",
    timezone: timeZone,
    function: machine.arn,
    event: { timeZone },
    retries: 3,
    transform: {
      role: (args) => {
        args.inlinePolicies = [
          {
            name: "inline",
            policy: $jsonStringify({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "states:StartExecution", Resource: machine.arn }] }),
          },
        ];
      },
    },
  });
}
