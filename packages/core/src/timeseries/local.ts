/**
 * The time-series port with no InfluxDB: DuckDB answers the same questions over the local Parquet
 * lake. Its writer is the lake itself — the consumer has already put every costed reading there
 * (`Lake.put`) by the time anyone reads series — so it has no `write`. The lake is append-only; every
 * query takes the latest copy of each reading (by computedAt), so corrections never double-count.
 */
import { Figures } from "../kpi/figures";
import type { LocalLake } from "../lake/local";
import { type MeterDay, meterDayOf, type Port, type Range, TimeSeriesError, type Window } from "./index";

/** A SQL string literal. */
export function sqlString(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

function instant(value: Date): string {
  if (Number.isNaN(value.getTime())) throw new TimeSeriesError("an invalid time was given");
  return `TIMESTAMPTZ ${sqlString(value.toISOString())}`;
}

function zone(value: string): string {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: value });
  } catch (error) {
    if (error instanceof RangeError) throw new TimeSeriesError(`${JSON.stringify(value)} is not an IANA time zone`);
    throw error;
  }
  return sqlString(value);
}

/**
 * The latest copy (by computedAt) of each reading of a factory in [from, to), with the columns the
 * questions use. An aggregate per key (arg_max) rather than a window function: one hash pass, no
 * sort. Copies with the same computedAt are the same costing sent twice, so either may stand. The
 * `dt` bounds prune partitions (a reading's dt is its interval start's UTC date).
 */
/** ` AND meter_id IN (…)` when the range names its meters (an empty list matches none). */
const meterFilter = (range: Range) => (range.meterIds === undefined ? "" : ` AND meter_id IN (${["NULL", ...range.meterIds.map(sqlString)].join(", ")})`);

export function latestReadings(range: Range): string {
  const fromDay = range.from.toISOString().slice(0, 10);
  const toDay = new Date(range.to.getTime() - 1).toISOString().slice(0, 10);
  const pick = (column: string) => `arg_max(${column}, copy_order) AS ${column}`;
  return `SELECT meter_id, interval_start, ${["kwh", "kvarh", "cost", "tou_period", "quality"].map(pick).join(", ")}
  FROM (SELECT *, coalesce(computed_at, TIMESTAMPTZ '1970-01-01 00:00:00+00') AS copy_order FROM readings
        WHERE factory_id = ${sqlString(range.factoryId)} AND dt BETWEEN ${sqlString(fromDay)} AND ${sqlString(toDay)}
          AND interval_start >= ${instant(range.from)} AND interval_start < ${instant(range.to)}${meterFilter(range)})
  GROUP BY meter_id, interval_start`;
}

/** Energy columns of any grouping: kWh, the estimated share of it, kVArh, the kWh measured with kVArh (Figures.sql.kwhWithKvarh) and cost. */
const energyColumns = `sum(kwh) AS kwh, coalesce(sum(CASE WHEN quality = 'estimated' THEN kwh END), 0) AS estimated_kwh, sum(kvarh) AS kvarh, coalesce(sum(${Figures.sql.kwhWithKvarh("kwh", "kvarh")}), 0) AS kwh_with_kvarh, CAST(coalesce(sum(cost), 0) AS VARCHAR) AS cost`;
const windowColumns = `arg_max(tou_period, interval_start) AS period, ${energyColumns}`;

type Raw = Record<string, unknown>;
const toWindow = (row: Raw): Window => ({
  start: row.window_start as Date,
  period: (row.period as string | null) ?? null,
  kwh: Number(row.kwh),
  estimatedKwh: Number(row.estimated_kwh ?? 0),
  kvarh: row.kvarh === null ? null : Number(row.kvarh),
  kwhWithKvarh: Number(row.kwh_with_kvarh),
  cost: String(row.cost),
});

export class LakeTimeSeries implements Port {
  constructor(private readonly lake: LocalLake) {}

  describe() {
    return { kind: "lake" as const, location: this.lake.describe().location };
  }

  async windows(range: Range): Promise<Window[]> {
    const rows = await this.read(`
      WITH latest AS (${latestReadings(range)})
      SELECT to_timestamp(floor(epoch(interval_start) / 900) * 900) AS window_start, ${windowColumns}
      FROM latest GROUP BY 1 ORDER BY 1`);
    return rows.map(toWindow);
  }

  async meterDays(range: Range & { timeZone: string }): Promise<MeterDay[]> {
    const rows = await this.read(`
      WITH latest AS (${latestReadings(range)})
      SELECT meter_id, CAST(CAST(interval_start AT TIME ZONE ${zone(range.timeZone)} AS DATE) AS VARCHAR) AS day,
             ${energyColumns}
      FROM latest GROUP BY 1, 2 ORDER BY 2, 1`);
    return rows.map(meterDayOf);
  }

  /** Windows and meter days from one scan and one dedup (grouping sets). */
  async usage(range: Range & { timeZone: string }): Promise<{ windows: Window[]; meterDays: MeterDay[] }> {
    const rows = await this.read(`
      WITH latest AS (${latestReadings(range)}),
      keyed AS (SELECT *, to_timestamp(floor(epoch(interval_start) / 900) * 900) AS window_start,
                       CAST(CAST(interval_start AT TIME ZONE ${zone(range.timeZone)} AS DATE) AS VARCHAR) AS day FROM latest)
      SELECT window_start, meter_id, day, ${windowColumns}, grouping(window_start) AS by_meter_day
      FROM keyed GROUP BY GROUPING SETS ((window_start), (meter_id, day))`);
    const windows = rows.filter((row) => Number(row.by_meter_day) === 0).map(toWindow);
    const meterDays = rows.filter((row) => Number(row.by_meter_day) === 1).map(meterDayOf);
    windows.sort((a, b) => a.start.getTime() - b.start.getTime());
    meterDays.sort((a, b) => a.day.localeCompare(b.day) || a.meterId.localeCompare(b.meterId));
    return { windows, meterDays };
  }

  private async read(sql: string): Promise<Record<string, unknown>[]> {
    try {
      return await this.lake.query(sql);
    } catch (error) {
      // An empty lake has no Parquet file for the view to read: no readings, not a failure.
      if (error instanceof Error && /No files found that match the pattern/i.test(error.message)) return [];
      throw new TimeSeriesError(`the lake could not answer: ${(error as Error).message}`, { cause: error });
    }
  }
}
