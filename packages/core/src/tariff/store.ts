/** Tariff versions in Postgres (the I/O side of the pure `Tariff` module). */
import { and, eq, inArray } from "drizzle-orm";
import { lookupCacheMs } from "../config";
import { Database } from "../database";
import { readThrough } from "../util/cache";
import { VisibleError } from "../util/error";
import { createId } from "../util/id";
import { Definition, type Version } from "./index";
import { tariffTable } from "./tariff.sql";

export * as TariffStore from "./store";

const cache = readThrough<Version[]>(lookupCacheMs);

/**
 * Adds a version that takes effect at `effectiveFrom` (an instant: CFE plans start at the factory's local midnight).
 * @throws VisibleError 409 `tariff.duplicate_start` when the factory already has a version starting at that instant:
 *   two would leave which one is in force to the order they were stored, and the second's prices silently unused.
 */
export async function addVersion(input: { factoryId: string; effectiveFrom: Date; definition: Definition }): Promise<Version> {
  const definition = Definition.parse(input.definition);
  const [same] = await Database.use()
    .select({ id: tariffTable.id })
    .from(tariffTable)
    .where(and(eq(tariffTable.factoryId, input.factoryId), eq(tariffTable.effectiveFrom, input.effectiveFrom)));
  if (same)
    throw new VisibleError(
      "conflict",
      "tariff.duplicate_start",
      `factory ${input.factoryId} already has tariff version ${same.id} in force from ${input.effectiveFrom.toISOString()}: give the new one a later start`,
      [{ path: "effectiveFrom", message: `version ${same.id} already starts at ${input.effectiveFrom.toISOString()}` }],
    );
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
