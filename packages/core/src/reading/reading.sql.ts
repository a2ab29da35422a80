import { sql } from "drizzle-orm";
import { boolean, doublePrecision, index, integer, numeric, pgTable, primaryKey, text } from "drizzle-orm/pg-core";
import { instant } from "../database/types";

/**
 * One row per meter and interval. Partitioned by month of interval_start (see the migration),
 * so the retention job drops whole months once the lake holds them.
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
    estimated: boolean("estimated").notNull().default(false),
    /** The gateway bridged a gap (outage, full disk) with one longer interval. */
    gap: boolean("gap").notNull().default(false),
    computedAt: instant("computed_at"),
    source: text("source", { enum: ["kinesis", "http"] }).notNull(),
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
