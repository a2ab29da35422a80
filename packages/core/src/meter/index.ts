import { eq, inArray } from "drizzle-orm";
import { z } from "zod";
import { lookupCacheMs } from "../config";
import { Database } from "../database";
import { factoryTable } from "../factory/factory.sql";
import { fn } from "../util/fn";
import { createId } from "../util/id";
import { meterTable } from "./meter.sql";

export * as Meter from "./index";

/** Who a meter belongs to, and the factory's time zone (time-of-use periods are local). */
export type Owner = {
  id: string;
  organizationId: string;
  factoryId: string;
  deviceId: string;
  timeZone: string;
  /** The meter's rating (kW) when known: slots above it are flagged, not dropped. */
  maxKw: number | null;
};

export const create = fn(
  z.object({
    organizationId: z.string(),
    factoryId: z.string(),
    deviceId: z.string(),
    name: z.string().min(1),
    line: z.string().min(1),
    multiplier: z.number().positive().default(1),
  }),
  async (input): Promise<Omit<Owner, "timeZone" | "maxKw"> & { name: string; line: string }> => {
    const id = createId("meter");
    await Database.use()
      .insert(meterTable)
      .values({ ...input, id, multiplier: input.multiplier.toString() });
    return { id, organizationId: input.organizationId, factoryId: input.factoryId, deviceId: input.deviceId, name: input.name, line: input.line };
  },
);

const cache = new Map<string, { owner: Owner; until: number }>();

/**
 * Who owns each meter, by id; unknown ids are absent. Cached briefly because every reading asks;
 * a miss always goes to the database, so a meter created a moment ago is found.
 */
export async function owners(ids: readonly string[], now = Date.now()): Promise<Map<string, Owner>> {
  const found = new Map<string, Owner>();
  const missing: string[] = [];
  for (const id of new Set(ids)) {
    const hit = cache.get(id);
    if (hit && hit.until > now) found.set(id, hit.owner);
    else missing.push(id);
  }
  if (missing.length > 0) {
    const rows = await Database.use()
      .select({
        id: meterTable.id,
        organizationId: meterTable.organizationId,
        factoryId: meterTable.factoryId,
        deviceId: meterTable.deviceId,
        timeZone: factoryTable.timeZone,
        maxKw: meterTable.maxKw,
      })
      .from(meterTable)
      .innerJoin(factoryTable, eq(factoryTable.id, meterTable.factoryId))
      .where(inArray(meterTable.id, missing));
    for (const row of rows) {
      found.set(row.id, row);
      cache.set(row.id, { owner: row, until: now + lookupCacheMs });
    }
  }
  return found;
}

export async function listByFactory(factoryId: string) {
  return Database.use().select().from(meterTable).where(eq(meterTable.factoryId, factoryId));
}
