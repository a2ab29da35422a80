import { sql } from "drizzle-orm";
import { type PgDatabase, type PgQueryResultHKT, timestamp } from "drizzle-orm/pg-core";

/** Instants are always timestamptz, read as Date (UTC). */
export const instant = (name: string) => timestamp(name, { withTimezone: true, mode: "date" });

export const timestamps = {
  createdAt: instant("created_at").notNull().default(sql`now()`),
};

/** A Drizzle handle on Postgres (PGlite or node-postgres): what `Database.use()` returns. */
export type Db = PgDatabase<PgQueryResultHKT>;
/** The handle inside `db.transaction(async (tx) => …)`. */
export type Transaction = Parameters<Parameters<Db["transaction"]>[0]>[0];
