import { index, integer, jsonb, pgTable, text } from "drizzle-orm/pg-core";
import { instant, timestamps } from "../database/types";

/** Records the pipeline could not take, kept whole with the reason, until replayed. */
export const quarantineTable = pgTable(
  "quarantine",
  {
    id: text("id").primaryKey(),
    /** Null when the record names no device we know: only platform operators see those (quarantine/index.ts visibleTo). */
    organizationId: text("organization_id"),
    deviceId: text("device_id"),
    source: text("source", { enum: ["kinesis", "http", "consumer"] }).notNull(),
    reason: text("reason").notNull(),
    errors: jsonb("errors").$type<{ path: string; message: string }[]>().notNull(),
    /** The record's bytes: utf8 text when they decode as such, otherwise base64. */
    payload: text("payload").notNull(),
    payloadEncoding: text("payload_encoding", { enum: ["utf8", "base64"] }).notNull(),
    partitionKey: text("partition_key"),
    shardId: text("shard_id"),
    sequenceNumber: text("sequence_number"),
    replayedAt: instant("replayed_at"),
    replayCount: integer("replay_count").notNull().default(0),
    ...timestamps,
  },
  (t) => [index("quarantine_org_created_idx").on(t.organizationId, t.createdAt)],
);
