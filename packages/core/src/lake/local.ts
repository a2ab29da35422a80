import { randomUUID } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync } from "node:fs";
import { open } from "node:fs/promises";
import { join, relative } from "node:path";
import {
  BOOLEAN,
  DOUBLE,
  type DuckDBConnection,
  DuckDBDataChunk,
  DuckDBInstance,
  type DuckDBTimestampTZValue,
  type DuckDBType,
  type DuckDBValue,
  INTEGER,
  TIMESTAMPTZ,
  timestampTZValue,
  VARCHAR,
} from "@duckdb/node-api";
import { lakeUnreadableFilesPerQuery } from "../config";
import { setAside, syncDirectory } from "../util/files";
import { Instant } from "../util/instant";
import { LakeError, type Port, partitionOf, type Row } from "./index";

/** An instant as the appender takes it (one value object per distinct instant of a batch: see `append`). */
type Instantly = (value: Date | null) => DuckDBTimestampTZValue | null;

/**
 * The lake's columns in order: name, DuckDB type, and the value a row gives — the batch table's SQL, the data
 * chunks' types and their values all read this one list.
 */
const lakeColumns: { name: string; type: DuckDBType; value: (row: Row, instant: Instantly) => DuckDBValue }[] = [
  { name: "meter_id", type: VARCHAR, value: (row) => row.meterId },
  { name: "factory_id", type: VARCHAR, value: (row) => row.factoryId },
  { name: "device_id", type: VARCHAR, value: (row) => row.deviceId },
  { name: "interval_start", type: TIMESTAMPTZ, value: (row, instant) => instant(row.intervalStart) },
  { name: "interval_seconds", type: INTEGER, value: (row) => row.intervalSeconds },
  { name: "kwh", type: DOUBLE, value: (row) => row.kwh },
  { name: "kvarh", type: DOUBLE, value: (row) => row.kvarh },
  { name: "kw_avg", type: DOUBLE, value: (row) => row.kwAvg },
  { name: "kw_max", type: DOUBLE, value: (row) => row.kwMax },
  { name: "pf", type: DOUBLE, value: (row) => row.pf },
  { name: "voltage", type: DOUBLE, value: (row) => row.voltage },
  { name: '"current"', type: DOUBLE, value: (row) => row.current },
  { name: "tou_period", type: VARCHAR, value: (row) => row.touPeriod },
  { name: "tariff_id", type: VARCHAR, value: (row) => row.tariffId },
  { name: "unit_price", type: VARCHAR, value: (row) => row.unitPrice },
  { name: "cost", type: VARCHAR, value: (row) => row.cost },
  { name: "estimated", type: BOOLEAN, value: (row) => row.estimated },
  { name: "gap", type: BOOLEAN, value: (row) => row.gap },
  { name: "quality", type: VARCHAR, value: (row) => row.quality ?? "measured" },
  { name: "computed_at", type: TIMESTAMPTZ, value: (row, instant) => instant(row.computedAt) },
  { name: "source", type: VARCHAR, value: (row) => row.source },
  { name: "received_at", type: TIMESTAMPTZ, value: (row, instant) => instant(row.receivedAt) },
  { name: "dt", type: VARCHAR, value: (row) => partitionOf(row.intervalStart) },
];
const columns = lakeColumns.map((column) => `${column.name} ${column.type}`).join(", ");
const columnTypes = lakeColumns.map((column) => column.type);
/** Rows per data chunk: DuckDB's vector size. */
const chunkRows = 2048;

type Waiting = { rows: Row[]; resolve: () => void; reject: (error: Error) => void };

/** DuckDB's messages for a Parquet file it cannot open name the file in quotes. */
const unreadableParquet =
  /(?:too small to be a Parquet file|No magic bytes found|Invalid Input Error: File|Corrupt|Couldn't deserialize thrift|Invalid FileMetaData)[^']*'([^']+\.parquet)'/i;
/** A Parquet read error that names no file (a footer that does not decode: "TProtocolException: Invalid data"). */
const anonymousParquetError = /parquet|thrift|TProtocolException/i;

async function syncFile(path: string): Promise<void> {
  const handle = await open(path, "r");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

function parquetFiles(dir: string): string[] {
  const found: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) found.push(...parquetFiles(path));
    else if (entry.name.endsWith(".parquet")) found.push(path);
  }
  return found;
}

/**
 * Parquet files under `<dir>/readings/dt=YYYY-MM-DD/`, written by DuckDB. Puts that arrive while a
 * write is running are merged into the next one (like Firehose's buffer), so a busy stream makes
 * fewer, larger files. A put resolves only after its files are durable: DuckDB writes them in
 * `<dir>/staging/`, each is fsynced and renamed into its partition, so a reader never meets half a
 * file. A file that still cannot be read (from an older version, a disk fault) is moved to
 * `<dir>/corrupt/` and listed by `unreadableFiles()` (GET /health); the query runs without it.
 */
export class LocalLake implements Port {
  private connection?: Promise<DuckDBConnection>;
  private instance?: DuckDBInstance;
  private waiting: Waiting[] = [];
  private writing = false;
  readonly readingsDir: string;
  private readonly stagingDir: string;
  private readonly corruptDir: string;

  constructor(dir: string) {
    this.readingsDir = join(dir, "readings");
    this.stagingDir = join(dir, "staging");
    this.corruptDir = join(dir, "corrupt");
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

  /**
   * Runs a query over the lake's Parquet files (`readings` is a view); for tests and the local
   * time-series port. A file DuckDB cannot open is set aside and the query run again without it.
   */
  async query(sql: string): Promise<Record<string, unknown>[]> {
    const connection = await this.connect();
    const glob = join(this.readingsDir, "**", "*.parquet").replaceAll("'", "''");
    for (let setAsideCount = 0; ; setAsideCount++) {
      try {
        await connection.run(
          `CREATE OR REPLACE TEMP VIEW readings AS SELECT * FROM read_parquet('${glob}', hive_partitioning = true, hive_types = {'dt': VARCHAR}, union_by_name = true) WHERE ${Instant.lakeRange.duckdb("dt")}`,
        );
        const reader = await connection.runAndReadAll(sql);
        return reader.getRowObjectsJS() as Record<string, unknown>[];
      } catch (error) {
        if (setAsideCount >= lakeUnreadableFilesPerQuery || !(await this.setAsideUnreadable(connection, (error as Error).message))) throw error;
      }
    }
  }

  /** Moves the file(s) behind a DuckDB read error to corrupt/; false when the error is not about a file. */
  private async setAsideUnreadable(connection: DuckDBConnection, message: string): Promise<boolean> {
    const aside = (path: string, reason: string) => setAside(path, reason, join(this.corruptDir, relative(this.readingsDir, path), ".."));
    const named = unreadableParquet.exec(message)?.[1];
    if (named && !relative(this.readingsDir, named).startsWith("..")) {
      // A query running beside this one may have moved it already: then only run again.
      if (existsSync(named)) aside(named, message);
      return true;
    }
    if (!anonymousParquetError.test(message) || /No files found/i.test(message)) return false;
    // The error names no file: open each file's footer on its own to find the ones that fail.
    let found = false;
    for (const path of parquetFiles(this.readingsDir)) {
      try {
        await connection.run(`SELECT count(*) FROM parquet_metadata('${path.replaceAll("'", "''")}')`);
      } catch (error) {
        aside(path, (error as Error).message);
        found = true;
      }
    }
    return found;
  }

  async close(): Promise<void> {
    while (this.writing) await new Promise((resolve) => setTimeout(resolve, 5));
    if (this.connection) (await this.connection).closeSync();
    this.instance?.closeSync();
    this.connection = undefined;
  }

  private connect(): Promise<DuckDBConnection> {
    // Made on every use, not once with the connection: a folder lost in an outage is made again, and
    // a failure here is not remembered, so the lake recovers without a restart.
    mkdirSync(this.readingsDir, { recursive: true });
    this.connection ??= (async () => {
      // Staged files of a write the process did not finish were never acknowledged: their readings
      // are still undelivered in the database and the sweeper sends them again.
      rmSync(this.stagingDir, { recursive: true, force: true });
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
    // Column by column, a chunk of rows at a time: DuckDB's vectors are filled from arrays, where appending value by
    // value costs a native call (and, for an instant, a value object) per field — most of a bulk load's lake time.
    const instants = new Map<number, DuckDBTimestampTZValue>();
    const instant = (value: Date | null) => {
      if (value === null) return null;
      // A batch's rows share `now` and six meters share each slot start: one value object per instant.
      let found = instants.get(value.getTime());
      if (!found) {
        found = timestampTZValue(BigInt(value.getTime()) * 1000n);
        instants.set(value.getTime(), found);
      }
      return found;
    };
    for (let from = 0; from < rows.length; from += chunkRows) {
      const part = rows.slice(from, from + chunkRows);
      const chunk = DuckDBDataChunk.create(columnTypes, part.length);
      chunk.setColumns(lakeColumns.map((column) => part.map((row) => column.value(row, instant))));
      appender.appendDataChunk(chunk);
    }
    appender.closeSync();
    const staging = join(this.stagingDir, randomUUID());
    mkdirSync(staging, { recursive: true });
    try {
      // Money travels as decimal text and is stored as DECIMAL, never as a binary float.
      await connection.run(
        `COPY (SELECT * REPLACE (CAST(unit_price AS DECIMAL(14,6)) AS unit_price, CAST(cost AS DECIMAL(18,6)) AS cost) FROM lake_batch)
         TO '${staging.replaceAll("'", "''")}' (FORMAT parquet, PARTITION_BY (dt), OVERWRITE_OR_IGNORE, FILENAME_PATTERN 'part-{uuid}')`,
      );
      await connection.run("DROP TABLE lake_batch");
      await this.publish(staging);
    } finally {
      rmSync(staging, { recursive: true, force: true });
    }
  }

  /**
   * Moves each staged file, fsynced, into its partition under readings/, then makes the renames durable. The
   * fsyncs run on libuv's threads, all files at once: a bulk load's write leaves the event loop free meanwhile.
   */
  private async publish(staging: string): Promise<void> {
    const staged = parquetFiles(staging);
    await Promise.all(staged.map((path) => syncFile(path)));
    const partitions = new Set<string>();
    for (const path of staged) {
      const target = join(this.readingsDir, relative(staging, path));
      const partition = join(target, "..");
      mkdirSync(partition, { recursive: true });
      partitions.add(partition);
      renameSync(path, target);
    }
    await Promise.all([...partitions].map((partition) => syncDirectory(partition)));
    await syncDirectory(this.readingsDir);
  }
}
