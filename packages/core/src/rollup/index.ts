/**
 * Rollups of the 5-minute grid: per meter and TOU period, UTC quarter-hours (`rollup_15m`, the demand
 * source), UTC hours (`rollup_1h`) and the factory's local days (`rollup_1d`); and per factory and TOU
 * period, UTC quarter-hours summed over its meters (`rollup_factory_15m`), so a month or a year of a
 * 200-meter factory is read from thousands of rows instead of millions.
 *
 * Whoever writes `reading` keeps them in the same transaction. A write that changes stored slots (an
 * estimate replaced by a measured value, a re-spread span, a repriced slot) calls `refresh`: the touched
 * quarter-hours are summed again from `reading`, their hours and local days from `rollup_15m`, never
 * patched by differences; the factory's touched quarter-hours from `rollup_15m`. Slots that filled empty places (the ingest store's common case) are added
 * with `add`, which needs no read-back: a sum plus new terms is the sum of all of them. A re-delivered
 * reading writes nothing. Every path leaves the rollups equal to summing `reading` afresh (tested).
 * `rebuild` recomputes everything (the backfill run by `Database.migrate` when rollups are empty).
 */
import { type SQL, sql } from "drizzle-orm";
import type { Db as Handle, Transaction } from "../database/types";
import { Figures } from "../kpi/figures";
import { Time } from "../time";
import { processState } from "../util/global";

export * as Rollup from "./index";

/** A rollup table's grain; `readings` is the 5-minute grid itself. */
export type Source = "readings" | "15m" | "1h" | "1d";
/** The bucket widths the read paths answer. */
export type Bucket = "5m" | "15m" | "1h" | "1d";

export const tableOf = { "15m": "rollup_15m", "1h": "rollup_1h", "1d": "rollup_1d" } as const;

/** Which slots a write touched: one entry per slot (meter id, slot start). */
export type Touched = readonly { meterId: string; intervalStart: Date }[];

type Db = Handle | Transaction;

/**
 * Slots in rollup columns' terms (`r` is the reading alias), and the same sums over finer rollup rows aliased `q` (every
 * column adds up or takes the max across buckets); the factory rollup's leave out the kW max (it has no meter).
 */
const slotSums = (kwMax: boolean) =>
  sql.raw(`
  sum(r.kwh)::float8,
  coalesce(sum(r.kwh) filter (where r.quality = 'estimated'), 0)::float8,
  sum(r.kvarh)::float8,
  coalesce(sum(${Figures.sql.kwhWithKvarh("r.kwh", "r.kvarh")}), 0)::float8,
  coalesce(sum(r.cost), 0),
  count(*)::int,${kwMax ? "\n  max(r.kw_max)," : ""}
  max(r.interval_start)`);
const rollupSums = (kwMax: boolean) =>
  sql.raw(`
  sum(q.kwh)::float8, sum(q.estimated_kwh)::float8, sum(q.kvarh)::float8, sum(q.kwh_with_kvarh)::float8,
  sum(q.cost), sum(q.readings)::int,${kwMax ? " max(q.kw_max)," : ""} max(q.last_start)`);
const fromReadings = slotSums(true);
const fromRollup = rollupSums(true);

const columns = sql.raw("factory_id, meter_id, bucket_start, tou_period, kwh, estimated_kwh, kvarh, kwh_with_kvarh, cost, readings, kw_max, last_start");

/** The factory rollup's columns (`rollup_factory_15m`: no meter, no kW max) and its sums over `rollup_15m` rows (`q`) and slots (`r`). */
const factoryColumns = sql.raw("factory_id, bucket_start, tou_period, kwh, estimated_kwh, kvarh, kwh_with_kvarh, cost, readings, last_start");
const factoryFromRollup = rollupSums(false);
const factoryFromReadings = slotSums(false);

/** The quarter-hour `r.interval_start` falls in (CFE's demand windows: :00, :15, :30, :45 of UTC). */
const quarterOf = (column: string) => sql.raw(`date_bin('15 minutes', ${column}, timestamptz '2000-01-01')`);

/**
 * Recomputes the rollup buckets that hold `touched` slots, in `db` (pass the transaction that wrote the
 * slots): each touched quarter-hour from `reading`, then each touched hour and local day from
 * `rollup_15m`. A bucket left without readings is removed. Four statements per level at most; nothing
 * when `touched` is empty. Throws what the database throws.
 * @example await Rollup.refresh(tx, rows.map((row) => ({ meterId: row.meterId, intervalStart: row.intervalStart })))
 */
export async function refresh(db: Db, touched: Touched): Promise<void> {
  if (touched.length === 0) return;
  const meterIds = touched.map((slot) => slot.meterId);
  const starts = touched.map((slot) => slot.intervalStart.toISOString());
  let firstMs = Number.POSITIVE_INFINITY;
  let lastMs = Number.NEGATIVE_INFINITY;
  for (const slot of touched) {
    firstMs = Math.min(firstMs, slot.intervalStart.getTime());
    lastMs = Math.max(lastMs, slot.intervalStart.getTime());
  }
  const first = new Date(firstMs);
  const last = new Date(lastMs);
  const keys = sql`select distinct m.factory_id, k.meter_id, k.slot, f.time_zone
    from unnest(${sql.param(meterIds)}::text[], ${sql.param(starts)}::timestamptz[]) as k(meter_id, slot)
    join meter m on m.id = k.meter_id join factory f on f.id = m.factory_id`;
  // Quarter-hours from the slots (the range bounds let Postgres prune the monthly partitions).
  await rebuildLevel(
    db,
    "15m",
    sql`select distinct factory_id, meter_id, date_bin('15 minutes', slot, timestamptz '2000-01-01') as b,
      date_bin('15 minutes', slot, timestamptz '2000-01-01') + interval '15 minutes' as e from (${keys}) s`,
    sql`reading r on r.meter_id = t.meter_id and r.factory_id = t.factory_id and r.interval_start >= t.b and r.interval_start < t.e
      and r.interval_start > ${first.toISOString()}::timestamptz - interval '15 minutes' and r.interval_start < ${last.toISOString()}::timestamptz + interval '15 minutes'`,
  );
  await rebuildLevel(
    db,
    "1h",
    sql`select distinct factory_id, meter_id, date_bin('1 hour', slot, timestamptz '2000-01-01') as b,
      date_bin('1 hour', slot, timestamptz '2000-01-01') + interval '1 hour' as e from (${keys}) s`,
    sql`rollup_15m q on q.factory_id = t.factory_id and q.meter_id = t.meter_id and q.bucket_start >= t.b and q.bucket_start < t.e`,
  );
  await rebuildLevel(
    db,
    "1d",
    sql`select distinct factory_id, meter_id, date_trunc('day', slot at time zone time_zone) at time zone time_zone as b,
      (date_trunc('day', slot at time zone time_zone) + interval '1 day') at time zone time_zone as e from (${keys}) s`,
    sql`rollup_15m q on q.factory_id = t.factory_id and q.meter_id = t.meter_id and q.bucket_start >= t.b and q.bucket_start < t.e`,
  );
  // The factory's touched quarter-hours, from every meter's quarter-hour just recomputed.
  const quarters = sql`select distinct factory_id, ${quarterOf("slot")} as b from (${keys}) s`;
  await db.execute(sql`
    delete from rollup_factory_15m x using (${quarters}) t where x.factory_id = t.factory_id and x.bucket_start = t.b`);
  await db.execute(sql`
    insert into rollup_factory_15m (${factoryColumns})
    select t.factory_id, t.b, q.tou_period, ${factoryFromRollup}
    from (${quarters}) t join rollup_15m q on q.factory_id = t.factory_id and q.bucket_start = t.b
    group by t.factory_id, t.b, q.tou_period`);
}

/** Deletes the level's touched buckets `t(factory_id, meter_id, b, e)` and inserts them again from `source` joined to `t`. */
async function rebuildLevel(db: Db, level: keyof typeof tableOf, buckets: SQL, source: SQL): Promise<void> {
  const table = sql.raw(tableOf[level]);
  const sums = level === "15m" ? fromReadings : fromRollup;
  const period = sql.raw(level === "15m" ? "coalesce(r.tou_period, '')" : "q.tou_period");
  await db.execute(sql`
    delete from ${table} x using (${buckets}) t
    where x.factory_id = t.factory_id and x.bucket_start = t.b and x.meter_id = t.meter_id`);
  await db.execute(sql`
    insert into ${table} (${columns})
    select t.factory_id, t.meter_id, t.b, ${period}, ${sums}
    from (${buckets}) t join ${source}
    group by t.factory_id, t.meter_id, t.b, ${period}`);
}

/** Slots just stored in empty places of the grid (nothing replaced), as the ingest store returns them. */
export type Added = readonly {
  meterId: string;
  factoryId: string;
  intervalStart: Date;
  touPeriod: string | null;
  kwh: number;
  quality: "measured" | "estimated";
  kvarh: number | null;
  cost: string | null;
  kwMax: number | null;
}[];

/**
 * Adds slots that filled empty places of the grid to their buckets, in `db` (the transaction that
 * inserted them): the buckets' sums plus the new slots' sums are the sums of all their slots, so this
 * equals `refresh` without reading `reading` back (one statement of 3 upserts for the meters, one for the factory,
 * instead of 8 statements over the readings).
 * Only for slots that replaced nothing: a replaced or repriced slot goes through `refresh`.
 */
export async function add(db: Db, slots: Added): Promise<void> {
  if (slots.length === 0) return;
  const column = <T>(pick: (slot: Added[number]) => T) => sql.param(slots.map(pick));
  const fresh = sql`select * from unnest(${column((slot) => slot.meterId)}::text[], ${column((slot) => slot.factoryId)}::text[],
      ${column((slot) => slot.intervalStart.toISOString())}::timestamptz[], ${column((slot) => slot.touPeriod)}::text[], ${column((slot) => slot.kwh)}::float8[],
      ${column((slot) => slot.quality)}::text[], ${column((slot) => slot.kvarh)}::float8[], ${column((slot) => slot.cost)}::numeric[], ${column((slot) => slot.kwMax)}::float8[])
      as r(meter_id, factory_id, interval_start, tou_period, kwh, quality, kvarh, cost, kw_max)`;
  // One statement: the slots are read once into quarter-hours (q), and the hours and local days are summed
  // from q (a sum of sums, as `refresh` sums them from rollup_15m), so a large batch converts each quarter-hour,
  // not each slot, to local time.
  const upsert = sql.raw(`on conflict (factory_id, bucket_start, meter_id, tou_period) do update set
        kwh = x.kwh + excluded.kwh, estimated_kwh = x.estimated_kwh + excluded.estimated_kwh,
        kvarh = case when x.kvarh is null and excluded.kvarh is null then null else coalesce(x.kvarh, 0) + coalesce(excluded.kvarh, 0) end,
        kwh_with_kvarh = x.kwh_with_kvarh + excluded.kwh_with_kvarh, cost = x.cost + excluded.cost, readings = x.readings + excluded.readings,
        kw_max = greatest(x.kw_max, excluded.kw_max), last_start = greatest(x.last_start, excluded.last_start)`);
  await db.execute(sql`
    with q (${columns}) as (
      select r.factory_id, r.meter_id, date_bin('15 minutes', r.interval_start, timestamptz '2000-01-01'), coalesce(r.tou_period, ''), ${fromReadings}
      from (${fresh}) r group by 1, 2, 3, 4
    ), quarters as (
      insert into rollup_15m as x (${columns}) select * from q ${upsert}
    ), hours as (
      insert into rollup_1h as x (${columns})
      select q.factory_id, q.meter_id, date_bin('1 hour', q.bucket_start, timestamptz '2000-01-01'), q.tou_period, ${fromRollup}
      from q group by 1, 2, 3, 4 ${upsert}
    )
    insert into rollup_1d as x (${columns})
    select q.factory_id, q.meter_id, date_trunc('day', q.bucket_start at time zone f.time_zone) at time zone f.time_zone, q.tou_period, ${fromRollup}
    from q join factory f on f.id = q.factory_id group by 1, 2, 3, 4 ${upsert}`);
  await db.execute(sql`
    insert into rollup_factory_15m as x (${factoryColumns})
    select r.factory_id, ${quarterOf("r.interval_start")}, coalesce(r.tou_period, ''), ${factoryFromReadings}
    from (${fresh}) r
    group by 1, 2, 3
    on conflict (factory_id, bucket_start, tou_period) do update set
      kwh = x.kwh + excluded.kwh, estimated_kwh = x.estimated_kwh + excluded.estimated_kwh,
      kvarh = case when x.kvarh is null and excluded.kvarh is null then null else coalesce(x.kvarh, 0) + coalesce(excluded.kvarh, 0) end,
      kwh_with_kvarh = x.kwh_with_kvarh + excluded.kwh_with_kvarh, cost = x.cost + excluded.cost, readings = x.readings + excluded.readings,
      last_start = greatest(x.last_start, excluded.last_start)`);
}

/** Where `rebuild` works: a factory, and within it the buckets overlapping [from, to) if given. */
export type Scope = { factoryId?: string; range?: { from: Date; to: Date } };

/**
 * Recomputes every rollup from `reading` (of one factory, or all; of the buckets overlapping a range, or all):
 * the backfill for readings stored before rollups existed, a path that does not call `refresh`, or a bulk load
 * that stored a range without rollups (Ingest.storeBulk with `rollups: "deferred"`), in one pass instead of one
 * per batch. A range is widened to whole buckets of each level (quarter-hours and hours in UTC, days in the
 * factory's zone), so a touched bucket is summed from all its slots. Returns the quarter-hour rows written.
 * @throws Error when a range is given without a factory (a zone is needed for its days).
 */
export async function rebuild(db: Db, options: Scope = {}): Promise<{ rows: number }> {
  const { factoryId, range } = options;
  if (range && !factoryId) throw new Error("Rollup.rebuild: a range needs a factory (its days are the factory's local days)");
  const zone = sql`(select time_zone from factory where id = ${factoryId ?? null})`;
  const bounds: Record<"15m" | "1h" | "1d", [SQL, SQL]> | undefined = range && {
    "15m": [
      sql`date_bin('15 minutes', ${range.from.toISOString()}::timestamptz, timestamptz '2000-01-01')`,
      sql`date_bin('15 minutes', ${range.to.toISOString()}::timestamptz - interval '1 microsecond', timestamptz '2000-01-01') + interval '15 minutes'`,
    ],
    "1h": [
      sql`date_bin('1 hour', ${range.from.toISOString()}::timestamptz, timestamptz '2000-01-01')`,
      sql`date_bin('1 hour', ${range.to.toISOString()}::timestamptz - interval '1 microsecond', timestamptz '2000-01-01') + interval '1 hour'`,
    ],
    "1d": [
      sql`date_trunc('day', ${range.from.toISOString()}::timestamptz at time zone ${zone}) at time zone ${zone}`,
      sql`(date_trunc('day', (${range.to.toISOString()}::timestamptz - interval '1 microsecond') at time zone ${zone}) + interval '1 day') at time zone ${zone}`,
    ],
  };
  /** The scope's rows of `alias`, whose `column` falls in the buckets of `level`. */
  const only = (alias: string, level: "15m" | "1h" | "1d", column = "bucket_start") => {
    const factory = factoryId ? sql` and ${sql.raw(alias)}.factory_id = ${factoryId}` : sql``;
    if (!bounds) return factory;
    const [lo, hi] = bounds[level];
    const at = sql.raw(`${alias}.${column}`);
    return sql`${factory} and ${at} >= ${lo} and ${at} < ${hi}`;
  };
  const levels = { rollup_15m: "15m", rollup_1h: "1h", rollup_1d: "1d", rollup_factory_15m: "15m" } as const;
  for (const [table, level] of Object.entries(levels)) await db.execute(sql`delete from ${sql.raw(table)} x where true ${only("x", level)}`);
  await db.execute(sql`
    insert into rollup_15m (${columns})
    select r.factory_id, r.meter_id, date_bin('15 minutes', r.interval_start, timestamptz '2000-01-01'), coalesce(r.tou_period, ''), ${fromReadings}
    from reading r where true ${only("r", "15m", "interval_start")}
    group by 1, 2, 3, 4`);
  await db.execute(sql`
    insert into rollup_1h (${columns})
    select q.factory_id, q.meter_id, date_bin('1 hour', q.bucket_start, timestamptz '2000-01-01'), q.tou_period, ${fromRollup}
    from rollup_15m q where true ${only("q", "1h")}
    group by 1, 2, 3, 4`);
  await db.execute(sql`
    insert into rollup_1d (${columns})
    select q.factory_id, q.meter_id, date_trunc('day', q.bucket_start at time zone f.time_zone) at time zone f.time_zone, q.tou_period, ${fromRollup}
    from rollup_15m q join factory f on f.id = q.factory_id where true ${only("q", "1d")}
    group by 1, 2, 3, 4`);
  await db.execute(sql`
    insert into rollup_factory_15m (${factoryColumns})
    select q.factory_id, q.bucket_start, q.tou_period, ${factoryFromRollup}
    from rollup_15m q where true ${only("q", "15m")}
    group by 1, 2, 3`);
  const counted = (await db.execute(sql`select count(*)::int as n from rollup_15m x where true ${only("x", "15m")}`)) as unknown as { rows: { n: number }[] };
  return { rows: counted.rows[0]?.n ?? 0 };
}

/**
 * Rebuilds the rollups once when readings exist and a rollup table is empty (the first start after the
 * per-meter tables, or the factory table, were added).
 */
export async function backfillIfEmpty(db: Db): Promise<boolean> {
  const rows = (
    (await db.execute(
      sql`select exists (select 1 from reading) as readings, exists (select 1 from rollup_15m) and exists (select 1 from rollup_factory_15m) as rollups`,
    )) as unknown as {
      rows: { readings: boolean; rollups: boolean }[];
    }
  ).rows;
  const state = rows[0];
  if (!state?.readings || state.rollups) return false;
  await db.transaction(async (tx) => {
    await rebuild(tx);
  });
  return true;
}

const state = processState("wattflow.rollup", () => ({ forceReadings: false, forcePerMeter: false }));

/**
 * Makes every read path sum `reading` instead of the rollups (today's path before rollups), for the
 * benchmark's yardstick and to rule rollups out when a figure looks wrong; also `WATTFLOW_ROLLUPS=off`.
 */
export function forceReadings(on: boolean): void {
  state.forceReadings = on;
}

/**
 * Makes the factory reads (Usage) sum the per-meter rollups instead of the factory's quarter-hours
 * (`rollup_factory_15m`): the path before the factory rollup, for the benchmark and to rule that table out.
 */
export function forcePerMeter(on: boolean): void {
  state.forcePerMeter = on;
}

/** Whether factory reads sum the per-meter rollups (`forcePerMeter`) rather than the factory's quarter-hours. */
export function perMeterForced(): boolean {
  return state.forcePerMeter;
}

const quarterMs = 15 * 60_000;
const hourMs = 3_600_000;
/** True when `timeZone`'s offset is a whole number of hours all over [from, to) (checked every 6 hours: no zone keeps an offset for less). */
function wholeHourOffsets(from: number, to: number, timeZone: string): boolean {
  for (let ms = from; ms < to + 6 * hourMs; ms += 6 * hourMs) if (Time.offsetAt(Math.min(ms, to), timeZone) % hourMs !== 0) return false;
  return true;
}

/**
 * True when `ms` is the first instant of a local day in `timeZone` (`Time.startOfDay`: midnight, or where the clocks
 * skip it, as Postgres cuts days with `date_trunc('day', local) at time zone`, which reads a skipped midnight with the
 * offset before the jump).
 */
function localMidnight(ms: number, timeZone: string): boolean {
  return Time.startOfDay(ms, timeZone) === ms;
}

/**
 * The coarsest source that answers buckets of `bucket` over [from, to) in `timeZone` exactly: a table
 * whose buckets nest in the asked ones (15 minutes in any bucket; hours in local hours and days where the
 * zone's offset is whole hours; local days in days) and whose bucket edges fall on `from` and `to`, so no
 * bucket holds readings outside the range. 5-minute buckets, unaligned ranges and `forceReadings` read `reading`.
 * Rule: CFE demand windows are UTC-aligned quarter-hours; every zone's offset is a multiple of 15 minutes.
 * @example choose({ bucket: "1d", from: "2026-03-01T06:00:00Z", to: "2026-04-01T06:00:00Z", timeZone: "America/Mexico_City" }) → "1d"
 */
export function choose(input: { bucket: Bucket; from: string; to: string; timeZone: string }): Source {
  if (state.forceReadings || process.env.WATTFLOW_ROLLUPS === "off" || input.bucket === "5m") return "readings";
  const from = Date.parse(input.from);
  const to = Date.parse(input.to);
  if (input.bucket === "1d" && localMidnight(from, input.timeZone) && localMidnight(to, input.timeZone)) return "1d";
  if (input.bucket !== "15m" && from % hourMs === 0 && to % hourMs === 0 && wholeHourOffsets(from, to, input.timeZone)) return "1h";
  if (from % quarterMs === 0 && to % quarterMs === 0) return "15m";
  return "readings";
}
