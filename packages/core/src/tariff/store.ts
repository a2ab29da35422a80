/** Tariff versions in Postgres (the I/O side of the pure `Tariff` module). */
import { inArray } from "drizzle-orm";
import { lookupCacheMs } from "../config";
import { Database } from "../database";
import { createId } from "../util/id";
import { Definition, type Version } from "./index";
import { tariffTable } from "./tariff.sql";

export * as TariffStore from "./store";

const cache = new Map<string, { versions: Version[]; until: number }>();

/** Adds a version that takes effect at `effectiveFrom`. */
export async function addVersion(input: { factoryId: string; effectiveFrom: Date; definition: Definition }): Promise<Version> {
  const definition = Definition.parse(input.definition);
  const id = createId("tariff");
  await Database.use().insert(tariffTable).values({ id, factoryId: input.factoryId, effectiveFrom: input.effectiveFrom, definition });
  cache.delete(input.factoryId);
  return { id, factoryId: input.factoryId, effectiveFrom: input.effectiveFrom, definition };
}

/** Every version of each factory, cached briefly: the consumer asks for each batch. */
export async function versions(factoryIds: readonly string[], now = Date.now()): Promise<Map<string, Version[]>> {
  const result = new Map<string, Version[]>();
  const missing: string[] = [];
  for (const id of new Set(factoryIds)) {
    const hit = cache.get(id);
    if (hit && hit.until > now) result.set(id, hit.versions);
    else missing.push(id);
  }
  if (missing.length > 0) {
    const rows = await Database.use().select().from(tariffTable).where(inArray(tariffTable.factoryId, missing));
    for (const id of missing) {
      const list = rows
        .filter((row) => row.factoryId === id)
        .map((row) => ({ id: row.id, factoryId: row.factoryId, effectiveFrom: row.effectiveFrom, definition: Definition.parse(row.definition) }));
      result.set(id, list);
      cache.set(id, { versions: list, until: now + lookupCacheMs });
    }
  }
  return result;
}
