/**
 * The database in this process: PGlite (Postgres compiled to WebAssembly), in a folder or in memory, so `npm start`
 * and the tests need no database server. Chosen by the local stack (without DATABASE_URL) and the tests' PGlite lane.
 */
import { mkdirSync } from "node:fs";
import type { Handle } from "./index";
import type { Db } from "./types";

/**
 * Opens PGlite with its data in `dataDir` (created if missing), or in memory when none is given.
 * @throws what PGlite throws when it cannot open the folder (for example, files of another Postgres version).
 * @example const handle = await openPglite(".wattflow/pg")
 */
export async function openPglite(dataDir?: string): Promise<Handle> {
  const { PGlite } = await import("@electric-sql/pglite");
  const { drizzle } = await import("drizzle-orm/pglite");
  if (dataDir) mkdirSync(dataDir, { recursive: true });
  const client = await PGlite.create(dataDir);
  const db = drizzle(client) as unknown as Db;
  return {
    db,
    kind: "pglite",
    location: dataDir ?? "memory",
    close: () => client.close(),
    async applyMigrations(migrationsFolder) {
      const { migrate } = await import("drizzle-orm/pglite/migrator");
      // biome-ignore lint/suspicious/noExplicitAny: the migrator wants its own driver's type
      await migrate(db as any, { migrationsFolder });
    },
  };
}
