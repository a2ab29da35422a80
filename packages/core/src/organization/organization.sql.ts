import { pgTable, text } from "drizzle-orm/pg-core";
import { timestamps } from "../database/types";

export const organizationTable = pgTable("organization", {
  id: text("id").primaryKey(),
  name: text("name").notNull(),
  ...timestamps,
});
