/**
 * `wattflow bench usage`: a 200-meter factory's month (and year) through the API on PGlite, on the
 * rollups beside the path before them (summing the 5-minute readings, `Rollup.forceReadings`), in one run.
 * The readings go in through the ingest store the consumer uses (`Slots.store`: grid, pricing, rollups in
 * the same transaction), 5-minute readings plus one 1-hour gap per meter and week, spread as estimates.
 * PGlite in memory: the figures are the database's and the API's, not the disk's.
 */
import { Auth } from "@wattflow/core/auth";
import { BillRequest } from "@wattflow/core/billing";
import { Cost } from "@wattflow/core/cost";
import { Database } from "@wattflow/core/database";
import { deviceTable } from "@wattflow/core/device/device.sql";
import { factoryTable } from "@wattflow/core/factory/factory.sql";
import { Slots } from "@wattflow/core/ingest/slots";
import { meterTable } from "@wattflow/core/meter/meter.sql";
import { organizationTable } from "@wattflow/core/organization/organization.sql";
import { Rollup } from "@wattflow/core/rollup";
import { TariffStore } from "@wattflow/core/tariff/store";
import { app } from "@wattflow/functions/api/app";
import type { Command } from "commander";

const zone = "America/Mexico_City";
const ids = { organization: "org_bench00000000000000000000", factory: "fac_bench00000000000000000000", device: "dev_bench00000000000000000000" };

export function registerBenchUsage(bench: Command): void {
  bench
    .command("usage")
    .description("a 200-meter factory's month and year from the API: rollups beside summing the readings, on PGlite")
    .option("--meters <n>", "meters in the factory", "200")
    .option("--months <n>", "local months of readings, ending with the last whole month (12: the year query too)", "1")
    .option("--runs <n>", "timed runs of each query after one warm-up (the median is printed)", "3")
    .option("--json", "print the figures as JSON on the last line")
    .action(async (options: { meters: string; months: string; runs: string; json?: boolean }) => {
      const figures = await benchUsage({ meters: Number(options.meters), months: Number(options.months), runs: Number(options.runs), log: console.error });
      if (options.json) console.log(JSON.stringify(figures));
      else console.log(figures);
    });
}

const seconds = (from: bigint) => Math.round(Number(process.hrtime.bigint() - from) / 1e6) / 1000;
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;

/** The first instant of the local month `offset` months after `year`-`month` (1-based) in the bench's zone (UTC−6, no DST since 2022). */
const localMonth = (year: number, month: number, offset: number) => new Date(Date.UTC(year, month - 1 + offset, 1, 6));

export async function benchUsage(options: { meters: number; months: number; runs: number; log: (line: string) => void }) {
  if (!(options.meters > 0 && options.months >= 1 && options.months <= 12 && options.runs >= 1))
    throw new Error("--meters must be positive, --months 1 to 12 and --runs at least 1");
  const handle = await Database.open({});
  try {
    await Database.migrate(handle);
    Database.provide(handle);
    const token = await prepare(options.meters);
    const now = new Date();
    // The last whole local month, and the months before it.
    const to = localMonth(now.getUTCFullYear(), now.getUTCMonth() + 1, 0);
    const from = localMonth(now.getUTCFullYear(), now.getUTCMonth() + 1, -options.months);
    const lastMonth = localMonth(now.getUTCFullYear(), now.getUTCMonth() + 1, -1);
    const loaded = await load(options.meters, from, to, options.log);

    const queries: { name: string; path: string }[] = [];
    const range = (start: Date, end: Date) => `from=${start.toISOString()}&to=${end.toISOString()}`;
    const month = range(lastMonth, to);
    queries.push(
      { name: "month usage, days", path: `/v1/factories/${ids.factory}/usage?${month}&bucket=1d` },
      { name: "month usage, hours", path: `/v1/factories/${ids.factory}/usage?${month}&bucket=1h` },
      { name: "month console series, hours", path: `/v1/factories/${ids.factory}/series?${month}&bucket=1h` },
      { name: "month console series, 15 minutes", path: `/v1/factories/${ids.factory}/series?${month}&bucket=15m` },
    );
    if (options.months >= 12) queries.push({ name: "year usage, days", path: `/v1/factories/${ids.factory}/usage?${range(from, to)}&bucket=1d` });
    const results = [];
    for (const query of queries) {
      const readings = await time(query.path, token, options.runs, true);
      const rollups = await time(query.path, token, options.runs, false);
      const same = JSON.stringify(readings.body) === JSON.stringify(rollups.body);
      const row = {
        query: query.name,
        path: query.path,
        readingsSeconds: readings.seconds,
        rollupsSeconds: rollups.seconds,
        ratio: round(readings.seconds / rollups.seconds),
        sameAnswer: same,
      };
      options.log(
        `bench: ${query.name}: readings ${row.readingsSeconds} s, rollups ${row.rollupsSeconds} s, ${row.ratio}× faster${same ? "" : " (answers differ in the last digits: see the tests for the Wh/cent equality)"}`,
      );
      results.push(row);
    }
    // The console's month at 5-minute grain reads the readings either way: printed for scale.
    const fiveMinutes = await time(`/v1/factories/${ids.factory}/series?${month}&bucket=5m`, token, options.runs, false);
    options.log(`bench: month console series, 5 minutes (readings either way): ${fiveMinutes.seconds} s`);
    return { meters: options.meters, months: options.months, ...loaded, queries: results, monthSeries5mSeconds: fiveMinutes.seconds };
  } finally {
    Rollup.forceReadings(false);
    Database.provide(undefined);
    await handle.close();
  }
}

const round = (value: number) => Math.round(value * 10) / 10;

/** The median seconds of `runs` requests after one warm-up, on the readings or the rollups. */
async function time(path: string, token: string, runs: number, readings: boolean): Promise<{ seconds: number; body: unknown }> {
  Rollup.forceReadings(readings);
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
  }
}

/** The organization, factory (GDMTH central), gateway and meters; returns an API token that reads them. */
async function prepare(meters: number): Promise<string> {
  const db = Database.use();
  await db.insert(organizationTable).values({ id: ids.organization, name: "Bench" });
  await db.insert(factoryTable).values({ id: ids.factory, organizationId: ids.organization, name: "Bench plant", timeZone: zone, tariffCode: "cfe-gdmth" });
  await db.insert(deviceTable).values({ id: ids.device, organizationId: ids.organization, factoryId: ids.factory, name: "gw", tokenHash: "-" });
  await db.insert(meterTable).values(
    meterIds(meters).map((id, index) => ({
      id,
      organizationId: ids.organization,
      factoryId: ids.factory,
      deviceId: ids.device,
      name: `m${index}`,
      line: `L${index % 10}`,
    })),
  );
  await TariffStore.addVersion({
    factoryId: ids.factory,
    effectiveFrom: new Date("2020-01-01T06:00:00Z"),
    definition: BillRequest.definition({
      tariff: "cfe-gdmth",
      zone: "central",
      prices: { fixed: "197.77", energy: { base: "0.9715", intermedia: "1.5573", punta: "1.7262" }, distribution: "90.85", capacity: "392.66" },
    }),
  });
  return (await Auth.createToken({ organizationId: ids.organization, name: "bench", role: "viewer" })).token;
}

const meterIds = (count: number) => Array.from({ length: count }, (_, index) => `mtr_bench${String(index).padStart(21, "0")}`);

/**
 * Stores every meter's 5-minute readings over [from, to) through `Slots.store`, an hour of UTC at a time
 * (what a consumer batch of a 200-meter factory holds), with one 1-hour gap reading per meter and week.
 */
async function load(meters: number, from: Date, to: Date, log: (line: string) => void) {
  const versions = await TariffStore.versions([ids.factory]);
  const version = versions.get(ids.factory)?.[0];
  if (!version) throw new Error("the bench tariff was not stored");
  const all = meterIds(meters);
  const began = process.hrtime.bigint();
  let readings = 0;
  let lastLog = process.hrtime.bigint();
  const candidate = (meterId: string, start: Date, seconds: number, kwh: number, gap: boolean): Slots.Candidate => ({
    reading: { meterId, start: start.toISOString(), seconds, kwh, kvarh: kwh * 0.4, ...(gap ? { gap } : {}) },
    maxKw: null,
    price: (slot, slotKwh) => Cost.price({ kwh: slotKwh, start: slot }, version, { timeZone: zone }),
    base: {
      meterId,
      intervalSeconds: seconds,
      factoryId: ids.factory,
      deviceId: ids.device,
      kvarh: kwh * 0.4,
      kwAvg: null,
      kwMax: null,
      pf: null,
      voltage: null,
      current: null,
      gap,
      source: "kinesis",
      receivedAt: start,
    },
  });
  for (let hour = from.getTime(); hour < to.getTime(); hour += 3_600_000) {
    const batch: Slots.Candidate[] = [];
    const hourOfWeek = Math.floor(hour / 3_600_000) % 168;
    for (const [index, meterId] of all.entries()) {
      // Each meter's gap hour, once a week: the gateway was offline and sent one reading for it.
      if (hourOfWeek === index % 168) {
        batch.push(candidate(meterId, new Date(hour), 3600, 12 * (2 + (index % 17) / 4), true));
        continue;
      }
      for (let slot = 0; slot < 12; slot++) batch.push(candidate(meterId, new Date(hour + slot * 300_000), 300, 2 + ((slot * 7 + index * 13) % 17) / 4, false));
    }
    await Slots.store(batch, new Date());
    readings += batch.length;
    if (Number(process.hrtime.bigint() - lastLog) > 30e9) {
      lastLog = process.hrtime.bigint();
      log(`bench: stored ${readings} readings up to ${new Date(hour).toISOString()} (${seconds(began)} s)`);
    }
  }
  const loadSeconds = seconds(began);
  const slots = meters * ((to.getTime() - from.getTime()) / 300_000);
  log(
    `bench: stored ${slots} slots (${readings} readings, gaps spread) for ${meters} meters through the ingest store in ${loadSeconds} s (${Math.round(slots / loadSeconds)} slots/s)`,
  );
  return { slots, readings, loadSeconds };
}
