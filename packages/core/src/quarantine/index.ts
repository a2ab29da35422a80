/**
 * Records the pipeline could not take. Each is kept whole (its bytes), with the reason and the
 * problems by path, until someone fixes the cause and replays it through the stream.
 */
import { and, desc, eq, inArray, isNull, or } from "drizzle-orm";
import type { Actor } from "../auth";
import { Database } from "../database";
import { Stream, StreamUnavailableError } from "../stream";
import type { Problem } from "../util/error";
import { createId } from "../util/id";
import { quarantineTable } from "./quarantine.sql";

export * as Quarantine from "./index";

export type Entry = {
  source: "kinesis" | "http" | "consumer";
  reason: string;
  errors: Problem[];
  data: Uint8Array;
  organizationId?: string | null;
  deviceId?: string | null;
  partitionKey?: string | null;
  shardId?: string | null;
  sequenceNumber?: string | null;
};

export type Item = {
  id: string;
  createdAt: string;
  source: string;
  reason: string;
  errors: Problem[];
  deviceId: string | null;
  partitionKey: string | null;
  sequenceNumber: string | null;
  payload: string;
  payloadEncoding: "utf8" | "base64";
  replayedAt: string | null;
  replayCount: number;
};

function encodePayload(data: Uint8Array): { payload: string; payloadEncoding: "utf8" | "base64" } {
  try {
    return { payload: new TextDecoder("utf-8", { fatal: true }).decode(data), payloadEncoding: "utf8" };
  } catch (error) {
    if (!(error instanceof TypeError)) throw error;
    return { payload: Buffer.from(data).toString("base64"), payloadEncoding: "base64" };
  }
}

function decodePayload(item: { payload: string; payloadEncoding: "utf8" | "base64" }): Uint8Array {
  return item.payloadEncoding === "utf8" ? new TextEncoder().encode(item.payload) : Buffer.from(item.payload, "base64");
}

export async function add(entries: Entry[]): Promise<void> {
  if (entries.length === 0) return;
  await Database.use()
    .insert(quarantineTable)
    .values(
      entries.map((entry) => ({
        id: createId("quarantine"),
        organizationId: entry.organizationId ?? null,
        deviceId: entry.deviceId ?? null,
        source: entry.source,
        reason: entry.reason,
        errors: entry.errors,
        ...encodePayload(entry.data),
        partitionKey: entry.partitionKey ?? null,
        shardId: entry.shardId ?? null,
        sequenceNumber: entry.sequenceNumber ?? null,
      })),
    );
}

/**
 * What the actor may see: its organization's records; records no organization claims (an unknown
 * device or meter) only a platform actor (Auth.Actor.platform), never another organization's operator.
 */
function visibleTo(actor: Actor) {
  return actor.platform
    ? or(eq(quarantineTable.organizationId, actor.organizationId), isNull(quarantineTable.organizationId))
    : eq(quarantineTable.organizationId, actor.organizationId);
}

export async function list(actor: Actor, options: { includeReplayed?: boolean; limit?: number } = {}): Promise<Item[]> {
  const rows = await Database.use()
    .select()
    .from(quarantineTable)
    .where(and(visibleTo(actor), options.includeReplayed ? undefined : isNull(quarantineTable.replayedAt)))
    .orderBy(desc(quarantineTable.createdAt))
    .limit(options.limit ?? 1000);
  return rows.map((row) => ({
    id: row.id,
    createdAt: row.createdAt.toISOString(),
    source: row.source,
    reason: row.reason,
    errors: row.errors,
    deviceId: row.deviceId,
    partitionKey: row.partitionKey,
    sequenceNumber: row.sequenceNumber,
    payload: row.payload,
    payloadEncoding: row.payloadEncoding,
    replayedAt: row.replayedAt?.toISOString() ?? null,
    replayCount: row.replayCount,
  }));
}

/**
 * Puts quarantined records back on the stream, unchanged, so they go through the whole pipeline
 * again; those that still fail come back with a fresh reason. `ids` empty means all not yet replayed.
 */
export async function replay(actor: Actor, ids: string[]): Promise<{ replayed: string[]; notFound: string[] }> {
  const db = Database.use();
  const rows = await db
    .select()
    .from(quarantineTable)
    .where(and(visibleTo(actor), ids.length > 0 ? inArray(quarantineTable.id, ids) : isNull(quarantineTable.replayedAt)));
  const notFound = ids.filter((id) => !rows.some((row) => row.id === id));
  if (rows.length === 0) return { replayed: [], notFound };
  const stream = await Stream.use();
  const replayed: string[] = [];
  for (let start = 0; start < rows.length; start += 500) {
    const chunk = rows.slice(start, start + 500);
    const results = await stream.put(chunk.map((row) => ({ partitionKey: row.partitionKey ?? row.deviceId ?? row.id, data: decodePayload(row) })));
    const done = chunk.filter((_, index) => results[index]?.ok).map((row) => row.id);
    if (done.length > 0) {
      const now = new Date();
      for (const row of chunk.filter((candidate) => done.includes(candidate.id))) {
        await db
          .update(quarantineTable)
          .set({ replayedAt: now, replayCount: row.replayCount + 1 })
          .where(eq(quarantineTable.id, row.id));
      }
    }
    replayed.push(...done);
    if (done.length < chunk.length) throw new StreamUnavailableError(`the stream took ${replayed.length} of ${rows.length} records; replay the rest later`);
  }
  return { replayed, notFound };
}
