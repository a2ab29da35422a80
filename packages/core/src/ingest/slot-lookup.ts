/** What the grid holds already: a meter's slots and estimation spans over some readings, and stored slots by key. */
import { and, eq, gt, gte, inArray, lt, lte, sql } from "drizzle-orm";
import { Database } from "../database";
import type { Reading } from "../reading";
import { Grid } from "../reading/grid";
import { estimationSpanTable, readingTable } from "../reading/reading.sql";
import { keyFilter, type NewReading } from "./slot-rows";

/** A meter's slots and spans as the grid settles readings against them. */
export type State = Grid.State<NewReading>;

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
export async function load(db: Database.Db | Database.Transaction, meterId: string, readings: readonly Reading.Input[]): Promise<State> {
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

export type StoredSlot = { quality: "measured" | "estimated"; kwh: number };

/**
 * Slots already stored among `readings`' keys, by `meterId@epoch ms`. Keys that fill most of their meters'
 * slots between the first and the last (a bulk batch: every meter, every slot of two days) are read as that
 * range, which Postgres scans by the key's index without matching thousands of key pairs; sparse keys (a
 * stream batch) are read by the pairs.
 */
export async function storedSlots(readings: readonly Reading.Input[]): Promise<Map<string, StoredSlot>> {
  if (readings.length === 0) return new Map();
  const keys = new Set(readings.map((reading) => `${reading.meterId}@${Date.parse(reading.start)}`));
  const meterIds = [...new Set(readings.map((reading) => reading.meterId))];
  let first = Number.POSITIVE_INFINITY;
  let last = Number.NEGATIVE_INFINITY;
  for (const reading of readings) {
    const start = Date.parse(reading.start);
    first = Math.min(first, start);
    last = Math.max(last, start);
  }
  const dense = keys.size * 2 >= meterIds.length * ((last - first) / Grid.slotMs + 1);
  const columns = { meterId: readingTable.meterId, intervalStart: readingTable.intervalStart, quality: readingTable.quality, kwh: readingTable.kwh };
  const rows = await Database.use()
    .select(columns)
    .from(readingTable)
    .where(
      dense
        ? and(inArray(readingTable.meterId, meterIds), gte(readingTable.intervalStart, new Date(first)), lte(readingTable.intervalStart, new Date(last)))
        : keyFilter(readings.map((reading) => ({ meterId: reading.meterId, start: new Date(reading.start) }))),
    );
  const found = new Map<string, StoredSlot>();
  for (const row of rows) {
    const key = `${row.meterId}@${row.intervalStart.getTime()}`;
    if (keys.has(key)) found.set(key, { quality: row.quality, kwh: row.kwh });
  }
  return found;
}
