/**
 * Gateway credentials managed from the console: a one-time enrollment code that a gateway trades
 * for its device token and Ed25519 signing key, and rotation or revocation of those credentials.
 */

import { generateKeyPairSync, randomBytes } from "node:crypto";
import { and, eq, gt, isNull } from "drizzle-orm";
import { z } from "zod";
import { Database } from "../database";
import { factoryTable } from "../factory/factory.sql";
import { VisibleError } from "../util/error";
import { fn } from "../util/fn";
import { hashToken } from "../util/hash";
import { createId, createSecret } from "../util/id";
import * as Limits from "../util/limits";
import { deviceTable } from "./device.sql";
import { enrollmentCodeTable } from "./enrollment.sql";
import { EnrollKey } from "./gateway";
import { Device } from "./index";

export * as Enrollment from "./enrollment";

/** Long enough to type it into a gateway on the shop floor, short-lived enough not to matter if it leaks later. */
export const codeTtlMs = 24 * 3600_000;

/** `WF-XXXX-XXXX-XXXX-XXXX`: 80 random bits in Crockford base32 (no I, L, O, U to misread). */
function newCode(): string {
  const alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
  const bytes = randomBytes(16);
  let chars = "";
  for (let i = 0; i < 16; i++) chars += alphabet[(bytes[i] ?? 0) & 31];
  return `WF-${chars.match(/.{4}/g)?.join("-")}`;
}

const normalize = (code: string) => code.trim().toUpperCase();

/** A gateway of the organization (and of `factoryId` when given: the API addresses gateways under their factory). */
async function ownDevice(organizationId: string, deviceId: string, factoryId?: string) {
  const [row] = await Database.use()
    .select()
    .from(deviceTable)
    .where(and(eq(deviceTable.organizationId, organizationId), eq(deviceTable.id, deviceId)));
  if (!row || (factoryId !== undefined && row.factoryId !== factoryId))
    throw new VisibleError("not_found", "device.not_found", `gateway ${deviceId} not found`);
  return row;
}

/** A fresh Ed25519 key pair: the public half as the device table keeps it, the private half as PKCS#8 PEM. */
function signingKey(): { publicKey: string; privateKey: string } {
  const pair = generateKeyPairSync("ed25519");
  return {
    publicKey: pair.publicKey.export({ format: "der", type: "spki" }).toString("base64"),
    privateKey: pair.privateKey.export({ format: "pem", type: "pkcs8" }).toString(),
  };
}

/** A one-time enrollment code and when it expires (ISO): `POST …/enrollment-code` answers it. */
export const Code = z.object({ deviceId: z.string(), code: z.string(), expiresAt: z.string() });
export type Code = z.infer<typeof Code>;
/** A new gateway and its first code: `POST /v1/factories/{id}/gateways` answers it. */
export const NewGateway = Code.extend({ name: z.string(), factoryId: z.string() });
export type NewGateway = z.infer<typeof NewGateway>;
/** When a gateway's token stopped working: `POST …/revoke` answers it. */
export const Revoked = z.object({ deviceId: z.string(), revokedAt: z.string() });
export type Revoked = z.infer<typeof Revoked>;

/** A gateway addressed by the caller: its organization, and its factory when the route names one. */
const Owned = z.object({ organizationId: z.string(), deviceId: z.string(), factoryId: z.string().optional() });

/** Issues a one-time code for a gateway of the organization; earlier unused codes stop working. */
export const issueCode = fn(Owned, async (input): Promise<Code> => {
  const device = await ownDevice(input.organizationId, input.deviceId, input.factoryId);
  if (device.revokedAt) throw new VisibleError("conflict", "device.revoked", `gateway ${input.deviceId} is revoked`);
  const code = newCode();
  const expiresAt = new Date(Date.now() + codeTtlMs);
  await Database.use().transaction(async (tx) => {
    await tx
      .update(enrollmentCodeTable)
      .set({ usedAt: new Date() })
      .where(and(eq(enrollmentCodeTable.deviceId, input.deviceId), isNull(enrollmentCodeTable.usedAt)));
    await tx.insert(enrollmentCodeTable).values({
      id: createId("enrollment"),
      organizationId: input.organizationId,
      deviceId: input.deviceId,
      codeHash: hashToken(normalize(code)),
      expiresAt,
    });
  });
  return { deviceId: input.deviceId, code, expiresAt: expiresAt.toISOString() };
});

/** Registers a gateway in one of the organization's factories and issues its first enrollment code. */
export const createGateway = fn(z.object({ organizationId: z.string(), factoryId: z.string(), name: Limits.name() }), async (input): Promise<NewGateway> => {
  const [factory] = await Database.use()
    .select({ id: factoryTable.id })
    .from(factoryTable)
    .where(and(eq(factoryTable.organizationId, input.organizationId), eq(factoryTable.id, input.factoryId)));
  if (!factory) throw new VisibleError("not_found", "factory.not_found", `factory ${input.factoryId} not found`);
  // The token made here is never shown: the gateway gets a fresh one when it redeems its code.
  const device = await Device.create(input);
  return { ...(await issueCode({ organizationId: input.organizationId, deviceId: device.id })), name: input.name, factoryId: input.factoryId };
});

/** A gateway's credentials: its device token and signing key pair (no private key when the gateway sent its own public key). */
export const Credentials = z.object({
  deviceId: z.string(),
  factoryId: z.string(),
  token: z.string(),
  publicKey: z.string(),
  privateKey: z.string().nullable(),
});
export type Credentials = z.infer<typeof Credentials>;

/**
 * Trades a code for the gateway's credentials, once. With `publicKey` the gateway keeps its own
 * private key; without, one is made here and returned this once.
 */
export const redeem = fn(
  z.object({ code: z.string().min(1, "code is required"), publicKey: EnrollKey.shape.publicKey.optional() }),
  async (input): Promise<Credentials> => {
    const now = new Date();
    return Database.use().transaction(async (tx) => {
      // The conditional update is the claim: of two gateways racing with one code, one wins.
      const [claimed] = await tx
        .update(enrollmentCodeTable)
        .set({ usedAt: now })
        .where(
          and(eq(enrollmentCodeTable.codeHash, hashToken(normalize(input.code))), isNull(enrollmentCodeTable.usedAt), gt(enrollmentCodeTable.expiresAt, now)),
        )
        .returning({ deviceId: enrollmentCodeTable.deviceId });
      if (!claimed) throw new VisibleError("auth", "enrollment.invalid_code", "The enrollment code is unknown, used or expired");
      const key = input.publicKey ? { publicKey: input.publicKey, privateKey: null } : signingKey();
      const token = createSecret("wfd");
      const [device] = await tx
        .update(deviceTable)
        .set({ tokenHash: hashToken(token), publicKey: key.publicKey })
        .where(and(eq(deviceTable.id, claimed.deviceId), isNull(deviceTable.revokedAt)))
        .returning({ id: deviceTable.id, factoryId: deviceTable.factoryId });
      if (!device) throw new VisibleError("auth", "enrollment.device_revoked", "The gateway of this code was revoked");
      return { deviceId: device.id, factoryId: device.factoryId, token, ...key };
    });
  },
);

/** New token and signing key for a gateway; the old ones stop working at once (records they signed stop verifying within the key cache's lifetime). */
export const rotate = fn(Owned, async (input): Promise<Credentials> => {
  const device = await ownDevice(input.organizationId, input.deviceId, input.factoryId);
  if (device.revokedAt) throw new VisibleError("conflict", "device.revoked", `gateway ${input.deviceId} is revoked`);
  const key = signingKey();
  const token = createSecret("wfd");
  await Database.use()
    .update(deviceTable)
    .set({ tokenHash: hashToken(token), publicKey: key.publicKey })
    .where(eq(deviceTable.id, device.id));
  return { deviceId: device.id, factoryId: device.factoryId, token, ...key };
});

/** Revokes a gateway: its token, signing key and unused codes stop working. */
export const revoke = fn(Owned, async (input): Promise<Revoked> => {
  const device = await ownDevice(input.organizationId, input.deviceId, input.factoryId);
  const revokedAt = device.revokedAt ?? new Date();
  await Database.use().transaction(async (tx) => {
    await tx.update(deviceTable).set({ revokedAt }).where(eq(deviceTable.id, device.id));
    await tx
      .update(enrollmentCodeTable)
      .set({ usedAt: revokedAt })
      .where(and(eq(enrollmentCodeTable.deviceId, device.id), isNull(enrollmentCodeTable.usedAt)));
  });
  return { deviceId: device.id, revokedAt: revokedAt.toISOString() };
});
