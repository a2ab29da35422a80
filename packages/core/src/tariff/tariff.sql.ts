import { index, jsonb, pgTable, text } from "drizzle-orm/pg-core";
import { instant, timestamps } from "../database/types";
import { factoryTable } from "../factory/factory.sql";

/** Tariff versions of a factory: the one in force at an interval's start prices it. */
export const tariffTable = pgTable(
  "tariff",
  {
    id: text("id").primaryKey(),
    factoryId: text("factory_id")
      .notNull()
      .references(() => factoryTable.id),
    effectiveFrom: instant("effective_from").notNull(),
    definition: jsonb("definition").notNull(),
    ...timestamps,
  },
  (t) => [index("tariff_factory_effective_idx").on(t.factoryId, t.effectiveFrom)],
);
