/** MonthlyClose steps (packages/core/src/workflow/definitions.ts); the schedule starts it with `{ timeZone }`. */
import { Close } from "@wattflow/core/close";
import { step } from "./step";

export const plan = step("close-plan", (event: Parameters<typeof Close.plan>[0]) => Close.plan(event));
export const page = step("close-page", (event: Parameters<typeof Close.page>[0]) => Close.page(event));
export const summarize = step("close-summarize", (event: Parameters<typeof Close.summarize>[0]) => Close.summarize(event));
