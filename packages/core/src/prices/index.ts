/**
 * CFE monthly price tables per tariff division, as published: stored in `price_table`, and written into
 * the price lists of the CFE tariff versions of the importing organization's factories in that
 * division, so the consumer and the cost recompute price with them.
 */
import { and, eq, inArray, sql } from "drizzle-orm";
import { Database } from "../database";
import { factoryTable } from "../factory/factory.sql";
import type { PriceRow } from "../import/rows";
import { Definition } from "../tariff/index";
import { tariffTable } from "../tariff/tariff.sql";

export * as Prices from "./index";

export type LoadResult = { inserted: number; updated: number; unchanged: number };

/** Upserts price tables by (tariff, division, month); an identical table is left alone. */
export async function load(importRunId: string, rows: readonly PriceRow[], now = new Date()): Promise<LoadResult> {
  const result: LoadResult = { inserted: 0, updated: 0, unchanged: 0 };
  if (rows.length === 0) return result;
  const column = <T>(pick: (row: PriceRow) => T) => sql.param(rows.map(pick));
  const answer = await Database.use().execute(sql`
    insert into price_table (tariff, division, month, fixed, distribution, capacity, energy_base, energy_intermedia, energy_punta, energy, import_run_id, updated_at)
    select t.*, ${importRunId}, ${now.toISOString()}::timestamptz
    from unnest(${column((row) => row.tariff)}::text[], ${column((row) => row.division)}::text[], ${column((row) => row.month)}::text[],
      ${column((row) => row.fixed)}::numeric[], ${column((row) => row.distribution)}::numeric[], ${column((row) => row.capacity)}::numeric[],
      ${column((row) => row.energyBase)}::numeric[], ${column((row) => row.energyIntermedia)}::numeric[], ${column((row) => row.energyPunta)}::numeric[],
      ${column((row) => row.energy)}::numeric[]) as t
    on conflict (tariff, division, month) do update set
      fixed = excluded.fixed, distribution = excluded.distribution, capacity = excluded.capacity, energy_base = excluded.energy_base,
      energy_intermedia = excluded.energy_intermedia, energy_punta = excluded.energy_punta, energy = excluded.energy,
      import_run_id = excluded.import_run_id, updated_at = excluded.updated_at
    where (price_table.fixed, price_table.distribution, price_table.capacity, price_table.energy_base, price_table.energy_intermedia, price_table.energy_punta, price_table.energy)
      is distinct from (excluded.fixed, excluded.distribution, excluded.capacity, excluded.energy_base, excluded.energy_intermedia, excluded.energy_punta, excluded.energy)
    returning (xmax = 0) as inserted`);
  const changed = (answer as unknown as { rows: { inserted: boolean }[] }).rows;
  result.inserted = changed.filter((row) => row.inserted).length;
  result.updated = changed.length - result.inserted;
  result.unchanged = rows.length - changed.length;
  return result;
}

/** A CFE definition with `rows` of its kind in its price list, replacing the same months. Pure. */
export function merge(definition: Definition, rows: readonly PriceRow[]): Definition {
  if (definition.kind !== "cfe-gdmth" && definition.kind !== "cfe-gdmto") return definition;
  const mine = rows.filter((row) => row.tariff === definition.kind);
  if (mine.length === 0) return definition;
  const months = new Set(mine.map((row) => row.month));
  const kept = definition.prices.filter((entry) => !entry.month || !months.has(entry.month));
  const added = mine.map((row) =>
    definition.kind === "cfe-gdmth"
      ? {
          month: row.month,
          fixed: row.fixed,
          distribution: row.distribution,
          capacity: row.capacity,
          energy: { base: row.energyBase ?? "", intermedia: row.energyIntermedia ?? "", punta: row.energyPunta ?? "" },
        }
      : { month: row.month, fixed: row.fixed, distribution: row.distribution, capacity: row.capacity, energy: row.energy ?? "" },
  );
  const prices = [...kept, ...added].sort((a, b) => (a.month ?? "").localeCompare(b.month ?? ""));
  return Definition.parse({ ...definition, prices });
}

/**
 * Writes the tables into the CFE tariff versions of the organization's factories in each table's
 * division; returns the factories whose tariffs changed, with the months.
 */
export async function apply(organizationId: string, rows: readonly PriceRow[]): Promise<{ factoryId: string; months: string[] }[]> {
  const divisions = [...new Set(rows.map((row) => row.division))];
  if (divisions.length === 0) return [];
  const db = Database.use();
  const factories = await db
    .select({ id: factoryTable.id, division: factoryTable.tariffDivision })
    .from(factoryTable)
    .where(and(eq(factoryTable.organizationId, organizationId), inArray(sql`lower(${factoryTable.tariffDivision})`, divisions)));
  const changed: { factoryId: string; months: string[] }[] = [];
  for (const factory of factories) {
    const forFactory = rows.filter((row) => row.division === factory.division?.toLowerCase());
    const versions = await db.select().from(tariffTable).where(eq(tariffTable.factoryId, factory.id));
    let touched = false;
    for (const version of versions) {
      const before = Definition.parse(version.definition);
      const after = merge(before, forFactory);
      if (JSON.stringify(after) === JSON.stringify(before)) continue;
      await db.update(tariffTable).set({ definition: after }).where(eq(tariffTable.id, version.id));
      touched = true;
    }
    if (touched) changed.push({ factoryId: factory.id, months: [...new Set(forFactory.map((row) => row.month))].sort() });
  }
  return changed;
}
