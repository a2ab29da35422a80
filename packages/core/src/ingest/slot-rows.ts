/** Reading rows as the grid writes and reads them: one set-based insert over column arrays, and rows by their keys. */
import { and, type SQL, sql } from "drizzle-orm";
import { Database } from "../database";
import { CopyWriter, UnencodableError } from "../database/copy-binary";
import { readingTable } from "../reading/reading.sql";

export type StoredReading = typeof readingTable.$inferSelect;
export type NewReading = typeof readingTable.$inferInsert & { intervalStart: Date; receivedAt: Date };

/** Rows of `reading` with exactly these keys (meter id, slot start). */
export function keyFilter(keys: readonly { meterId: string; start: Date }[]) {
  const meterIds = keys.map((key) => key.meterId);
  const starts = keys.map((key) => key.start.toISOString());
  const first = Math.min(...keys.map((key) => key.start.getTime()));
  const last = Math.max(...keys.map((key) => key.start.getTime()));
  // The range lets Postgres prune monthly partitions; the unnest pairs are the exact keys.
  return and(
    sql`${readingTable.intervalStart} between ${new Date(first).toISOString()}::timestamptz and ${new Date(last).toISOString()}::timestamptz`,
    sql`(${readingTable.meterId}, ${readingTable.intervalStart}) in (select * from unnest(${sql.param(meterIds)}::text[], ${sql.param(starts)}::timestamptz[]))`,
  );
}

/**
 * A column of the insert, from one getter: the row's value, or `missing` where it has none, becomes the unnest array's
 * element (`param`) and the binary COPY field (`write`).
 */
type Column<T = unknown> = {
  name: string;
  type: string;
  get(row: NewReading): T | null | undefined;
  missing: T | null;
  /** The unnest array's element of a value (an instant as ISO text, flags comma-joined). */
  param(value: T | null): unknown;
  /** Writes a value as this column's binary COPY field (its type's CopyWriter method). */
  write(out: CopyWriter, value: T | null): void;
  select?: (alias: string) => string;
};

/**
 * The columns of one Postgres type: `write` calls its CopyWriter method, `missing` is what a row without a value writes.
 * A column holds its getter and writer themselves (no closure around them): the COPY loop makes the same three calls
 * per field as a hand-written builder per type would (getter, writer, CopyWriter method) and allocates nothing.
 */
function typed<T>(type: string, write: (out: CopyWriter, value: T | null) => void, missing: T | null, param: (value: T | null) => unknown = (value) => value) {
  return (name: string, get: (row: NewReading) => T | null | undefined): Column<T> => ({ name, type, get, missing, param, write });
}

const column = {
  text: typed<string>("text", (out, value) => out.text(value), null),
  int: typed<number>("int", (out, value) => out.int4(value), null),
  float8: typed<number>("float8", (out, value) => out.float8(value), null),
  numeric: typed<string>("numeric", (out, value) => out.numeric(value), null),
  bool: typed<boolean>("bool", (out, value) => out.bool(value), false),
  instant: typed<Date>(
    "timestamptz",
    (out, value) => out.timestamptz(value),
    null,
    (value) => value?.toISOString() ?? null,
  ),
};

/** The columns every reading row is written with, as unnest arrays. */
const readingColumns: Column[] = [
  column.int("interval_seconds", (row) => row.intervalSeconds),
  column.text("factory_id", (row) => row.factoryId),
  column.text("device_id", (row) => row.deviceId),
  column.float8("kwh", (row) => row.kwh),
  column.float8("kvarh", (row) => row.kvarh),
  column.float8("kw_avg", (row) => row.kwAvg),
  column.float8("kw_max", (row) => row.kwMax),
  column.float8("pf", (row) => row.pf),
  column.float8("voltage", (row) => row.voltage),
  column.float8('"current"', (row) => row.current),
  column.text("tou_period", (row) => row.touPeriod),
  column.text("tariff_id", (row) => row.tariffId),
  column.numeric("unit_price", (row) => row.unitPrice),
  column.numeric("cost", (row) => row.cost),
  column.bool("estimated", (row) => row.estimated),
  column.bool("gap", (row) => row.gap),
  column.instant("computed_at", (row) => row.computedAt),
  column.text("source", (row) => row.source),
  column.instant("received_at", (row) => row.receivedAt),
];

/** When the row reached the lake and the series, for rows delivered before they are stored. */
const deliveredColumn = column.instant("lake_delivered_at", (row) => row.lakeDeliveredAt);

/** The grid's own columns: quality, the span an estimate came from, and validation flags (comma-joined, split in SQL). */
const gridColumns: Column[] = [
  column.text("quality", (row) => row.quality ?? "measured"),
  column.instant("span_start", (row) => row.spanStart),
  {
    name: "flags",
    type: "text",
    get: (row) => row.flags,
    missing: [],
    param: (flags) => (flags ?? []).join(","),
    write: (out, flags) => out.textArray(flags ?? []),
    select: (alias) => `string_to_array(${alias}, ',')`,
  } satisfies Column<string[]>,
];

/**
 * Writes slot rows and returns them as stored. One statement over column arrays (unnest) instead of a
 * VALUES list: 21 parameters (24 with the grid's columns) whatever the batch size. `skip` leaves a stored slot alone (the fast path);
 * `replace` overwrites it and marks it for delivery again (a measured value or a re-spread estimate).
 */
export async function insertRows(
  rows: readonly NewReading[],
  onConflict: "skip" | "replace",
  db: Database.Db | Database.Transaction = Database.use(),
): Promise<StoredReading[]> {
  const result = await insertStatement(rows, onConflict, db, sql`returning *`);
  return result.map(fromRow);
}

/**
 * The keys (meter id, slot start) of the rows the insert wrote: for callers that hold the rows already and
 * expect their slots to be empty (the bulk path). On PGlite the rows go in with one binary COPY (Database.copyBinary),
 * in a savepoint: if a slot is taken after all (COPY has no `on conflict`), the savepoint is rolled back and the
 * rows are inserted skipping the stored slots, so the answer is the same either way. Rows whose money the binary
 * format cannot carry (not a plain decimal) are inserted the same way.
 */
export async function insertKeys(rows: readonly NewReading[], db: Database.Db | Database.Transaction = Database.use()): Promise<Set<string>> {
  const written = columnsOf(rows, "skip");
  const copy = rows.length > 0 && Database.canCopy(db) ? binaryOf(rows, written) : undefined;
  if (copy) {
    const columns = ["meter_id", "interval_start", ...written.map((column) => column.name)];
    const copied = await db
      .transaction(async (savepoint) => {
        await Database.copyBinary(savepoint, "reading", columns, copy);
        return true;
      })
      .catch((error: { code?: string }) => {
        if (error.code === "23505") return false;
        throw error;
      });
    if (copied) return new Set(rows.map((row) => `${row.meterId}@${row.intervalStart.getTime()}`));
  }
  const result = await insertStatement(rows, "skip", db, sql`returning meter_id, interval_start`);
  return new Set(result.map((row) => `${row.meter_id}@${instantOf(row.interval_start)?.getTime()}`));
}

/** The columns an insert of `rows` writes besides the key. */
function columnsOf(rows: readonly NewReading[], onConflict: "skip" | "replace"): Column[] {
  // New measured slots without flags (the common case) leave the grid columns to their defaults: the
  // statement stays what it was before the grid, 21 arrays. A replacement always writes them.
  const lean = onConflict === "skip" && rows.every((row) => (row.quality ?? "measured") === "measured" && !row.spanStart && (row.flags ?? []).length === 0);
  // Rows delivered before they are inserted (storeDeliveredFirst) say so in the same statement.
  const delivered = onConflict === "skip" && rows.some((row) => row.lakeDeliveredAt);
  return [...readingColumns, ...(lean ? [] : gridColumns), ...(delivered ? [deliveredColumn] : [])];
}

/** `rows` as a binary COPY stream: the key, then `columns`; undefined when a value has no binary form here (see CopyWriter.numeric). */
function binaryOf(rows: readonly NewReading[], columns: readonly Column[]): CopyWriter | undefined {
  // About 150 bytes a lean row: sized once for the common case.
  const out = new CopyWriter(rows.length * 160);
  try {
    for (const row of rows) {
      out.row(columns.length + 2);
      out.text(row.meterId);
      out.timestamptz(row.intervalStart);
      for (const column of columns) column.write(out, column.get(row) ?? column.missing);
    }
  } catch (error) {
    if (error instanceof UnencodableError) return undefined;
    throw error;
  }
  return out;
}

async function insertStatement(
  rows: readonly NewReading[],
  onConflict: "skip" | "replace",
  db: Database.Db | Database.Transaction,
  returning: SQL,
): Promise<Record<string, unknown>[]> {
  if (rows.length === 0) return [];
  const columns = columnsOf(rows, onConflict);
  const names = columns.map((column) => column.name).join(", ");
  const aliases = columns.map((_, index) => `c${index}`);
  const conflict =
    onConflict === "skip"
      ? sql`on conflict do nothing`
      : sql.raw(
          `on conflict (meter_id, interval_start) do update set (${names}, stored_at, lake_delivered_at) = (${columns
            .map((column) => `excluded.${column.name}`)
            .join(", ")}, clock_timestamp(), null)`,
        );
  const arrays = sql.join(
    columns.map((column) => sql`${sql.param(rows.map((row) => column.param(column.get(row) ?? column.missing)))}::${sql.raw(column.type)}[]`),
    sql`, `,
  );
  const select = columns.map((column, index) => column.select?.(`c${index}`) ?? `c${index}`).join(", ");
  const result = await db.execute(sql`
    insert into reading (meter_id, interval_start, ${sql.raw(names)})
    select m, s, ${sql.raw(select)} from unnest(
      ${sql.param(rows.map((row) => row.meterId))}::text[], ${sql.param(rows.map((row) => row.intervalStart.toISOString()))}::timestamptz[], ${arrays})
      as x(m, s, ${sql.raw(aliases.join(", "))})
    ${conflict}
    ${returning}`);
  return (result as unknown as { rows: Record<string, unknown>[] }).rows;
}

const instantOf = (value: unknown) => (value === null || value === undefined ? null : value instanceof Date ? value : new Date(String(value)));
const numberOf = (value: unknown) => (value === null || value === undefined ? null : Number(value));
const textOf = (value: unknown) => (value === null || value === undefined ? null : String(value));
/** A text[] as the driver gives it: an array (node-postgres, PGlite) or its literal `{a,b}`. */
const textsOf = (value: unknown): string[] =>
  Array.isArray(value) ? value.map(String) : typeof value === "string" && value.length > 2 ? value.slice(1, -1).split(",") : [];

/** A raw `reading` row (snake_case, driver types) as Drizzle's select type. */
function fromRow(row: Record<string, unknown>): StoredReading {
  return {
    meterId: String(row.meter_id),
    intervalStart: instantOf(row.interval_start) as Date,
    intervalSeconds: Number(row.interval_seconds),
    factoryId: String(row.factory_id),
    deviceId: String(row.device_id),
    kwh: Number(row.kwh),
    kvarh: numberOf(row.kvarh),
    kwAvg: numberOf(row.kw_avg),
    kwMax: numberOf(row.kw_max),
    pf: numberOf(row.pf),
    voltage: numberOf(row.voltage),
    current: numberOf(row.current),
    touPeriod: textOf(row.tou_period),
    tariffId: textOf(row.tariff_id),
    unitPrice: textOf(row.unit_price),
    cost: textOf(row.cost),
    estimated: Boolean(row.estimated),
    gap: Boolean(row.gap),
    quality: row.quality === "estimated" ? "estimated" : "measured",
    spanStart: instantOf(row.span_start),
    flags: textsOf(row.flags),
    computedAt: instantOf(row.computed_at),
    source: row.source as StoredReading["source"],
    receivedAt: instantOf(row.received_at) as Date,
    storedAt: instantOf(row.stored_at) as Date,
    lakeDeliveredAt: instantOf(row.lake_delivered_at),
  };
}
