/**
 * The database on a Postgres server (Aurora on AWS, or any PostgreSQL named by a URL): node-postgres and its Drizzle
 * driver. Chosen by the Lambda runtime (always, from DATABASE_URL), and by the local stack and the tests when they are
 * given a server's URL.
 */
import { DatabaseError, type Handle } from "./index";
import type { Db } from "./types";

/**
 * Opens a pool of at most 10 connections to the Postgres at `url` and checks it answers.
 * @throws DatabaseError naming the server (without its password) when it does not answer.
 * @example const handle = await openPostgres("postgres://postgres@127.0.0.1:5432/wattflow")
 */
export async function openPostgres(url: string): Promise<Handle> {
  const { Pool } = await import("pg");
  const { drizzle } = await import("drizzle-orm/node-postgres");
  const pool = new Pool({ connectionString: url, max: 10 });
  pool.on("error", (error) => console.error("postgres pool error:", error.message));
  const location = redact(url);
  try {
    await pool.query("select 1");
  } catch (error) {
    await pool.end();
    throw new DatabaseError(`cannot reach Postgres at ${location}: ${(error as Error).message}`, { cause: error });
  }
  const db = drizzle(pool) as unknown as Db;
  return {
    db,
    kind: "postgres",
    location,
    close: () => pool.end(),
    async applyMigrations(migrationsFolder) {
      const { migrate } = await import("drizzle-orm/node-postgres/migrator");
      // biome-ignore lint/suspicious/noExplicitAny: the migrator wants its own driver's type
      await migrate(db as any, { migrationsFolder });
    },
  };
}

/** `url` without its password, for /health and error messages. */
function redact(url: string): string {
  try {
    const parsed = new URL(url);
    parsed.password = parsed.password ? "***" : "";
    return parsed.toString();
  } catch {
    return "(unparseable DATABASE_URL)";
  }
}
