/**
 * Test support shared by every package's tests: a private database per test file — PGlite in
 * memory, or a fresh database on the server named by DATABASE_URL — so parallel workers never collide.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Database } from "../database";

export * as Testing from "./index";

export type Lane = "pglite" | "postgres";

/** PGlite always; a real Postgres too when DATABASE_URL is set (CI's real-Postgres lane). */
export function lanes(): Lane[] {
  return process.env.DATABASE_URL ? ["pglite", "postgres"] : ["pglite"];
}

/** Opens, migrates and provides a private database; `close()` drops it. */
export async function database(lane: Lane = "pglite"): Promise<Database.Handle> {
  if (lane === "pglite") {
    const handle = await Database.open({});
    await Database.migrate(handle);
    Database.provide(handle);
    return handle;
  }
  const serverUrl = process.env.DATABASE_URL;
  if (!serverUrl) throw new Error("the postgres lane needs DATABASE_URL");
  const name = `wattflow_test_${process.pid}_${Math.random().toString(36).slice(2, 10)}`;
  const { Client } = await import("pg");
  const admin = new Client({ connectionString: serverUrl });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  const handle = await Database.open({ url: url.toString() });
  await Database.migrate(handle);
  Database.provide(handle);
  return {
    ...handle,
    async close() {
      await handle.close();
      const cleanup = new Client({ connectionString: serverUrl });
      await cleanup.connect();
      await cleanup.query(`drop database if exists ${name} with (force)`);
      await cleanup.end();
    },
  };
}

/** A temporary folder removed by the returned function. */
export function temporaryDir(prefix = "wattflow-test-"): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}
