/**
 * `wattflow bench cost`: prices N five-minute readings (M meters, one factory, CFE GDMTH central with
 * its holidays) with the core engine, then lets DuckDB price the same readings with the same periods
 * in SQL (local time by ICU, a calendar table of seasons, day types and holidays, hour bands as CASE),
 * checks that both agree to the micro-peso, and times both. Also times one monthly bill over 200
 * meters' readings (1.7 M). Runs in-process; needs no running stack.
 */
import { DuckDBInstance } from "@duckdb/node-api";
import { Bill } from "@wattflow/core/billing";
import { Cost } from "@wattflow/core/cost";
import type { Tariff } from "@wattflow/core/tariff";
import { Cfe } from "@wattflow/core/tariff/cfe";
import { Schedule, toInstant } from "@wattflow/core/tariff/periods";
import type { Command } from "commander";
import Decimal from "decimal.js";
import { CliError } from "../client";

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
  bench
    .command("cost")
    .description("readings priced per second by the core engine against DuckDB pricing the same readings in SQL; a 1.7 M-reading monthly bill")
    .option("--readings <n>", "readings to price", "10000000")
    .option("--meters <n>", "meters in the factory", "200")
    .option("--runs <n>", "runs of each side; the median counts", "3")
    .option("--json", "print the figures as JSON on the last line")
    .action(async (options: { readings: string; meters: string; runs: string; json?: boolean }) => {
      const readings = Number(options.readings);
      const meters = Number(options.meters);
      const runs = Number(options.runs);
      for (const [name, value] of [
        ["--readings", readings],
        ["--meters", meters],
        ["--runs", runs],
      ] as const)
        if (!Number.isInteger(value) || value <= 0) throw new CliError(`${name}: must be a positive whole number`, 2);
      const figures = await benchCost({ readings, meters, runs, log: console.error });
      if (options.json) {
        console.log(JSON.stringify({ bill: figures.bill }));
        console.log(JSON.stringify(figures.cost));
      } else console.log(figures);
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
      seconds: round(seconds),
      readingsPerSecond: Math.round(options.readings / seconds),
      duckdbSeconds: round(duck.seconds),
      ratio: round(seconds / duck.seconds),
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
    // The calendar dimension: season and day type (holidays bill as Sundays) of every local date in range.
    const schedule = new Schedule({ seasons: Cfe.seasons("cfe-gdmth", "central"), holidays: "mx-lft74" });
    const days: string[] = [];
    const first = new Date(options.origin - 86_400_000);
    for (let day = 0; day <= Math.ceil(options.intervals / 288) + 2; day++) {
      const date = new Date(Date.UTC(first.getUTCFullYear(), first.getUTCMonth(), first.getUTCDate() + day));
      const found = schedule.day(date.getUTCFullYear(), date.getUTCMonth() + 1, date.getUTCDate());
      days.push(`(DATE '${date.toISOString().slice(0, 10)}', '${found.season.name}', '${found.dayType}')`);
    }
    await connection.run(`CREATE TABLE days (d DATE PRIMARY KEY, season VARCHAR, day_type VARCHAR); INSERT INTO days VALUES ${days.join(", ")}`);
    await connection.run(
      `CREATE TABLE prices (period VARCHAR, price DECIMAL(18,4)); INSERT INTO prices VALUES ${Object.entries(prices.energy)
        .map(([period, price]) => `('${period}', ${price})`)
        .join(", ")}`,
    );
    const bands = Cfe.seasons("cfe-gdmth", "central").flatMap((season) =>
      (["weekday", "saturday", "sunday"] as const).flatMap((dayType) =>
        season[dayType].map(
          (band) => `WHEN season = '${season.name}' AND day_type = '${dayType}' AND q >= ${band.from * 4} AND q < ${band.to * 4} THEN '${band.period}'`,
        ),
      ),
    );
    const sql = `CREATE OR REPLACE TABLE priced AS
      WITH localized AS (SELECT meter, start, kwh, timezone('${TIME_ZONE}', start) AS local FROM readings),
      classified AS (
        SELECT meter, start, kwh, CASE ${bands.join(" ")} END AS period
        FROM (SELECT *, hour(local) * 4 + minute(local) // 15 AS q FROM localized) l JOIN days ON days.d = CAST(l.local AS DATE)
      )
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
  return { readings: readings.length, seconds: round(seconds), total: bill.total };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
}

function round(value: number): number {
  return Math.round(value * 1000) / 1000;
}
