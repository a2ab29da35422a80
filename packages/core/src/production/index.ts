/** Production output per line and local day (and shift): loaded from customer files, joined with energy for KPIs. */
import { eq, sql } from "drizzle-orm";
import { BillingPeriod } from "../billing/period";
import { Database } from "../database";
import { factoryTable } from "../factory/factory.sql";
import type { ProductionRow } from "../import/rows";
import { Figures } from "../kpi/figures";
import { meterTable } from "../meter/meter.sql";
import { type MeterDay, TimeSeries } from "../timeseries";
import { VisibleError } from "../util/error";

export * as Production from "./index";

export type LoadResult = { inserted: number; updated: number; unchanged: number };

/** Local days of readings `energyPerUnit` sums per statement. */
const energyPerUnitDays = 31;
const dayMs = 86_400_000;

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

/**
 * Units produced per line and local day over [fromDay, toDay] (YYYY-MM-DD, inclusive); the shifts of a
 * day are added up.
 */
export async function days(factoryId: string, fromDay: string, toDay: string): Promise<Figures.ProductionDay[]> {
  const result = await Database.use().execute(sql`
    select line, to_char(date, 'YYYY-MM-DD') as day, sum(units)::text as units
    from production
    where factory_id = ${factoryId} and date between ${fromDay}::date and ${toDay}::date
    group by line, date
    order by line, date`);
  return (result as unknown as { rows: { line: string; day: string; units: string }[] }).rows.map((row) => ({
    line: row.line,
    day: row.day,
    units: Number(row.units),
  }));
}

/**
 * Energy per unit (Figures.energyPerUnit) over local days [from, to] (inclusive), from the meter days of the
 * time-series port (the one `/kpis` reads, so an import's summary and `/kpis` agree): per line, the kWh of its meters on the days with production rows, over the units; lines
 * that made 0 units report their kWh as idle consumption. The same definition as the month's KPIs.
 * @throws VisibleError `factory.not_found` (not_found) when no factory has that id; TimeSeriesError when no time series
 * was provided.
 */
export async function energyPerUnit(factoryId: string, from: string, to: string): Promise<Figures.EnergyPerUnit> {
  const [factory] = await Database.use().select({ timeZone: factoryTable.timeZone }).from(factoryTable).where(eq(factoryTable.id, factoryId));
  if (!factory) throw new VisibleError("not_found", "factory.not_found", `factory ${factoryId} not found`);
  // A month of local days per statement: a year's file summed in one would hold the event loop (PGlite) for
  // seconds. Each piece runs from a local midnight to another, so every local day is summed whole, in one piece.
  const meterDays: MeterDay[] = [];
  const series = await TimeSeries.use();
  const last = Date.parse(`${to}T00:00:00Z`);
  for (let start = Date.parse(`${from}T00:00:00Z`); start <= last; start += energyPerUnitDays * dayMs) {
    const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);
    const span = BillingPeriod.range({ start: day(start), end: day(Math.min(start + energyPerUnitDays * dayMs, last + dayMs)) }, factory.timeZone);
    meterDays.push(...(await series.meterDays({ factoryId, from: span.from, to: span.to, timeZone: factory.timeZone })));
  }
  const meters = await Database.use().select({ id: meterTable.id, line: meterTable.line }).from(meterTable).where(eq(meterTable.factoryId, factoryId));
  return Figures.energyPerUnit({ production: await days(factoryId, from, to), meterDays, lineOf: new Map(meters.map((meter) => [meter.id, meter.line])) });
}
