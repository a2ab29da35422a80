import { StateMachine } from "aws-local-stepfunctions";
import { describe, expect, it } from "vitest";
import { Workflows } from "../src/workflow/definitions";
import { WorkflowIam } from "../src/workflow/iam";

describe.each(Workflows.registry.map((workflow) => [workflow.name, workflow] as const))("workflow %s", (_name, workflow) => {
  it("names a handler for every Lambda placeholder its definition uses, and no other", () => {
    const used = new Set(
      JSON.stringify(workflow.definition)
        .match(/\$\{[A-Za-z0-9_]+\}/g)
        ?.map((placeholder) => placeholder.slice(2, -1)),
    );
    expect([...used].sort()).toEqual(Object.keys(workflow.steps).sort());
    for (const step of Object.values(workflow.steps)) expect(step.handler).toMatch(/^packages\/functions\/src\/workflows\/\w+\.\w+$/);
  });

  it("is a definition aws-local-stepfunctions accepts (JSONPath, no JSONata)", () => {
    expect(() => new StateMachine(workflow.definition as never, { validationOptions: { checkPaths: true, checkArn: true } })).not.toThrow();
    expect(JSON.stringify(workflow.definition)).not.toContain("JSONata");
  });

  it("retries transient Lambda errors and catches everything else to a readable failure", () => {
    for (const { state } of WorkflowIam.tasks(workflow.definition)) {
      expect(state.Retry).toEqual([expect.objectContaining({ ErrorEquals: expect.arrayContaining(["Lambda.ServiceException", "TransientError"]) })]);
    }
    for (const name of Workflows.happyPath(workflow.definition)) {
      expect(workflow.definition.States[name]?.Catch).toEqual([{ ErrorEquals: ["States.ALL"], ResultPath: "$.error", Next: "Failed" }]);
    }
    expect(workflow.definition.States.Failed).toMatchObject({ Type: "Fail", ErrorPath: "$.error.Error" });
  });
});

describe("happy path", () => {
  it("follows Next from StartAt, leaving the failure path out", () => {
    expect(Workflows.happyPath(Workflows.importFiles)).toEqual(["ValidateFiles", "LoadFiles", "FinishImport"]);
    expect(Workflows.happyPath(Workflows.monthlyClose)).toEqual(["PlanClose", "CloseFactoryMonths", "SummarizeClose"]);
  });
});
