/**
 * Cost recompute: when a month's prices are published or corrected, reprice that month's stored
 * readings of the affected factories with the tariff versions now in force (`Cost.price`), clearing
 * `estimated`. Only readings whose price changed are written (so a second run changes nothing); each
 * rewritten reading is marked undelivered so the lake gets its corrected copy, and a closed bill of
 * the month is re-opened. The rollups' cost is recomputed with the slots, in the same transaction.
 */
import Decimal from "decimal.js";
import { and, eq, sql } from "drizzle-orm";
import { Close } from "../close";
import { billTable } from "../close/bill.sql";
import { Cost } from "../cost";
import { Database } from "../database";
import { factoryTable } from "../factory/factory.sql";
import { Rollup } from "../rollup";
import { Definition, inForce, type Version } from "../tariff/index";
import { tariffTable } from "../tariff/tariff.sql";

export * as Recompute from "./index";

export type FactoryMonth = { factoryId: string; month: string };
export type Result = FactoryMonth & { readings: number; changed: number; unpriced: number; estimated: number };

/** Readings read and written per round trip: bounded memory for a factory-month of ~1.7 M readings. */
const chunkRows = 20_000;

/** The pages to recompute: every month given × the factories of the organization (in `divisions`, or the ones named). */
export async function plan(input: {
  months: string[];
  organizationId?: string;
  factoryIds?: string[];
  divisions?: string[];
}): Promise<{ filter: Close.FactoryFilter; items: { month: string; page: number }[] }> {
  const months = [...new Set(input.months)].sort();
  for (const month of months) if (!/^\d{4}-(0[1-9]|1[0-2])$/.test(month)) throw new Close.CloseError(`month ${JSON.stringify(month)} is not YYYY-MM`);
  const filter: Close.FactoryFilter = { organizationId: input.organizationId, factoryIds: input.factoryIds, divisions: input.divisions };
  return { filter, items: await Close.pages(filter, months) };
}

/** Reprices one page of factories for a month. */
export async function page(
  input: { month: string; page: number; filter: Close.FactoryFilter },
  now = new Date(),
): Promise<Omit<Result, "factoryId"> & { factories: number }> {
  const total = { month: input.month, factories: 0, readings: 0, changed: 0, unpriced: 0, estimated: 0 };
  for (const factoryId of await Close.factoryPage(input.filter, input.page)) {
    const result = await factoryMonth({ factoryId, month: input.month }, now);
    total.factories += 1;
    total.readings += result.readings;
    total.changed += result.changed;
    total.unpriced += result.unpriced;
    total.estimated += result.estimated;
  }
  return total;
}

type Stored = {
  meter_id: string;
  interval_start: Date | string;
  kwh: number;
  tou_period: string | null;
  tariff_id: string | null;
  unit_price: string | null;
  cost: string | null;
  estimated: boolean;
};

const same = (stored: string | null, computed: string) => stored !== null && new Decimal(stored).eq(computed);

/** Reprices one factory's readings of one local month. */
export async function factoryMonth(input: FactoryMonth, now = new Date()): Promise<Result> {
  const db = Database.use();
  const [factory] = await db.select().from(factoryTable).where(eq(factoryTable.id, input.factoryId));
  if (!factory) throw new Close.CloseError(`factory ${input.factoryId} does not exist`);
  const { from, to } = Close.monthRange(input.month, factory.timeZone);
  const versions: Version[] = (await db.select().from(tariffTable).where(eq(tariffTable.factoryId, factory.id))).map((row) => ({
    id: row.id,
    factoryId: row.factoryId,
    effectiveFrom: row.effectiveFrom,
    definition: Definition.parse(row.definition),
  }));
  const result: Result = { ...input, readings: 0, changed: 0, unpriced: 0, estimated: 0 };
  // Tiers count from the start of the month over every period, in time order (Cost.Options.monthToDateKwh).
  let monthToDate = 0;
  let after: { start: string; meterId: string } | undefined;
  for (;;) {
    const page = await db.execute(sql`
      select meter_id, interval_start, kwh, tou_period, tariff_id, unit_price::text as unit_price, cost::text as cost, estimated
      from reading
      where factory_id = ${factory.id} and interval_start >= ${from.toISOString()}::timestamptz and interval_start < ${to.toISOString()}::timestamptz
        ${after ? sql`and (interval_start, meter_id) > (${after.start}::timestamptz, ${after.meterId})` : sql``}
      order by interval_start, meter_id
      limit ${chunkRows}`);
    const rows = (page as unknown as { rows: Stored[] }).rows;
    if (rows.length === 0) break;
    const changed: { meterId: string; start: string; period: string | null; tariffId: string; unitPrice: string; cost: string; estimated: boolean }[] = [];
    for (const row of rows) {
      const start = new Date(row.interval_start);
      const version = inForce(versions, start);
      if (!version) {
        result.unpriced += 1;
        continue;
      }
      const priced = Cost.price({ kwh: row.kwh, start }, version, { timeZone: factory.timeZone, monthToDateKwh: monthToDate });
      monthToDate += row.kwh;
      if (priced.estimated) result.estimated += 1;
      const unchanged =
        row.tou_period === priced.period &&
        row.tariff_id === priced.tariffId &&
        same(row.unit_price, priced.unitPrice) &&
        same(row.cost, priced.cost) &&
        row.estimated === priced.estimated;
      if (!unchanged)
        changed.push({
          meterId: row.meter_id,
          start: start.toISOString(),
          period: priced.period,
          tariffId: priced.tariffId,
          unitPrice: priced.unitPrice,
          cost: priced.cost,
          estimated: priced.estimated,
        });
    }
    result.readings += rows.length;
    if (changed.length > 0) {
      const column = <T>(pick: (row: (typeof changed)[number]) => T) => sql.param(changed.map(pick));
      // The repriced slots and the cost of their rollup buckets change together.
      await db.transaction(async (tx) => {
        await tx.execute(sql`
        update reading r set tou_period = u.period, tariff_id = u.tariff_id, unit_price = u.unit_price, cost = u.cost, estimated = u.estimated,
          computed_at = ${now.toISOString()}::timestamptz, lake_delivered_at = null
        from unnest(${column((row) => row.meterId)}::text[], ${column((row) => row.start)}::timestamptz[], ${column((row) => row.period)}::text[],
          ${column((row) => row.tariffId)}::text[], ${column((row) => row.unitPrice)}::numeric[], ${column((row) => row.cost)}::numeric[],
          ${column((row) => row.estimated)}::bool[]) as u(meter_id, interval_start, period, tariff_id, unit_price, cost, estimated)
        where r.meter_id = u.meter_id and r.interval_start = u.interval_start`);
        await Rollup.refresh(
          tx,
          changed.map((row) => ({ meterId: row.meterId, intervalStart: new Date(row.start) })),
        );
      });
      result.changed += changed.length;
    }
    const last = rows[rows.length - 1] as Stored;
    after = { start: new Date(last.interval_start).toISOString(), meterId: last.meter_id };
    if (rows.length < chunkRows) break;
  }
  if (result.changed > 0) {
    // The month's bill was computed with the old prices: it must be closed again.
    await db
      .update(billTable)
      .set({ status: "reopened", reopenedAt: now, updatedAt: now })
      .where(and(eq(billTable.factoryId, factory.id), eq(billTable.month, input.month), eq(billTable.source, "wattflow"), eq(billTable.status, "closed")));
  }
  return result;
}

type PageResult = Awaited<ReturnType<typeof page>>;

/** A recompute run's totals from its pages. */
export function summarize(input: { results: readonly PageResult[] }) {
  const sum = (pick: (result: PageResult) => number) => input.results.reduce((total, result) => total + pick(result), 0);
  return {
    factoryMonths: sum((result) => result.factories),
    readings: sum((result) => result.readings),
    changed: sum((result) => result.changed),
    unpriced: sum((result) => result.unpriced),
    estimated: sum((result) => result.estimated),
  };
}
