/**
 * Records the pipeline could not take. Each is kept whole (its bytes), with the reason and the
 * problems by path, until someone fixes the cause and replays it through the stream.
 */
import { and, count, desc, eq, getTableColumns, gte, inArray, isNull, or, sql } from "drizzle-orm";
import { z } from "zod";
import { RawArchive } from "../archive";
import type { Actor } from "../auth";
import { quarantineListPayloadBytes, quarantineTextLimits } from "../config";
import { Database } from "../database";
import { Stream, StreamUnavailableError } from "../stream";
import type { Problem } from "../util/error";
import { createId } from "../util/id";
import { parseJsonOr } from "../util/json";
import { safeText } from "../util/text";
import { quarantineTable } from "./quarantine.sql";

export * as Quarantine from "./index";

/**
 * Why a record was held back, as a stable code the console words in its language (the English `reason` stays for API
 * clients): `record.not_json` (the bytes are not UTF-8 JSON), `record.invalid` (the envelope or the reading fails its
 * schema; the problems say where), `meter.unknown` (no organization registered the meter), `meter.not_on_device` (the
 * meter is another gateway's), `record.signature_invalid` (the writing gateway's signature does not check out),
 * `reading.conflict` (it contradicts the measured slots stored for the meter), `consumer.gave_up` (the stream consumer
 * ran out of retries on it).
 */
export const codes = [
  "record.not_json",
  "record.invalid",
  "meter.unknown",
  "meter.not_on_device",
  "record.signature_invalid",
  "reading.conflict",
  "consumer.gave_up",
] as const;
export type Code = (typeof codes)[number];

/**
 * What a code's wording needs, by name: `meterId` and `deviceId` as the record names them, `start` the reading's first
 * instant (ISO 8601, UTC).
 * @example { code: "meter.not_on_device", params: { meterId: "mtr_…", deviceId: "dev_…" } }
 */
export const Params = z.record(z.string(), z.union([z.string(), z.number()]));
export type Params = z.infer<typeof Params>;

export type Entry = {
  source: "kinesis" | "http" | "consumer";
  reason: string;
  /** The reason as a code and what its wording needs; absent only where a caller has none (a test's entry). */
  code?: Code | null;
  params?: Params | null;
  errors: Problem[];
  /** The record's bytes, kept exactly: any byte value, empty, invalid UTF-8, up to the stream's 1 MiB. */
  data: Uint8Array;
  organizationId?: string | null;
  deviceId?: string | null;
  meterId?: string | null;
  partitionKey?: string | null;
  shardId?: string | null;
  sequenceNumber?: string | null;
};

export const Item = z.object({
  id: z.string(),
  createdAt: z.string(),
  source: z.string(),
  /** The reason in English, as it was stored. */
  reason: z.string(),
  /** The reason as a code (`codes`) and its parameters, for a client to word in its language; null on records kept before codes. */
  code: z.enum(codes).nullable(),
  params: Params.nullable(),
  errors: z.array(z.object({ path: z.string(), message: z.string() })),
  deviceId: z.string().nullable(),
  meterId: z.string().nullable(),
  partitionKey: z.string().nullable(),
  sequenceNumber: z.string().nullable(),
  /** The first `quarantineListPayloadBytes` bytes, as UTF-8 text when they are valid UTF-8 without NUL, else base64. */
  payload: z.string(),
  payloadEncoding: z.enum(["utf8", "base64"]),
  /** The record's whole size in bytes; `payloadTruncated` when `payload` shows only its beginning. */
  payloadBytes: z.number().int(),
  payloadTruncated: z.boolean(),
  replayedAt: z.string().nullable(),
  replayCount: z.number().int(),
});
export type Item = z.infer<typeof Item>;
true satisfies Item["errors"][number] extends Problem ? true : false;

/** What a replay did: the ids put back on the stream, and the ids no record of the caller's has. */
export const Replayed = z.object({ replayed: z.array(z.string()), notFound: z.array(z.string()) });
export type Replayed = z.infer<typeof Replayed>;

function encodePayload(data: Uint8Array): { payload: string; payloadEncoding: "utf8" | "base64" } {
  try {
    const text = new TextDecoder("utf-8", { fatal: true }).decode(data);
    if (!text.includes("\0")) return { payload: text, payloadEncoding: "utf8" };
  } catch (error) {
    if (!(error instanceof TypeError)) throw error;
  }
  return { payload: Buffer.from(data).toString("base64"), payloadEncoding: "base64" };
}

/** An entry's texts made safe to store (util/text.ts); its bytes untouched. */
function safeEntry(entry: Entry): Entry {
  const errors = entry.errors.slice(0, quarantineTextLimits.errors).map((problem) => ({
    path: safeText(problem.path, quarantineTextLimits.pathChars),
    message: safeText(problem.message, quarantineTextLimits.messageChars),
  }));
  if (entry.errors.length > errors.length) errors.push({ path: "", message: `${entry.errors.length - errors.length} more problem(s) not kept` });
  const optional = (value: string | null | undefined) => (value === null || value === undefined ? null : safeText(value, quarantineTextLimits.pathChars));
  return {
    ...entry,
    reason: safeText(entry.reason, quarantineTextLimits.reasonChars),
    params:
      entry.params &&
      Object.fromEntries(
        Object.entries(entry.params).map(([name, value]) => [name, typeof value === "string" ? safeText(value, quarantineTextLimits.pathChars) : value]),
      ),
    errors,
    deviceId: optional(entry.deviceId),
    meterId: optional(entry.meterId),
    partitionKey: optional(entry.partitionKey),
    shardId: optional(entry.shardId),
    sequenceNumber: optional(entry.sequenceNumber),
  };
}

/**
 * Inserts entries into the quarantine table. Bytes go in as bytea; reason, problems and ids as safe
 * text (NUL and control characters escaped, capped: config quarantineTextLimits), so no record's
 * content can make the insert fail. Throws only when the database does (down, full).
 */
export async function add(entries: Entry[]): Promise<void> {
  if (entries.length === 0) return;
  await Database.use()
    .insert(quarantineTable)
    .values(
      entries.map(safeEntry).map((entry) => ({
        id: createId("quarantine"),
        organizationId: entry.organizationId ?? null,
        deviceId: entry.deviceId ?? null,
        meterId: entry.meterId ?? null,
        source: entry.source,
        reason: entry.reason,
        code: entry.code ?? null,
        params: entry.params ?? null,
        errors: entry.errors,
        data: Buffer.from(entry.data),
        partitionKey: entry.partitionKey ?? null,
        shardId: entry.shardId ?? null,
        sequenceNumber: entry.sequenceNumber ?? null,
      })),
    );
}

/** One raw archive object: the entries quarantine could not take, bytes as base64. */
const ArchivedObject = z.object({
  version: z.literal(1),
  archivedAt: z.string(),
  cause: z.string(),
  entries: z.array(
    z.object({
      source: z.enum(["kinesis", "http", "consumer"]),
      reason: z.string(),
      // Objects archived before codes have none.
      code: z.enum(codes).nullish(),
      params: Params.nullish(),
      errors: z.array(z.object({ path: z.string(), message: z.string() })),
      data: z.string(),
      organizationId: z.string().nullish(),
      deviceId: z.string().nullish(),
      meterId: z.string().nullish(),
      partitionKey: z.string().nullish(),
      shardId: z.string().nullish(),
      sequenceNumber: z.string().nullish(),
    }),
  ),
});

/**
 * Keeps entries whatever happens: in quarantine, or, when the quarantine insert fails, whole in the
 * raw archive (RawArchive: a file written atomically locally, an S3 object on AWS), so a stream
 * consumer can always move on. Returns where they went. Throws only when both fail (database and
 * disk or bucket), an infrastructure fault the caller retries.
 */
export async function keep(entries: Entry[], now = new Date()): Promise<"quarantine" | "archive" | "none"> {
  if (entries.length === 0) return "none";
  try {
    await add(entries);
    return "quarantine";
  } catch (error) {
    // The driver's own message ("relation … does not exist"), not the query error's, which quotes every parameter: the payloads.
    const cause = error instanceof Error && error.cause instanceof Error ? error.cause : (error as Error);
    const store = await RawArchive.use();
    const body: z.input<typeof ArchivedObject> = {
      version: 1,
      archivedAt: now.toISOString(),
      cause: safeText(cause.message, quarantineTextLimits.reasonChars),
      entries: entries.map((entry) => ({ ...entry, data: Buffer.from(entry.data).toString("base64") })),
    };
    await store.put(RawArchive.objectName(now), Buffer.from(JSON.stringify(body)));
    console.error(`quarantine refused ${entries.length} record(s) (${body.cause}); kept in the raw archive at ${store.describe().location}`);
    return "archive";
  }
}

/**
 * Moves what the raw archive holds into quarantine, oldest first, once the database takes it; an
 * object is removed only after its entries are inserted. An object that is not an archive object is
 * left in place and counted (it needs a person). Returns the counts.
 */
export async function restoreArchived(limit = 100): Promise<{ restored: number; unreadable: number }> {
  const store = await RawArchive.use();
  let restored = 0;
  let unreadable = 0;
  for (const name of await store.list(limit)) {
    // An object that is not JSON fails the schema: counted as unreadable and left for a person.
    const parsed = ArchivedObject.safeParse(parseJsonOr((await store.get(name)).toString("utf8"), undefined));
    if (!parsed.success) {
      unreadable++;
      continue;
    }
    await add(parsed.data.entries.map((entry) => ({ ...entry, data: Buffer.from(entry.data, "base64") })));
    await store.remove(name);
    restored += parsed.data.entries.length;
  }
  return { restored, unreadable };
}

/** Records quarantined since `since`: health's growth figure. */
export async function countSince(since: Date): Promise<number> {
  const [row] = await Database.use().select({ n: count() }).from(quarantineTable).where(gte(quarantineTable.createdAt, since));
  return row?.n ?? 0;
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

/** A stored code as the answer's enum: one this version does not know (written by a newer one) answers null, so the reason text shows. */
function codeOf(stored: string | null): Code | null {
  return codes.find((code) => code === stored) ?? null;
}

/**
 * The actor's quarantined records, newest first (at most `limit`, 1,000 by default), each with the
 * beginning of its payload (`quarantineListPayloadBytes`) and its whole size; the whole bytes stay in
 * the table for replay.
 */
export async function list(actor: Actor, options: { includeReplayed?: boolean; limit?: number } = {}): Promise<Item[]> {
  const { data: _data, ...columns } = getTableColumns(quarantineTable);
  const rows = await Database.use()
    .select({
      ...columns,
      // Only the beginning leaves the database: a page of 1 MiB records would not fit any answer.
      preview: sql<Buffer>`substring(${quarantineTable.data} from 1 for ${quarantineListPayloadBytes})`.mapWith(quarantineTable.data),
      bytes: sql<number>`octet_length(${quarantineTable.data})`.mapWith(Number),
    })
    .from(quarantineTable)
    .where(and(visibleTo(actor), options.includeReplayed ? undefined : isNull(quarantineTable.replayedAt)))
    .orderBy(desc(quarantineTable.createdAt))
    .limit(options.limit ?? 1000);
  return rows.map((row) => ({
    id: row.id,
    createdAt: row.createdAt.toISOString(),
    source: row.source,
    reason: row.reason,
    code: codeOf(row.code),
    params: row.params,
    errors: row.errors,
    deviceId: row.deviceId,
    meterId: row.meterId,
    partitionKey: row.partitionKey,
    sequenceNumber: row.sequenceNumber,
    ...encodePayload(row.preview),
    payloadBytes: row.bytes,
    payloadTruncated: row.bytes > quarantineListPayloadBytes,
    replayedAt: row.replayedAt?.toISOString() ?? null,
    replayCount: row.replayCount,
  }));
}

/**
 * Puts quarantined records back on the stream, unchanged, so they go through the whole pipeline
 * again; those that still fail come back with a fresh reason. `ids` empty means all not yet replayed.
 */
export async function replay(actor: Actor, ids: string[]): Promise<Replayed> {
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
    const results = await stream.put(chunk.map((row) => ({ partitionKey: row.partitionKey ?? row.deviceId ?? row.id, data: row.data })));
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
