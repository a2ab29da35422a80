import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { type DuckDBConnection, DuckDBInstance, timestampTZValue } from "@duckdb/node-api";
import { LakeError, type Port, partitionOf, type Row } from "./index";

const columns = `meter_id VARCHAR, factory_id VARCHAR, device_id VARCHAR, interval_start TIMESTAMPTZ, interval_seconds INTEGER,
  kwh DOUBLE, kvarh DOUBLE, kw_avg DOUBLE, kw_max DOUBLE, pf DOUBLE, voltage DOUBLE, "current" DOUBLE,
  tou_period VARCHAR, tariff_id VARCHAR, unit_price VARCHAR, cost VARCHAR, estimated BOOLEAN, gap BOOLEAN,
  quality VARCHAR, computed_at TIMESTAMPTZ, source VARCHAR, received_at TIMESTAMPTZ, dt VARCHAR`;

type Waiting = { rows: Row[]; resolve: () => void; reject: (error: Error) => void };

/**
 * Parquet files under `<dir>/readings/dt=YYYY-MM-DD/`, written by DuckDB. Puts that arrive while a
 * write is running are merged into the next one (like Firehose's buffer), so a busy stream makes
 * fewer, larger files. A put resolves only after its file is closed.
 */
export class LocalLake implements Port {
  private connection?: Promise<DuckDBConnection>;
  private instance?: DuckDBInstance;
  private waiting: Waiting[] = [];
  private writing = false;
  readonly readingsDir: string;

  constructor(dir: string) {
    this.readingsDir = join(dir, "readings");
  }

  describe() {
    return { kind: "local" as const, location: this.readingsDir };
  }

  put(rows: Row[]): Promise<void> {
    if (rows.length === 0) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.waiting.push({ rows, resolve, reject });
      if (!this.writing) void this.drain();
    });
  }

  /** Runs a query over the lake's Parquet files (`readings` is a view); for tests and the local time-series port. */
  async query(sql: string): Promise<Record<string, unknown>[]> {
    const connection = await this.connect();
    const glob = join(this.readingsDir, "**", "*.parquet").replaceAll("'", "''");
    await connection.run(
      `CREATE OR REPLACE TEMP VIEW readings AS SELECT * FROM read_parquet('${glob}', hive_partitioning = true, hive_types = {'dt': VARCHAR}, union_by_name = true)`,
    );
    const reader = await connection.runAndReadAll(sql);
    return reader.getRowObjectsJS() as Record<string, unknown>[];
  }

  async close(): Promise<void> {
    while (this.writing) await new Promise((resolve) => setTimeout(resolve, 5));
    if (this.connection) (await this.connection).closeSync();
    this.instance?.closeSync();
    this.connection = undefined;
  }

  private connect(): Promise<DuckDBConnection> {
    this.connection ??= (async () => {
      mkdirSync(this.readingsDir, { recursive: true });
      this.instance = await DuckDBInstance.create(":memory:", { threads: "1" });
      return this.instance.connect();
    })();
    return this.connection;
  }

  private async drain(): Promise<void> {
    this.writing = true;
    while (this.waiting.length > 0) {
      const batch = this.waiting;
      this.waiting = [];
      try {
        await this.write(batch.flatMap((item) => item.rows));
        for (const item of batch) item.resolve();
      } catch (error) {
        const failure = new LakeError(`cannot write Parquet under ${this.readingsDir}: ${(error as Error).message}`, { cause: error });
        for (const item of batch) item.reject(failure);
      }
    }
    this.writing = false;
  }

  private async write(rows: Row[]): Promise<void> {
    const connection = await this.connect();
    await connection.run(`CREATE OR REPLACE TEMP TABLE lake_batch (${columns})`);
    const appender = await connection.createAppender("lake_batch");
    const text = (value: string | null) => (value === null ? appender.appendNull() : appender.appendVarchar(value));
    const double = (value: number | null) => (value === null ? appender.appendNull() : appender.appendDouble(value));
    const instant = (value: Date | null) =>
      value === null ? appender.appendNull() : appender.appendTimestampTZ(timestampTZValue(BigInt(value.getTime()) * 1000n));
    for (const row of rows) {
      text(row.meterId);
      text(row.factoryId);
      text(row.deviceId);
      instant(row.intervalStart);
      appender.appendInteger(row.intervalSeconds);
      double(row.kwh);
      double(row.kvarh);
      double(row.kwAvg);
      double(row.kwMax);
      double(row.pf);
      double(row.voltage);
      double(row.current);
      text(row.touPeriod);
      text(row.tariffId);
      text(row.unitPrice);
      text(row.cost);
      appender.appendBoolean(row.estimated);
      appender.appendBoolean(row.gap);
      appender.appendVarchar(row.quality ?? "measured");
      instant(row.computedAt);
      text(row.source);
      instant(row.receivedAt);
      text(partitionOf(row.intervalStart));
      appender.endRow();
    }
    appender.closeSync();
    const target = this.readingsDir.replaceAll("'", "''");
    // Money travels as decimal text and is stored as DECIMAL, never as a binary float.
    await connection.run(
      `COPY (SELECT * REPLACE (CAST(unit_price AS DECIMAL(14,6)) AS unit_price, CAST(cost AS DECIMAL(18,6)) AS cost) FROM lake_batch)
       TO '${target}' (FORMAT parquet, PARTITION_BY (dt), APPEND, FILENAME_PATTERN 'part-{uuid}')`,
    );
    await connection.run("DROP TABLE lake_batch");
  }
}
