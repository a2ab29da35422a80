import { numeric, pgTable, primaryKey, text } from "drizzle-orm/pg-core";
import { timestamps, updatedAt } from "../database/types";

/** A CFE monthly price table of one tariff division, as published (decimal strings, MXN). */
export const priceTableTable = pgTable(
  "price_table",
  {
    tariff: text("tariff", { enum: ["cfe-gdmth", "cfe-gdmto"] }).notNull(),
    division: text("division").notNull(),
    /** YYYY-MM. */
    month: text("month").notNull(),
    fixed: numeric("fixed").notNull(),
    distribution: numeric("distribution").notNull(),
    capacity: numeric("capacity").notNull(),
    /** GDMTH: base, intermedia, punta; GDMTO: energy alone. */
    energyBase: numeric("energy_base"),
    energyIntermedia: numeric("energy_intermedia"),
    energyPunta: numeric("energy_punta"),
    energy: numeric("energy"),
    importRunId: text("import_run_id").notNull(),
    updatedAt: updatedAt(),
    ...timestamps,
  },
  (t) => [primaryKey({ columns: [t.tariff, t.division, t.month] })],
);
