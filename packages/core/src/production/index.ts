/** Production output per line and local day (and shift): loaded from customer files, joined with energy for KPIs. */
import { sql } from "drizzle-orm";
import { Database } from "../database";
import type { ProductionRow } from "../import/rows";

export * as Production from "./index";

export type LoadResult = { inserted: number; updated: number; unchanged: number };

/** Rows per statement: unnest keeps it at 7 parameters whatever the size; larger batches stop paying off around here. */
const batchRows = 10_000;

/**
 * Upserts rows by (factory, date, line, shift); a row whose units did not change is left alone, so
 * loading the same file again changes nothing.
 */
export async function load(factoryId: string, importRunId: string, rows: readonly ProductionRow[], now = new Date()): Promise<LoadResult> {
  const result: LoadResult = { inserted: 0, updated: 0, unchanged: 0 };
  for (let start = 0; start < rows.length; start += batchRows) {
    const batch = rows.slice(start, start + batchRows);
    const column = <T>(pick: (row: ProductionRow) => T) => sql.param(batch.map(pick));
    const answer = await Database.use().execute(sql`
      insert into production (factory_id, date, line, shift, units, import_run_id, updated_at)
      select ${factoryId}, d, l, s, u, ${importRunId}, ${now.toISOString()}::timestamptz
      from unnest(${column((row) => row.date)}::date[], ${column((row) => row.line)}::text[], ${column((row) => row.shift)}::text[], ${column((row) => row.units)}::numeric[]) as t(d, l, s, u)
      on conflict (factory_id, date, line, shift) do update
        set units = excluded.units, import_run_id = excluded.import_run_id, updated_at = excluded.updated_at
        where production.units is distinct from excluded.units
      returning (xmax = 0) as inserted`);
    const changed = (answer as unknown as { rows: { inserted: boolean }[] }).rows;
    const inserted = changed.filter((row) => row.inserted).length;
    result.inserted += inserted;
    result.updated += changed.length - inserted;
    result.unchanged += batch.length - changed.length;
  }
  return result;
}

export type LineKpi = { line: string; units: string; kwh: number; kwhPerUnit: number | null };

/**
 * Energy per unit per line over local days [from, to] (inclusive): kWh of the meters labelled with the
 * line, over the units produced. Lines without production have no ratio.
 */
export async function energyPerUnit(factoryId: string, from: string, to: string): Promise<LineKpi[]> {
  const answer = await Database.use().execute(sql`
    with f as (select time_zone from factory where id = ${factoryId}),
    units as (
      select line, sum(units) as units from production
      where factory_id = ${factoryId} and date between ${from}::date and ${to}::date group by line
    ),
    energy as (
      select m.line, sum(r.kwh)::float8 as kwh
      from reading r join meter m on m.id = r.meter_id, f
      where r.factory_id = ${factoryId}
        and r.interval_start >= (${from}::date::timestamp at time zone f.time_zone)
        and r.interval_start < ((${to}::date + 1)::timestamp at time zone f.time_zone)
      group by m.line
    )
    select u.line, u.units::text as units, coalesce(e.kwh, 0)::float8 as kwh
    from units u left join energy e on e.line = u.line
    order by u.line`);
  return (answer as unknown as { rows: { line: string; units: string; kwh: number }[] }).rows.map((row) => ({
    line: row.line,
    units: row.units,
    kwh: Math.round(row.kwh * 1000) / 1000,
    kwhPerUnit: Number(row.units) > 0 ? Math.round((row.kwh / Number(row.units)) * 1_000_000) / 1_000_000 : null,
  }));
}
