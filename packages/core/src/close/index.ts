/**
 * The monthly close: each factory's bill for a month — its billing period on CFE's cycle (the utility bill's
 * reading dates, the factory's cycle day, or the calendar month) — from its stored readings and the tariff
 * engine (`Bill.compute`), stored with its lines and period, and reconciled line by line against the utility's
 * bill when one was imported. A reading stored after the close re-opens the bill (migration 0003's trigger).
 */
import Decimal from "decimal.js";
import { and, asc, count, eq, gte, inArray, lt, type SQL, sql } from "drizzle-orm";
import { Allocation, type Bill, BillingPeriod, summaryCodes } from "../billing";
import { Database } from "../database";
import { factoryTable } from "../factory/factory.sql";
import type { BillRow } from "../import/rows";
import { meterTable } from "../meter/meter.sql";
import { readingTable } from "../reading/reading.sql";
import { Statement } from "../statement";
import { toLocal } from "../tariff/periods";
import { VisibleError, WattflowError } from "../util/error";
import { createId } from "../util/id";
import { billLineTable, billTable } from "./bill.sql";

export * as Close from "./index";

/** Something the close cannot do for a factory-month, said so a person can fix it. */
export class CloseError extends WattflowError {
  readonly kind = "input" as const;
  readonly code = "close.invalid";
  constructor(message: string) {
    super(message);
    this.name = "CloseError";
  }
}

export type FactoryMonth = { factoryId: string; month: string };

export type Reconciliation = {
  utilityTotal: string;
  total: string;
  /** Ours minus the utility's. */
  difference: string;
  lines: { code: string; amount: string | null; utilityAmount: string | null; difference: string }[];
};

export type Closed = {
  factoryId: string;
  month: string;
  currency: string;
  readings: number;
  total: string;
  /** kWh of the bill's energy that was estimated, not measured. */
  estimatedKwh: string;
  /** `billing-meters`: the bill sums the meters at the point of supply; `all-meters`: no meter is marked billing, so every meter. */
  basis: "billing-meters" | "all-meters";
  lines: number;
  reconciliation: Reconciliation | null;
};

const monthPattern = /^\d{4}-(0[1-9]|1[0-2])$/;

/** The month after `month` (YYYY-MM). */
export const nextMonth = BillingPeriod.nextMonth;

/** [from, to) instants of local dates [start, end) in `timeZone` (BillingPeriod.range: the one rule for local midnight). */
export const periodRange = BillingPeriod.range;

/** [from, to) instants of a local month in `timeZone`. */
export function monthRange(month: string, timeZone: string): { from: Date; to: Date } {
  if (!monthPattern.test(month)) throw new CloseError(`month ${JSON.stringify(month)} is not YYYY-MM`);
  return BillingPeriod.monthRange(month, timeZone);
}

/**
 * The billing period of a factory's bill for `month`: the reading dates of the utility's bill for that month
 * when one was imported with them, else the factory's cycle day (`BillingPeriod.cycle`), else the calendar month.
 */
export async function billingPeriod(factory: { id: string; billingCycleDay: number | null }, month: string): Promise<BillingPeriod.Period> {
  if (!monthPattern.test(month)) throw new CloseError(`month ${JSON.stringify(month)} is not YYYY-MM`);
  return (await Statement.periodOf(factory, month)).period;
}

/** The local month before the one `now` falls in. */
export function previousMonth(now: Date, timeZone: string): string {
  const local = toLocal(now.getTime(), timeZone);
  return local.month === 1 ? `${local.year - 1}-12` : `${local.year}-${String(local.month - 1).padStart(2, "0")}`;
}

/** Which factories a close or recompute covers; travels once in the state, pages of it per Map item. */
export type FactoryFilter = { organizationId?: string; factoryIds?: string[]; timeZone?: string; divisions?: string[] };

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
  if (!month || !monthPattern.test(month)) throw new CloseError("the close needs a month (YYYY-MM) or the time zone whose month just ended");
  const filter: FactoryFilter = { timeZone: input.timeZone, organizationId: input.organizationId, factoryIds: input.factoryIds };
  return { month, filter, items: await pages(filter, [month]) };
}

export type PageResult = {
  month: string;
  factories: number;
  readings: number;
  /** Bill totals per currency. */
  totals: Record<string, string>;
  reconciled: number;
  /** Factories whose bill differs from the utility's (ours minus theirs). */
  differences: { factoryId: string; difference: string }[];
  /** Factories that cannot be billed as configured (no tariff in force…): the others' bills do not wait for them. */
  skipped: { factoryId: string; reason: string }[];
};

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
 * @throws CloseError when the factory does not exist, has no tariff in force or its bill cannot be computed.
 */
async function compute(input: FactoryMonth) {
  if (!monthPattern.test(input.month)) throw new CloseError(`month ${JSON.stringify(input.month)} is not YYYY-MM`);
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
  if (!statement.bill) throw new CloseError(`the bill of ${factory.id} for ${input.month} cannot be computed: ${statement.unpriced}`);
  return {
    factory,
    period,
    definition: version.definition,
    readings: statement.energy.readings,
    bill: statement.bill.monthToDate,
    basis: statement.basis,
    currency: statement.currency,
  };
}

/**
 * How a factory's bill for a month splits over its sub-meters (Allocation.compute: energy per period at the bill's
 * prices, the other lines by kWh share), with the unmetered remainder. Computed from the stored readings, so it
 * always agrees with the bill the close would store now. Org-scoped: another organization's factory is not found.
 * @throws VisibleError `factory.not_found`; `allocation.unavailable` (400, naming `month`) when the bill cannot be computed.
 */
export async function allocation(organizationId: string, factoryId: string, month: string) {
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
  const { factory, period, readings, bill, basis, currency } = await compute(input);

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
    total: bill.total,
    estimatedKwh: bill.estimatedKwh,
    basis,
    lines: bill.lines.length,
    reconciliation,
  };
}

type BillValues = Omit<typeof billTable.$inferInsert, "id" | "factoryId" | "month" | "source">;

/** Writes a bill and replaces its lines (so saving the same bill again leaves the same rows). */
async function save(
  tx: Database.Transaction,
  bill: { id?: string; factoryId: string; month: string; source: "wattflow" | "utility"; values: BillValues; lines: readonly Omit<Bill.Line, "name">[] },
): Promise<void> {
  const id = bill.id ?? createId("bill");
  if (bill.id) await tx.update(billTable).set(bill.values).where(eq(billTable.id, id));
  else await tx.insert(billTable).values({ id, factoryId: bill.factoryId, month: bill.month, source: bill.source, ...bill.values });
  await tx.delete(billLineTable).where(eq(billLineTable.billId, id));
  if (bill.lines.length === 0) return;
  await tx.insert(billLineTable).values(
    bill.lines.map((line, position) => ({
      billId: id,
      position,
      code: line.code,
      quantity: line.quantity,
      unit: line.unit,
      unitPrice: line.unitPrice,
      amount: line.amount,
    })),
  );
}

type StoredLine = { code: string; amount: string; position: number };

async function billWithLines(factoryId: string, month: string, source: "wattflow" | "utility") {
  const db = Database.use();
  const [bill] = await db
    .select()
    .from(billTable)
    .where(and(eq(billTable.factoryId, factoryId), eq(billTable.month, month), eq(billTable.source, source)));
  if (!bill) return undefined;
  const lines = await db.select().from(billLineTable).where(eq(billLineTable.billId, bill.id)).orderBy(asc(billLineTable.position));
  return { bill, lines };
}

type Stored = NonNullable<Awaited<ReturnType<typeof billWithLines>>>;

/**
 * The computed bill against the utility's, line by line (by code) and in total, without writing anything: each of
 * our lines with the utility's amount for its code (the summing lines — subtotal, IVA, total — with the utility
 * bill's own when it has no such line) and ours minus theirs, then the utility's lines we do not have. Amounts MXN, 2 decimals.
 * `position` is the line's place on our bill (null for a utility-only line).
 */
export function compare(
  ours: Stored,
  theirs: Stored,
): Omit<Reconciliation, "lines"> & { lines: (Reconciliation["lines"][number] & { position: number | null })[] } {
  const utilityByCode = new Map<string, StoredLine>(theirs.lines.map((line) => [line.code, line]));
  const lines: (Reconciliation["lines"][number] & { position: number | null })[] = [];
  for (const line of ours.lines) {
    const utilityLine = utilityByCode.get(line.code);
    utilityByCode.delete(line.code);
    // The summing lines compare with the utility bill's own subtotal (its charges), IVA and total when it has no such line.
    const summary = (summaryCodes as readonly string[]).includes(line.code) ? theirs.bill[line.code as (typeof summaryCodes)[number]] : undefined;
    const utility = utilityLine?.amount ?? summary;
    lines.push({
      code: line.code,
      position: line.position,
      amount: new Decimal(line.amount).toFixed(2),
      utilityAmount: utility === undefined ? null : new Decimal(utility).toFixed(2),
      difference: new Decimal(line.amount).minus(utility ?? 0).toFixed(2),
    });
  }
  for (const line of utilityByCode.values()) {
    if ((summaryCodes as readonly string[]).includes(line.code)) continue;
    lines.push({
      code: line.code,
      position: null,
      amount: null,
      utilityAmount: new Decimal(line.amount).toFixed(2),
      difference: new Decimal(line.amount).neg().toFixed(2),
    });
  }
  return {
    utilityTotal: new Decimal(theirs.bill.total).toFixed(2),
    total: new Decimal(ours.bill.total).toFixed(2),
    difference: new Decimal(ours.bill.total).minus(theirs.bill.total).toFixed(2),
    lines,
  };
}

/**
 * Compares the computed bill with the utility's (`compare`) and records the utility's amount and the
 * difference on each computed line. Null until both bills exist.
 */
export async function reconcile(input: FactoryMonth): Promise<Reconciliation | null> {
  const ours = await billWithLines(input.factoryId, input.month, "wattflow");
  const theirs = await billWithLines(input.factoryId, input.month, "utility");
  if (!ours || !theirs) return null;
  const { lines, ...totals } = compare(ours, theirs);
  const db = Database.use();
  for (const line of lines) {
    if (line.position === null) continue;
    await db
      .update(billLineTable)
      .set({ utilityAmount: line.utilityAmount, difference: line.difference })
      .where(and(eq(billLineTable.billId, ours.bill.id), eq(billLineTable.position, line.position)));
  }
  return { ...totals, lines: lines.map(({ position: _position, ...line }) => line) };
}

/**
 * Stores a utility's bills (one per month in `rows`) for reconciliation. Lines `iva` and `total`, when
 * present, are the bill's tax and total, `dap` its street lighting after tax; the rest are its charges. A month whose lines did not change is left alone.
 */
export async function loadUtilityBills(
  factoryId: string,
  importRunId: string,
  currency: string,
  rows: readonly BillRow[],
  now = new Date(),
): Promise<{ inserted: number; updated: number; unchanged: number; months: string[] }> {
  const result = { inserted: 0, updated: 0, unchanged: 0, months: [] as string[] };
  const byMonth = new Map<string, BillRow[]>();
  for (const row of rows) byMonth.set(row.month, [...(byMonth.get(row.month) ?? []), row]);
  for (const [month, lines] of byMonth) {
    result.months.push(month);
    // The bill's own sums and its DAP (added after IVA) are not charges of the subtotal.
    const charges = lines.filter((line) => !(summaryCodes as readonly string[]).includes(line.code) && line.code !== "dap");
    const subtotal = charges.reduce((sum, line) => sum.plus(line.amount), new Decimal(0));
    const iva = new Decimal(lines.find((line) => line.code === "iva")?.amount ?? 0);
    const dap = new Decimal(lines.find((line) => line.code === "dap")?.amount ?? 0);
    const total = new Decimal(lines.find((line) => line.code === "total")?.amount ?? subtotal.plus(iva).plus(dap));
    const existing = await billWithLines(factoryId, month, "utility");
    const withPeriod = lines.find((line) => line.periodStart && line.periodEnd);
    const period = { periodStart: withPeriod?.periodStart ?? null, periodEnd: withPeriod?.periodEnd ?? null };
    const same =
      existing?.bill.periodStart === period.periodStart &&
      existing.bill.periodEnd === period.periodEnd &&
      existing.lines.length === lines.length &&
      existing.lines.every((stored, index) => {
        const line = lines[index] as BillRow;
        return (
          stored.code === line.code &&
          new Decimal(stored.amount).eq(line.amount) &&
          new Decimal(stored.quantity).eq(line.quantity) &&
          new Decimal(stored.unitPrice).eq(line.unitPrice) &&
          stored.unit === line.unit
        );
      });
    if (same) {
      result.unchanged += lines.length;
      continue;
    }
    await Database.use().transaction((tx) =>
      save(tx, {
        id: existing?.bill.id,
        factoryId,
        month,
        source: "utility",
        values: {
          status: "imported",
          ...period,
          currency,
          subtotal: subtotal.toFixed(2),
          pfAdjustment: "0",
          iva: iva.toFixed(2),
          total: total.toFixed(2),
          importRunId,
          updatedAt: now,
        },
        lines,
      }),
    );
    if (existing) result.updated += lines.length;
    else result.inserted += lines.length;
  }
  return result;
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

/** A factory's bill for a month with its lines, as stored. */
export async function get(factoryId: string, month: string, source: "wattflow" | "utility" = "wattflow") {
  return billWithLines(factoryId, month, source);
}
