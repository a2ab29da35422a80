import { date, index, numeric, pgTable, primaryKey, text } from "drizzle-orm/pg-core";
import { reference, timestamps, updatedAt } from "../database/types";
import { factoryTable } from "../factory/factory.sql";

/** Units a production line made on a local day (and shift, "" for the whole day): the denominator of energy-per-unit KPIs. */
export const productionTable = pgTable(
  "production",
  {
    factoryId: reference("factory_id", () => factoryTable.id),
    date: date("date", { mode: "string" }).notNull(),
    line: text("line").notNull(),
    shift: text("shift").notNull().default(""),
    units: numeric("units").notNull(),
    /** The import run that last changed this row. */
    importRunId: text("import_run_id").notNull(),
    updatedAt: updatedAt(),
    ...timestamps,
  },
  (t) => [primaryKey({ columns: [t.factoryId, t.date, t.line, t.shift] }), index("production_factory_date_idx").on(t.factoryId, t.date)],
);
