/**
 * The series sink: where delivery writes costed readings when the hot series have a store of their own (InfluxDB,
 * ./influx.ts). Where the time series read what is already stored (DuckDB over the local lake, the readings in Postgres
 * on a stage without InfluxDB) there is nothing to write, so no sink is provided and delivery writes the lake only.
 * Writes are idempotent: one point per meter and interval start, so a re-sent or recomputed reading replaces its point.
 */
import type { Lake } from "../lake";
import { TimeSeriesError } from "../timeseries";
import { portSlot } from "../util/port";

export * as SeriesSink from "./index";

export interface Port {
  /** Writes costed readings; resolves once every point is accepted. @throws TimeSeriesError (delivery keeps the rows for the sweeper). */
  write(rows: readonly Lake.Row[]): Promise<void>;
  describe(): { kind: "influxdb"; location: string };
}

const slot = portSlot<Port>("wattflow.sink", () => new TimeSeriesError("no series sink: the runtime or the local stack provides InfluxDB's"));

/**
 * This process's sink (util/port.ts), provided only beside InfluxDB: the Lambda runtime wires it when INFLUX_URL and
 * INFLUX_TOKEN are set, the local stack with `--influx`; `provided()` false means the series need no write.
 */
export const { provide, provideLazily, provided, current, use } = slot;
