/**
 * The monthly close: each factory's bill for a month — its billing period on CFE's cycle (the utility bill's
 * reading dates, the factory's cycle day, or the calendar month) — from its stored readings and the tariff
 * engine (`Bill.compute`), stored with its lines and period, and reconciled line by line against the utility's
 * bill when one was imported. A reading stored after the close re-opens the bill (migration 0003's trigger).
 * This file closes a factory-month; its months (`months.ts`), pages (`pages.ts`), stored bills (`store.ts`) and
 * reconciliation (`reconcile.ts`) live beside it, all members of `Close`.
 */
import Decimal from "decimal.js";
import { and, eq, gte, lt } from "drizzle-orm";
import { z } from "zod";
import { Allocation, BillingPeriod } from "../billing";
import { Config } from "../config";
import { Database } from "../database";
import { factoryTable } from "../factory/factory.sql";
import { meterTable } from "../meter/meter.sql";
import { readingTable } from "../reading/reading.sql";
import { Statement } from "../statement";
import { VisibleError } from "../util/error";
import { billTable } from "./bill.sql";
import { assertMonth } from "./months";
import { factoryPage } from "./pages";
import { reconcile } from "./reconcile";
import { type Closed, CloseError, type FactoryFilter, type FactoryMonth, type PageResult } from "./shapes";
import { save } from "./store";

export * as Close from "./index";
export { billingPeriod, monthRange, nextMonth, periodRange, previousMonth } from "./months";
export { factoryPage, pageSize, pages, plan, summarize } from "./pages";
export { compare, reconcile } from "./reconcile";
export { type Closed, CloseError, type FactoryFilter, type FactoryMonth, type PageResult, type Reconciliation } from "./shapes";
export { get, loadUtilityBills } from "./store";

/** Closes one page of factories for a month; what it returns stays small whatever the bills hold. */
export async function page(input: { month: string; page: number; filter: FactoryFilter }, now = new Date()): Promise<PageResult> {
  const results: Closed[] = [];
  const skipped: PageResult["skipped"] = [];
  for (const factoryId of await factoryPage(input.filter, input.page)) {
    try {
      results.push(await factoryMonth({ factoryId, month: input.month }, now));
    } catch (error) {
      if (!(error instanceof CloseError)) throw error;
      skipped.push({ factoryId, reason: error.message });
    }
  }
  const totals: Record<string, string> = {};
  for (const result of results) totals[result.currency] = new Decimal(totals[result.currency] ?? 0).plus(result.total).toFixed(2);
  const reconciled = results.filter((result) => result.reconciliation);
  return {
    month: input.month,
    factories: results.length,
    readings: results.reduce((sum, result) => sum + result.readings, 0),
    totals,
    reconciled: reconciled.length,
    differences: reconciled
      .filter((result) => !new Decimal(result.reconciliation?.difference ?? 0).isZero())
      .map((result) => ({ factoryId: result.factoryId, difference: result.reconciliation?.difference as string })),
    skipped,
  };
}

/**
 * A factory's bill for a month, before it is stored: the statement of its billing period as of the period's end
 * (Statement: the period, the tariff in force, the billing meters' readings — every meter when none is marked
 * billing, `basis: "all-meters"` — and `Bill.compute`), so the close stores what the KPIs and the overview said.
 * @throws CloseError when the factory does not exist, has no tariff in force, no readings in the period, or its bill
 *   cannot be computed.
 */
async function compute(input: FactoryMonth) {
  assertMonth(input.month);
  let gathered: Awaited<ReturnType<typeof Statement.gather>>;
  try {
    gathered = await Statement.gather(input.factoryId, input.month, Statement.atPeriodEnd);
  } catch (error) {
    // The close says what a person must fix as a CloseError, whatever the statement called it.
    if (error instanceof Statement.StatementError || (error instanceof VisibleError && error.kind === "not_found")) throw new CloseError(error.message);
    throw error;
  }
  const { factory, version, period } = gathered;
  if (!version) throw new CloseError(`factory ${factory.id} has no tariff in force on ${period.start}`);
  const statement = Statement.compute(gathered);
  // No reading at all in the period (a factory onboarded after it, or meters never connected): nothing is known of
  // its energy or demand, so a bill of the fixed charge alone would be a made-up figure. Skipped, with why; a plant
  // that stood still still has readings (of 0 kWh) and is billed.
  if (statement.energy.readings === 0)
    throw new CloseError(`factory ${factory.id} has no readings in its billing period ${period.start} → ${period.end}: nothing to bill`);
  if (!statement.bill) throw new CloseError(`the bill of ${factory.id} for ${input.month} cannot be computed: ${statement.unpriced}`);
  return {
    factory,
    period,
    definition: version.definition,
    readings: statement.energy.readings,
    coverage: coverageOf(statement.energy.readings, gathered.basisMeters, statement.range),
    bill: statement.bill.monthToDate,
    basis: statement.basis,
    currency: statement.currency,
  };
}

/** `allocation`'s answer: the month, its billing period (local dates), the bill's currency, and the split (Allocation). */
export const Allocated = Allocation.Schema.extend({ factoryId: z.string(), month: z.string(), period: BillingPeriod.Period, currency: z.string() });
export type Allocated = z.infer<typeof Allocated>;

/**
 * Share of a billing period its readings cover, 0–1 as a 4-decimal string: `readings` ÷ (`meters` × the 5-minute
 * slots of [from, to)) — every reading is one meter's 5-minute slot (the grid). "0" when the basis has no meter.
 * Rule: CFE's meter measures every slot of the period, so a bill missing slots is short of CFE's by their energy.
 * @example coverageOf(4_320, 1, { from: "2026-10-01T06:00:00Z", to: "2026-11-01T06:00:00Z" }) → "0.4839" (15 of 31 days)
 */
export function coverageOf(readings: number, meters: number, range: { from: string; to: string }): string {
  const slots = meters * Math.round((Date.parse(range.to) - Date.parse(range.from)) / 300_000);
  return slots > 0 ? Math.min(1, readings / slots).toFixed(4) : "0";
}

/**
 * Whether a bill's `coverage` (coverageOf) is too low to stand for CFE's bill: below
 * Config.cfeBilling.billCoverageWarning. Null (utility bills, bills closed before coverage was kept) is not low.
 */
export function coverageLow(coverage: string | null): boolean {
  return coverage !== null && Number(coverage) < Config.cfeBilling.billCoverageWarning;
}

/**
 * How a factory's bill for a month splits over its sub-meters (Allocation.compute: energy per period at the bill's
 * prices, the other lines by kWh share), with the unmetered remainder. Computed from the stored readings, so it
 * always agrees with the bill the close would store now. Org-scoped: another organization's factory is not found.
 * @throws VisibleError `factory.not_found`; `allocation.unavailable` (400, naming `month`) when the bill cannot be computed.
 */
export async function allocation(organizationId: string, factoryId: string, month: string): Promise<Allocated> {
  const [factory] = await Database.use()
    .select({ id: factoryTable.id })
    .from(factoryTable)
    .where(and(eq(factoryTable.id, factoryId), eq(factoryTable.organizationId, organizationId)));
  if (!factory) throw new VisibleError("not_found", "factory.not_found", `factory ${factoryId} not found`);
  let found: Awaited<ReturnType<typeof compute>>;
  try {
    found = await compute({ factoryId, month });
  } catch (error) {
    if (!(error instanceof CloseError)) throw error;
    throw new VisibleError("input", "allocation.unavailable", error.message, [{ path: "month", message: error.message }]);
  }
  const db = Database.use();
  const meters = await db
    .select({ id: meterTable.id, role: meterTable.role, parentId: meterTable.parentId })
    .from(meterTable)
    .where(eq(meterTable.factoryId, factoryId));
  const { from, to } = BillingPeriod.range(found.period, found.factory.timeZone);
  const all = await db
    .select({
      meterId: readingTable.meterId,
      start: readingTable.intervalStart,
      seconds: readingTable.intervalSeconds,
      kwh: readingTable.kwh,
      kvarh: readingTable.kvarh,
      quality: readingTable.quality,
    })
    .from(readingTable)
    .where(and(eq(readingTable.factoryId, factoryId), gte(readingTable.intervalStart, from), lt(readingTable.intervalStart, to)));
  const energy = Allocation.energyByMeter(found.definition, found.factory.timeZone, all);
  return {
    factoryId,
    month,
    period: found.period,
    currency: found.currency,
    ...Allocation.compute({ bill: found.bill, meters, energy }),
  };
}

/** Computes, stores and reconciles one factory's bill for a month; closing it again replaces it with the same. */
export async function factoryMonth(input: FactoryMonth, now = new Date()): Promise<Closed> {
  const db = Database.use();
  const { factory, period, readings, coverage, bill, basis, currency } = await compute(input);

  await db.transaction(async (tx) => {
    const [existing] = await tx
      .select({ id: billTable.id })
      .from(billTable)
      .where(and(eq(billTable.factoryId, factory.id), eq(billTable.month, input.month), eq(billTable.source, "wattflow")));
    await save(tx, {
      id: existing?.id,
      factoryId: factory.id,
      month: input.month,
      source: "wattflow",
      values: {
        status: "closed",
        periodStart: period.start,
        periodEnd: period.end,
        currency,
        subtotal: bill.subtotal,
        powerFactor: bill.powerFactor,
        pfAdjustment: bill.pfAdjustment,
        iva: bill.iva,
        total: bill.total,
        readings,
        coverage,
        basis,
        estimatedKwh: bill.estimatedKwh,
        peakDemandKw: bill.peakDemandKw,
        pricesEstimated: bill.estimated,
        closedAt: now,
        reopenedAt: null,
        updatedAt: now,
      },
      lines: bill.lines,
    });
  });
  const reconciliation = await reconcile(input);
  return {
    factoryId: factory.id,
    month: input.month,
    currency,
    readings,
    coverage,
    total: bill.total,
    estimatedKwh: bill.estimatedKwh,
    basis,
    lines: bill.lines.length,
    reconciliation,
  };
}
