/**
 * The time-series port: hot series for dashboards, KPIs and alerts. On AWS (or wherever INFLUX_URL is
 * set) InfluxDB 2, written as line protocol and read through the Flux library; locally the same
 * questions are answered by DuckDB over the Parquet lake, whose writer is the lake itself; on a stage
 * without InfluxDB, by the readings stored in Postgres. The port only reads: what writes InfluxDB's points is the
 * series sink (sink/index.ts), provided beside InfluxDB only.
 */
import { UnavailableError } from "../util/error";
import { portSlot } from "../util/port";

export * as TimeSeries from "./index";

/** A factory's 15-minute window: every meter's energy together, and the window's TOU period. */
export type Window = {
  start: Date;
  period: string | null;
  kwh: number;
  /** Of `kwh`, what was estimated (spread from gap readings; absent = none): demand counts only the rest. */
  estimatedKwh?: number;
  /** Null when no meter measured reactive energy in the window. */
  kvarh: number | null;
  /** kWh of the readings that carry kVArh (what power factor pairs with `kvarh`; Figures.powerFactor). */
  kwhWithKvarh: number;
  /** Provisional cost (sum of the readings' costs), decimal text. */
  cost: string;
};

/** One meter's energy and cost on one local day (YYYY-MM-DD); kVArh null when the meter measured none that day. */
export type MeterDay = { meterId: string; day: string; kwh: number; cost: string; kvarh: number | null; kwhWithKvarh: number };

/** A meter day from a SQL row (`meter_id`, `day`, `kwh`, `cost`, `kvarh`, `kwh_with_kvarh`), as the lake and Postgres answer it. */
export function meterDayOf(row: Record<string, unknown>): MeterDay {
  return {
    meterId: String(row.meter_id),
    day: String(row.day),
    kwh: Number(row.kwh),
    cost: String(row.cost),
    kvarh: row.kvarh === null ? null : Number(row.kvarh),
    kwhWithKvarh: Number(row.kwh_with_kvarh),
  };
}

/** A factory's readings in [from, to); only those of `meterIds` when given (a factory's billing meters, for its bill). */
export type Range = { factoryId: string; from: Date; to: Date; meterIds?: readonly string[] };

export interface Port {
  /** Every 15-minute window of the factory in the range that has readings, in time order. */
  windows(range: Range): Promise<Window[]>;
  /** kWh and cost per meter per local day of `timeZone`. */
  meterDays(range: Range & { timeZone: string }): Promise<MeterDay[]>;
  /** Both at once (what a month of KPIs reads): the lake answers them in one pass. */
  usage(range: Range & { timeZone: string }): Promise<{ windows: Window[]; meterDays: MeterDay[] }>;
  describe(): { kind: "influxdb" | "lake" | "postgres"; location: string };
  close?(): Promise<void>;
}

export class TimeSeriesError extends UnavailableError {
  readonly code = "timeseries.unavailable";
  override readonly name = "TimeSeriesError";
}

/**
 * InfluxDB connection settings from the environment: INFLUX_URL and INFLUX_TOKEN, with INFLUX_ORG and
 * INFLUX_BUCKET defaulting to the names stacks/timeseries.ts creates ("wattflow", "readings").
 */
export function influxSettingsFromEnv(env: NodeJS.ProcessEnv = process.env): { url: string; token: string; org: string; bucket: string } | undefined {
  const { INFLUX_URL: url, INFLUX_TOKEN: token } = env;
  if (!url || !token) return undefined;
  return { url, token, org: env.INFLUX_ORG || "wattflow", bucket: env.INFLUX_BUCKET || "readings" };
}

const slot = portSlot<Port>("wattflow.timeseries", () => new TimeSeriesError("no time series: the runtime or the local stack provides one"));

/**
 * This process's time series (util/port.ts): `provide` sets it (the Lambda runtime wires InfluxDB when
 * INFLUX_URL/INFLUX_TOKEN are set, else the readings stored in Postgres, a stage with `timeseries: none`; the local
 * stack wires DuckDB over its lake or InfluxDB), `use` returns it and throws TimeSeriesError when none was provided.
 */
export const { provide, provideLazily, provided, use } = slot;
