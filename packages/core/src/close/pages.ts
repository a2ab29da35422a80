/** Which factories a close covers, in pages of `pageSize` (one Map item each), and a run's totals from its pages. */
import Decimal from "decimal.js";
import { and, asc, count, eq, inArray, type SQL, sql } from "drizzle-orm";
import { Database } from "../database";
import { factoryTable } from "../factory/factory.sql";
import { isMonth, previousMonth } from "./months";
import { CloseError, type FactoryFilter, type PageResult } from "./shapes";

/**
 * Factories per Map item. A factory-month of 200 meters is ~1.7 M readings, under a minute to close or
 * reprice; five keep a step well inside Lambda's 15 minutes, and a thousand factories are 200 items.
 */
export const pageSize = 5;

function where(filter: FactoryFilter) {
  const filters: SQL[] = [];
  if (filter.timeZone) filters.push(eq(factoryTable.timeZone, filter.timeZone));
  if (filter.organizationId) filters.push(eq(factoryTable.organizationId, filter.organizationId));
  if (filter.factoryIds) filters.push(inArray(factoryTable.id, filter.factoryIds));
  if (filter.divisions) filters.push(inArray(sql`lower(${factoryTable.tariffDivision})`, filter.divisions));
  return and(...filters);
}

/** Pages of `pageSize` factories for each month, as Map items. */
export async function pages(filter: FactoryFilter, months: readonly string[]): Promise<{ month: string; page: number }[]> {
  const [row] = await Database.use().select({ count: count() }).from(factoryTable).where(where(filter));
  const total = Math.ceil((row?.count ?? 0) / pageSize);
  return months.flatMap((month) => Array.from({ length: total }, (_, page) => ({ month, page })));
}

/** The factory ids of one page, in a stable order (by id). */
export async function factoryPage(filter: FactoryFilter, page: number): Promise<string[]> {
  const rows = await Database.use()
    .select({ id: factoryTable.id })
    .from(factoryTable)
    .where(where(filter))
    .orderBy(asc(factoryTable.id))
    .limit(pageSize)
    .offset(page * pageSize);
  return rows.map((factory) => factory.id);
}

/**
 * The pages to close: `month`, or the month just ended in `timeZone` (the schedule's input); the
 * factories in that zone, of one organization, or the ones named.
 */
export async function plan(
  input: { month?: string; timeZone?: string; organizationId?: string; factoryIds?: string[] },
  now = new Date(),
): Promise<{ month: string; filter: FactoryFilter; items: { month: string; page: number }[] }> {
  const month = input.month ?? (input.timeZone ? previousMonth(now, input.timeZone) : undefined);
  if (!month || !isMonth(month)) throw new CloseError("the close needs a month (YYYY-MM) or the time zone whose month just ended");
  const filter: FactoryFilter = { timeZone: input.timeZone, organizationId: input.organizationId, factoryIds: input.factoryIds };
  return { month, filter, items: await pages(filter, [month]) };
}

/** A close run's totals from its pages. */
export function summarize(input: { month: string; results: readonly PageResult[] }) {
  const totals: Record<string, string> = {};
  for (const result of input.results)
    for (const [currency, total] of Object.entries(result.totals)) totals[currency] = new Decimal(totals[currency] ?? 0).plus(total).toFixed(2);
  return {
    month: input.month,
    factories: input.results.reduce((sum, result) => sum + result.factories, 0),
    readings: input.results.reduce((sum, result) => sum + result.readings, 0),
    totals,
    reconciled: input.results.reduce((sum, result) => sum + result.reconciled, 0),
    // Bounded for the execution's output; every difference is on the bill lines.
    differences: input.results.flatMap((result) => result.differences).slice(0, 100),
    skipped: input.results.flatMap((result) => result.skipped).slice(0, 100),
  };
}
