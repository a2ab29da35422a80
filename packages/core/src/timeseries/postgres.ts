/**
 * The time-series port on a stage with no InfluxDB (`timeseries: none`): the stored readings in
 * Postgres answer, one row per reading key, so there is no copy to choose. It has no write: the consumer's
 * insert is its writer. Readings older than the retention window live in the lake only
 * (Athena); KPIs of those months come from the views.
 */
import { sql } from "drizzle-orm";
import { Database } from "../database";
import { Figures } from "../kpi/figures";
import { type MeterDay, meterDayOf, type Port, type Range, type Window } from "./index";

/** `and meter_id in (…)` when the range names its meters (an empty list matches none). */
const meterFilter = (range: Range) =>
  range.meterIds === undefined ? sql`` : sql` and meter_id in (${sql.join([sql`null`, ...range.meterIds.map((id) => sql`${id}`)], sql`, `)})`;

type Rows<T> = { rows: T[] };

/** kWh, kVArh, the kWh measured with kVArh (Figures.sql.kwhWithKvarh) and cost of a grouping. */
const energyColumns = sql.raw(
  `sum(kwh)::float8 as kwh, coalesce(sum(kwh) filter (where quality = 'estimated'), 0)::float8 as estimated_kwh, sum(kvarh)::float8 as kvarh, coalesce(sum(${Figures.sql.kwhWithKvarh("kwh", "kvarh")}), 0)::float8 as kwh_with_kvarh, coalesce(sum(cost), 0)::text as cost`,
);

export class PostgresTimeSeries implements Port {
  describe() {
    return { kind: "postgres" as const, location: "reading table" };
  }

  async windows(range: Range): Promise<Window[]> {
    const result = await Database.use().execute(sql`
      select to_timestamp(floor(extract(epoch from interval_start) / 900) * 900) as window_start,
             (array_agg(tou_period order by interval_start desc))[1] as period,
             ${energyColumns}
      from reading
      where factory_id = ${range.factoryId} and interval_start >= ${range.from.toISOString()}::timestamptz and interval_start < ${range.to.toISOString()}::timestamptz${meterFilter(range)}
      group by 1 order by 1`);
    return (result as unknown as Rows<Record<string, unknown>>).rows.map((row) => ({
      start: new Date(row.window_start as string | Date),
      period: (row.period as string | null) ?? null,
      kwh: Number(row.kwh),
      estimatedKwh: Number(row.estimated_kwh),
      kvarh: row.kvarh === null ? null : Number(row.kvarh),
      kwhWithKvarh: Number(row.kwh_with_kvarh),
      cost: String(row.cost),
    }));
  }

  async meterDays(range: Range & { timeZone: string }): Promise<MeterDay[]> {
    const result = await Database.use().execute(sql`
      select meter_id, to_char((interval_start at time zone ${range.timeZone})::date, 'YYYY-MM-DD') as day,
             ${energyColumns}
      from reading
      where factory_id = ${range.factoryId} and interval_start >= ${range.from.toISOString()}::timestamptz and interval_start < ${range.to.toISOString()}::timestamptz${meterFilter(range)}
      group by 1, 2 order by 2, 1`);
    return (result as unknown as Rows<Record<string, unknown>>).rows.map(meterDayOf);
  }

  async usage(range: Range & { timeZone: string }): Promise<{ windows: Window[]; meterDays: MeterDay[] }> {
    return { windows: await this.windows(range), meterDays: await this.meterDays(range) };
  }
}
