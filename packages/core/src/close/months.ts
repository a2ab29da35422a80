/** The close's months: YYYY-MM, their local ranges and a factory's billing period for one. */
import { BillingPeriod } from "../billing";
import { Statement } from "../statement";
import { Time } from "../time";
import { CloseError } from "./shapes";

const monthPattern = /^\d{4}-(0[1-9]|1[0-2])$/;

/** Whether `month` reads YYYY-MM. */
export function isMonth(month: string): boolean {
  return monthPattern.test(month);
}

/**
 * Checks that `month` reads YYYY-MM.
 * @throws CloseError naming the month otherwise.
 */
export function assertMonth(month: string): void {
  if (!isMonth(month)) throw new CloseError(`month ${JSON.stringify(month)} is not YYYY-MM`);
}

/** The month after `month` (YYYY-MM). */
export const nextMonth = BillingPeriod.nextMonth;

/** [from, to) instants of local dates [start, end) in `timeZone` (BillingPeriod.range: the one rule for local midnight). */
export const periodRange = BillingPeriod.range;

/** [from, to) instants of a local month in `timeZone`. */
export function monthRange(month: string, timeZone: string): { from: Date; to: Date } {
  assertMonth(month);
  return BillingPeriod.monthRange(month, timeZone);
}

/**
 * The billing period of a factory's bill for `month`: the reading dates of the utility's bill for that month
 * when one was imported with them, else the factory's cycle day (`BillingPeriod.cycle`), else the calendar month.
 */
export async function billingPeriod(factory: { id: string; billingCycleDay: number | null }, month: string): Promise<BillingPeriod.Period> {
  assertMonth(month);
  return (await Statement.periodOf(factory, month)).period;
}

/** The local month before the one `now` falls in. */
export function previousMonth(now: Date, timeZone: string): string {
  return BillingPeriod.previousMonth(Time.localDate(now.getTime(), timeZone).slice(0, 7));
}
