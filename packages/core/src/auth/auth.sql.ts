import { boolean, pgTable, text, uniqueIndex } from "drizzle-orm/pg-core";
import { id, instant, reference, timestamps } from "../database/types";
import { organizationTable } from "../organization/organization.sql";

/** Tokens for people and integrations reading an organization's data; stored hashed. */
export const apiTokenTable = pgTable(
  "api_token",
  {
    id: id(),
    organizationId: reference("organization_id", () => organizationTable.id),
    name: text("name").notNull(),
    tokenHash: text("token_hash").notNull(),
    /** viewer: reads; operator: also imports, starts runs, sees the organization's quarantine; admin: also changes setup and alert rules, replays quarantine. */
    role: text("role", { enum: ["admin", "viewer", "operator"] }).notNull(),
    /** A token of whoever runs the platform: its operators and admins also see quarantined records no organization claims. */
    platform: boolean("platform").notNull().default(false),
    revokedAt: instant("revoked_at"),
    ...timestamps,
  },
  (t) => [uniqueIndex("api_token_hash_idx").on(t.tokenHash)],
);
