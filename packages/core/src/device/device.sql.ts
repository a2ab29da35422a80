import { index, pgTable, text, uniqueIndex } from "drizzle-orm/pg-core";
import { instant, timestamps } from "../database/types";
import { factoryTable } from "../factory/factory.sql";
import { organizationTable } from "../organization/organization.sql";

/** A factory gateway. Its bearer token is stored only as a SHA-256 hash. */
export const deviceTable = pgTable(
  "device",
  {
    id: text("id").primaryKey(),
    organizationId: text("organization_id")
      .notNull()
      .references(() => organizationTable.id),
    factoryId: text("factory_id")
      .notNull()
      .references(() => factoryTable.id),
    name: text("name").notNull(),
    tokenHash: text("token_hash").notNull(),
    /** Ed25519 public key (SPKI, base64) that signs records on the Kinesis route. */
    publicKey: text("public_key"),
    lastSeenAt: instant("last_seen_at"),
    revokedAt: instant("revoked_at"),
    ...timestamps,
  },
  (t) => [uniqueIndex("device_token_hash_idx").on(t.tokenHash), index("device_factory_idx").on(t.factoryId)],
);
