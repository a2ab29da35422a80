import { sql } from "drizzle-orm";
import { boolean, doublePrecision, index, integer, numeric, pgTable, primaryKey, text } from "drizzle-orm/pg-core";
import { instant } from "../database/types";

/**
 * One row per meter and 5-minute slot (`interval_seconds` is always 300): the grid every consumer
 * downstream sees. A reading longer than a slot is spread over its slots as `quality = 'estimated'`
 * (see reading/grid.ts and `estimation_span`); a measured 5-minute reading replaces its slot's estimate.
 * Partitioned by month of interval_start (see the migration),
 * so the retention job drops whole months once the lake holds them. Whoever writes slots keeps the
 * rollups (rollup/rollup.sql.ts) in the same transaction: `Rollup.add` for new slots, `Rollup.refresh` for changed ones.
 */
export const readingTable = pgTable(
  "reading",
  {
    meterId: text("meter_id").notNull(),
    intervalStart: instant("interval_start").notNull(),
    intervalSeconds: integer("interval_seconds").notNull(),
    factoryId: text("factory_id").notNull(),
    deviceId: text("device_id").notNull(),
    kwh: doublePrecision("kwh").notNull(),
    kvarh: doublePrecision("kvarh"),
    kwAvg: doublePrecision("kw_avg"),
    kwMax: doublePrecision("kw_max"),
    pf: doublePrecision("pf"),
    voltage: doublePrecision("voltage"),
    current: doublePrecision("current"),
    touPeriod: text("tou_period"),
    tariffId: text("tariff_id"),
    unitPrice: numeric("unit_price", { precision: 14, scale: 6 }),
    cost: numeric("cost", { precision: 18, scale: 6 }),
    /** Priced with estimated (not yet published) prices; nothing to do with the energy's quality (see `quality`). */
    estimated: boolean("estimated").notNull().default(false),
    /** The gateway bridged a gap (outage, full disk) with one longer interval, and this slot came from it. */
    gap: boolean("gap").notNull().default(false),
    /**
     * Data quality of the energy: `measured` (a 5-minute reading of the counters) or `estimated` (a share
     * of a longer reading spread over its slots; replaced when the slot's measured reading arrives).
     */
    quality: text("quality", { enum: ["measured", "estimated"] })
      .notNull()
      .default("measured"),
    /** For an estimated slot: the start of the `estimation_span` it was spread from. */
    spanStart: instant("span_start"),
    /** Validation rules the slot tripped (Grid.flags), e.g. `spike_over_rating`; kept, never dropped. */
    flags: text("flags").array().notNull().default(sql`'{}'::text[]`),
    computedAt: instant("computed_at"),
    /** How the reading arrived: the stream (kinesis), the ingest API (http), or a server-side bulk load (`Ingest.storeBulk`). */
    source: text("source", { enum: ["kinesis", "http", "bulk"] }).notNull(),
    receivedAt: instant("received_at").notNull(),
    storedAt: instant("stored_at").notNull().default(sql`clock_timestamp()`),
    /** Set once the costed copy is in the lake; null rows are forwarded by the next batch or the sweeper. */
    lakeDeliveredAt: instant("lake_delivered_at"),
  },
  (t) => [
    primaryKey({ columns: [t.meterId, t.intervalStart] }),
    index("reading_factory_start_idx").on(t.factoryId, t.intervalStart),
    index("reading_undelivered_idx").on(t.storedAt).where(sql`lake_delivered_at is null`),
  ],
);

/**
 * A reading longer than one slot, as the counters measured it: its estimated slots in `reading` are
 * re-spread from it when measured slots inside it arrive, so the span still sums to `kwh`.
 */
export const estimationSpanTable = pgTable(
  "estimation_span",
  {
    meterId: text("meter_id").notNull(),
    spanStart: instant("span_start").notNull(),
    /** Length of the span, seconds (a multiple of 300). */
    seconds: integer("seconds").notNull(),
    /** kWh the counters measured over the whole span. */
    kwh: doublePrecision("kwh").notNull(),
    deviceId: text("device_id").notNull(),
    receivedAt: instant("received_at").notNull(),
    storedAt: instant("stored_at").notNull().default(sql`clock_timestamp()`),
  },
  (t) => [primaryKey({ columns: [t.meterId, t.spanStart] })],
);
