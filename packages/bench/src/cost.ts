/**
 * `npm run bench:cost`: prices N five-minute readings (M meters, one factory, CFE GDMTH central with
 * its holidays) with the core engine, then lets DuckDB price the same readings with the same periods
 * in SQL (local time by ICU, a calendar table of seasons, day types and holidays, hour bands as CASE),
 * checks that both agree to the micro-peso, and times both. Also times one monthly bill over 200
 * meters' readings (1.7 M). Runs in-process; needs no running stack.
 */
import { spawnSync } from "node:child_process";
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type DuckDBConnection, DuckDBInstance } from "@duckdb/node-api";
import { CliError } from "@wattflow/cli/client";
import { Bill } from "@wattflow/core/billing";
import { Cost } from "@wattflow/core/cost";
import type { Tariff } from "@wattflow/core/tariff";
import { Cfe } from "@wattflow/core/tariff/cfe";
import { Schedule } from "@wattflow/core/tariff/periods";
import { toInstant } from "@wattflow/core/time";
import { round } from "@wattflow/core/util/number";
import type { Command } from "commander";
import Decimal from "decimal.js";
import { benchCommand, numberOption } from "./command";

const TIME_ZONE = Cfe.timeZones.central;
const SLOT_S = 300;
/** GDMTH Noroeste, March 2026 (../shared/reference/cfe-gdmth.md), for every month of the run. */
const prices = { fixed: "197.77", energy: { base: "0.9715", intermedia: "1.5573", punta: "1.7262" }, distribution: "90.85", capacity: "392.66" };

/** kWh of meter m in interval i, in thousandths: the same formula in JS and SQL, 1.000–20.999 kWh. */
const milliKwh = (interval: number, meter: number) => ((interval * 7919 + meter * 104729) % 20000) + 1000;
const milliKwhSql = "((i * 7919 + m * 104729) % 20000) + 1000";

const definition = (): Tariff.Definition => ({ kind: "cfe-gdmth", zone: "central", prices: [prices] });
const version = (): Tariff.Version => ({ id: "bench", factoryId: "bench", effectiveFrom: new Date(0), definition: definition() });

export function registerBenchCost(bench: Command): void {
  benchCommand(bench, "cost", "readings priced per second by the core engine against DuckDB pricing the same readings in SQL; a 1.7 M-reading monthly bill")
    .option("--readings <n>", "readings to price", numberOption("--readings"), 10_000_000)
    .option("--meters <n>", "meters in the factory", numberOption("--meters"), 200)
    .option("--runs <n>", "runs of each side; the median counts", numberOption("--runs"), 3)
    .option("--end-to-end <list>", "readings per end-to-end run (wattflow cost vs pandas vs DuckDB on files), comma-separated; 0 for none", "1000000,10000000")
    .action(async ({ readings, meters, runs, ...options }: { readings: number; meters: number; runs: number; endToEnd: string; json?: boolean }) => {
      const sizes = options.endToEnd.split(",").map(Number);
      if (sizes.some((size) => !Number.isInteger(size) || size < 0)) throw new CliError("--end-to-end: readings must be whole numbers, comma-separated", 2);
      const figures = await benchCost({ readings, meters, runs, log: console.error });
      const endToEndFigures = [];
      for (const size of sizes.filter((size) => size > 0)) endToEndFigures.push(await endToEnd(size, meters, console.error));
      if (options.json) {
        console.log(JSON.stringify({ bill: figures.bill }));
        console.log(JSON.stringify({ endToEnd: endToEndFigures }));
        console.log(JSON.stringify(figures.cost));
      } else console.log({ ...figures, endToEnd: endToEndFigures });
    });
}

type Totals = Map<string, { readings: number; kwh: string; cost: string }>;

export async function benchCost(options: { readings: number; meters: number; runs: number; log: (line: string) => void }) {
  const origin = toInstant({ year: 2026, month: 1, day: 1, hour: 0, minute: 0 }, TIME_ZONE) as number;
  const intervals = Math.ceil(options.readings / options.meters);
  options.log(`bench: ${options.readings} readings, ${options.meters} meters, ${intervals} intervals from ${new Date(origin).toISOString()} (${TIME_ZONE})`);

  const start = new Float64Array(options.readings);
  const kwh = new Float64Array(options.readings);
  for (let index = 0; index < options.readings; index++) {
    const interval = Math.floor(index / options.meters);
    start[index] = origin + interval * SLOT_S * 1000;
    kwh[index] = milliKwh(interval, index - interval * options.meters) / 1000;
  }

  let engineTotals: Totals = new Map();
  let engine: ReturnType<typeof Cost.priceColumns> | undefined;
  const engineTimes: number[] = [];
  for (let run = 0; run < options.runs; run++) {
    // A fresh definition each run: the calendar cache starts cold, as in a new process.
    const began = performance.now();
    const priced = Cost.priceColumns({ start, kwh }, version(), { timeZone: TIME_ZONE });
    const count = new Float64Array(priced.periods.length);
    const kwhMicro = new Float64Array(priced.periods.length);
    const costMicro = new Float64Array(priced.periods.length);
    for (let index = 0; index < options.readings; index++) {
      const period = priced.period[index] as number;
      count[period] = (count[period] as number) + 1;
      kwhMicro[period] = (kwhMicro[period] as number) + Math.round((kwh[index] as number) * 1e6);
      costMicro[period] = (costMicro[period] as number) + (priced.costMicro[index] as number);
    }
    engineTimes.push((performance.now() - began) / 1000);
    engine = priced;
    engineTotals = new Map(
      priced.periods.map((name, index) => [
        name,
        {
          readings: count[index] as number,
          kwh: new Decimal(kwhMicro[index] as number).div(1e6).toFixed(3),
          cost: new Decimal(costMicro[index] as number).div(1e6).toFixed(6),
        },
      ]),
    );
  }
  const seconds = median(engineTimes);
  options.log(`bench: engine priced ${options.readings} readings in ${engineTimes.map((time) => time.toFixed(3)).join(" / ")} s`);

  const duck = await duckdbPrice({ origin, intervals, ...options });
  for (const [period, totals] of engineTotals) {
    const other = duck.totals.get(period) ?? { readings: 0, kwh: "0.000", cost: "0.000000" };
    if (totals.readings > 0 && JSON.stringify(totals) !== JSON.stringify(other))
      throw new CliError(`engine and DuckDB disagree on ${period}: ${JSON.stringify(totals)} vs ${JSON.stringify(other)}`);
  }
  // And reading by reading, on a sample of DuckDB's rows.
  for (const row of duck.sample) {
    const index = row.interval * options.meters + row.meter;
    const period = engine?.periods[engine.period[index] as number];
    const cost = new Decimal(engine?.costMicro[index] ?? Number.NaN).div(1e6).toFixed(6);
    if (period !== row.period || cost !== row.cost)
      throw new CliError(`engine and DuckDB disagree on reading ${index}: ${period} ${cost} vs ${row.period} ${row.cost}`);
  }
  options.log(
    `bench: DuckDB priced the same readings in ${duck.times.map((time) => time.toFixed(3)).join(" / ")} s; ${duck.sample.length} sampled readings and the totals agree: ${JSON.stringify(Object.fromEntries(engineTotals))}`,
  );

  const bill = benchBill(options.meters, options.log);
  return {
    cost: {
      readings: options.readings,
      seconds: round(seconds, 3),
      readingsPerSecond: Math.round(options.readings / seconds),
      duckdbSeconds: round(duck.seconds, 3),
      ratio: round(seconds / duck.seconds, 3),
    },
    bill,
  };
}

/** The same readings, priced by DuckDB in SQL. */
async function duckdbPrice(options: { origin: number; intervals: number; readings: number; meters: number; runs: number }) {
  const instance = await DuckDBInstance.create(":memory:");
  const connection = await instance.connect();
  try {
    await connection.run(`CREATE TABLE readings AS
      SELECT m::USMALLINT AS meter, to_timestamp(${options.origin / 1000} + i * ${SLOT_S}) AS start, (${milliKwhSql})::DECIMAL(18,0) * 0.001 AS kwh
      FROM range(${options.intervals}) r(i), range(${options.meters}) s(m)
      WHERE i * ${options.meters} + m < ${options.readings}`);
    const bands = await calendarTables(connection, options.origin - 86_400_000, Math.ceil(options.intervals / 288) + 3);
    const sql = `CREATE OR REPLACE TABLE priced AS ${pricingSql("readings", bands)}
      SELECT meter, start, period, kwh, price AS unit_price, round(kwh * price, 6) AS cost FROM classified JOIN prices USING (period)`;
    const times: number[] = [];
    let totals: Totals = new Map();
    for (let run = 0; run < options.runs; run++) {
      const began = performance.now();
      await connection.run(sql);
      const reader = await connection.runAndReadAll(
        "SELECT period, count(*)::BIGINT AS n, sum(kwh)::VARCHAR AS kwh, sum(cost)::VARCHAR AS cost FROM priced GROUP BY period",
      );
      times.push((performance.now() - began) / 1000);
      totals = new Map(
        (reader.getRowObjectsJS() as { period: string; n: bigint; kwh: string; cost: string }[]).map((row) => [
          row.period,
          { readings: Number(row.n), kwh: new Decimal(row.kwh).toFixed(3), cost: new Decimal(row.cost).toFixed(6) },
        ]),
      );
    }
    const sample = (
      (
        await connection.runAndReadAll(
          `SELECT meter::INTEGER AS meter, ((epoch_ms(start) - ${options.origin}) // ${SLOT_S * 1000})::INTEGER AS interval, period, cost::VARCHAR AS cost FROM priced USING SAMPLE 2000 ROWS`,
        )
      ).getRowObjectsJS() as { meter: number; interval: number; period: string; cost: string }[]
    ).map((row) => ({ ...row, cost: new Decimal(row.cost).toFixed(6) }));
    return { seconds: median(times), times, totals, sample };
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

/** The days of GDMTH central from `from` (epoch ms) on: local date, season and day type (holidays bill as Sundays). */
function calendarDays(from: number, count: number) {
  const schedule = new Schedule({ seasons: Cfe.seasons("cfe-gdmth", "central"), holidays: "mx-lft74" });
  const first = new Date(from);
  return Array.from({ length: count }, (_, day) => {
    const date = new Date(Date.UTC(first.getUTCFullYear(), first.getUTCMonth(), first.getUTCDate() + day));
    const found = schedule.day(date.getUTCFullYear(), date.getUTCMonth() + 1, date.getUTCDate());
    return { date: date.toISOString().slice(0, 10), season: found.season.name, dayType: found.dayType };
  });
}

const dayTypes = ["weekday", "saturday", "sunday"] as const;

/** The calendar dimension and prices as DuckDB tables (`days`, `prices`); returns the CASE arms that give a quarter's period. */
async function calendarTables(connection: DuckDBConnection, from: number, count: number): Promise<string[]> {
  const days = calendarDays(from, count).map((day) => `(DATE '${day.date}', '${day.season}', '${day.dayType}')`);
  await connection.run(`CREATE TABLE days (d DATE PRIMARY KEY, season VARCHAR, day_type VARCHAR); INSERT INTO days VALUES ${days.join(", ")}`);
  await connection.run(
    `CREATE TABLE prices (period VARCHAR, price DECIMAL(18,4)); INSERT INTO prices VALUES ${Object.entries(prices.energy)
      .map(([period, price]) => `('${period}', ${price})`)
      .join(", ")}`,
  );
  return Cfe.seasons("cfe-gdmth", "central").flatMap((season) =>
    dayTypes.flatMap((dayType) =>
      season[dayType].map(
        (band) => `WHEN season = '${season.name}' AND day_type = '${dayType}' AND q >= ${band.from * 4} AND q < ${band.to * 4} THEN '${band.period}'`,
      ),
    ),
  );
}

/** DuckDB's SELECT that prices `source` (meterId, start, seconds, kwh) with the `days` and `prices` tables. */
const pricingSql = (source: string, bands: string[]) => `
  WITH localized AS (SELECT *, timezone('${TIME_ZONE}', start) AS local FROM ${source}),
  classified AS (
    SELECT l.*, CASE ${bands.join(" ")} END AS period
    FROM (SELECT *, hour(local) * 4 + minute(local) // 15 AS q FROM localized) l JOIN days ON days.d = CAST(l.local AS DATE)
  )`;

/**
 * The whole path a user runs, on one file of `readings` readings: `wattflow cost` (a new process, reading NDJSON,
 * writing priced NDJSON) beside a pandas-style script (CSV in, priced CSV out; Python's csv module when pandas is
 * missing) and DuckDB (NDJSON in, priced NDJSON out), one after another in the same run. Wall seconds and, for the
 * two processes, CPU seconds (user + system, by /usr/bin/time when present). DuckDB's totals must equal the CLI's.
 */
async function endToEnd(readings: number, meters: number, log: (line: string) => void) {
  const dir = mkdtempSync(join(tmpdir(), "wattflow-bench-cost-"));
  try {
    const origin = toInstant({ year: 2026, month: 1, day: 1, hour: 0, minute: 0 }, TIME_ZONE) as number;
    const file = (name: string) => join(dir, name);
    const ndjson = openSync(file("readings.ndjson"), "w");
    const csv = openSync(file("readings.csv"), "w");
    writeSync(csv, "meterId,start,seconds,kwh\n");
    let json: string[] = [];
    let rows: string[] = [];
    for (let index = 0; index < readings; index++) {
      const interval = Math.floor(index / meters);
      const meter = index - interval * meters;
      const start = new Date(origin + interval * SLOT_S * 1000).toISOString();
      const kwh = milliKwh(interval, meter) / 1000;
      json.push(`{"meterId":"m${meter}","start":"${start}","seconds":300,"kwh":${kwh}}\n`);
      rows.push(`m${meter},${start},300,${kwh}\n`);
      if (json.length === 100_000 || index === readings - 1) {
        writeSync(ndjson, json.join(""));
        writeSync(csv, rows.join(""));
        json = [];
        rows = [];
      }
    }
    closeSync(ndjson);
    closeSync(csv);
    const dayCount = Math.ceil(Math.ceil(readings / meters) / 288) + 3;
    const days = calendarDays(origin - 86_400_000, dayCount);
    const kinds = Cfe.seasons("cfe-gdmth", "central").flatMap((season) => dayTypes.map((dayType) => ({ season, dayType })));
    writeFileSync(
      file("days.csv"),
      `date,day\n${days.map((day) => `${day.date},${kinds.findIndex((kind) => kind.season.name === day.season && kind.dayType === day.dayType)}`).join("\n")}\n`,
    );
    const quarters = (bands: { from: number; to: number; period: string }[]) =>
      Array.from({ length: 96 }, (_, q) => bands.find((band) => q >= band.from * 4 && q < band.to * 4)?.period);
    writeFileSync(file("bands.json"), JSON.stringify(kinds.map((kind) => quarters(kind.season[kind.dayType]))));
    writeFileSync(file("prices.json"), JSON.stringify(prices.energy));
    writeFileSync(file("cli-prices.json"), JSON.stringify(prices));

    const cli = timed(
      process.execPath,
      [bin, "cost", "--tariff", "cfe-gdmth", "--zone", "central", "--prices", file("cli-prices.json"), "--input", file("readings.ndjson")],
      file("cli.ndjson"),
    );
    log(`bench: end to end ${readings}: wattflow cost ${cli.seconds.toFixed(3)} s (CPU ${cli.cpuSeconds?.toFixed(3) ?? "n/a"} s)`);
    const python = pythonWithPandas();
    const script = fileURLToPath(new URL("./cost-yardstick.py", import.meta.url));
    const yardstick = timed(
      python,
      [script, file("readings.csv"), file("days.csv"), file("bands.json"), file("prices.json"), file("yardstick.csv"), TIME_ZONE],
      file("yardstick.out"),
    );
    const kind = readFileSync(file("yardstick.out"), "utf8").trim();
    log(
      `bench: end to end ${readings}: ${kind === "pandas" ? "pandas" : "Python csv + dict (pandas is not installed)"} ${yardstick.seconds.toFixed(3)} s (CPU ${yardstick.cpuSeconds?.toFixed(3) ?? "n/a"} s)`,
    );

    const instance = await DuckDBInstance.create(":memory:");
    const connection = await instance.connect();
    try {
      const bands = await calendarTables(connection, origin - 86_400_000, dayCount);
      const began = performance.now();
      const cpu = process.cpuUsage();
      await connection.run(`COPY (${pricingSql(`read_json('${file("readings.ndjson")}', format = 'newline_delimited', columns = { meterId: 'VARCHAR', start: 'TIMESTAMPTZ', seconds: 'INTEGER', kwh: 'DECIMAL(18,6)' })`, bands)}
        SELECT meterId, strftime(start AT TIME ZONE 'UTC', '%Y-%m-%dT%H:%M:%S.%gZ') AS start, seconds, kwh, period, price::VARCHAR AS unitPrice, round(kwh * price, 6)::VARCHAR AS cost
        FROM classified JOIN prices USING (period)) TO '${file("duckdb.ndjson")}' (FORMAT JSON)`);
      const duckdbSeconds = (performance.now() - began) / 1000;
      // DuckDB's threads run in this process: its CPU is this process's over the query.
      const used = process.cpuUsage(cpu);
      const duckdbCpuSeconds = (used.user + used.system) / 1e6;
      log(`bench: end to end ${readings}: DuckDB ${duckdbSeconds.toFixed(3)} s (CPU ${duckdbCpuSeconds.toFixed(3)} s)`);
      const sum = async (path: string) =>
        (
          await connection.runAndReadAll(
            `SELECT count(*)::VARCHAR AS n, sum(cost::DECIMAL(38,6))::VARCHAR AS cost FROM read_json('${path}', format = 'newline_delimited', columns = { cost: 'VARCHAR' })`,
          )
        ).getRowObjectsJS()[0] as { n: string; cost: string };
      const [ours, theirs] = [await sum(file("cli.ndjson")), await sum(file("duckdb.ndjson"))];
      if (ours.n !== String(readings) || ours.n !== theirs.n || !new Decimal(ours.cost).eq(theirs.cost))
        throw new CliError(`wattflow cost and DuckDB disagree end to end: ${JSON.stringify(ours)} vs ${JSON.stringify(theirs)}`);
      log(`bench: end to end ${readings}: wattflow cost and DuckDB agree on ${ours.n} readings costing ${ours.cost}`);
      return {
        readings,
        cliSeconds: round(cli.seconds, 3),
        cliCpuSeconds: cli.cpuSeconds === null ? null : round(cli.cpuSeconds, 3),
        yardstick: kind === "pandas" ? "pandas" : "python-csv",
        yardstickSeconds: round(yardstick.seconds, 3),
        yardstickCpuSeconds: yardstick.cpuSeconds === null ? null : round(yardstick.cpuSeconds, 3),
        duckdbSeconds: round(duckdbSeconds, 3),
        duckdbCpuSeconds: round(duckdbCpuSeconds, 3),
        cliOverYardstick: round(cli.seconds / yardstick.seconds, 3),
        cliOverDuckdb: round(cli.seconds / duckdbSeconds, 3),
        ...(cli.cpuSeconds !== null && yardstick.cpuSeconds !== null
          ? { cliCpuOverYardstickCpu: round(cli.cpuSeconds / yardstick.cpuSeconds, 3), cliCpuOverDuckdbCpu: round(cli.cpuSeconds / duckdbCpuSeconds, 3) }
          : {}),
      };
    } finally {
      connection.closeSync();
      instance.closeSync();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const bin = fileURLToPath(new URL("../../cli/bin/wattflow.mjs", import.meta.url));

/** Runs a process to completion with stdout to `out`: wall seconds and CPU seconds (null without /usr/bin/time). */
function timed(command: string, args: string[], out: string): { seconds: number; cpuSeconds: number | null } {
  const fd = openSync(out, "w");
  const usage = `${out}.time`;
  const measured = existsSync("/usr/bin/time");
  const began = performance.now();
  const result = measured
    ? spawnSync("/usr/bin/time", ["-f", "%U %S", "-o", usage, command, ...args], { stdio: ["ignore", fd, "pipe"] })
    : spawnSync(command, args, { stdio: ["ignore", fd, "pipe"] });
  const seconds = (performance.now() - began) / 1000;
  closeSync(fd);
  if (result.status !== 0) throw new CliError(`${command} ${args.join(" ")} failed (${result.status}): ${result.stderr?.toString().slice(-500)}`);
  if (!measured) return { seconds, cpuSeconds: null };
  const [user, system] = readFileSync(usage, "utf8").trim().split("\n").at(-1)?.split(" ").map(Number) ?? [];
  return { seconds, cpuSeconds: (user ?? 0) + (system ?? 0) };
}

/** A Python that has pandas (Debian's python3-pandas lives in /usr/bin/python3's packages), else the first Python found. */
function pythonWithPandas(): string {
  const candidates = ["python3", "/usr/bin/python3"];
  for (const python of candidates) if (spawnSync(python, ["-c", "import pandas"], { stdio: "ignore" }).status === 0) return python;
  const found = candidates.find((python) => spawnSync(python, ["--version"], { stdio: "ignore" }).status === 0);
  if (!found) throw new CliError("the yardstick needs python3");
  return found;
}

/** One April bill for every meter of the factory (200 × 30 × 288 = 1.728 M readings). */
function benchBill(meters: number, log: (line: string) => void) {
  const from = toInstant({ year: 2026, month: 4, day: 1, hour: 0, minute: 0 }, TIME_ZONE) as number;
  const intervals = 30 * 288;
  const readings: Bill.Reading[] = [];
  for (let interval = 0; interval < intervals; interval++)
    for (let meter = 0; meter < meters; meter++)
      readings.push({
        start: new Date(from + interval * SLOT_S * 1000),
        seconds: SLOT_S,
        kwh: milliKwh(interval, meter) / 1000,
        kvarh: milliKwh(interval, meter) / 2500,
      });
  const began = performance.now();
  const bill = Bill.compute({ definition: definition() as Bill.Input["definition"], period: { start: "2026-04-01", end: "2026-05-01" }, usage: { readings } });
  const seconds = (performance.now() - began) / 1000;
  log(`bench: April bill over ${readings.length} readings in ${seconds.toFixed(3)} s: total ${bill.total} MXN`);
  return { readings: readings.length, seconds: round(seconds, 3), total: bill.total };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
}
