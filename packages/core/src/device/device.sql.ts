import { index, jsonb, pgTable, text, uniqueIndex } from "drizzle-orm/pg-core";
import { ownedTable } from "../database/table";
import { id, instant, reference, timestamps } from "../database/types";
import { factoryTable } from "../factory/factory.sql";

/** A factory gateway. Its bearer token is stored only as a SHA-256 hash. */
export const deviceTable = ownedTable(
  "device",
  {
    factoryId: reference("factory_id", () => factoryTable.id),
    name: text("name").notNull(),
    tokenHash: text("token_hash").notNull(),
    /** Ed25519 public key (SPKI, base64) that signs records on the Kinesis route. */
    publicKey: text("public_key"),
    lastSeenAt: instant("last_seen_at"),
    /** The gateway's last heartbeat figures (backlog, oldest unsent, last success per route, rejected, clock offset). */
    heartbeat: jsonb("heartbeat").$type<Record<string, unknown>>(),
    heartbeatAt: instant("heartbeat_at"),
    revokedAt: instant("revoked_at"),
  },
  (t) => [uniqueIndex("device_token_hash_idx").on(t.tokenHash), index("device_factory_idx").on(t.factoryId)],
);

/**
 * The API's key for signing the records it puts on the stream for devices (route "http"), so a
 * Kinesis writer cannot pass its records off as the API's. WATTFLOW_RECORD_KEY overrides it (production secret).
 */
export const recordKeyTable = pgTable("record_key", {
  id: id(),
  secret: text("secret").notNull(),
  ...timestamps,
});
