/**
 * The lake table's schema, the one source for the Glue table (stacks/lake.ts) and the check that
 * every field of the Firehose record (`Lake.toRecord`) has a column. Pure: no I/O, so the
 * infrastructure code can import it.
 */
import { Figures } from "../kpi/figures";
import type { toRecord } from "./index";

export * as LakeSchema from "./schema";

/** The JSON record Firehose receives, one per costed reading. */
export type LakeRecord = ReturnType<typeof toRecord>;

/** Hive/Glue column types the table uses. Money is DECIMAL, as in the local Parquet files. */
export type GlueType = "string" | "int" | "double" | "boolean" | "timestamp" | "decimal(14,6)" | "decimal(18,6)";

/** The partition column: the reading's UTC date, taken from the record by Firehose dynamic partitioning. */
export const partitionKey = "dt" satisfies keyof LakeRecord;

/** Table name in the Glue database. */
export const tableName = "readings";

/** S3 prefix of the table under the lake bucket; partitions sit below it as `dt=YYYY-MM-DD/`. */
export const prefix = "readings/";

/**
 * Data columns in file order. `satisfies` makes the compiler reject a record field without a column
 * and a column without a record field.
 */
export const columnTypes = {
  meter_id: "string",
  factory_id: "string",
  device_id: "string",
  interval_start: "timestamp",
  interval_seconds: "int",
  kwh: "double",
  kvarh: "double",
  kw_avg: "double",
  kw_max: "double",
  pf: "double",
  voltage: "double",
  current: "double",
  tou_period: "string",
  tariff_id: "string",
  unit_price: "decimal(14,6)",
  cost: "decimal(18,6)",
  estimated: "boolean",
  gap: "boolean",
  quality: "string",
  computed_at: "timestamp",
  source: "string",
  received_at: "timestamp",
} as const satisfies Record<Exclude<keyof LakeRecord, typeof partitionKey>, GlueType>;

export type ColumnName = keyof typeof columnTypes;

/** The Glue table's columns, in order. */
export const columns: { name: ColumnName; type: GlueType }[] = (Object.keys(columnTypes) as ColumnName[]).map((name) => ({ name, type: columnTypes[name] }));

/**
 * How the record's timestamps are written (`Date.toISOString()`), in the Joda pattern the Hive JSON
 * deserializer of Firehose's format conversion takes.
 */
export const timestampFormat = "yyyy-MM-dd'T'HH:mm:ss.SSS'Z'";

/**
 * Athena views over the append-only table. `readings_latest` keeps the latest costed copy per
 * reading key (DESIGN.md, flow 4); the KPI views build on it.
 * @example views("wattflow_production").map((view) => view.sql)
 */
export function views(database: string): { name: string; description: string; sql: string }[] {
  const table = `"${database}"."${tableName}"`;
  const latest = `"${database}"."readings_latest"`;
  return [
    {
      name: "readings_latest",
      description: "One row per reading key (meter, interval start): the copy with the latest computed_at.",
      sql: `CREATE OR REPLACE VIEW ${latest} AS
SELECT * FROM (
  SELECT r.*, row_number() OVER (PARTITION BY meter_id, interval_start ORDER BY computed_at DESC NULLS LAST, received_at DESC) AS copy
  FROM ${table} r
) WHERE copy = 1`,
    },
    {
      name: "daily_energy_cost",
      description: "kWh and provisional cost per factory, meter and UTC day.",
      sql: `CREATE OR REPLACE VIEW "${database}"."daily_energy_cost" AS
SELECT factory_id, meter_id, dt, sum(kwh) AS kwh, sum(cost) AS cost, count(*) AS readings, sum(CASE WHEN gap THEN 1 ELSE 0 END) AS gap_readings
FROM ${latest}
GROUP BY factory_id, meter_id, dt`,
    },
    {
      name: "demand_15min",
      description:
        "15-minute demand (kW) per factory from the measured 5-minute slots of each aligned window (estimates never set a peak), for the monthly peak.",
      sql: `CREATE OR REPLACE VIEW "${database}"."demand_15min" AS
SELECT factory_id, date_trunc('hour', interval_start) + CAST(floor(minute(interval_start) / 15) AS INTEGER) * INTERVAL '15' MINUTE AS window_start,
       ${Figures.sql.demandKw("sum(kwh)")} AS demand_kw, count(*) AS intervals
FROM ${latest}
WHERE interval_seconds = 300 AND coalesce(quality, 'measured') = 'measured'
GROUP BY 1, 2`,
    },
  ];
}
