/**
 * `wattflow bench usage`: a 200-meter factory's month and a factory's year through the API on PGlite, in one run,
 * on three paths: summing the 5-minute readings (`Rollup.forceReadings`, before rollups), the per-meter rollups
 * (`Rollup.forcePerMeter`, before the factory rollup) and the factory's quarter-hours (`rollup_factory_15m`, today).
 * The readings are written in bulk by SQL (5-minute slots priced by `Cost.price` on the GDMTH tariff, one 1-hour
 * gap per meter and week spread as estimates), then the rollups rebuilt as the backfill does: the ingest store's
 * own throughput is `bench ingest`'s figure, and the rollups' equality with the readings is the tests'.
 * PGlite in memory by default (the figures are the database's and the API's, not the disk's); `--data-dir` keeps it
 * on disk as the local stack does (a year of 200 meters, 21 M readings, outgrows memory), `--database-url` runs it on
 * PostgreSQL, the engine production runs (Aurora).
 */
import { Auth } from "@wattflow/core/auth";
import { BillRequest } from "@wattflow/core/billing";
import { Cost } from "@wattflow/core/cost";
import { Database } from "@wattflow/core/database";
import { openPglite } from "@wattflow/core/database/pglite";
import { openPostgres } from "@wattflow/core/database/postgres";
import { deviceTable } from "@wattflow/core/device/device.sql";
import { factoryTable } from "@wattflow/core/factory/factory.sql";
import { meterTable } from "@wattflow/core/meter/meter.sql";
import { organizationTable } from "@wattflow/core/organization/organization.sql";
import { Rollup } from "@wattflow/core/rollup";
import type { Tariff } from "@wattflow/core/tariff";
import { TariffStore } from "@wattflow/core/tariff/store";
import { app } from "@wattflow/functions/api/app";
import type { Command } from "commander";
import { sql } from "drizzle-orm";
import { benchCommand, numberOption } from "./command";

const zone = "America/Mexico_City";
const organizationId = "org_bench00000000000000000000";
const deviceId = "dev_bench00000000000000000000";
/** The month's factory and the year's (its own meter count: a year of 200 meters may not fit PGlite's memory). */
export const factories = {
  month: { id: "fac_bench00000000000000000000", meter: "mtr_bench" },
  year: { id: "fac_benchyear0000000000000000", meter: "mtr_benchy" },
};

export function registerBenchUsage(bench: Command): void {
  benchCommand(bench, "usage", "a 200-meter factory's month and a factory's year from the API on PGlite: readings, per-meter rollups and the factory rollup")
    .option("--meters <n>", "meters of the month's factory", numberOption("--meters"), 200)
    .option("--year-meters <n>", "meters of the year's factory (12 local months; 0 skips the year)", numberOption("--year-meters", { min: 0 }), 200)
    .option("--runs <n>", "timed runs of each query after one warm-up (the median is printed)", numberOption("--runs"), 3)
    .option(
      "--data-dir <dir>",
      "PGlite in this (new, empty) folder on disk, as `wattflow start` keeps it, instead of in memory: a year of 200 meters (21 M readings) does not fit in memory",
    )
    .option("--database-url <url>", "an empty PostgreSQL database instead of PGlite (the production engine), e.g. one made by `createdb wattflow_bench`")
    .action(
      async ({
        json,
        dataDir,
        databaseUrl,
        ...options
      }: {
        meters: number;
        yearMeters: number;
        runs: number;
        dataDir?: string;
        databaseUrl?: string;
        json?: boolean;
      }) => {
        const figures = await benchUsage({ ...options, database: { dataDir, url: databaseUrl }, log: console.error });
        // The month's and the year's figures nest deeper than Node prints an object.
        console.log(json ? JSON.stringify(figures) : JSON.stringify(figures, null, 2));
      },
    );
}

const seconds = (from: bigint) => Math.round(Number(process.hrtime.bigint() - from) / 1e6) / 1000;
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;

/** The first instant of the local month `offset` months after `year`-`month` (1-based) in the bench's zone (UTC−6, no DST since 2022). */
const localMonth = (year: number, month: number, offset: number) => new Date(Date.UTC(year, month - 1 + offset, 1, 6));

/** The read paths compared: before rollups, before the factory rollup, and today's. */
const paths = ["readings", "perMeter", "factory"] as const;
type Path = (typeof paths)[number];

export async function benchUsage(options: {
  meters: number;
  yearMeters: number;
  runs: number;
  /** Where the database is: PGlite in memory by default, in `dataDir` on disk, or the PostgreSQL at `url`. */
  database?: { dataDir?: string; url?: string };
  log: (line: string) => void;
}) {
  if (!(options.meters > 0 && options.yearMeters >= 0 && options.runs >= 1))
    throw new Error("--meters must be positive, --year-meters 0 or more and --runs at least 1");
  const handle = options.database?.url ? await openPostgres(options.database.url) : await openPglite(options.database?.dataDir);
  try {
    if (handle.kind === "postgres") await refuseUnlessEmpty(handle.db, handle.location);
    await Database.migrate(handle);
    Database.provide(handle);
    const version = await prepareOrganization();
    const token = (await Auth.createToken({ organizationId, name: "bench", role: "viewer" })).token;
    const now = new Date();
    // The last whole local month, and the eleven before it for the year.
    const to = localMonth(now.getUTCFullYear(), now.getUTCMonth() + 1, 0);
    const lastMonth = localMonth(now.getUTCFullYear(), now.getUTCMonth() + 1, -1);
    const yearFrom = localMonth(now.getUTCFullYear(), now.getUTCMonth() + 1, -12);
    const range = (start: Date, end: Date) => `from=${start.toISOString()}&to=${end.toISOString()}`;
    const queries: { name: string; path: string }[] = [];
    const loads = [];

    loads.push(await load(factories.month, options.meters, lastMonth, to, version, options.log));
    const month = `/v1/factories/${factories.month.id}`;
    queries.push(
      { name: `month of ${options.meters} meters, usage in days`, path: `${month}/usage?${range(lastMonth, to)}&bucket=1d` },
      { name: `month of ${options.meters} meters, usage in hours`, path: `${month}/usage?${range(lastMonth, to)}&bucket=1h` },
      { name: `month of ${options.meters} meters, console series in hours`, path: `${month}/series?${range(lastMonth, to)}&bucket=1h` },
      { name: `month of ${options.meters} meters, console series in 15 minutes`, path: `${month}/series?${range(lastMonth, to)}&bucket=15m` },
    );
    if (options.yearMeters > 0) {
      loads.push(await load(factories.year, options.yearMeters, yearFrom, to, version, options.log));
      const year = `/v1/factories/${factories.year.id}`;
      queries.push(
        { name: `year of ${options.yearMeters} meters, usage in days`, path: `${year}/usage?${range(yearFrom, to)}&bucket=1d` },
        { name: `year of ${options.yearMeters} meters, console series in days`, path: `${year}/series?${range(yearFrom, to)}&bucket=1d` },
        { name: `year of ${options.yearMeters} meters, console series in hours`, path: `${year}/series?${range(yearFrom, to)}&bucket=1h` },
      );
    }
    const results = [];
    for (const query of queries) {
      const timed = {} as Record<Path, { seconds: number; body: unknown }>;
      for (const path of paths) timed[path] = await time(query.path, token, options.runs, path);
      const same = paths.every((path) => sameFigures(timed[path].body, timed.factory.body));
      const row = {
        query: query.name,
        path: query.path,
        readingsSeconds: timed.readings.seconds,
        perMeterRollupsSeconds: timed.perMeter.seconds,
        factoryRollupSeconds: timed.factory.seconds,
        vsReadings: ratio(timed.readings.seconds, timed.factory.seconds),
        vsPerMeterRollups: ratio(timed.perMeter.seconds, timed.factory.seconds),
        sameAnswer: same,
      };
      options.log(
        `bench: ${query.name}: readings ${row.readingsSeconds} s, per-meter rollups ${row.perMeterRollupsSeconds} s, factory rollup ${row.factoryRollupSeconds} s` +
          ` (${row.vsReadings}× the readings, ${row.vsPerMeterRollups}× the per-meter rollups)${same ? "" : " ANSWERS DIFFER"}`,
      );
      results.push(row);
    }
    return { database: `${handle.kind} (${handle.location})`, meters: options.meters, yearMeters: options.yearMeters, loads, queries: results };
  } finally {
    Rollup.forceReadings(false);
    Rollup.forcePerMeter(false);
    Database.provide(undefined);
    await handle.close();
  }
}

/**
 * The bench writes an organization, factories and millions of readings: on PostgreSQL it runs only in a database
 * with no tables, so it never mixes its rows with anyone's.
 * @throws Error naming the database when it has tables.
 */
async function refuseUnlessEmpty(db: Database.Db, location: string): Promise<void> {
  const result = (await db.execute(
    sql`select count(*)::int as tables from information_schema.tables where table_schema not in ('pg_catalog', 'information_schema')`,
  )) as unknown as {
    rows: { tables: number }[];
  };
  const tables = result.rows[0]?.tables ?? 0;
  if (tables > 0) throw new Error(`the bench needs an empty database: ${location} has ${tables} table(s); make one with \`createdb wattflow_bench\``);
}

const ratio = (before: number, after: number) => (after > 0 ? Math.round((before / after) * 10) / 10 : null);

/** Equal answers: the same JSON once numbers are rounded to 3 decimals (float sums in another order differ in the last bits). */
function sameFigures(a: unknown, b: unknown): boolean {
  const rounded = (value: unknown) => JSON.stringify(value, (_key, item) => (typeof item === "number" ? Math.round(item * 1000) / 1000 : item));
  return rounded(a) === rounded(b);
}

/** The median seconds of `runs` requests after one warm-up, on one read path. */
async function time(path: string, token: string, runs: number, on: Path): Promise<{ seconds: number; body: unknown }> {
  Rollup.forceReadings(on === "readings");
  Rollup.forcePerMeter(on === "perMeter");
  try {
    const ask = async () => {
      const response = await app.request(path, { headers: { authorization: `Bearer ${token}` } });
      if (response.status !== 200) throw new Error(`${path} answered ${response.status}: ${await response.text()}`);
      return response.json();
    };
    let body = await ask();
    const took: number[] = [];
    for (let run = 0; run < runs; run++) {
      const began = process.hrtime.bigint();
      body = await ask();
      took.push(seconds(began));
    }
    return { seconds: median(took), body };
  } finally {
    Rollup.forceReadings(false);
    Rollup.forcePerMeter(false);
  }
}

/** The organization, gateway and both factories (GDMTH central, one tariff version); returns the version. */
export async function prepareOrganization(): Promise<Tariff.Version> {
  const db = Database.use();
  await db.insert(organizationTable).values({ id: organizationId, name: "Bench" });
  for (const [index, factory] of Object.values(factories).entries()) {
    await db.insert(factoryTable).values({ id: factory.id, organizationId, name: `Bench plant ${index}`, timeZone: zone, tariffCode: "cfe-gdmth" });
    await TariffStore.addVersion({
      factoryId: factory.id,
      effectiveFrom: new Date("2020-01-01T06:00:00Z"),
      definition: BillRequest.definition({
        tariff: "cfe-gdmth",
        zone: "central",
        prices: { fixed: "197.77", energy: { base: "0.9715", intermedia: "1.5573", punta: "1.7262" }, distribution: "90.85", capacity: "392.66" },
      }),
    });
  }
  await db.insert(deviceTable).values({ id: deviceId, organizationId, factoryId: factories.month.id, name: "gw", tokenHash: "-" });
  const version = (await TariffStore.versions([factories.month.id])).get(factories.month.id)?.[0];
  if (!version) throw new Error("the bench tariff was not stored");
  return version;
}

/**
 * The factory's `meters` meters and their 5-minute readings over [from, to), written a local month at a time by
 * SQL: each slot's TOU period and unit price from `Cost.price` (the GDMTH plan in the bench's zone), cost = kWh ×
 * unit price at 6 decimals as the ingest store stores it; kWh 2–6 varying by meter and slot; one hour a week per
 * meter estimated (a gateway's gap). Then the factory's rollups rebuilt from them (`Rollup.rebuild`, the backfill).
 */
export async function load(factory: { id: string; meter: string }, meters: number, from: Date, to: Date, version: Tariff.Version, log: (line: string) => void) {
  const db = Database.use();
  await db.insert(meterTable).values(
    Array.from({ length: meters }, (_, index) => ({
      id: `${factory.meter}${String(index).padStart(30 - factory.meter.length, "0")}`,
      organizationId,
      factoryId: factory.id,
      deviceId,
      name: `m${index}`,
      line: `L${index % 10}`,
    })),
  );
  const began = process.hrtime.bigint();
  await db.execute(sql`create temp table if not exists bench_slot (at timestamptz primary key, period text, unit_price numeric, estimated boolean)`);
  await db.execute(sql`truncate bench_slot`);
  const slotMs = 300_000;
  for (let first = from.getTime(); first < to.getTime(); first += 5000 * slotMs) {
    const starts = Array.from({ length: Math.min(5000, (to.getTime() - first) / slotMs) }, (_, index) => new Date(first + index * slotMs));
    const priced = starts.map((start) => Cost.price({ kwh: 1, start }, version, { timeZone: zone }));
    await db.execute(sql`insert into bench_slot select * from unnest(${sql.param(starts.map((start) => start.toISOString()))}::timestamptz[],
      ${sql.param(priced.map((item) => item.period))}::text[], ${sql.param(priced.map((item) => item.unitPrice))}::numeric[],
      ${sql.param(priced.map((item) => item.estimated))}::boolean[])`);
  }
  for (let start = from; start < to; ) {
    const end = new Date(Date.UTC(start.getUTCFullYear(), start.getUTCMonth() + 1, 1, 6));
    await db.execute(sql`
      insert into reading (meter_id, interval_start, interval_seconds, factory_id, device_id, kwh, kvarh, tou_period, tariff_id, unit_price, cost,
        estimated, gap, quality, source, received_at)
      select m.id, s.at, 300, ${factory.id}, ${deviceId}, k.kwh, k.kwh * 0.4, s.period, ${version.id}, s.unit_price,
        round(s.unit_price * k.kwh::numeric, 6), s.estimated, k.gap, case when k.gap then 'estimated' else 'measured' end, 'bulk', s.at
      from (select id, (row_number() over (order by id) - 1)::int as idx from meter where factory_id = ${factory.id}) m
      cross join bench_slot s
      cross join lateral (select (floor(extract(epoch from s.at) / 3600)::bigint % 168) = m.idx % 168 as gap) g
      cross join lateral (select g.gap, (case when g.gap then 2 + (m.idx % 17) / 4.0
        else 2 + (((extract(epoch from s.at)::bigint / 300) % 12 * 7 + m.idx * 13) % 17) / 4.0 end)::float8 as kwh) k
      where s.at >= ${start.toISOString()}::timestamptz and s.at < ${end.toISOString()}::timestamptz`);
    log(`bench: ${factory.id}: ${meters} meters' readings up to ${end.toISOString()} written (${seconds(began)} s)`);
    start = end;
  }
  const writeSeconds = seconds(began);
  const rebuilt = process.hrtime.bigint();
  await db.transaction((tx) => Rollup.rebuild(tx, { factoryId: factory.id }));
  const rollupSeconds = seconds(rebuilt);
  const slots = meters * ((to.getTime() - from.getTime()) / slotMs);
  log(`bench: ${factory.id}: ${slots} slots of ${meters} meters written in ${writeSeconds} s, rollups rebuilt in ${rollupSeconds} s`);
  return { factoryId: factory.id, meters, from: from.toISOString(), to: to.toISOString(), slots, writeSeconds, rollupSeconds };
}
