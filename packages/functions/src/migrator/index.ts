/** Applies the database migrations; invoked by every deploy (stacks/database.ts). */
import { Database } from "@wattflow/core/database";
import { lambda, logger } from "../lambda";
import { ensureRuntime } from "../runtime";

/** Applies the pending database migrations. */
async function migrate() {
  await ensureRuntime();
  const handle = Database.current();
  if (!handle) throw new Database.DatabaseError("no database after ensureRuntime");
  await Database.migrate(handle);
  logger.info("migrations applied", { location: handle.location });
  return { ok: true };
}

export const handler = lambda("migrator", migrate);
