import { customType, index, integer, jsonb, pgTable, text } from "drizzle-orm/pg-core";
import { id, instant, timestamps } from "../database/types";

/** Raw bytes (Postgres bytea): any byte value, NUL and invalid UTF-8 included, which text refuses. */
const bytes = customType<{ data: Buffer; driverData: Buffer | Uint8Array | string }>({
  dataType: () => "bytea",
  toDriver: (value) => value,
  // node-postgres gives a Buffer; PGlite a Uint8Array; a driver without bytea parsing the \x hex text.
  fromDriver: (value) =>
    typeof value === "string"
      ? Buffer.from(value.startsWith("\\x") ? value.slice(2) : value, "hex")
      : Buffer.from(value.buffer, value.byteOffset, value.byteLength),
});

/** Records the pipeline could not take, kept whole with the reason, until replayed. */
export const quarantineTable = pgTable(
  "quarantine",
  {
    id: id(),
    /** Null when the record names no device or meter we know: only a platform operator sees those. */
    organizationId: text("organization_id"),
    deviceId: text("device_id"),
    meterId: text("meter_id"),
    source: text("source", { enum: ["kinesis", "http", "consumer"] }).notNull(),
    /** Safe text (no NUL or control characters, capped): see util/text.ts. */
    reason: text("reason").notNull(),
    /** The reason as a code and its parameters (Quarantine.Code), for the console to word; null on records kept before codes. */
    code: text("code"),
    params: jsonb("params").$type<Record<string, string | number>>(),
    errors: jsonb("errors").$type<{ path: string; message: string }[]>().notNull(),
    /** The record's bytes exactly as the stream delivered them. */
    data: bytes("data").notNull(),
    partitionKey: text("partition_key"),
    shardId: text("shard_id"),
    sequenceNumber: text("sequence_number"),
    replayedAt: instant("replayed_at"),
    replayCount: integer("replay_count").notNull().default(0),
    ...timestamps,
  },
  (t) => [index("quarantine_org_created_idx").on(t.organizationId, t.createdAt), index("quarantine_created_idx").on(t.createdAt)],
);
