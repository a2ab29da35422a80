import { sql } from "drizzle-orm";
import { type AnyPgColumn, type PgDatabase, type PgQueryResultHKT, type ReferenceConfig, text, timestamp } from "drizzle-orm/pg-core";

/** Instants are always timestamptz, read as Date (UTC). */
export const instant = (name: string) => timestamp(name, { withTimezone: true, mode: "date" });

/** When the row was inserted (`created_at timestamptz not null default now()`): spread into a table's columns. */
export const timestamps = {
  createdAt: instant("created_at").notNull().default(sql`now()`),
};

/** A table's own id: a prefixed ULID (`fac_…`, `mtr_…`) as the text primary key. */
export const id = () => text("id").primaryKey();

/**
 * A required reference to another table's id (`text not null references …`), e.g.
 * `factoryId: reference("factory_id", () => factoryTable.id)` or, to delete with the parent,
 * `reference("rule_id", () => alertRuleTable.id, { onDelete: "cascade" })`. The target is a thunk so tables may
 * refer to tables declared after them, as Drizzle's `references()` takes it.
 */
export const reference = (name: string, target: () => AnyPgColumn, actions?: ReferenceConfig["actions"]) => text(name).notNull().references(target, actions);

/** When an imported or recomputed row last changed (`updated_at timestamptz not null`); the writer sets it. */
export const updatedAt = () => instant("updated_at").notNull();

/** A Drizzle handle on Postgres (PGlite or node-postgres): what `Database.use()` returns. */
export type Db = PgDatabase<PgQueryResultHKT>;
/** The handle inside `db.transaction(async (tx) => …)`. */
export type Transaction = Parameters<Parameters<Db["transaction"]>[0]>[0];
