import { doublePrecision, index, integer, numeric, pgTable, primaryKey, text } from "drizzle-orm/pg-core";
import { instant } from "../database/types";

/**
 * The columns every rollup of the 5-minute grid (`reading`) keeps, per meter, bucket and TOU period:
 * sums that add up across buckets, so a coarser bucket is the sum of finer ones. Kept by the ingest
 * store and the cost recompute in the transaction that writes the readings (rollup/index.ts).
 */
const columns = {
  factoryId: text("factory_id").notNull(),
  meterId: text("meter_id").notNull(),
  /** Start of the bucket (UTC instant): a quarter-hour or hour of UTC, or the factory's local midnight. */
  bucketStart: instant("bucket_start").notNull(),
  /** The readings' `tou_period`; '' for readings without one (not priced yet, or a tariff without periods). */
  touPeriod: text("tou_period").notNull(),
  /** kWh of the bucket's slots, measured and estimated. */
  kwh: doublePrecision("kwh").notNull(),
  /** kWh of its estimated slots (quality = 'estimated'): `kwh − estimatedKwh` is what was measured. */
  estimatedKwh: doublePrecision("estimated_kwh").notNull(),
  /** kVArh summed; null when no slot carried kVArh. */
  kvarh: doublePrecision("kvarh"),
  /** kWh of the slots that carry kVArh: what power factor pairs with `kvarh` (Figures.powerFactor). */
  kwhWithKvarh: doublePrecision("kwh_with_kvarh").notNull(),
  /** Cost of the slots, MXN (the factory's currency), exact: the sum of each reading's stored cost; 0 when none was priced. */
  cost: numeric("cost").notNull(),
  /** Stored 5-minute slots (one per meter and slot). */
  readings: integer("readings").notNull(),
  /** Highest `kw_max` a slot reported, kW; null when none did. */
  kwMax: doublePrecision("kw_max"),
  /** Start of the newest slot in the bucket. */
  lastStart: instant("last_start").notNull(),
};

/**
 * Quarter-hours of UTC (:00, :15, :30, :45): the demand source. A CFE demand window is one of these
 * and its measured kWh × 4 is the window's kW (Figures.demandKw), so demand never reads a coarser table.
 */
export const rollup15mTable = pgTable("rollup_15m", columns, (t) => [
  primaryKey({ columns: [t.factoryId, t.bucketStart, t.meterId, t.touPeriod] }),
  // A refresh recomputes one meter's buckets: without it, a day of one meter reads the whole factory's day.
  index("rollup_15m_meter_idx").on(t.meterId, t.bucketStart),
]);

/** Hours of UTC; a local hour where the factory's offset is a whole number of hours. */
export const rollup1hTable = pgTable("rollup_1h", columns, (t) => [
  primaryKey({ columns: [t.factoryId, t.bucketStart, t.meterId, t.touPeriod] }),
  // A refresh recomputes one meter's buckets: without it, a day of one meter reads the whole factory's day.
  index("rollup_1h_meter_idx").on(t.meterId, t.bucketStart),
]);

/** The factory's local days (its IANA zone): `bucket_start` is the local midnight, a 23- or 25-hour day when the clock changes. */
export const rollup1dTable = pgTable("rollup_1d", columns, (t) => [
  primaryKey({ columns: [t.factoryId, t.bucketStart, t.meterId, t.touPeriod] }),
  // A refresh recomputes one meter's buckets: without it, a day of one meter reads the whole factory's day.
  index("rollup_1d_meter_idx").on(t.meterId, t.bucketStart),
]);

/**
 * The factory's quarter-hours of UTC: `rollup_15m` summed over all its meters per bucket and TOU period, so a
 * month of a 200-meter factory is 2,880 rows (a year 35,040) whatever the number of meters. The console's
 * series and `/usage` read their buckets, period totals and, when the factory has no billing meter, the
 * 15-minute demand from it (Usage.demandSource). No `meter_id` and no `kw_max`: a meter's peak is not the factory's.
 */
export const rollupFactory15mTable = pgTable(
  "rollup_factory_15m",
  {
    factoryId: columns.factoryId,
    bucketStart: columns.bucketStart,
    touPeriod: columns.touPeriod,
    kwh: columns.kwh,
    estimatedKwh: columns.estimatedKwh,
    kvarh: columns.kvarh,
    kwhWithKvarh: columns.kwhWithKvarh,
    cost: columns.cost,
    readings: columns.readings,
    lastStart: columns.lastStart,
  },
  (t) => [primaryKey({ columns: [t.factoryId, t.bucketStart, t.touPeriod] })],
);

/** Every rollup table, finest first. */
export const rollupTables = [rollup15mTable, rollup1hTable, rollup1dTable, rollupFactory15mTable] as const;
