/**
 * Issue 17: each figure — power factor, 15-minute demand, load factor, energy per unit, punta share,
 * CO2e — computed through every path that computes it, on the same readings, with month boundaries in
 * the factory's local time: the API route (DuckDB over the lake behind the time-series port), the KPI
 * module on the Postgres port, the KPI module on InfluxDB through the Flux library, the Athena views run
 * on DuckDB over the lake's Parquet, the console, and the import run's energy per unit.
 */
import { factoryTable } from "@wattflow/core/factory/factory.sql";
import { Figures } from "@wattflow/core/kpi/figures";
import { KpiReport } from "@wattflow/core/kpi/report";
import { KpiViews } from "@wattflow/core/kpi/views";
import type { Lake } from "@wattflow/core/lake";
import { LakeSchema } from "@wattflow/core/lake/schema";
import { meterTable } from "@wattflow/core/meter/meter.sql";
import { Production } from "@wattflow/core/production";
import { productionTable } from "@wattflow/core/production/production.sql";
import { Rollup } from "@wattflow/core/rollup";
import { InfluxSink } from "@wattflow/core/sink/influx";
import { Testing } from "@wattflow/core/testing";
import { TimeSeries } from "@wattflow/core/timeseries";
import { InfluxTimeSeries } from "@wattflow/core/timeseries/influx";
import { LakeTimeSeries } from "@wattflow/core/timeseries/local";
import { PostgresTimeSeries } from "@wattflow/core/timeseries/postgres";
import { Usage } from "@wattflow/core/usage";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FakeInflux } from "../../core/test/influx-server";
import { app } from "../src/api/app";
import { ids, type Pipeline, pipeline } from "./support";

const zone = "America/Monterrey";
const [meterA, meterB, meterC] = ids.meters as [string, string, string];

/** Consecutive 5-minute readings of a meter from `start` (UTC), one per kWh figure. */
function readings(meterId: string, start: string, kwhs: readonly number[], options: { kvarh?: number; period: string }): Lake.Row[] {
  return kwhs.map((kwh, slot) =>
    Testing.lakeRow({
      meterId,
      factoryId: ids.factory,
      deviceId: ids.device,
      intervalStart: new Date(Date.parse(start) + slot * 300_000),
      kwh,
      kvarh: options.kvarh ?? null,
      touPeriod: options.period,
      unitPrice: "2.000000",
      cost: (kwh * 2).toFixed(6),
    }),
  );
}

/** Three 5-minute readings filling the 15-minute window that starts at `windowStart` (UTC). */
const window = (meterId: string, windowStart: string, kwh: number, options: { kvarh?: number; period: string }) =>
  readings(meterId, windowStart, [kwh, kwh, kwh], options);

/** `count` readings: all but the last at `each` kWh, the last making the total `total`. */
const spread = (count: number, each: number, total: number) => [...Array.from({ length: count - 1 }, () => each), total - each * (count - 1)];

/**
 * March 2026 in Monterrey (UTC−6, no DST). Meter A (line L0) measures kWh and kVArh; meter B (L1) and
 * meter C (L2) measure kWh only. Three windows:
 *   10 March 10:00 local (16:00Z), base:   A 3×10 kWh + 3×7.5 kVArh, B 3×10, C 3×2  → 66 kWh
 *   10 March 10:15 local (16:15Z), base:   the same                                  → 66 kWh
 *   31 March 20:00 local (1 April 02:00Z, lake partition dt=2026-04-01), punta:
 *                                           A 3×10 + 3×7.5, B 3×20, C 3×2            → 96 kWh
 * Production: L0 made 30 units on 10 March; L2 made 0 units that day (idle); no rows on 31 March.
 */
const march: Lake.Row[] = [
  ...["2026-03-10T16:00:00Z", "2026-03-10T16:15:00Z"].flatMap((start) => [
    ...window(meterA, start, 10, { kvarh: 7.5, period: "base" }),
    ...window(meterB, start, 10, { period: "base" }),
    ...window(meterC, start, 2, { period: "base" }),
  ]),
  ...window(meterA, "2026-04-01T02:00:00Z", 10, { kvarh: 7.5, period: "punta" }),
  ...window(meterB, "2026-04-01T02:00:00Z", 20, { period: "punta" }),
  ...window(meterC, "2026-04-01T02:00:00Z", 2, { period: "punta" }),
];

/** The right value of each figure, derived by hand from the readings above. */
const expected = {
  // A alone measures both: 90 kWh, 67.5 kVArh → 90 / √(90² + 67.5²) = 90 / 112.5. (Counting B and C as PF 1.0 gave 228 / √(228² + 67.5²) = 0.9589.)
  powerFactor: 0.8,
  // The punta window: 96 kWh in 15 minutes × 4.
  peakDemandKw: 384,
  // 228 kWh over the 0.75 hours with data (3 windows) = 304 kW average, ÷ 384 kW.
  loadFactor: 0.7917,
  // L0's 60 kWh on 10 March (its only production day) ÷ 30 units; 31 March has no production row.
  energyPerUnit: 2,
  // 96 punta kWh ÷ 228 kWh.
  puntaShare: 0.4211,
  // March 2026 takes the latest published factor not after it, 2024's 0.444 kg/kWh: 228 × 0.444.
  co2eKg: 101.232,
};

const round = (value: number | null | undefined, digits: number) =>
  value === null || value === undefined ? null : Math.round(value * 10 ** digits) / 10 ** digits;

describe.each(Testing.lanes())("every path gives the same figures on %s", (lane) => {
  let p: Pipeline;
  const influx = new FakeInflux();
  const now = new Date("2026-04-05T00:00:00Z");

  beforeAll(async () => {
    p = await pipeline(lane);
    await influx.start();
    await p.database.db.update(factoryTable).set({ timeZone: zone }).where(eq(factoryTable.id, ids.factory));
    await p.database.db.insert(productionTable).values([
      { factoryId: ids.factory, date: "2026-03-10", line: "L0", shift: "1", units: "30", importRunId: "imp_1", updatedAt: now },
      { factoryId: ids.factory, date: "2026-03-10", line: "L2", shift: "1", units: "0", importRunId: "imp_1", updatedAt: now },
    ]);
    // The same readings in every store: the Postgres reading table, the lake's Parquet, InfluxDB.
    await Testing.insertReadings(p.database.db, march);
    // Written straight into the table, not through the ingest store: its rollups are rebuilt as the backfill does.
    await Rollup.rebuild(p.database.db, { factoryId: ids.factory });
    await p.lake.put(march);
    await new InfluxSink({ url: influx.url, token: "t", org: "wattflow", bucket: "readings" }).write(march);
  });
  afterAll(async () => {
    TimeSeries.provide(undefined);
    await influx.stop();
    await p.close();
  });

  it("PF, demand, load factor, energy per unit, punta share and CO2e agree across the API, the KPI module on each store, the views, the console and the import run", async () => {
    // API route: the time-series port is DuckDB over the lake (the embedded stack's).
    TimeSeries.provide(new LakeTimeSeries(p.lake));
    const response = await app.request(`/v1/factories/${ids.factory}/kpis?month=2026-03`, { headers: { authorization: `Bearer ${p.apiToken}` } });
    const api = (await response.json()) as Awaited<ReturnType<typeof KpiReport.month>>;
    // The KPI module on the Postgres port (a stage without InfluxDB) and on InfluxDB through the Flux library.
    TimeSeries.provide(new PostgresTimeSeries());
    const postgres = await KpiReport.month(ids.organization, ids.factory, { month: "2026-03" }, now);
    TimeSeries.provide(new InfluxTimeSeries({ url: influx.url, token: "t", org: "wattflow", bucket: "readings" }));
    const flux = await KpiReport.month(ids.organization, ids.factory, { month: "2026-03" }, now);
    // The Athena views, run by DuckDB over the same Parquet files.
    for (const view of [...LakeSchema.views("lake"), ...KpiViews.views("lake", { timeZone: zone })]) await p.lake.query(KpiViews.forDuckDb(view.sql, "lake"));
    const [monthly] = (await p.lake.query(`SELECT * FROM kpi_monthly WHERE factory_id = '${ids.factory}' AND local_month = '2026-03'`)) as Record<
      string,
      number
    >[];
    const pfMonths = (await p.lake.query(`SELECT * FROM power_factor_monthly WHERE factory_id = '${ids.factory}' ORDER BY month`)) as Record<string, unknown>[];
    // The console (its factory page for the month) and the import run's energy per unit.
    const consolePage = await Usage.series(ids.organization, ids.factory, { from: "2026-03-01T06:00:00Z", to: "2026-04-01T06:00:00Z", bucket: "1h" });
    const importRun = await Production.energyPerUnit(ids.factory, "2026-03-01", "2026-03-31");

    const kpiRow = (kpis: typeof api) => ({
      powerFactor: kpis.powerFactor,
      peakDemandKw: kpis.demand.peakKw,
      loadFactor: kpis.loadFactor,
      energyPerUnit: kpis.energyPerUnit?.kwhPerUnit ?? null,
      puntaShare: kpis.puntaShare,
      co2eKg: kpis.co2e.kg,
    });
    const table: Record<string, Partial<Record<keyof typeof expected, number | null>>> = {
      "by hand": expected,
      "API /kpis (lake port)": kpiRow(api),
      "KPI module (Postgres port)": kpiRow(postgres),
      "KPI module (InfluxDB, Flux)": kpiRow(flux),
      "views on DuckDB (kpi_monthly)": {
        powerFactor: round(monthly?.power_factor, 4),
        peakDemandKw: round(monthly?.peak_demand_kw, 3),
        loadFactor: round(monthly?.load_factor, 4),
        puntaShare: round(monthly?.punta_share, 4),
        co2eKg: round(monthly?.co2e_kg, 3),
      },
      "view power_factor_monthly": { powerFactor: round(pfMonths[0]?.power_factor as number, 4) },
      "console (Usage.series)": { powerFactor: consolePage.totals.powerFactor, peakDemandKw: consolePage.demand.peak?.kw ?? null },
      "import run (Production.energyPerUnit)": { energyPerUnit: importRun.kwhPerUnit },
    };
    console.table(table);

    expect(response.status).toBe(200);
    for (const [path, figures] of Object.entries(table)) {
      for (const [figure, value] of Object.entries(figures)) expect(value, `${figure} through ${path}`).toBe(expected[figure as keyof typeof expected]);
    }
    // The 31 March evening is March's in every path: one month in the PF view, March's totals hold its 96 kWh.
    expect(pfMonths.map((row) => row.month)).toEqual(["2026-03"]);
    expect([api.totals.kwh, postgres.totals.kwh, flux.totals.kwh, Number(monthly?.kwh)]).toEqual([228, 228, 228, 228]);
  });

  it("energy per unit covers the days with production and keeps the idle line: the import run and /kpis agree (issue 17, case 3)", async () => {
    // Prepare: production for 27–29 November only. Injection (L0, meter A) used 8,642.194 kWh on those
    // three local days (864 readings) and 58.46 kWh on 30 November, which has no production row;
    // Packing (L2, meter C) made 0 units and used 3,698 kWh on the same days.
    const days = ["2026-11-27", "2026-11-28", "2026-11-29"];
    await p.database.db
      .insert(productionTable)
      .values([
        ...days.map((date) => ({ factoryId: ids.factory, date, line: "L0", shift: "", units: "1000", importRunId: "imp_2", updatedAt: now })),
        ...days.map((date) => ({ factoryId: ids.factory, date, line: "L2", shift: "", units: "0", importRunId: "imp_2", updatedAt: now })),
      ]);
    // Local midnight of 27 November in Monterrey is 06:00Z.
    const november = [
      ...readings(meterA, "2026-11-27T06:00:00Z", spread(864, 10, 8642.194), { period: "base" }),
      ...readings(meterA, "2026-11-30T06:00:00Z", spread(288, 0.2, 58.46), { period: "base" }),
      ...readings(meterC, "2026-11-27T06:00:00Z", spread(864, 4.28, 3698), { period: "base" }),
    ];
    await Testing.insertReadings(p.database.db, november);
    await p.lake.put(november);
    TimeSeries.provide(new LakeTimeSeries(p.lake));

    // Act: the import run's figure for the rows it loaded, and the month through the API.
    const importRun = await Production.energyPerUnit(ids.factory, "2026-11-27", "2026-11-29");
    const response = await app.request(`/v1/factories/${ids.factory}/kpis?month=2026-11`, { headers: { authorization: `Bearer ${p.apiToken}` } });
    const api = (await response.json()) as Awaited<ReturnType<typeof KpiReport.month>>;

    // Assess: 8,642.194 kWh / 3,000 units = 2.880731 kWh/unit in both (adding 30 November gave 8,700.654 / 3,000 = 2.900218);
    // Packing's 3,698 kWh stays in as idle consumption: (8,642.194 + 3,698) / 3,000 = 4.113398 with it.
    const injection = { line: "L0", days, units: 3000, kwh: 8642.194, kwhPerUnit: 2.880731 };
    expect(importRun.lines).toEqual([injection, { line: "L2", days, units: 0, kwh: 3698, kwhPerUnit: null }]);
    expect(api.energyPerUnit).toEqual(importRun);
    expect(api.energyPerUnit).toMatchObject({ kwhPerUnit: 2.880731, idle: { kwh: 3698, lines: ["L2"] }, kwhPerUnitWithIdle: 4.113398 });
    expect(api.byLine.find((line) => line.line === "L0")).toMatchObject({ kwh: 8700.654, units: 3000, kwhPerUnit: 2.880731 });
  });

  it("the import run's energy per unit over more than a month, summed a month of local days per statement, equals one sum over the whole span", async () => {
    // Prepare: production on 31 March too, so both production days' readings count: 10 March's, and 31 March's
    // 20:00 local window (1 April 02:00Z), the last of the first piece of local days.
    await p.database.db
      .insert(productionTable)
      .values({ factoryId: ids.factory, date: "2026-03-31", line: "L0", shift: "1", units: "10", importRunId: "imp_3", updatedAt: now });
    try {
      const span = { factoryId: ids.factory, from: new Date("2026-03-01T06:00:00Z"), to: new Date("2026-05-01T06:00:00Z"), timeZone: zone };
      const meters = await p.database.db.select({ id: meterTable.id, line: meterTable.line }).from(meterTable).where(eq(meterTable.factoryId, ids.factory));
      const whole = Figures.energyPerUnit({
        production: await Production.days(ids.factory, "2026-03-01", "2026-04-30"),
        meterDays: await new PostgresTimeSeries().meterDays(span),
        lineOf: new Map(meters.map((meter) => [meter.id, meter.line])),
      });

      // Act
      const pieces = await Production.energyPerUnit(ids.factory, "2026-03-01", "2026-04-30");

      // Assess
      expect(pieces).toEqual(whole);
      expect(pieces.lines.find((line) => line.line === "L0")).toMatchObject({ days: ["2026-03-10", "2026-03-31"], units: 40 });
    } finally {
      await p.database.db.delete(productionTable).where(eq(productionTable.importRunId, "imp_3"));
    }
  });

  it("says which meters each figure used and what the month's data covers", async () => {
    TimeSeries.provide(new LakeTimeSeries(p.lake));

    const kpis = await KpiReport.month(ids.organization, ids.factory, { month: "2026-03" }, now);

    expect(kpis.coverage).toEqual({
      // 31 days × 96 windows; three of them have readings.
      windows: { expected: 2976, withData: 3, missing: 2973, hoursWithData: 0.75, estimated: 0 },
      meters: { withData: [meterA, meterB, meterC], withoutData: [] },
      powerFactor: { meters: [meterA], leftOut: [meterB, meterC], billingMeter: null },
    });
    // L2 made 0 units on 10 March: its 12 kWh that day is idle consumption, kept and reported.
    expect(kpis.energyPerUnit).toMatchObject({ units: 30, kwh: 60, kwhPerUnit: 2, idle: { kwh: 12, lines: ["L2"] }, kwhPerUnitWithIdle: 2.4 });
    expect(kpis.co2e).toMatchObject({ factorKgPerKwh: 0.444, factorYear: 2024 });
  });
});
