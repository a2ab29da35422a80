/**
 * KPI views over the lake for Athena (Glue; Power BI reads them over ODBC), written in the SQL that
 * Athena (Trino) and DuckDB share, so the tests run the very same text on DuckDB over the local lake.
 * They build on `readings_latest` (LakeSchema.views: the latest copy of each reading by computed_at),
 * so corrections never double-count. Local days, hours and months are in one IANA zone per stage
 * (the lake has no zone column); the API computes each factory in its own zone.
 * Pure: no I/O, so stacks/ can import it.
 */
import { Emission } from "./emission";
import { Figures } from "./figures";

export * as KpiViews from "./views";

export type View = { name: string; description: string; sql: string };
/** `gridFactorKgPerKwh` replaces the published factors by one figure for every month (as `gridFactor` does on the API). */
export type Options = { timeZone?: string; gridFactorKgPerKwh?: number };

const sqlString = (value: string) => `'${value.replaceAll("'", "''")}'`;

/** The grid factor of a `local_month` column: the latest published factor not after the month (Emission.forMonth), as SQL. */
function factorSql(column: string, options: Options): { factor: string; year: string } {
  if (options.gridFactorKgPerKwh !== undefined) return { factor: String(options.gridFactorKgPerKwh), year: "CAST(NULL AS INTEGER)" };
  const latestFirst = [...Emission.factors].sort((a, b) => b.year - a.year);
  const when = (pick: (factor: Emission.Factor) => string) =>
    `CASE ${latestFirst.map((factor) => `WHEN ${column} >= '${factor.year}-01' THEN ${pick(factor)}`).join(" ")} END`;
  return { factor: when((factor) => String(factor.kgPerKwh)), year: when((factor) => `${factor.year}`) };
}

/**
 * The KPI views in `database`; run after LakeSchema.views (they read `readings_latest`). Months, days and
 * hours are local to `timeZone` (taken from the reading's instant, never from the UTC `dt` partition).
 * The figures are Figures' definitions written in SQL.
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
  const given = options.gridFactorKgPerKwh;
  if (given !== undefined && (!Number.isFinite(given) || given < 0)) throw new Error(`the grid factor must be a non-negative number, got ${given}`);
  const co2 = factorSql("local_month", options);
  const name = (view: string) => `"${database.replaceAll('"', '""')}"."${view}"`;
  const localStart = `interval_start AT TIME ZONE ${sqlString(zone)}`;
  const localMonth = (local: string) => `substr(CAST(CAST(${local} AS DATE) AS VARCHAR), 1, 7)`;
  return [
    {
      name: "kpi_windows_15m",
      description: `Every meter of a factory together per 15-minute window (local time ${zone}): kWh, kVArh and the kWh measured with it, provisional cost, demand (kW) and TOU period.`,
      sql: `CREATE OR REPLACE VIEW ${name("kpi_windows_15m")} AS
SELECT factory_id, local_window_start, CAST(local_window_start AS DATE) AS local_day,
       ${localMonth("local_window_start")} AS local_month, hour(local_window_start) AS local_hour,
       period, kwh, kvarh, kwh_with_kvarh, cost, ${Figures.sql.demandKw("kwh")} AS demand_kw, readings
FROM (
  SELECT factory_id,
         date_trunc('hour', local_start) + CAST(floor(minute(local_start) / 15) AS INTEGER) * INTERVAL '15' MINUTE AS local_window_start,
         max_by(tou_period, local_start) AS period,
         sum(kwh) AS kwh, sum(kvarh) AS kvarh, sum(${Figures.sql.kwhWithKvarh("kwh", "kvarh")}) AS kwh_with_kvarh, sum(cost) AS cost, count(*) AS readings
  FROM (SELECT factory_id, tou_period, kwh, kvarh, cost, ${localStart} AS local_start FROM ${name("readings_latest")}) r
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
      description: `Per factory and local month: kWh, cost, punta share, power factor (meters measuring kVArh only), peak 15-minute demand, load factor over the hours with data (windows_with_data of windows_expected), CO2e (the month's published grid factor${given === undefined ? "" : `, here ${given} kg/kWh`}).`,
      sql: `CREATE OR REPLACE VIEW ${name("kpi_monthly")} AS
SELECT factory_id, local_month, kwh, kvarh, cost, punta_kwh,
       ${Figures.sql.puntaShare("punta_kwh", "kwh")} AS punta_share,
       ${Figures.sql.powerFactor("kwh_with_kvarh", "kvarh")} AS power_factor,
       peak_demand_kw, punta_peak_demand_kw,
       ${Figures.sql.loadFactor("kwh", "windows_with_data / 4.0", "peak_demand_kw")} AS load_factor,
       windows_with_data, windows_expected,
       kwh * ${co2.factor} AS co2e_kg, ${co2.factor} AS co2e_factor_kg_per_kwh, ${co2.year} AS co2e_factor_year
FROM (
  SELECT factory_id, local_month, sum(kwh) AS kwh, sum(kvarh) AS kvarh, sum(kwh_with_kvarh) AS kwh_with_kvarh, sum(cost) AS cost,
         sum(CASE WHEN period = 'punta' THEN kwh ELSE 0 END) AS punta_kwh,
         max(demand_kw) AS peak_demand_kw, max(CASE WHEN period = 'punta' THEN demand_kw END) AS punta_peak_demand_kw,
         count(*) AS windows_with_data,
         -- Wall-clock quarter hours of the month (a DST day would be off by four; central Mexico has none since 2022).
         96 * date_diff('day', CAST(local_month || '-01' AS DATE), CAST(local_month || '-01' AS DATE) + INTERVAL '1' MONTH) AS windows_expected
  FROM ${name("kpi_windows_15m")}
  GROUP BY 1, 2
) m`,
    },
    {
      name: "power_factor_monthly",
      description: `Energy-weighted power factor per factory and local month (${zone}) from the readings that carry both kWh and kVArh; meters without kVArh are counted as left out.`,
      sql: `CREATE OR REPLACE VIEW ${name("power_factor_monthly")} AS
SELECT factory_id, month, kwh, kvarh, ${Figures.sql.powerFactor("kwh", "kvarh")} AS power_factor, meters, meters_left_out
FROM (
  SELECT factory_id, month,
         sum(${Figures.sql.kwhWithKvarh("kwh", "kvarh")}) AS kwh, sum(kvarh) AS kvarh,
         count(DISTINCT CASE WHEN kvarh IS NOT NULL THEN meter_id END) AS meters,
         count(DISTINCT meter_id) - count(DISTINCT CASE WHEN kvarh IS NOT NULL THEN meter_id END) AS meters_left_out
  FROM (SELECT factory_id, meter_id, kwh, kvarh, ${localMonth(localStart)} AS month FROM ${name("readings_latest")}) r
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
