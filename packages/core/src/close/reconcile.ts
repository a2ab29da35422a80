/** Our bill against the utility's, line by line: compared in memory, then recorded on our lines. */
import Decimal from "decimal.js";
import { and, eq } from "drizzle-orm";
import { summaryCodes } from "../billing";
import { Database } from "../database";
import { billLineTable } from "./bill.sql";
import type { FactoryMonth, Reconciliation } from "./shapes";
import { billWithLines, type Stored, type StoredLine } from "./store";

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
