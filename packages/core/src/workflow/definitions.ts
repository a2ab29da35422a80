/**
 * The workflows as data: ASL (JSONPath) definitions that stacks/workflows.ts deploys to Step Functions
 * and the local runner executes with aws-local-stepfunctions, with the same step handlers
 * (packages/functions/src/workflows/). States pass references (import ids, factory-months), never
 * file contents, so no payload nears Step Functions' 256 KiB. Pure: no I/O.
 */
import type { AslDefinition, AslState } from "./iam";

export * as Workflows from "./definitions";

/** Step Functions' service quotas the local runner enforces, so a run that passes locally cannot fail on AWS for size. */
export const limits = {
  /** Largest input or output of a state, and of the execution (UTF-8 bytes). */
  payloadBytes: 256 * 1024,
  /** Events in one execution's history; an execution that would exceed it fails. */
  historyEvents: 25_000,
} as const;

/** Lambda's own transient failures (the retry AWS recommends for lambda:invoke) and ours (core's TransientError). */
const transient = ["Lambda.ServiceException", "Lambda.AWSLambdaException", "Lambda.SdkClientException", "Lambda.TooManyRequestsException", "TransientError"];

/** Items of a Map in flight at once: each item is one Lambda doing database work; more would crowd Aurora's connections. */
const mapConcurrency = 4;

/** A Lambda step: invoked through the lambda:invoke integration, its return value becomes the state's result. */
function step(placeholder: string, extra: Partial<AslState> & { Next?: string; End?: boolean }, payload?: Record<string, string>): AslState {
  return {
    Type: "Task",
    Resource: "arn:aws:states:::lambda:invoke",
    // The whole state input is the payload unless the state picks fields from it.
    Parameters: { FunctionName: `\${${placeholder}}`, ...(payload ? { Payload: payload } : { "Payload.$": "$" }) },
    ResultSelector: { "value.$": "$.Payload" },
    // Lambda's limit is 15 minutes; a step that takes longer should be split into more Map items.
    TimeoutSeconds: 900,
    Retry: [{ ErrorEquals: transient, IntervalSeconds: 2, MaxAttempts: 3, BackoffRate: 2 }],
    ...extra,
  };
}

/** A Map over `itemsPath` running one step per item; `itemSelector` adds what every item shares (kept once in the state, not per item). */
function each(
  itemsPath: string,
  processor: { name: string; placeholder: string },
  extra: Partial<AslState> & { Next?: string; End?: boolean },
  itemSelector?: Record<string, string>,
): AslState {
  return {
    Type: "Map",
    ItemsPath: itemsPath,
    ...(itemSelector ? { ItemSelector: itemSelector } : {}),
    MaxConcurrency: mapConcurrency,
    ItemProcessor: {
      ProcessorConfig: { Mode: "INLINE" },
      StartAt: processor.name,
      States: { [processor.name]: step(processor.placeholder, { OutputPath: "$.value", End: true }) },
    },
    Catch: [{ ErrorEquals: ["States.ALL"], ResultPath: "$.error", Next: "Failed" }],
    ...extra,
  };
}

/**
 * The failure path every workflow shares: the execution fails with the caught error. No CausePath: a
 * States.Timeout has no Cause, and a path to nothing would turn the failure into States.Runtime; the
 * cause stays on the failed task's event, where the watcher reads it.
 */
const failed: AslState = { Type: "Fail", ErrorPath: "$.error.Error" };

/**
 * Import ETL. Input: `{ organizationId, kind, imports: [{ importId }] }`. Every file is validated before
 * any is loaded, so a bad row in one file loads nothing; Finish recomputes what the load touched
 * (energy per unit for production, reconciliation for bills, the cost recompute for prices).
 */
export const importFiles: AslDefinition = {
  Comment: "Import customer files (production, utility bills, CFE price tables): validate, load idempotently, refresh what they touch",
  StartAt: "ValidateFiles",
  States: {
    ValidateFiles: each("$.imports", { name: "ValidateFile", placeholder: "ImportValidate" }, { ResultPath: "$.validated", Next: "LoadFiles" }),
    LoadFiles: each("$.validated", { name: "LoadFile", placeholder: "ImportLoad" }, { ResultPath: "$.loaded", Next: "FinishImport" }),
    FinishImport: step(
      "ImportFinish",
      { OutputPath: "$.value", Catch: [{ ErrorEquals: ["States.ALL"], ResultPath: "$.error", Next: "Failed" }], End: true },
      { "organizationId.$": "$.organizationId", "kind.$": "$.kind", "loaded.$": "$.loaded" },
    ),
    Failed: failed,
  },
};

/** A page of factories for one month: what a close or recompute Map item names (the factory ids stay in the database, not in the state). */
const pageOfFactories = { "month.$": "$$.Map.Item.Value.month", "page.$": "$$.Map.Item.Value.page", "filter.$": "$.filter" };

/**
 * Cost recompute. Input: `{ months: ["YYYY-MM"], divisions?, factoryIds?, organizationId? }`. Reprices the
 * readings of each affected factory-month with the prices now known, clearing `estimated`; idempotent.
 * The Map goes over pages of factories per month, so a thousand factories stay a few KiB of state.
 */
export const costRecompute: AslDefinition = {
  Comment: "Recompute reading costs for factory-months after prices were published or corrected",
  StartAt: "PlanRecompute",
  States: {
    PlanRecompute: step("RecomputePlan", {
      OutputPath: "$.value",
      Catch: [{ ErrorEquals: ["States.ALL"], ResultPath: "$.error", Next: "Failed" }],
      Next: "RecomputeFactoryMonths",
    }),
    RecomputeFactoryMonths: each(
      "$.items",
      { name: "RecomputePage", placeholder: "RecomputePage" },
      { ResultPath: "$.results", Next: "SummarizeRecompute" },
      pageOfFactories,
    ),
    SummarizeRecompute: step(
      "RecomputeSummarize",
      { OutputPath: "$.value", Catch: [{ ErrorEquals: ["States.ALL"], ResultPath: "$.error", Next: "Failed" }], End: true },
      { "results.$": "$.results" },
    ),
    Failed: failed,
  },
};

/**
 * Monthly close. Input: `{ timeZone }` from the schedule (the month just ended there), or
 * `{ month, factoryIds?, organizationId? }`. Stores each factory's bill with its lines and reconciles
 * it against the imported utility bill, a page of factories per Map item.
 */
export const monthlyClose: AslDefinition = {
  Comment: "Close a month: each factory's bill from the tariff engine, stored and reconciled against the utility's",
  StartAt: "PlanClose",
  States: {
    PlanClose: step("ClosePlan", {
      OutputPath: "$.value",
      Catch: [{ ErrorEquals: ["States.ALL"], ResultPath: "$.error", Next: "Failed" }],
      Next: "CloseFactoryMonths",
    }),
    CloseFactoryMonths: each("$.items", { name: "ClosePage", placeholder: "ClosePage" }, { ResultPath: "$.results", Next: "SummarizeClose" }, pageOfFactories),
    SummarizeClose: step(
      "CloseSummarize",
      { OutputPath: "$.value", Catch: [{ ErrorEquals: ["States.ALL"], ResultPath: "$.error", Next: "Failed" }], End: true },
      { "month.$": "$.month", "results.$": "$.results" },
    ),
    Failed: failed,
  },
};

/** A deployable workflow: its definition and the Lambda handler of each `${Placeholder}` (SST handler paths from the repository root). */
export type Deployment = {
  name: "ImportFiles" | "CostRecompute" | "MonthlyClose";
  definition: AslDefinition;
  steps: Record<string, { handler: string; timeoutSeconds?: number; memoryMb?: number }>;
  monthlyClose?: boolean;
};

const handler = (file: string, name: string) => `packages/functions/src/workflows/${file}.${name}`;

/** Every workflow; stacks/workflows.ts deploys each, the local stack runs each. */
export const registry: Deployment[] = [
  {
    name: "ImportFiles",
    definition: importFiles,
    steps: {
      ImportValidate: { handler: handler("import", "validate"), memoryMb: 2048 },
      ImportLoad: { handler: handler("import", "load"), memoryMb: 2048 },
      ImportFinish: { handler: handler("import", "finish") },
    },
  },
  {
    name: "CostRecompute",
    definition: costRecompute,
    steps: {
      RecomputePlan: { handler: handler("recompute", "plan") },
      RecomputePage: { handler: handler("recompute", "page"), memoryMb: 2048 },
      RecomputeSummarize: { handler: handler("recompute", "summarize") },
    },
  },
  {
    name: "MonthlyClose",
    definition: monthlyClose,
    monthlyClose: true,
    steps: {
      ClosePlan: { handler: handler("close", "plan") },
      ClosePage: { handler: handler("close", "page"), memoryMb: 2048 },
      CloseSummarize: { handler: handler("close", "summarize") },
    },
  },
];

export function byName(name: string): Deployment | undefined {
  return registry.find((workflow) => workflow.name === name);
}

/**
 * The top-level states a successful run passes through, in order (Choice follows its Default), for
 * "states done of total".
 */
export function happyPath(definition: AslDefinition): string[] {
  const path: string[] = [];
  let name: string | undefined = definition.StartAt;
  while (name && !path.includes(name)) {
    const state: AslState | undefined = definition.States[name];
    if (!state || state.Type === "Fail") break;
    path.push(name);
    if (state.End === true || state.Type === "Succeed") break;
    name = (state.Next ?? state.Default) as string | undefined;
  }
  return path;
}
