import { and, eq, inArray, isNull } from "drizzle-orm";
import { z } from "zod";
import { Database } from "../database";
import { VisibleError } from "../util/error";
import { fn } from "../util/fn";
import { hashToken } from "../util/hash";
import { createId, createSecret } from "../util/id";
import * as Limits from "../util/limits";
import { deviceTable } from "./device.sql";

export * as Device from "./index";

export type Identity = { id: string; organizationId: string; factoryId: string };

/** Registers a gateway; the token is returned once and only its hash is kept. */
export const create = fn(
  z.object({ organizationId: z.string(), factoryId: z.string(), name: z.string().min(1) }),
  async (input): Promise<Identity & { token: string }> => {
    const id = createId("device");
    const token = createSecret("wfd");
    await Database.use()
      .insert(deviceTable)
      .values({ ...input, id, tokenHash: hashToken(token) });
    return { id, organizationId: input.organizationId, factoryId: input.factoryId, token };
  },
);

/** The device a bearer token belongs to, unless it was revoked. */
export async function authenticate(token: string): Promise<Identity | undefined> {
  const [row] = await Database.use()
    .select({ id: deviceTable.id, organizationId: deviceTable.organizationId, factoryId: deviceTable.factoryId })
    .from(deviceTable)
    .where(and(eq(deviceTable.tokenHash, hashToken(token)), isNull(deviceTable.revokedAt)));
  return row;
}

/** Records that devices were heard from (heartbeat for the console's device health). */
const touched = new Map<string, number>();
/** "Last seen" is for people (is this gateway alive?): a write per device every 15 s is plenty, not one per batch. */
const touchEveryMs = 15_000;

export async function touch(ids: string[], at: Date): Promise<void> {
  const due = ids.filter((id) => at.getTime() - (touched.get(id) ?? Number.NEGATIVE_INFINITY) >= touchEveryMs);
  if (due.length === 0) return;
  await Database.use().update(deviceTable).set({ lastSeenAt: at }).where(inArray(deviceTable.id, due));
  for (const id of due) touched.set(id, at.getTime());
}

/** The organization of each known device among `ids` (unknown ids are absent); ties a quarantined record to its tenant. */
export async function organizations(ids: readonly string[]): Promise<Map<string, string>> {
  const unique = [...new Set(ids)];
  if (unique.length === 0) return new Map();
  const rows = await Database.use()
    .select({ id: deviceTable.id, organizationId: deviceTable.organizationId })
    .from(deviceTable)
    .where(inArray(deviceTable.id, unique));
  return new Map(rows.map((row) => [row.id, row.organizationId]));
}

/**
 * Renames a gateway of the organization's factory `factoryId` (its credentials are untouched).
 * @throws VisibleError `device.not_found` for another factory's or organization's gateway; `input.invalid` for an empty name.
 */
/** A gateway as renamed: `PATCH /v1/factories/{id}/gateways/{gatewayId}` answers it. */
export const Renamed = z.object({ id: z.string(), factoryId: z.string(), name: z.string() });
export type Renamed = z.infer<typeof Renamed>;

export const rename = fn(
  z.object({ organizationId: z.string(), factoryId: z.string(), id: z.string(), name: Limits.name() }),
  async (input): Promise<Renamed> => {
    const [row] = await Database.use()
      .update(deviceTable)
      .set({ name: input.name })
      .where(and(eq(deviceTable.id, input.id), eq(deviceTable.organizationId, input.organizationId), eq(deviceTable.factoryId, input.factoryId)))
      .returning({ id: deviceTable.id, factoryId: deviceTable.factoryId, name: deviceTable.name });
    if (!row) throw new VisibleError("not_found", "device.not_found", `gateway ${input.id} not found`);
    return row;
  },
);
