/** Tariff versions in Postgres (the I/O side of the pure `Tariff` module). */
import { inArray } from "drizzle-orm";
import { lookupCacheMs } from "../config";
import { Database } from "../database";
import { readThrough } from "../util/cache";
import { createId } from "../util/id";
import { Definition, type Version } from "./index";
import { tariffTable } from "./tariff.sql";

export * as TariffStore from "./store";

const cache = readThrough<Version[]>(lookupCacheMs);

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
  return cache.get(
    factoryIds,
    async (missing) => {
      const rows = await Database.use().select().from(tariffTable).where(inArray(tariffTable.factoryId, missing));
      // Every asked factory gets its list, an empty one too: a factory without a tariff is cached as such.
      return new Map(
        missing.map((id) => [
          id,
          rows
            .filter((row) => row.factoryId === id)
            .map((row) => ({ id: row.id, factoryId: row.factoryId, effectiveFrom: row.effectiveFrom, definition: Definition.parse(row.definition) })),
        ]),
      );
    },
    now,
  );
}
