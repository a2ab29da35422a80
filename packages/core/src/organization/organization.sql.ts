import { boolean, pgTable, text } from "drizzle-orm/pg-core";
import { id, timestamps } from "../database/types";

export const organizationTable = pgTable("organization", {
  id: id(),
  name: text("name").notNull(),
  /** A demonstration organization (the local stack's): its data are generated and its prices stand-ins, and the console says so. */
  demo: boolean("demo").notNull().default(false),
  ...timestamps,
});
