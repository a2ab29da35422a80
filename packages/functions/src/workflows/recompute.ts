/** CostRecompute steps (packages/core/src/workflow/definitions.ts). */
import { Recompute } from "@wattflow/core/recompute";
import { step } from "./step";

export const plan = step("recompute-plan", (event: Parameters<typeof Recompute.plan>[0]) => Recompute.plan(event));
export const page = step("recompute-page", (event: Parameters<typeof Recompute.page>[0]) => Recompute.page(event));
export const summarize = step("recompute-summarize", (event: Parameters<typeof Recompute.summarize>[0]) => Recompute.summarize(event));
