/**
 * Storing readings on the 5-minute grid (Grid, reading/grid.ts): a 5-minute reading into an empty slot
 * is one set-based insert per batch; everything else (a longer reading, a slot already stored, a repeat
 * in the batch) is settled per meter in a transaction that loads the meter's slots and spans over the
 * readings' range, applies the readings in order and writes the slots that changed. Every write
 * recomputes the rollup buckets of the slots it wrote in its own transaction (rollup/index.ts).
 */
import { and, eq, gt, lt, type SQL, sql } from "drizzle-orm";
import { flatZeroSlots } from "../config";
import type { Cost } from "../cost";
import { Database } from "../database";
import type { Reading } from "../reading";
import { Grid } from "../reading/grid";
import { estimationSpanTable, readingTable } from "../reading/reading.sql";
import { Rollup } from "../rollup";

export * as Slots from "./slots";

export type StoredReading = typeof readingTable.$inferSelect;
export type NewReading = typeof readingTable.$inferInsert & { intervalStart: Date; receivedAt: Date };

/** A validated, owned reading ready to store: the columns its slots share and how to price one slot. */
export type Candidate = {
  reading: Reading.Input;
  /** Columns of every slot it makes; kWh, price and quality are set per slot. */
  base: Omit<NewReading, "intervalStart" | "kwh">;
  /** The meter's rating in kW, for the `spike_over_rating` flag. */
  maxKw: number | null;
  /** Prices `kwh` in the slot starting at `start`; undefined when no tariff is in force (priced later). */
  price(start: Date, kwh: number): Cost.Priced | undefined;
};

/** What became of each candidate, by index; a conflict names the slots or span it contradicts. */
export type Outcome = Grid.Outcome;

type State = Grid.State<NewReading>;

/**
 * Stores `candidates` on the grid and returns every slot row written (new or re-spread, to be
 * delivered downstream) and each candidate's outcome. Throws only on database failures.
 */
export async function store(candidates: readonly Candidate[], now: Date): Promise<{ rows: StoredReading[]; outcomes: Outcome[] }> {
  const outcomes: Outcome[] = new Array(candidates.length);
  const firstOfKey = new Set<string>();
  const fast: number[] = [];
  candidates.forEach((candidate, index) => {
    const key = `${candidate.reading.meterId}@${candidate.reading.start}`;
    if (candidate.reading.seconds !== Grid.slotMs / 1000 || firstOfKey.has(key)) return;
    firstOfKey.add(key);
    fast.push(index);
  });
  // The common case: 5-minute readings into empty slots, one statement for the whole batch, and their
  // rollup buckets recomputed in the same transaction (a crash leaves neither or both).
  const fastRows = fast.map((index) => {
    const candidate = candidates[index] as Candidate;
    return finish(measuredRow(candidate), Grid.toMicro(candidate.reading.kwh), "measured", null, candidate, now);
  });
  const inserted =
    fastRows.length === 0
      ? []
      : await Database.use().transaction(async (tx) => {
          // Only slots that were empty are inserted (on conflict do nothing): their rollups add up.
          const written = await insertRows(fastRows, "skip", tx);
          await Rollup.add(tx, written);
          return written;
        });
  const insertedKeys = new Set(inserted.map((row) => `${row.meterId}@${row.intervalStart.getTime()}`));
  for (const index of fast) {
    const { meterId, start } = (candidates[index] as Candidate).reading;
    if (insertedKeys.has(`${meterId}@${Date.parse(start)}`)) outcomes[index] = { kind: "stored" };
  }
  // Re-deliveries of measured slots (at-least-once) are settled from one read, without a transaction per meter.
  await settleOnMeasured(
    candidates.map((candidate) => candidate.reading),
    outcomes,
  );

  const rows = [...inserted];
  for (const [meterId, indexes] of slowByMeter(candidates, outcomes)) {
    const written = await Database.use().transaction(async (tx) => {
      // One writer per meter at a time (shards never share a meter, but a replay or sweep might run beside them).
      await tx.execute(sql`select pg_advisory_xact_lock(hashtext(${meterId}))`);
      const state = await load(
        tx,
        meterId,
        indexes.map((index) => (candidates[index] as Candidate).reading),
      );
      for (const index of indexes) outcomes[index] = settle(state, candidates[index] as Candidate);
      const owner = candidates[indexes[0] as number] as Candidate;
      const fresh = state.spans.filter((span) => span.fresh);
      if (fresh.length > 0)
        await tx.insert(estimationSpanTable).values(
          fresh.map((span) => ({
            meterId,
            spanStart: new Date(span.start),
            seconds: span.seconds,
            kwh: Grid.toKwh(span.micro),
            deviceId: owner.base.deviceId,
            receivedAt: owner.base.receivedAt,
          })),
        );
      const dirty = [...state.slots.values()].filter((slot) => slot.dirty);
      const replaced = await insertRows(
        dirty.map((slot) => finish(slot.row, slot.micro, slot.quality, slot.spanStart, owner, now)),
        "replace",
        tx,
      );
      await Rollup.refresh(tx, replaced);
      return replaced;
    });
    rows.push(...written);
  }
  await flagFlatZero(rows);
  return { rows, outcomes };
}

/**
 * The bulk path's store (Ingest.storeBulk): 5-minute readings into empty slots are made into rows exactly as
 * `store`'s fast path makes them, handed to `deliver` (the lake and the series) first, and then inserted
 * already marked delivered — each row written once, where insert-then-mark writes it twice (half the work
 * on PGlite for a year of history). Everything else (slots already stored, longer readings, repeats) goes
 * through `store` and is returned in `rows` for the usual delivery. If `deliver` throws, nothing is inserted
 * this way and the whole batch goes through `store` (its rows stay undelivered for the sweeper).
 * The caller must be the only writer of these slots while it runs: a reading stored by someone else between
 * the read and the insert keeps its value in Postgres while the lake got the bulk's (the insert skips it).
 */
export async function storeDeliveredFirst(
  candidates: readonly Candidate[],
  now: Date,
  deliver: (rows: StoredReading[]) => Promise<void>,
): Promise<{ rows: StoredReading[]; outcomes: Outcome[]; deliveredFirst: number }> {
  const firstOfKey = new Set<string>();
  const fast: number[] = [];
  candidates.forEach((candidate, index) => {
    const key = `${candidate.reading.meterId}@${Date.parse(candidate.reading.start)}`;
    if (candidate.reading.seconds !== Grid.slotMs / 1000 || firstOfKey.has(key)) return;
    firstOfKey.add(key);
    fast.push(index);
  });
  const stored = await storedSlots(fast.map((index) => (candidates[index] as Candidate).reading));
  const fresh = new Set(
    fast.filter((index) => {
      const { meterId, start } = (candidates[index] as Candidate).reading;
      return !stored.has(`${meterId}@${Date.parse(start)}`);
    }),
  );
  const rows = [...fresh].map((index) => {
    const candidate = candidates[index] as Candidate;
    const row = finish(measuredRow(candidate), Grid.toMicro(candidate.reading.kwh), "measured", null, candidate, now);
    return { ...row, storedAt: now, lakeDeliveredAt: now } as StoredReading;
  });
  try {
    if (rows.length > 0) await deliver(rows);
  } catch (error) {
    console.error(`bulk delivery failed; the batch is stored for the sweeper to deliver: ${(error as Error).message}`);
    const result = await store(candidates, now);
    return { ...result, deliveredFirst: 0 };
  }
  // The insert and the rollups of what it inserted in one transaction, as `store` does (a crash leaves neither or both).
  const { insertedKeys, inserted } =
    rows.length === 0
      ? { insertedKeys: new Set<string>(), inserted: [] as StoredReading[] }
      : await Database.use().transaction(async (tx) => {
          const keys = await insertKeys(rows, tx);
          const written = rows.filter((row) => keys.has(`${row.meterId}@${row.intervalStart.getTime()}`));
          await Rollup.add(tx, written);
          return { insertedKeys: keys, inserted: written };
        });
  const outcomes: Outcome[] = new Array(candidates.length);
  const rest: number[] = [];
  candidates.forEach((candidate, index) => {
    const key = `${candidate.reading.meterId}@${Date.parse(candidate.reading.start)}`;
    if (fresh.has(index) && insertedKeys.has(key)) outcomes[index] = { kind: "stored" };
    else rest.push(index);
  });
  const result = await store(
    rest.map((index) => candidates[index] as Candidate),
    now,
  );
  rest.forEach((index, position) => {
    outcomes[index] = result.outcomes[position] as Outcome;
  });
  await flagFlatZero(inserted);
  return { rows: result.rows, outcomes, deliveredFirst: inserted.length };
}

/**
 * Flags `flat_zero` on a run of Config.flatZeroSlots measured zero slots of one meter ending at a zero
 * just stored, when another meter of the factory used energy in those slots. Costs a statement only for
 * a batch that stores a measured zero.
 */
async function flagFlatZero(rows: readonly StoredReading[]): Promise<void> {
  const zeros = rows.filter((row) => row.quality === "measured" && row.kwh === 0);
  if (zeros.length === 0) return;
  const window = `${flatZeroSlots * (Grid.slotMs / 1000)} seconds`;
  await Database.use().execute(sql`
    with zero as (
      select * from unnest(${sql.param(zeros.map((row) => row.meterId))}::text[], ${sql.param(zeros.map((row) => row.factoryId))}::text[],
        ${sql.param(zeros.map((row) => row.intervalStart.toISOString()))}::timestamptz[]) as z(meter_id, factory_id, start)
    ), flat as (
      select z.meter_id, z.start from zero z
      where (select count(*) from reading r where r.meter_id = z.meter_id and r.quality = 'measured' and r.kwh = 0
               and r.interval_start > z.start - ${window}::interval and r.interval_start <= z.start) = ${flatZeroSlots}
        and exists (select 1 from reading o where o.factory_id = z.factory_id and o.meter_id <> z.meter_id and o.kwh > 0
               and o.interval_start > z.start - ${window}::interval and o.interval_start <= z.start)
    )
    update reading r set flags = array_append(r.flags, 'flat_zero')
    from flat where r.meter_id = flat.meter_id and r.interval_start > flat.start - ${window}::interval and r.interval_start <= flat.start
      and not ('flat_zero' = any(r.flags))`);
}

/**
 * What `store` would do with each reading, without writing (POST /v1/ingest answers with it): a
 * 5-minute reading whose slot is empty is stored; the rest are settled against the stored slots.
 */
export async function check(readings: readonly Reading.Input[]): Promise<Outcome[]> {
  const outcomes: Outcome[] = new Array(readings.length);
  const single = readings.filter((reading) => reading.seconds === Grid.slotMs / 1000);
  const stored = await storedSlots(single);
  // The batch's first readings of empty slots, as `store` inserts them before settling the rest: a
  // second value for the same slot, or a span over it, in the same batch is judged against them.
  const batch = new Map<string, StoredSlot>();
  readings.forEach((reading, index) => {
    const key = `${reading.meterId}@${Date.parse(reading.start)}`;
    if (reading.seconds === Grid.slotMs / 1000 && !stored.has(key) && !batch.has(key)) {
      outcomes[index] = { kind: "stored" };
      batch.set(key, { quality: "measured", kwh: reading.kwh });
    }
  });
  await settleOnMeasured(readings, outcomes, new Map([...stored, ...batch]));
  const placeholder = (start: number) => ({ intervalStart: new Date(start) }) as NewReading;
  for (const [meterId, indexes] of slowByMeter(
    readings.map((reading) => ({ reading })),
    outcomes,
  )) {
    const state = await load(
      Database.use(),
      meterId,
      indexes.map((index) => readings[index] as Reading.Input),
    );
    for (const [key, slot] of batch) {
      const [owner, start] = key.split("@") as [string, string];
      if (owner !== meterId) continue;
      state.slots.set(Number(start), { quality: "measured", micro: Grid.toMicro(slot.kwh), spanStart: null, row: placeholder(Number(start)), dirty: false });
    }
    for (const index of indexes) {
      const reading = readings[index] as Reading.Input;
      outcomes[index] = Grid.apply(
        state,
        { start: Date.parse(reading.start), seconds: reading.seconds, kwh: reading.kwh },
        { make: placeholder, measured: placeholder },
      );
    }
  }
  return outcomes;
}

/** Candidates not settled by the fast insert, grouped by meter in arrival order. */
function slowByMeter(candidates: readonly { reading: Reading.Input }[], outcomes: readonly (Outcome | undefined)[]): Map<string, number[]> {
  const groups = new Map<string, number[]>();
  candidates.forEach(({ reading }, index) => {
    if (outcomes[index]) return;
    const group = groups.get(reading.meterId) ?? [];
    group.push(index);
    groups.set(reading.meterId, group);
  });
  return groups;
}

function settle(state: State, candidate: Candidate): Outcome {
  const { reading } = candidate;
  const count = reading.seconds / (Grid.slotMs / 1000);
  return Grid.apply(
    state,
    { start: Date.parse(reading.start), seconds: reading.seconds, kwh: reading.kwh },
    {
      // A slot of a longer reading shares its averages; kVArh is spread flat like kWh, and no slot knows the span's peak.
      make: (start) => ({
        ...candidate.base,
        intervalStart: new Date(start),
        kwh: 0,
        kvarh: reading.kvarh === undefined ? null : reading.kvarh / count,
        kwMax: null,
      }),
      measured: (start) => ({ ...measuredRow(candidate), intervalStart: new Date(start) }),
    },
  );
}

function measuredRow(candidate: Candidate): NewReading {
  return { ...candidate.base, intervalStart: new Date(candidate.reading.start), kwh: candidate.reading.kwh };
}

/** The row of one slot with its kWh, quality, price and validation flags. */
function finish(row: NewReading, micro: number, quality: "measured" | "estimated", spanStart: number | null, candidate: Candidate, now: Date): NewReading {
  const kwh = Grid.toKwh(micro);
  const priced = candidate.price(row.intervalStart, kwh);
  return {
    ...row,
    intervalSeconds: Grid.slotMs / 1000,
    kwh,
    quality,
    spanStart: spanStart === null ? null : new Date(spanStart),
    flags: Grid.flags({ kwh, quality, pf: row.pf }, { maxKw: candidate.maxKw }),
    touPeriod: priced?.period ?? null,
    tariffId: priced?.tariffId ?? null,
    unitPrice: priced?.unitPrice ?? null,
    cost: priced?.cost ?? null,
    estimated: priced?.estimated ?? false,
    computedAt: priced ? now : null,
  };
}

/** Merged [from, to) ranges (epoch ms) of the readings. */
function rangesOf(readings: readonly Reading.Input[]): [number, number][] {
  const ranges = readings
    .map((reading): [number, number] => [Date.parse(reading.start), Date.parse(reading.start) + reading.seconds * 1000])
    .sort((a, b) => a[0] - b[0]);
  const merged: [number, number][] = [];
  for (const range of ranges) {
    const last = merged[merged.length - 1];
    if (last && range[0] <= last[1]) last[1] = Math.max(last[1], range[1]);
    else merged.push([...range]);
  }
  return merged;
}

/** A meter's spans overlapping the readings, and its slots over the readings and those spans. */
async function load(db: Database.Db | Database.Transaction, meterId: string, readings: readonly Reading.Input[]): Promise<State> {
  const state: State = { slots: new Map(), spans: [] };
  for (const [from, to] of rangesOf(readings)) {
    const spans = await spansOverlapping(db, meterId, from, to);
    let first = from;
    let last = to;
    for (const span of spans) {
      const start = span.spanStart.getTime();
      if (state.spans.some((known) => known.start === start)) continue;
      state.spans.push({ start, seconds: span.seconds, micro: Grid.toMicro(span.kwh), fresh: false });
      first = Math.min(first, start);
      last = Math.max(last, start + span.seconds * 1000);
    }
    const slots = await db
      .select()
      .from(readingTable)
      .where(and(eq(readingTable.meterId, meterId), gt(readingTable.intervalStart, new Date(first - 1)), lt(readingTable.intervalStart, new Date(last))));
    for (const { storedAt: _storedAt, lakeDeliveredAt: _delivered, ...row } of slots)
      state.slots.set(row.intervalStart.getTime(), {
        quality: row.quality,
        micro: Grid.toMicro(row.kwh),
        spanStart: row.spanStart?.getTime() ?? null,
        row,
        dirty: false,
      });
  }
  return state;
}

/** A meter's estimation spans that overlap [from, to) (epoch ms). */
export function spansOverlapping(db: Database.Db | Database.Transaction, meterId: string, from: number, to: number) {
  return db
    .select()
    .from(estimationSpanTable)
    .where(
      and(
        eq(estimationSpanTable.meterId, meterId),
        lt(estimationSpanTable.spanStart, new Date(to)),
        sql`${estimationSpanTable.spanStart} + ${estimationSpanTable.seconds} * interval '1 second' > ${new Date(from).toISOString()}::timestamptz`,
      ),
    );
}

type StoredSlot = { quality: "measured" | "estimated"; kwh: number };

/** Slots already stored among `readings`' keys, by `meterId@epoch ms`. */
export async function storedSlots(readings: readonly Reading.Input[]): Promise<Map<string, StoredSlot>> {
  if (readings.length === 0) return new Map();
  const rows = await Database.use()
    .select({ meterId: readingTable.meterId, intervalStart: readingTable.intervalStart, quality: readingTable.quality, kwh: readingTable.kwh })
    .from(readingTable)
    .where(keyFilter(readings.map((reading) => ({ meterId: reading.meterId, start: new Date(reading.start) }))));
  return new Map(rows.map((row) => [`${row.meterId}@${row.intervalStart.getTime()}`, { quality: row.quality, kwh: row.kwh }]));
}

/**
 * Settles the unsettled 5-minute readings whose slot already holds a measured value: a duplicate within
 * 1 Wh, else a conflict. A measured slot never changes, so this does not depend on the batch's order.
 * Reads the slots unless `stored` is given.
 */
async function settleOnMeasured(readings: readonly Reading.Input[], outcomes: (Outcome | undefined)[], stored?: Map<string, StoredSlot>): Promise<void> {
  const open = readings.flatMap((reading, index) => (outcomes[index] || reading.seconds !== Grid.slotMs / 1000 ? [] : [index]));
  if (open.length === 0) return;
  const slots = stored ?? (await storedSlots(open.map((index) => readings[index] as Reading.Input)));
  const placeholder = () => null;
  for (const index of open) {
    const reading = readings[index] as Reading.Input;
    const start = Date.parse(reading.start);
    const slot = slots.get(`${reading.meterId}@${start}`);
    if (slot?.quality !== "measured") continue;
    const state: Grid.State<null> = {
      slots: new Map([[start, { quality: "measured", micro: Grid.toMicro(slot.kwh), spanStart: null, row: null, dirty: false }]]),
      spans: [],
    };
    outcomes[index] = Grid.apply(state, { start, seconds: reading.seconds, kwh: reading.kwh }, { make: placeholder, measured: placeholder });
  }
}

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

type Column = { name: string; type: string; pick: (row: NewReading) => unknown; select?: (alias: string) => string };

/** The columns every reading row is written with, as unnest arrays. */
const readingColumns: Column[] = [
  { name: "interval_seconds", type: "int", pick: (row) => row.intervalSeconds },
  { name: "factory_id", type: "text", pick: (row) => row.factoryId },
  { name: "device_id", type: "text", pick: (row) => row.deviceId },
  { name: "kwh", type: "float8", pick: (row) => row.kwh },
  { name: "kvarh", type: "float8", pick: (row) => row.kvarh ?? null },
  { name: "kw_avg", type: "float8", pick: (row) => row.kwAvg ?? null },
  { name: "kw_max", type: "float8", pick: (row) => row.kwMax ?? null },
  { name: "pf", type: "float8", pick: (row) => row.pf ?? null },
  { name: "voltage", type: "float8", pick: (row) => row.voltage ?? null },
  { name: '"current"', type: "float8", pick: (row) => row.current ?? null },
  { name: "tou_period", type: "text", pick: (row) => row.touPeriod ?? null },
  { name: "tariff_id", type: "text", pick: (row) => row.tariffId ?? null },
  { name: "unit_price", type: "numeric", pick: (row) => row.unitPrice ?? null },
  { name: "cost", type: "numeric", pick: (row) => row.cost ?? null },
  { name: "estimated", type: "bool", pick: (row) => row.estimated ?? false },
  { name: "gap", type: "bool", pick: (row) => row.gap ?? false },
  { name: "computed_at", type: "timestamptz", pick: (row) => row.computedAt?.toISOString() ?? null },
  { name: "source", type: "text", pick: (row) => row.source },
  { name: "received_at", type: "timestamptz", pick: (row) => row.receivedAt.toISOString() },
];

/** When the row reached the lake and the series, for rows delivered before they are stored. */
const deliveredColumn: Column = { name: "lake_delivered_at", type: "timestamptz", pick: (row) => row.lakeDeliveredAt?.toISOString() ?? null };

/** The grid's own columns: quality, the span an estimate came from, and validation flags (comma-joined, split in SQL). */
const gridColumns: Column[] = [
  { name: "quality", type: "text", pick: (row) => row.quality ?? "measured" },
  { name: "span_start", type: "timestamptz", pick: (row) => row.spanStart?.toISOString() ?? null },
  { name: "flags", type: "text", pick: (row) => (row.flags ?? []).join(","), select: (alias) => `string_to_array(${alias}, ',')` },
];

/**
 * Writes slot rows and returns them as stored. One statement over column arrays (unnest) instead of a
 * VALUES list: 21 parameters (24 with the grid's columns) whatever the batch size. `skip` leaves a stored slot alone (the fast path);
 * `replace` overwrites it and marks it for delivery again (a measured value or a re-spread estimate).
 */
async function insertRows(
  rows: readonly NewReading[],
  onConflict: "skip" | "replace",
  db: Database.Db | Database.Transaction = Database.use(),
): Promise<StoredReading[]> {
  const result = await insertStatement(rows, onConflict, db, sql`returning *`);
  return result.map(fromRow);
}

/** The keys (meter id, slot start) of the rows the insert wrote: for callers that hold the rows already. */
async function insertKeys(rows: readonly NewReading[], db: Database.Db | Database.Transaction = Database.use()): Promise<Set<string>> {
  const result = await insertStatement(rows, "skip", db, sql`returning meter_id, interval_start`);
  return new Set(result.map((row) => `${row.meter_id}@${instantOf(row.interval_start)?.getTime()}`));
}

async function insertStatement(
  rows: readonly NewReading[],
  onConflict: "skip" | "replace",
  db: Database.Db | Database.Transaction,
  returning: SQL,
): Promise<Record<string, unknown>[]> {
  if (rows.length === 0) return [];
  // New measured slots without flags (the common case) leave the grid columns to their defaults: the
  // statement stays what it was before the grid, 21 arrays. A replacement always writes them.
  const lean = onConflict === "skip" && rows.every((row) => (row.quality ?? "measured") === "measured" && !row.spanStart && (row.flags ?? []).length === 0);
  // Rows delivered before they are inserted (storeDeliveredFirst) say so in the same statement.
  const delivered = onConflict === "skip" && rows.some((row) => row.lakeDeliveredAt);
  const columns = [...readingColumns, ...(lean ? [] : gridColumns), ...(delivered ? [deliveredColumn] : [])];
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
    columns.map((column) => sql`${sql.param(rows.map(column.pick))}::${sql.raw(column.type)}[]`),
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
