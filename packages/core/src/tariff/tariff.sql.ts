import { index, jsonb, pgTable } from "drizzle-orm/pg-core";
import { id, instant, reference, timestamps } from "../database/types";
import { factoryTable } from "../factory/factory.sql";

/** Tariff versions of a factory: the one in force at an interval's start prices it. */
export const tariffTable = pgTable(
  "tariff",
  {
    id: id(),
    factoryId: reference("factory_id", () => factoryTable.id),
    effectiveFrom: instant("effective_from").notNull(),
    definition: jsonb("definition").notNull(),
    ...timestamps,
  },
  (t) => [index("tariff_factory_effective_idx").on(t.factoryId, t.effectiveFrom)],
);
