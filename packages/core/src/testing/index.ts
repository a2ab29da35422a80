/**
 * Test support shared by every package's tests: a private database per test file — PGlite in
 * memory, or a fresh database on the server named by DATABASE_URL — so parallel workers never collide.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { buffer } from "node:stream/consumers";
import { constants } from "node:zlib";
import archiver from "archiver";
import type { Resolver } from "../alert/address";
import { Database } from "../database";
import { openPglite } from "../database/pglite";
import { openPostgres } from "../database/postgres";
import type { Lake } from "../lake";
import { readingTable } from "../reading/reading.sql";
import { Rollup } from "../rollup";
import type { Tariff } from "../tariff";

export * as Testing from "./index";

export type Lane = "pglite" | "postgres";

/**
 * Readings written straight into `reading` by a test (a fixture that skips the ingest store), then the rollups of
 * their factories rebuilt as the backfill does (`Rollup.rebuild`): every writer of readings keeps the rollups, and
 * the statement, usage and series read them.
 */
export async function insertReadings(db: Database.Db, rows: typeof readingTable.$inferInsert | (typeof readingTable.$inferInsert)[]): Promise<void> {
  const list = Array.isArray(rows) ? rows : [rows];
  await db.insert(readingTable).values(list);
  for (const factoryId of new Set(list.map((row) => row.factoryId))) await db.transaction((tx) => Rollup.rebuild(tx, { factoryId }));
}

/** PGlite always; a real Postgres too when DATABASE_URL is set (CI's real-Postgres lane). */
export function lanes(): Lane[] {
  return process.env.DATABASE_URL ? ["pglite", "postgres"] : ["pglite"];
}

/** Opens, migrates and provides a private database; `close()` drops it. */
export async function database(lane: Lane = "pglite"): Promise<Database.Handle> {
  if (lane === "pglite") {
    const handle = await openPglite();
    await Database.migrate(handle);
    Database.provide(handle);
    return handle;
  }
  const serverUrl = process.env.DATABASE_URL;
  if (!serverUrl) throw new Error("the postgres lane needs DATABASE_URL");
  const fresh = await freshDatabase(serverUrl);
  const handle = await openPostgres(fresh.url);
  await Database.migrate(handle);
  Database.provide(handle);
  return {
    ...handle,
    async close() {
      await handle.close();
      await fresh.drop();
    },
  };
}

/**
 * A new, empty database on the Postgres server of `serverUrl` (named `<prefix>_<pid>_<random>`, so parallel test
 * files never collide): its `url`, and `drop()`, which removes it even while a connection is still open.
 */
export async function freshDatabase(serverUrl: string, prefix = "wattflow_test"): Promise<{ url: string; drop(): Promise<void> }> {
  const { Client } = await import("pg");
  const name = `${prefix}_${process.pid}_${Math.random().toString(36).slice(2, 10)}`;
  const admin = new Client({ connectionString: serverUrl });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
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

/** A free TCP port on loopback (bind to 0, read it, release it). */
export async function freePort(): Promise<number> {
  const { createServer } = await import("node:net");
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const port = (server.address() as { port: number }).port;
      server.close(() => resolve(port));
    });
  });
}

/**
 * kinesis-mock (npm `kinesis-local`), the fidelity reference for Kinesis behaviour, started on free
 * ports with `streams` created (`name:shards`). Its plain-HTTP endpoint is returned.
 */
export async function kinesisMock(streams: string): Promise<{ endpoint: string; stop(): Promise<void> }> {
  const { spawn } = await import("node:child_process");
  const { createRequire } = await import("node:module");
  const require = createRequire(import.meta.url);
  const main = require.resolve("kinesis-local/main.js");
  const [plainPort, tlsPort] = [await freePort(), await freePort()];
  const child = spawn(process.execPath, [main], {
    env: {
      ...process.env,
      KINESIS_MOCK_CERT_PATH: join(main, "..", "server.json"),
      KINESIS_MOCK_PLAIN_PORT: String(plainPort),
      KINESIS_MOCK_TLS_PORT: String(tlsPort),
      INITIALIZE_STREAMS: streams,
      LOG_LEVEL: "ERROR",
      // Streams become ACTIVE after this delay; the default (500 ms) only slows tests.
      CREATE_STREAM_DURATION: "0ms",
    },
    stdio: "ignore",
  });
  const endpoint = `http://127.0.0.1:${plainPort}`;
  const began = Date.now();
  for (;;) {
    if (child.exitCode !== null) throw new Error(`kinesis-mock exited with ${child.exitCode}`);
    const answer = await fetch(`${endpoint}/healthcheck`).catch(() => undefined);
    if (answer?.ok) break;
    if (Date.now() - began > 30_000) {
      child.kill();
      throw new Error("kinesis-mock did not become healthy within 30 s");
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return {
    endpoint,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once("exit", () => resolve());
        child.kill("SIGTERM");
      }),
  };
}

/** Published GDMTH prices, Noroeste division, March 2026 (../shared/reference/cfe-gdmth.md): the tests' golden bills use them. */
export const gdmthNoroesteMarch2026 = {
  month: "2026-03",
  fixed: "197.77",
  energy: { base: "0.9715", intermedia: "1.5573", punta: "1.7262" },
  distribution: "90.85",
  capacity: "392.66",
} as const;

/**
 * A GDMTH central tariff version priced with `gdmthNoroesteMarch2026`, in force since 2020-01-01 (before any test's
 * readings), for tests and benchmarks that price readings without a database.
 * @example Testing.gdmthVersion({ id: "trf_kpi", factoryId: "fac_kpi" })
 */
export function gdmthVersion(ids: { id: string; factoryId: string }): Tariff.Version {
  return { ...ids, effectiveFrom: new Date("2020-01-01T00:00:00Z"), definition: { kind: "cfe-gdmth", zone: "central", prices: [gdmthNoroesteMarch2026] } };
}

/**
 * A factory's meter tree and one day of its readings, for the golden allocation: `main` is the billing meter,
 * `lineA` and `lineB` hang from it, `pressA1` from `lineA`. Tuesday 10 March 2026 in Mexico City (UTC−6, central
 * winter): 03:00 local (09:00Z) base, 10:00 (16:00Z) intermedia, 19:00 (01:00Z on the 11th) punta.
 */
export const meterTree = {
  meters: [
    { name: "main", role: "billing", parent: null },
    { name: "lineA", role: "sub", parent: "main" },
    { name: "lineB", role: "sub", parent: "main" },
    { name: "pressA1", role: "sub", parent: "lineA" },
  ],
  at: { base: "2026-03-10T09:00:00Z", intermedia: "2026-03-10T16:00:00Z", punta: "2026-03-11T01:00:00Z" },
  /** [meter, period, kWh] of one 5-minute slot each. */
  kwh: [
    ["main", "base", 10],
    ["main", "intermedia", 30],
    ["main", "punta", 20],
    ["lineA", "intermedia", 12],
    ["lineA", "punta", 8],
    ["lineB", "base", 4],
    ["lineB", "intermedia", 9],
    ["pressA1", "intermedia", 5],
  ],
} as const;

/**
 * A costed 5-minute reading as the lake stores it, for tests: a meter's kWh at an instant, every other
 * column empty or neutral unless given.
 * @example Testing.lakeRow({ meterId: "mtr_1", factoryId: "fac_1", intervalStart: new Date("2026-03-10T16:00:00Z"), kwh: 10, kvarh: 7.5 })
 */
export function lakeRow(row: Pick<Lake.Row, "meterId" | "factoryId" | "intervalStart" | "kwh"> & Partial<Lake.Row>): Lake.Row {
  return {
    deviceId: "dev_test",
    intervalSeconds: 300,
    kvarh: null,
    kwAvg: null,
    kwMax: null,
    pf: null,
    voltage: null,
    current: null,
    touPeriod: null,
    tariffId: null,
    unitPrice: null,
    cost: "0.000000",
    estimated: false,
    gap: false,
    computedAt: row.intervalStart,
    source: "kinesis",
    receivedAt: row.intervalStart,
    ...row,
  };
}

/** A member of a test ZIP: its path in the archive and its content, text or a stream of bytes. */
export type ZipMember = { name: string; content: string | Readable };

/**
 * A ZIP with deflated members, as Excel writes an XLSX; a streamed member is deflated as it is read, never
 * held whole. Rejects with archiver's error when a member cannot be read.
 * @example await Testing.zip([...Testing.emptyWorkbook, { name: "xl/worksheets/sheet1.xml", content: "<worksheet/>" }])
 */
export async function zip(members: ZipMember[]): Promise<Buffer> {
  const archive = archiver("zip", { zlib: { level: constants.Z_BEST_COMPRESSION } });
  for (const member of members) archive.append(member.content, { name: member.name });
  // Read the archive while it is written: a 400 MiB member only ever passes through in 1 MiB blocks.
  const [bytes] = await Promise.all([buffer(archive), archive.finalize()]);
  return bytes;
}

/** The parts an XLSX needs besides its sheets: the content types and an empty workbook. */
export const emptyWorkbook: ZipMember[] = [
  { name: "[Content_Types].xml", content: '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>' },
  { name: "xl/workbook.xml", content: '<?xml version="1.0"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"/>' },
];

/** A zip bomb shaped like an XLSX: a workbook whose one sheet inflates to `megabytes` MiB of spaces. */
export async function xlsxBomb(megabytes: number): Promise<Buffer> {
  const block = Buffer.alloc(1024 * 1024, 0x20);
  const spaces = Readable.from(
    (function* () {
      for (let index = 0; index < megabytes; index++) yield block;
    })(),
  );
  return zip([...emptyWorkbook, { name: "xl/worksheets/sheet1.xml", content: spaces }]);
}

/**
 * A webhook resolver (alert/address.ts `Resolver`) that answers every name with `address` (IPv4), as a DNS server an
 * attacker controls would, and records each name it was asked (`asked`), so a test can tell a refusal made before
 * any lookup from one made after it.
 */
export function answeringResolver(address: string): { resolve: Resolver; asked: string[] } {
  const asked: string[] = [];
  return {
    asked,
    resolve: async (hostname) => {
      asked.push(hostname);
      return [{ address, family: 4 }];
    },
  };
}
