/**
 * `npm run bench:kpi`: (1) a factory's month of KPIs from the local lake — 200 meters × 31 days of
 * 5-minute readings written as Parquet, plus late corrections, then the time-series port (DuckDB)
 * and the KPI math, and the Athena views on DuckDB; (2) the Flux builder making 100,000 queries.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Flux } from "@wattflow/core/flux";
import { Kpi } from "@wattflow/core/kpi";
import { KpiViews } from "@wattflow/core/kpi/views";
import type { Lake } from "@wattflow/core/lake";
import { LocalLake } from "@wattflow/core/lake/local";
import { LakeSchema } from "@wattflow/core/lake/schema";
import type { Tariff } from "@wattflow/core/tariff";
import { DEMAND_SHIFT } from "@wattflow/core/tariff/periods";
import { Plan } from "@wattflow/core/tariff/plan";
import { Testing } from "@wattflow/core/testing";
import { LakeTimeSeries } from "@wattflow/core/timeseries/local";
import type { Command } from "commander";
import { benchCommand, numberOption, printFigures } from "./command";

const zone = "America/Mexico_City";
const factoryId = "fac_bench";
const version = Testing.gdmthVersion({ id: "trf_bench", factoryId });

export function registerBenchKpi(bench: Command): void {
  benchCommand(bench, "kpi", "a month of KPIs for 200 meters from the local lake, and 100,000 Flux queries")
    .option("--meters <n>", "meters in the factory", numberOption("--meters"), 200)
    .option("--days <n>", "days of March 2026 with readings", numberOption("--days"), 31)
    .option("--queries <n>", "Flux queries to build", numberOption("--queries"), 100_000)
    .option("--runs <n>", "KPI runs after the first (warm)", numberOption("--runs", { min: 0 }), 3)
    .action(async (options: { meters: number; days: number; queries: number; runs: number; json?: boolean }) => {
      const figures = { ...(await benchKpi({ ...options, log: console.error })), flux: benchFlux(options.queries) };
      console.error(
        `bench: Flux builder made ${figures.flux.queries} queries in ${figures.flux.ms} ms (${figures.flux.microsPerQuery} µs each, ${figures.flux.queriesPerSecond}/s)`,
      );
      printFigures(figures, options.json);
    });
}

const ms = (from: bigint) => Math.round(Number(process.hrtime.bigint() - from) / 1e5) / 10;

export async function benchKpi(options: { meters: number; days: number; runs: number; log: (line: string) => void }) {
  const dir = mkdtempSync(join(tmpdir(), "wattflow-bench-kpi-"));
  const lake = new LocalLake(join(dir, "lake"));
  try {
    const plan = Plan.of(version.definition as Exclude<Tariff.Definition, { kind: "flat" }>);
    const calendar = plan.calendar(zone);
    const prices = plan.pricesFor(2026 * 12 + 2).prices;
    const first = Date.parse("2026-03-01T06:00:00Z");
    const meterIds = Array.from({ length: options.meters }, (_, index) => `mtr_bench_${String(index).padStart(4, "0")}`);
    let rows = 0;
    let began = process.hrtime.bigint();
    for (let day = 0; day < options.days; day++) {
      const batch: Lake.Row[] = [];
      for (let slot = 0; slot < 288; slot++) {
        const start = new Date(first + (day * 288 + slot) * 300_000);
        const period = plan.schedule.periods[calendar.codeAt(start.getTime()) % DEMAND_SHIFT] as string;
        const price = prices.energy[period]?.[0]?.price ?? "0";
        for (const [index, meterId] of meterIds.entries()) {
          const kwh = 2 + ((slot * 7 + index * 13) % 17) / 4;
          batch.push(row(meterId, start, kwh, period, price, new Date("2026-04-01T00:00:00Z")));
        }
      }
      // One reading in a hundred is recosted later: a second copy the views and the port must not double-count.
      const corrections = batch.filter((_, index) => index % 100 === 0).map((item) => ({ ...item, computedAt: new Date("2026-04-02T00:00:00Z") }));
      await lake.put([...batch, ...corrections]);
      rows += batch.length + corrections.length;
    }
    const writeMs = ms(began);
    options.log(`bench: wrote ${rows} readings (${options.meters} meters × ${options.days} days, 1 % corrected) to the local lake in ${writeMs} ms`);

    const series = new LakeTimeSeries(lake);
    const range = { factoryId, ...Kpi.monthRange("2026-03", zone) };
    const meters = meterIds.map((id, index) => ({ id, line: `L${index % 10}` }));
    const runs: { seriesMs: number; computeMs: number; totalMs: number; cpuMs: number }[] = [];
    let kwh = 0;
    for (let run = 0; run <= options.runs; run++) {
      began = process.hrtime.bigint();
      // CPU time too: on a shared machine wall time says as much about the neighbours as about us.
      const cpu = process.cpuUsage();
      const { windows, meterDays } = await series.usage({ ...range, timeZone: zone });
      const seriesMs = ms(began);
      const computed = process.hrtime.bigint();
      const kpis = Kpi.compute({
        month: "2026-03",
        timeZone: zone,
        now: new Date("2026-04-05T00:00:00Z"),
        currency: "MXN",
        contractedDemandKw: 5000,
        windows,
        meterDays,
        meters,
        production: [{ line: "L0", day: "2026-03-02", units: 10_000 }],
      });
      const used = process.cpuUsage(cpu);
      runs.push({ seriesMs, computeMs: ms(computed), totalMs: ms(began), cpuMs: Math.round((used.user + used.system) / 1000) });
      kwh = kpis.totals.kwh;
    }
    const [cold, ...warm] = runs;
    const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;

    for (const view of [...LakeSchema.views("lake"), ...KpiViews.views("lake", { timeZone: zone })]) await lake.query(KpiViews.forDuckDb(view.sql, "lake"));
    began = process.hrtime.bigint();
    await lake.query("SELECT * FROM kpi_monthly");
    const viewsMs = ms(began);

    const figures = {
      meters: options.meters,
      days: options.days,
      readings: rows,
      writeMs,
      kwh,
      kpiColdMs: cold?.totalMs ?? 0,
      kpiWarmMedianMs: median(warm.map((item) => item.totalMs)),
      kpiWarmMedianCpuMs: median(warm.map((item) => item.cpuMs)),
      warmParts: { lakeMs: median(warm.map((item) => item.seriesMs)), computeMs: median(warm.map((item) => item.computeMs)) },
      athenaViewMonthlyOnDuckDbMs: viewsMs,
    };
    options.log(
      `bench: KPI month from the lake: ${figures.kpiColdMs} ms cold, ${figures.kpiWarmMedianMs} ms warm, ${figures.kpiWarmMedianCpuMs} ms CPU (DuckDB ${figures.warmParts.lakeMs}, math ${figures.warmParts.computeMs}); kpi_monthly view ${viewsMs} ms`,
    );
    return figures;
  } finally {
    await lake.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

function row(meterId: string, start: Date, kwh: number, period: string, price: string, computedAt: Date): Lake.Row {
  return {
    meterId,
    factoryId,
    deviceId: "dev_bench",
    intervalStart: start,
    intervalSeconds: 300,
    kwh,
    kvarh: kwh / 3,
    kwAvg: kwh * 12,
    kwMax: null,
    pf: null,
    voltage: null,
    current: null,
    touPeriod: period,
    tariffId: version.id,
    unitPrice: price,
    cost: (kwh * Number(price)).toFixed(6),
    estimated: false,
    gap: false,
    computedAt,
    source: "kinesis",
    receivedAt: start,
  };
}

/** Builds `count` queries of the four one-call kinds over varying meters, ranges and windows. */
export function benchFlux(count: number) {
  const everies = ["5m", "15m", "1h", "1d"];
  let bytes = 0;
  const began = process.hrtime.bigint();
  for (let index = 0; index < count; index++) {
    const from = new Date(Date.UTC(2026, 0, 1) + (index % 365) * 86_400_000);
    const scope = { bucket: "readings", from, to: new Date(from.getTime() + 86_400_000), meterIds: [`mtr_${index % 200}`, `mtr_${(index + 1) % 200}`] };
    const every = everies[index % 4] as string;
    const query =
      index % 4 === 0
        ? Flux.energy({ ...scope, every })
        : index % 4 === 1
          ? Flux.costByPeriod({ ...scope, timeZone: zone })
          : index % 4 === 2
            ? Flux.demandPeaks({ ...scope, top: 5 })
            : Flux.powerFactor({ ...scope, every });
    bytes += query.length;
  }
  const elapsed = ms(began);
  return {
    queries: count,
    ms: elapsed,
    microsPerQuery: Math.round((elapsed * 1000 * 100) / count) / 100,
    queriesPerSecond: Math.round(count / (elapsed / 1000)),
    averageBytes: Math.round(bytes / count),
  };
}
