/**
 * What the cloud knows about a gateway beyond its token: the public key that signs its Kinesis
 * records, its heartbeat figures, and the API's own record-signing key (see signature.ts).
 */
import { createHash, randomBytes } from "node:crypto";
import { and, eq, inArray } from "drizzle-orm";
import { z } from "zod";
import { lookupCacheMs } from "../config";
import { Database } from "../database";
import { Meter } from "../meter";
import { fn } from "../util/fn";
import { deviceTable, recordKeyTable } from "./device.sql";
import { Signature } from "./signature";

export * as Gateway from "./gateway";

/** An Ed25519 public key, SPKI DER in base64 (44 bytes). */
export const EnrollKey = z.object({
  deviceId: z.string(),
  publicKey: z
    .string({ error: "publicKey is required (Ed25519 SPKI DER, base64)" })
    .regex(/^[A-Za-z0-9+/]+={0,2}$/, "publicKey must be base64")
    .refine((value) => Buffer.from(value, "base64").length === 44, "publicKey must be an Ed25519 SPKI key (44 bytes)"),
});

/** The key as stored: `PUT /v1/devices/self/key` answers it. */
export const EnrolledKey = z.object({ deviceId: z.string(), publicKey: z.string() });
export type EnrolledKey = z.infer<typeof EnrolledKey>;

/** Stores the device's public key; records it signs from now on verify against it. */
export const enrollKey = fn(EnrollKey, async (input): Promise<EnrolledKey> => {
  await Database.use().update(deviceTable).set({ publicKey: input.publicKey }).where(eq(deviceTable.id, input.deviceId));
  keyCache.delete(input.deviceId);
  return input;
});

/** The figures a gateway reports (the same as `wattflow edge status`). */
export const Heartbeat = z.object({
  deviceId: z.string(),
  backlog: z.number().int().min(0),
  oldestUnsentSeconds: z.number().min(0).nullable(),
  lastSuccess: z.object({ kinesis: z.string().datetime().nullable(), http: z.string().datetime().nullable() }),
  rejected: z.number().int().min(0),
  clockOffsetMs: z.number().nullable(),
  diskBytes: z.number().int().min(0).optional(),
  diskCapBytes: z.number().int().min(0).optional(),
  version: z.string().max(64).optional(),
  /** The gateway's latest meter events (counter glitches held and released, resets, swaps, read failures), newest first. */
  meterEvents: z
    .array(z.object({ meterId: z.string().max(64), at: z.string().datetime(), kind: z.string().max(32), detail: z.string().max(500) }))
    .max(20)
    .optional(),
  /** Counter meters whose reads the gateway holds as suspect right now (no readings until they resolve). */
  heldMeters: z.array(z.string().max(64)).max(1000).optional(),
  /**
   * Each Modbus bus since the agent started: requests sent and answered, timeouts, CRC errors, exceptions, port
   * errors, retries, answers dropped for not matching their request and stray frames dropped (absent from gateways
   * before they counted them), and how long its last cycle took (ms, from the boundary to its last answer).
   */
  buses: z
    .array(
      z.object({
        bus: z.string().max(128),
        link: z.string().max(256),
        requests: z.number().int().min(0),
        answered: z.number().int().min(0),
        timeouts: z.number().int().min(0),
        crcErrors: z.number().int().min(0),
        exceptions: z.number().int().min(0),
        portErrors: z.number().int().min(0),
        retries: z.number().int().min(0),
        badFrames: z.number().int().min(0).optional(),
        strayFrames: z.number().int().min(0).optional(),
        lastCycleMs: z.number().min(0).nullable().optional(),
        lastError: z.string().max(500).optional(),
      }),
    )
    .max(64)
    .optional(),
  /** Each counter meter: when it last answered a whole read, and how many reads in a row have failed since. */
  meters: z
    .array(z.object({ meterId: z.string().max(64), lastGoodRead: z.string().datetime().nullable(), consecutiveFailures: z.number().int().min(0) }))
    .max(1000)
    .optional(),
  /**
   * The configuration from the cloud the gateway runs (`version`, when applied) and the last one it refused, with
   * each validation problem by path; `source` says whether it runs the cloud's meters or only its own file.
   */
  config: z
    .object({
      source: z.enum(["file", "cloud"]),
      version: z.string().max(128).nullable(),
      appliedAt: z.string().datetime().nullable(),
      checkedAt: z.string().datetime().nullable(),
      lastError: z.string().max(500).nullable().optional(),
      refused: z
        .object({
          version: z.string().max(128),
          at: z.string().datetime(),
          problems: z.array(z.object({ path: z.string().max(200), message: z.string().max(500) })).max(50),
        })
        .nullable(),
    })
    .optional(),
  /** Whether the gateway trusts its wall clock (it stamps no reading while untrusted), what confirmed it, the cloud's offset, since when untrusted. */
  clock: z
    .object({
      state: z.enum(["trusted", "untrusted"]),
      source: z.enum(["ntp", "cloud", "continuity"]).nullable(),
      offsetSeconds: z.number().nullable(),
      untrustedSince: z.string().datetime().nullable(),
      reason: z.string().max(500).optional(),
    })
    .optional(),
  /** Whether the outbox's filesystem takes writes; while full the gateway holds readings in memory (bounded) and keeps its counters. */
  disk: z
    .object({
      state: z.enum(["ok", "full"]),
      freeBytes: z.number().int().min(0).nullable(),
      since: z.string().datetime().nullable(),
      pendingReadings: z.number().int().min(0).optional(),
      error: z.string().max(500).nullable().optional(),
    })
    .optional(),
});
export type Heartbeat = Omit<z.infer<typeof Heartbeat>, "deviceId">;

/** The heartbeat's answer: received, with the server's clock (ISO, ms) the gateway trusts time by. */
export const Received = z.object({ ok: z.literal(true), serverTime: z.string() });
export type Received = z.infer<typeof Received>;

/**
 * Stores a gateway's heartbeat figures (clock and disk state included). Answers the API's time
 * (`serverTime`, ms resolution): a gateway whose clock is not trusted yet compares it with its own.
 */
export const heartbeat = fn(Heartbeat, async ({ deviceId, ...figures }): Promise<Received> => {
  const now = new Date();
  await Database.use().update(deviceTable).set({ heartbeat: figures, heartbeatAt: now, lastSeenAt: now }).where(eq(deviceTable.id, deviceId));
  return { ok: true, serverTime: new Date().toISOString() };
});

/** What `GET /v1/devices/self/config` answers: the gateway's meters as the cloud has them, and the version of that list. */
export const Config = z.object({ deviceId: z.string(), version: z.string(), meters: z.array(Meter.GatewayMeter) });
export type Config = z.infer<typeof Config>;

/**
 * The gateway's configuration as configured in the cloud: the meters of its factory assigned to it, each with how it
 * is read (Meter.Connection). `version` is the SHA-256 (first 128 bits, hex) of the canonical JSON of the meter list,
 * so it changes exactly when something the gateway is given changes; the route sends it as the ETag.
 */
export async function config(device: { id: string; factoryId: string }): Promise<Config> {
  const meters = await Meter.forGateway(device);
  const canonical = JSON.stringify(meters.map((meter) => Object.fromEntries(Object.entries(meter).sort(([a], [b]) => (a < b ? -1 : 1)))));
  const version = createHash("sha256").update(canonical).digest("hex").slice(0, 32);
  return { deviceId: device.id, version, meters };
}

/** A gateway as people see it (`GET /v1/devices`): whether it has a key, is revoked, and its last heartbeat as stored. */
export const Info = z.object({
  id: z.string(),
  factoryId: z.string(),
  name: z.string(),
  keyEnrolled: z.boolean(),
  revoked: z.boolean(),
  lastSeenAt: z.string().nullable(),
  heartbeatAt: z.string().nullable(),
  heartbeat: Heartbeat.omit({ deviceId: true }).nullable(),
});
export type Info = z.infer<typeof Info>;

/** The organization's gateways and their health. */
export async function list(organizationId: string): Promise<Info[]> {
  const rows = await Database.use().select().from(deviceTable).where(eq(deviceTable.organizationId, organizationId));
  return rows.map((row) => ({
    id: row.id,
    factoryId: row.factoryId,
    name: row.name,
    keyEnrolled: row.publicKey !== null,
    revoked: row.revokedAt !== null,
    lastSeenAt: row.lastSeenAt?.toISOString() ?? null,
    heartbeatAt: row.heartbeatAt?.toISOString() ?? null,
    heartbeat: (row.heartbeat as Heartbeat | null) ?? null,
  }));
}

const keyCache = new Map<string, { key: string | null; until: number }>();

/** Enrolled public keys by device id (null when none); cached briefly like meter owners, `fresh` skips the cache. */
export async function publicKeys(ids: readonly string[], options: { fresh?: boolean } = {}, now = Date.now()): Promise<Map<string, string | null>> {
  const found = new Map<string, string | null>();
  const missing: string[] = [];
  for (const id of new Set(ids)) {
    const hit = options.fresh ? undefined : keyCache.get(id);
    if (hit && hit.until > now) found.set(id, hit.key);
    else missing.push(id);
  }
  if (missing.length > 0) {
    const rows = await Database.use()
      .select({ id: deviceTable.id, publicKey: deviceTable.publicKey, revokedAt: deviceTable.revokedAt })
      .from(deviceTable)
      .where(inArray(deviceTable.id, missing));
    for (const row of rows) {
      // A revoked device's records no longer verify.
      const key = row.revokedAt ? null : row.publicKey;
      found.set(row.id, key);
      keyCache.set(row.id, { key, until: now + lookupCacheMs });
    }
  }
  return found;
}

let secret: Promise<Uint8Array> | undefined;

/**
 * The API's record-signing secret: WATTFLOW_RECORD_KEY (base64, an SST secret in production), else
 * one made once and kept in the database, so the API and the consumer share it across restarts.
 */
export function recordSecret(): Promise<Uint8Array> {
  const fromEnv = process.env.WATTFLOW_RECORD_KEY;
  if (fromEnv) return Promise.resolve(Buffer.from(fromEnv, "base64"));
  secret ??= (async () => {
    const db = Database.use();
    await db
      .insert(recordKeyTable)
      .values({ id: "default", secret: randomBytes(32).toString("base64") })
      .onConflictDoNothing();
    const [row] = await db
      .select()
      .from(recordKeyTable)
      .where(and(eq(recordKeyTable.id, "default")));
    if (!row) throw new Error("record key row missing after insert");
    return Buffer.from(row.secret, "base64");
  })().catch((error: unknown) => {
    secret = undefined;
    throw error;
  });
  return secret;
}

/** Forgets the cached secret (tests open a fresh database per file). */
export function resetCache(): void {
  secret = undefined;
  keyCache.clear();
}

/**
 * Why a stream record's signature fails, or undefined when it verifies. Looks the device key up
 * again once before failing, so a key enrolled a moment ago is honoured.
 */
export async function verifyRecord(raw: Uint8Array, deviceId: string): Promise<string | undefined> {
  const serverSecret = await recordSecret();
  const keys = await publicKeys([deviceId]);
  const problem = Signature.check(raw, { devicePublicKey: keys.get(deviceId), serverSecret });
  if (!problem) return undefined;
  const fresh = await publicKeys([deviceId], { fresh: true });
  return Signature.check(raw, { devicePublicKey: fresh.get(deviceId), serverSecret });
}
