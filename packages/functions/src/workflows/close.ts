/** MonthlyClose steps (packages/core/src/workflow/definitions.ts); the schedule starts it with `{ timeZone }`. */
import { Close } from "@wattflow/core/close";
import { step } from "./step";

export const plan = step("close-plan", (event: Parameters<typeof Close.plan>[0]) => Close.plan(event));
export const factoryMonth = step("close-factory-month", (event: Close.FactoryMonth) => Close.factoryMonth(event));
export const summarize = step("close-summarize", (event: { month: string; results: Close.Closed[] }) => Close.summarize(event));
