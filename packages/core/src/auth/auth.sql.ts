import { boolean, text, uniqueIndex } from "drizzle-orm/pg-core";
import { ownedTable } from "../database/table";
import { instant } from "../database/types";

/** Tokens for people and integrations reading an organization's data; stored hashed. */
export const apiTokenTable = ownedTable(
  "api_token",
  {
    name: text("name").notNull(),
    tokenHash: text("token_hash").notNull(),
    /** viewer: reads; operator: also imports, starts runs, sees the organization's quarantine; admin: also changes setup and alert rules, replays quarantine. */
    role: text("role", { enum: ["admin", "viewer", "operator"] }).notNull(),
    /** A token of whoever runs the platform: its operators and admins also see quarantined records no organization claims. */
    platform: boolean("platform").notNull().default(false),
    revokedAt: instant("revoked_at"),
  },
  (t) => [uniqueIndex("api_token_hash_idx").on(t.tokenHash)],
);
