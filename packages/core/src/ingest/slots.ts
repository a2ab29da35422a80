/**
 * Storing readings on the 5-minute grid (Grid, reading/grid.ts): a 5-minute reading into an empty slot
 * is one set-based insert per batch; everything else (a longer reading, a slot already stored, a repeat
 * in the batch) is settled per meter in a transaction that loads the meter's slots and spans over the
 * readings' range, applies the readings in order and writes the slots that changed. Every write
 * recomputes the rollup buckets of the slots it wrote in its own transaction (rollup/index.ts).
 * This file settles readings on the grid; the rows' SQL (`slot-rows.ts`) and the reads of what is stored
 * (`slot-lookup.ts`) live beside it, all members of `Slots`.
 */
import { sql } from "drizzle-orm";
import { flatZeroSlots } from "../config";
import type { Cost } from "../cost";
import { Database } from "../database";
import type { Reading } from "../reading";
import { Grid } from "../reading/grid";
import { estimationSpanTable } from "../reading/reading.sql";
import { Rollup } from "../rollup";
import { load, type State, type StoredSlot, storedSlots } from "./slot-lookup";
import { insertKeys, insertRows, type NewReading, type StoredReading } from "./slot-rows";

export { spansOverlapping, storedSlots } from "./slot-lookup";
export { keyFilter, type NewReading, type StoredReading } from "./slot-rows";
export * as Slots from "./slots";

/** The electrical figures a reading may carry besides kWh, as its slots store them: null where the meter sent none. */
export type Figures = Record<"kvarh" | "kwAvg" | "kwMax" | "pf" | "voltage" | "current", number | null>;

/** A reading's optional figures as its rows store them, for `Candidate.base` (the one place they become null). */
export function figuresOf(reading: Reading.Input): Figures {
  return {
    kvarh: reading.kvarh ?? null,
    kwAvg: reading.kwAvg ?? null,
    kwMax: reading.kwMax ?? null,
    pf: reading.pf ?? null,
    voltage: reading.voltage ?? null,
    current: reading.current ?? null,
  };
}

/** A validated, owned reading ready to store: the columns its slots share and how to price one slot. */
export type Candidate = {
  reading: Reading.Input;
  /** Columns of every slot it makes; kWh, price and quality are set per slot. Its figures are already null or a number. */
  base: Omit<NewReading, "intervalStart" | "kwh" | keyof Figures> & Figures;
  /** The meter's rating in kW, for the `spike_over_rating` flag. */
  maxKw: number | null;
  /** Prices `kwh` in the slot starting at `start`; undefined when no tariff is in force (priced later). */
  price(start: Date, kwh: number): Cost.Priced | undefined;
};

/** What became of each candidate, by index; a conflict names the slots or span it contradicts. */
export type Outcome = Grid.Outcome;

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
 * `rollups: "deferred"` leaves the rollups of the rows inserted this way to the caller, who must rebuild them
 * (Rollup.rebuild over the range) before the range is read; the rest keep theirs as `store` does.
 */
export async function storeDeliveredFirst(
  candidates: readonly Candidate[],
  now: Date,
  deliver: (rows: StoredReading[]) => Promise<void>,
  rollups: "now" | "deferred" = "now",
): Promise<{ rows: StoredReading[]; outcomes: Outcome[]; deliveredFirst: number }> {
  // Each start parsed once, and each slot's key made once: a bulk batch has thousands.
  const starts = candidates.map((candidate) => Date.parse(candidate.reading.start));
  const keys = candidates.map((candidate, index) => `${candidate.reading.meterId}@${starts[index]}`);
  const firstOfKey = new Set<string>();
  const fast: number[] = [];
  candidates.forEach((candidate, index) => {
    const key = keys[index] as string;
    if (candidate.reading.seconds !== Grid.slotMs / 1000 || firstOfKey.has(key)) return;
    firstOfKey.add(key);
    fast.push(index);
  });
  const stored = await storedSlots(fast.map((index) => (candidates[index] as Candidate).reading));
  const fresh = new Set(fast.filter((index) => !stored.has(keys[index] as string)));
  const freshIndexes = [...fresh];
  const rows = freshIndexes.map((index) => {
    const candidate = candidates[index] as Candidate;
    // The row is a new object: completing it in place spares a copy of every row of a large batch.
    return deliveredRow(candidate, starts[index] as number, now);
  });
  try {
    if (rows.length > 0) await deliver(rows);
  } catch (error) {
    console.error(`bulk delivery failed; the batch is stored for the sweeper to deliver: ${(error as Error).message}`);
    const result = await store(candidates, now);
    return { ...result, deliveredFirst: 0 };
  }
  // The insert and the rollups of what it inserted in one transaction, as `store` does (a crash leaves neither or both);
  // with `deferred` the caller rebuilds the rollups of the whole range it loads once (Rollup.rebuild with a range).
  const { insertedKeys, inserted } =
    rows.length === 0
      ? { insertedKeys: new Set<string>(), inserted: [] as StoredReading[] }
      : await Database.use().transaction(async (tx) => {
          const copied = await insertKeys(rows, tx);
          const written = rows.filter((_, position) => copied.has(keys[freshIndexes[position] as number] as string));
          if (rollups === "now") await Rollup.add(tx, written);
          return { insertedKeys: copied, inserted: written };
        });
  const outcomes: Outcome[] = new Array(candidates.length);
  const rest: number[] = [];
  candidates.forEach((_, index) => {
    if (fresh.has(index) && insertedKeys.has(keys[index] as string)) outcomes[index] = { kind: "stored" };
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

/**
 * A 5-minute measured reading's slot row as `finish(measuredRow(candidate), …)` makes it, stored and delivered at
 * `now`, written out column by column: the bulk path makes ~700,000 and two spreads of ~20 columns cost more than
 * the rest of the row. Every column is named, so the row type catches one left out.
 */
function deliveredRow(candidate: Candidate, startMs: number, now: Date): StoredReading {
  const { base, reading } = candidate;
  const kwh = Grid.toKwh(Grid.toMicro(reading.kwh));
  const intervalStart = new Date(startMs);
  const priced = candidate.price(intervalStart, kwh);
  return {
    meterId: base.meterId,
    intervalStart,
    intervalSeconds: Grid.slotMs / 1000,
    factoryId: base.factoryId,
    deviceId: base.deviceId,
    kwh,
    kvarh: base.kvarh,
    kwAvg: base.kwAvg,
    kwMax: base.kwMax,
    pf: base.pf,
    voltage: base.voltage,
    current: base.current,
    touPeriod: priced?.period ?? null,
    tariffId: priced?.tariffId ?? null,
    unitPrice: priced?.unitPrice ?? null,
    cost: priced?.cost ?? null,
    estimated: priced?.estimated ?? false,
    gap: base.gap ?? false,
    quality: "measured",
    spanStart: null,
    flags: Grid.flags({ kwh, quality: "measured", pf: base.pf }, { maxKw: candidate.maxKw }),
    computedAt: priced ? now : null,
    source: base.source,
    receivedAt: base.receivedAt,
    storedAt: now,
    lakeDeliveredAt: now,
  };
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
