import { sql } from "drizzle-orm";
import { timestamp } from "drizzle-orm/pg-core";

/** Instants are always timestamptz, read as Date (UTC). */
export const instant = (name: string) => timestamp(name, { withTimezone: true, mode: "date" });

export const timestamps = {
  createdAt: instant("created_at").notNull().default(sql`now()`),
};
