/** MonthlyClose steps (packages/core/src/workflow/definitions.ts); the schedule starts it with `{ timeZone }`. */
import { Close } from "@wattflow/core/close";
import { step } from "./step";

export const plan = step("close-plan", Close.plan);
export const page = step("close-page", Close.page);
export const summarize = step("close-summarize", Close.summarize);
