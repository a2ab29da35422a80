import { describe, expect, it } from "vitest";
import { Workflows } from "../src/workflow/definitions";
import { type AslDefinition, WorkflowIam } from "../src/workflow/iam";

const scope = { region: "us-east-1", accountId: "123456789012" };
const fn = (name: string) => `arn:aws:lambda:us-east-1:123456789012:function:${name}`;
/** A `${Name}` placeholder, as the definitions in core name their Lambda steps. */
const ref = (name: string) => `\${${name}}`;

/** Shaped like the monthly close the workflows issue will add: Lambda steps, a Map, a Parallel, a child workflow, a notification. */
const monthlyClose: AslDefinition = {
  StartAt: "ListFactories",
  States: {
    ListFactories: {
      Type: "Task",
      Resource: "arn:aws:states:::lambda:invoke",
      Parameters: { FunctionName: ref("ListFactories"), "Payload.$": "$" },
      Next: "EachFactory",
    },
    EachFactory: {
      Type: "Map",
      ItemsPath: "$.factories",
      ItemProcessor: {
        StartAt: "CloseFactory",
        States: {
          CloseFactory: {
            Type: "Task",
            Resource: "arn:aws:states:::lambda:invoke",
            Parameters: { FunctionName: ref("CloseFactory"), "Payload.$": "$" },
            End: true,
          },
        },
      },
      Next: "Finish",
    },
    Finish: {
      Type: "Parallel",
      Branches: [
        {
          StartAt: "Recompute",
          States: {
            Recompute: {
              Type: "Task",
              Resource: "arn:aws:states:::states:startExecution.sync:2",
              Parameters: { StateMachineArn: "arn:aws:states:us-east-1:123456789012:stateMachine:wattflow-production-CostRecompute", "Input.$": "$" },
              End: true,
            },
          },
        },
        {
          StartAt: "Notify",
          States: {
            Notify: {
              Type: "Task",
              Resource: "arn:aws:states:::sns:publish",
              Parameters: { TopicArn: "arn:aws:sns:us-east-1:123456789012:alerts", "Message.$": "$" },
              End: true,
            },
          },
        },
      ],
      End: true,
    },
  },
};

describe("ASL → IAM policy derivation", () => {
  it("finds every Task state, inside Map processors and Parallel branches too", () => {
    // Prepare / Act
    const paths = WorkflowIam.tasks(monthlyClose).map((task) => task.path);

    // Assess
    expect(paths).toEqual(["ListFactories", "EachFactory.ItemProcessor.CloseFactory", "Finish.Branches[0].Recompute", "Finish.Branches[1].Notify"]);
  });

  it("grants exactly the calls the definition makes, on the resources it names", () => {
    const definition = WorkflowIam.substitute(monthlyClose, { ListFactories: fn("list"), CloseFactory: fn("close") });

    const policy = WorkflowIam.policy(definition, scope);

    expect(policy).toEqual([
      {
        actions: ["events:DescribeRule", "events:PutRule", "events:PutTargets"],
        resources: ["arn:aws:events:us-east-1:123456789012:rule/StepFunctionsGetEventsForStepFunctionsExecutionRule"],
      },
      { actions: ["lambda:InvokeFunction"], resources: [fn("close"), `${fn("close")}:*`, fn("list"), `${fn("list")}:*`] },
      { actions: ["sns:Publish"], resources: ["arn:aws:sns:us-east-1:123456789012:alerts"] },
      {
        actions: ["states:DescribeExecution", "states:StopExecution"],
        resources: ["arn:aws:states:us-east-1:123456789012:execution:wattflow-production-CostRecompute:*"],
      },
      { actions: ["states:StartExecution"], resources: ["arn:aws:states:us-east-1:123456789012:stateMachine:wattflow-production-CostRecompute"] },
    ]);
  });

  it("never grants a wildcard action or a wildcard resource", () => {
    const definition = WorkflowIam.substitute(monthlyClose, { ListFactories: fn("list"), CloseFactory: fn("close") });

    const policy = WorkflowIam.policy(definition, scope);

    for (const statement of policy) {
      for (const action of statement.actions) expect(action).toMatch(/^[a-z0-9-]+:[A-Za-z]+$/);
      for (const resource of statement.resources) expect(resource).not.toBe("*");
    }
  });

  it("turns a bare function name into the function's ARN in the stage's account and region", () => {
    const definition: AslDefinition = {
      StartAt: "A",
      States: { A: { Type: "Task", Resource: "arn:aws:states:::lambda:invoke", Parameters: { FunctionName: "importer" }, End: true } },
    };

    expect(WorkflowIam.policy(definition, scope)).toEqual([{ actions: ["lambda:InvokeFunction"], resources: [fn("importer"), `${fn("importer")}:*`] }]);
  });

  it("grants the distributed Map's reader, writer and child executions", () => {
    const definition: AslDefinition = {
      StartAt: "Rows",
      States: {
        Rows: {
          Type: "Map",
          ItemReader: { Resource: "arn:aws:states:::s3:getObject", Parameters: { Bucket: "imports", Key: "run/input.csv" } },
          ResultWriter: { Resource: "arn:aws:states:::s3:putObject", Parameters: { Bucket: "imports", Prefix: "run/results/" } },
          ItemProcessor: {
            ProcessorConfig: { Mode: "DISTRIBUTED", ExecutionType: "EXPRESS" },
            StartAt: "Row",
            States: { Row: { Type: "Task", Resource: fn("row"), End: true } },
          },
          End: true,
        },
      },
    };

    expect(WorkflowIam.policy(definition, scope)).toEqual([
      { actions: ["lambda:InvokeFunction"], resources: [fn("row")] },
      { actions: ["s3:GetObject"], resources: ["arn:aws:s3:::imports/run/input.csv"] },
      { actions: ["s3:PutObject"], resources: ["arn:aws:s3:::imports/run/results/*"] },
      { actions: ["states:StartExecution"], resources: ["arn:aws:states:us-east-1:123456789012:stateMachine:*"] },
    ]);
  });

  it("refuses a target chosen at run time, which no narrow policy can cover", () => {
    const definition: AslDefinition = {
      StartAt: "A",
      States: { A: { Type: "Task", Resource: "arn:aws:states:::lambda:invoke", Parameters: { "FunctionName.$": "$.fn" }, End: true } },
    };

    expect(() => WorkflowIam.policy(definition, scope)).toThrow(/A: FunctionName is chosen at run time/);
  });

  it("refuses an integration it has no mapping for instead of granting too much", () => {
    const definition: AslDefinition = { StartAt: "A", States: { A: { Type: "Task", Resource: "arn:aws:states:::aws-sdk:s3:deleteBucket", End: true } } };

    expect(() => WorkflowIam.policy(definition, scope)).toThrow(WorkflowIam.WorkflowIamError);
  });

  it("fills every placeholder and names the one that has no value", () => {
    expect(() => WorkflowIam.substitute(monthlyClose, { ListFactories: fn("list") })).toThrow(`no value for placeholder ${ref("CloseFactory")}`);
  });

  it.each(Workflows.registry.map((workflow) => [workflow.name, workflow] as const))(
    "derives the %s role from the registry: invoke its own steps, nothing else",
    (_name, workflow) => {
      const arns = Object.fromEntries(Object.keys(workflow.steps).map((placeholder) => [placeholder, fn(`wattflow-production-${placeholder}`)]));

      const policy = WorkflowIam.policy(WorkflowIam.substitute(workflow.definition, arns), scope);

      expect(policy).toEqual([
        {
          actions: ["lambda:InvokeFunction"],
          resources: Object.values(arns)
            .flatMap((arn) => [arn, `${arn}:*`])
            .sort(),
        },
      ]);
    },
  );
});
