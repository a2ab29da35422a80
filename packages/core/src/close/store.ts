/** Bills as stored: writing one with its lines, reading one back, and the utility's bills imported for reconciliation. */
import Decimal from "decimal.js";
import { and, asc, eq } from "drizzle-orm";
import { type Bill, summaryCodes } from "../billing";
import { Database } from "../database";
import type { BillRow } from "../import/rows";
import { createId } from "../util/id";
import { billLineTable, billTable } from "./bill.sql";

type BillValues = Omit<typeof billTable.$inferInsert, "id" | "factoryId" | "month" | "source">;

/** Writes a bill and replaces its lines (so saving the same bill again leaves the same rows). */
export async function save(
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

export type StoredLine = { code: string; amount: string; position: number };

/** A factory's bill of `source` for a month with its lines in order, or undefined. */
export async function billWithLines(factoryId: string, month: string, source: "wattflow" | "utility") {
  const db = Database.use();
  const [bill] = await db
    .select()
    .from(billTable)
    .where(and(eq(billTable.factoryId, factoryId), eq(billTable.month, month), eq(billTable.source, source)));
  if (!bill) return undefined;
  const lines = await db.select().from(billLineTable).where(eq(billLineTable.billId, bill.id)).orderBy(asc(billLineTable.position));
  return { bill, lines };
}

export type Stored = NonNullable<Awaited<ReturnType<typeof billWithLines>>>;

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

/** A factory's bill for a month with its lines, as stored. */
export async function get(factoryId: string, month: string, source: "wattflow" | "utility" = "wattflow") {
  return billWithLines(factoryId, month, source);
}
