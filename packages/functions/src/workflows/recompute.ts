/** CostRecompute steps (packages/core/src/workflow/definitions.ts). */
import { Recompute } from "@wattflow/core/recompute";
import { step } from "./step";

export const plan = step("recompute-plan", Recompute.plan);
export const page = step("recompute-page", Recompute.page);
export const summarize = step("recompute-summarize", Recompute.summarize);
