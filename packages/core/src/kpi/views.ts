/**
 * KPI views over the lake for Athena (Glue; Power BI reads them over ODBC), written in the SQL that
 * Athena (Trino) and DuckDB share, so the tests run the very same text on DuckDB over the local lake.
 * They build on `readings_latest` (LakeSchema.views: the latest copy of each reading by computed_at),
 * so corrections never double-count. Local days, hours and months are in one IANA zone per stage
 * (the lake has no zone column); the API computes each factory in its own zone.
 * Pure: no I/O, so stacks/ can import it.
 */
import { defaultGridFactorKgPerKwh } from "./index";

export * as KpiViews from "./views";

export type View = { name: string; description: string; sql: string };
export type Options = { timeZone?: string; gridFactorKgPerKwh?: number };

const sqlString = (value: string) => `'${value.replaceAll("'", "''")}'`;

/**
 * The KPI views in `database`; run after LakeSchema.views (they read `readings_latest`).
 * @example KpiViews.views("wattflow_production", { timeZone: "America/Mexico_City" }).map((view) => view.sql)
 */
export function views(database: string, options: Options = {}): View[] {
  const zone = options.timeZone ?? "America/Mexico_City";
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: zone });
  } catch (error) {
    if (error instanceof RangeError) throw new Error(`${JSON.stringify(zone)} is not an IANA time zone`, { cause: error });
    throw error;
  }
  const factor = options.gridFactorKgPerKwh ?? defaultGridFactorKgPerKwh;
  if (!Number.isFinite(factor) || factor < 0) throw new Error(`the grid factor must be a non-negative number, got ${factor}`);
  const name = (view: string) => `"${database.replaceAll('"', '""')}"."${view}"`;
  return [
    {
      name: "kpi_windows_15m",
      description: `Every meter of a factory together per 15-minute window (local time ${zone}): kWh (and how much of it was estimated), kVArh, provisional cost, demand (kW, measured slots only) and TOU period.`,
      sql: `CREATE OR REPLACE VIEW ${name("kpi_windows_15m")} AS
SELECT factory_id, local_window_start, CAST(local_window_start AS DATE) AS local_day,
       substr(CAST(CAST(local_window_start AS DATE) AS VARCHAR), 1, 7) AS local_month, hour(local_window_start) AS local_hour,
       period, kwh, estimated_kwh, kvarh, cost, (kwh - estimated_kwh) * 4 AS demand_kw, readings
FROM (
  SELECT factory_id,
         date_trunc('hour', local_start) + CAST(floor(minute(local_start) / 15) AS INTEGER) * INTERVAL '15' MINUTE AS local_window_start,
         max_by(tou_period, local_start) AS period,
         sum(kwh) AS kwh, sum(CASE WHEN quality = 'estimated' THEN kwh ELSE 0 END) AS estimated_kwh,
         sum(kvarh) AS kvarh, sum(cost) AS cost, count(*) AS readings
  FROM (SELECT factory_id, tou_period, kwh, quality, kvarh, cost, interval_start AT TIME ZONE ${sqlString(zone)} AS local_start FROM ${name("readings_latest")}) r
  GROUP BY 1, 2
) w`,
    },
    {
      name: "kpi_daily",
      description: "kWh, kVArh and provisional cost per factory, local day and TOU period.",
      sql: `CREATE OR REPLACE VIEW ${name("kpi_daily")} AS
SELECT factory_id, local_day, period, sum(kwh) AS kwh, sum(kvarh) AS kvarh, sum(cost) AS cost, max(demand_kw) AS peak_demand_kw
FROM ${name("kpi_windows_15m")}
GROUP BY 1, 2, 3`,
    },
    {
      name: "kpi_monthly",
      description: `Per factory and local month: kWh, cost, punta share, power factor, peak 15-minute demand, load factor, CO2e (${factor} kg/kWh).`,
      sql: `CREATE OR REPLACE VIEW ${name("kpi_monthly")} AS
SELECT factory_id, local_month, kwh, kvarh, cost, punta_kwh,
       CASE WHEN kwh > 0 THEN punta_kwh / kwh END AS punta_share,
       CASE WHEN kvarh IS NOT NULL AND kwh > 0 THEN kwh / sqrt(power(kwh, 2) + power(kvarh, 2)) END AS power_factor,
       peak_demand_kw, punta_peak_demand_kw,
       CASE WHEN peak_demand_kw > 0 THEN kwh / (peak_demand_kw * hours) END AS load_factor,
       kwh * ${factor} AS co2e_kg
FROM (
  SELECT factory_id, local_month, sum(kwh) AS kwh, sum(kvarh) AS kvarh, sum(cost) AS cost,
         sum(CASE WHEN period = 'punta' THEN kwh ELSE 0 END) AS punta_kwh,
         max(demand_kw) AS peak_demand_kw, max(CASE WHEN period = 'punta' THEN demand_kw END) AS punta_peak_demand_kw,
         -- Wall-clock hours of the month (a DST day would be off by one hour; central Mexico has none since 2022).
         24 * date_diff('day', CAST(local_month || '-01' AS DATE), CAST(local_month || '-01' AS DATE) + INTERVAL '1' MONTH) AS hours
  FROM ${name("kpi_windows_15m")}
  GROUP BY 1, 2
) m`,
    },
  ];
}

/**
 * A view's DDL for DuckDB over the local lake, whose `readings` is a temporary view: the same SELECT,
 * created as a temporary view, with the Glue database qualifier dropped so names resolve to temp views.
 * @example lake.query(KpiViews.forDuckDb(view.sql, "lake")) for each view of views("lake")
 */
export function forDuckDb(sql: string, database: string): string {
  if (!sql.startsWith("CREATE OR REPLACE VIEW ")) throw new Error("not a CREATE OR REPLACE VIEW statement");
  const qualifier = `"${database.replaceAll('"', '""')}".`;
  return `CREATE OR REPLACE TEMP VIEW ${sql.slice("CREATE OR REPLACE VIEW ".length).replaceAll(qualifier, "")}`;
}
