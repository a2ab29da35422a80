/**
 * Billing periods (pure): CFE bills a factory between two meter readings, not by calendar month. A
 * period is local dates [start, end): from the day of one reading to the day of the next (CFE prints
 * "28 FEB 26 – 31 MAR 26"; the next period starts on 31 March), d = end − start days.
 */
import { z } from "zod";
import { Config } from "../config";
import { Time } from "../time";

// A period's last day and day count are the time module's (the console's and the bill PDF's too).
export { days, lastDay } from "../time";
export * as BillingPeriod from "./period";

/** Local dates YYYY-MM-DD [start, end) in the factory's zone. */
export const Period = z.object({ start: z.string(), end: z.string() });
export type Period = z.infer<typeof Period>;

const pad = (value: number) => String(value).padStart(2, "0");
const monthPattern = /^\d{4}-(0[1-9]|1[0-2])$/;

/** The month (YYYY-MM) before `month`. */
export function previousMonth(month: string): string {
  const year = Number(month.slice(0, 4));
  const number = Number(month.slice(5, 7));
  return number === 1 ? `${year - 1}-12` : `${year}-${pad(number - 1)}`;
}

/** The month (YYYY-MM) after `month`. */
export function nextMonth(month: string): string {
  const year = Number(month.slice(0, 4));
  const number = Number(month.slice(5, 7));
  return number === 12 ? `${year + 1}-01` : `${year}-${pad(number + 1)}`;
}

/**
 * The billing period a month's bill covers: the calendar month without a cycle day; with one (1–28, the
 * day of the month CFE reads the meter), from that day of the month before to that day of `month`.
 * @example cycle("2026-03", 28) → { start: "2026-02-28", end: "2026-03-28" }
 */
export function cycle(month: string, cycleDay: number | null | undefined): Period {
  if (!monthPattern.test(month)) throw new RangeError(`month ${JSON.stringify(month)} is not YYYY-MM`);
  if (cycleDay !== null && cycleDay !== undefined && (!Number.isInteger(cycleDay) || cycleDay < 1 || cycleDay > 28))
    throw new RangeError(`the billing cycle day must be 1–28, got ${cycleDay}`);
  // Day 1 reads the meter on the 1st: the calendar month, labelled by the month it covers (as priceMonth labels it).
  if (!cycleDay || cycleDay === 1) return { start: `${month}-01`, end: `${nextMonth(month)}-01` };
  return { start: `${previousMonth(month)}-${pad(cycleDay)}`, end: `${month}-${pad(cycleDay)}` };
}

/**
 * The month whose published prices (and power-factor rules) a billing period is billed with:
 * `Config.cfeBilling.periodPriceMonth` says which and why. "end": the month of the period's last day.
 * @example priceMonth({ start: "2026-02-28", end: "2026-03-31" }) → "2026-03"
 */
export function priceMonth(period: Period): string {
  if (Config.cfeBilling.periodPriceMonth === "start") return period.start.slice(0, 7);
  return Time.lastDay(period).slice(0, 7);
}

/**
 * The instants [from, to) of a period's local dates [start, end) in `timeZone`: each bound is the first
 * instant of its local date (`Time.dayStart`: midnight, or the instant the day begins where the clocks skip
 * midnight). The one place day, month and billing-period bounds become instants (close, KPIs, the
 * statement, the overview, alerts and the bill engine all call it).
 * @throws RangeError when a bound is not a date written YYYY-MM-DD.
 * @example range({ start: "2026-03-01", end: "2026-04-01" }, "America/Mexico_City") → { from: 2026-03-01T06:00Z, to: 2026-04-01T06:00Z }
 */
export function range(period: Period, timeZone: string): { from: Date; to: Date } {
  return { from: startOf(period.start, timeZone, "start"), to: startOf(period.end, timeZone, "end") };
}

/**
 * The first instant of local date `date` (YYYY-MM-DD) in `timeZone` (`Time.dayStart`: midnight, or the instant the day
 * begins where the clocks skip midnight).
 * @throws RangeError when `date` is not a real date written YYYY-MM-DD (`name` says which bound).
 */
export function startOf(date: string, timeZone: string, name = "date"): Date {
  const local = Time.parseDate(date);
  if (!local) throw new RangeError(`the billing period's ${name} ${JSON.stringify(date)} is not a real date written YYYY-MM-DD`);
  return new Date(Time.dayStart(local, timeZone));
}

/** [from, to) instants of a local calendar month (`range` of `cycle(month, null)`). */
export function monthRange(month: string, timeZone: string): { from: Date; to: Date } {
  return range(cycle(month, null), timeZone);
}

/** The local date (YYYY-MM-DD) of an instant in `timeZone` (`Time.localDate`, for callers holding a Date). */
export function localDate(at: Date, timeZone: string): string {
  return Time.localDate(at.getTime(), timeZone);
}

/**
 * The month label (YYYY-MM) of the cycle period that holds local date `date` (`cycle`'s rule turned round):
 * the date's month without a cycle day; with one, the next month from the cycle day on.
 * @example labelOf("2026-02-28", 28) → "2026-03"; labelOf("2026-02-27", 28) → "2026-02"
 */
export function labelOf(date: string, cycleDay: number | null | undefined): string {
  const month = date.slice(0, 7);
  if (!cycleDay || cycleDay === 1) return month;
  return Number(date.slice(8, 10)) >= cycleDay ? nextMonth(month) : month;
}

/** Whether local date `date` (YYYY-MM-DD) lies in the period [start, end). */
export function holds(period: Period, date: string): boolean {
  return period.start <= date && date < period.end;
}
