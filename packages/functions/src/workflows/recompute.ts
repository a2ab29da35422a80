/** CostRecompute steps (packages/core/src/workflow/definitions.ts). */
import { Recompute } from "@wattflow/core/recompute";
import { step } from "./step";

export const plan = step("recompute-plan", (event: Parameters<typeof Recompute.plan>[0]) => Recompute.plan(event));
export const factoryMonth = step("recompute-factory-month", (event: Recompute.FactoryMonth) => Recompute.factoryMonth(event));
export const summarize = step("recompute-summarize", (event: { results: Recompute.Result[] }) => Recompute.summarize(event));
