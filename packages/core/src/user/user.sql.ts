import { index, text, uniqueIndex } from "drizzle-orm/pg-core";
import { ownedTable } from "../database/table";
import { instant, reference } from "../database/types";

/** People who sign in to the console; the password is kept only as a scrypt hash. */
export const userTable = ownedTable(
  "app_user",
  {
    /** Lower-cased, so sign-in is case-insensitive. */
    email: text("email").notNull(),
    name: text("name").notNull(),
    /** admin: manage factories, gateways and tariffs; viewer: read only. */
    role: text("role", { enum: ["admin", "viewer"] }).notNull(),
    passwordHash: text("password_hash").notNull(),
    disabledAt: instant("disabled_at"),
  },
  (t) => [uniqueIndex("app_user_email_idx").on(t.email), index("app_user_organization_idx").on(t.organizationId)],
);

/** A signed-in browser: the cookie holds a random secret, the table only its SHA-256. */
export const sessionTable = ownedTable(
  "session",
  {
    userId: reference("user_id", () => userTable.id),
    tokenHash: text("token_hash").notNull(),
    expiresAt: instant("expires_at").notNull(),
    revokedAt: instant("revoked_at"),
  },
  (t) => [uniqueIndex("session_token_hash_idx").on(t.tokenHash), index("session_user_idx").on(t.userId)],
);
