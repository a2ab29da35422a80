import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Cost } from "../src/cost";
import { deviceTable } from "../src/device/device.sql";
import { factoryTable } from "../src/factory/factory.sql";
import { Kpi } from "../src/kpi";
import { KpiReport } from "../src/kpi/report";
import { KpiViews } from "../src/kpi/views";
import type { Lake } from "../src/lake";
import { LakeSchema } from "../src/lake/schema";
import { meterTable } from "../src/meter/meter.sql";
import { organizationTable } from "../src/organization/organization.sql";
import { productionTable } from "../src/production/production.sql";
import { readingTable } from "../src/reading/reading.sql";
import { Rollup } from "../src/rollup";
import type { Tariff } from "../src/tariff";
import { TariffStore } from "../src/tariff/store";
import { Testing } from "../src/testing";
import { TimeSeries } from "../src/timeseries";
import { LakeTimeSeries } from "../src/timeseries/local";
import { temporaryLake } from "./temporary-lake";

const zone = "America/Mexico_City";
/** GDMTH central, March 2026 prices (the billing tests' Noroeste figures). */
const gdmth = Testing.gdmthVersion({ id: "trf_kpi", factoryId: "fac_kpi" });
const _flat: Tariff.Version = { ...gdmth, definition: { kind: "flat", currency: "MXN", energyPrice: "2" } };

/** Sums 5-minute readings into the factory's 15-minute windows, as the time-series port does. */
function _windowsOf(readings: readonly { start: Date; kwh: number; kvarh?: number | null; period?: string; cost?: string }[]): TimeSeries.Window[] {
  const byStart = new Map<number, TimeSeries.Window>();
  for (const reading of readings) {
    const start = Math.floor(reading.start.getTime() / 900_000) * 900_000;
    const window = byStart.get(start) ?? { start: new Date(start), period: reading.period ?? null, kwh: 0, kvarh: null, kwhWithKvarh: 0, cost: "0" };
    window.kwh += reading.kwh;
    if (reading.kvarh !== undefined && reading.kvarh !== null) {
      window.kvarh = (window.kvarh ?? 0) + reading.kvarh;
      window.kwhWithKvarh += reading.kwh;
    }
    window.cost = (Number(window.cost) + Number(reading.cost ?? 0)).toFixed(6);
    byStart.set(start, window);
  }
  return [...byStart.values()].sort((a, b) => a.start.getTime() - b.start.getTime());
}

describe("KPI math", () => {
  /** Two local days of March 2026 at 10 kWh (5 kVArh, 20.00) per window; one 30 kWh window in punta on Sunday 1 March 19:00. */
  function twoDays(): TimeSeries.Window[] {
    const first = Date.parse("2026-03-01T06:00:00Z");
    return Array.from({ length: 192 }, (_, index) => {
      const start = new Date(first + index * 900_000);
      const hour = new Date(start.getTime() - 6 * 3_600_000).getUTCHours();
      const kwh = start.toISOString() === "2026-03-02T01:00:00.000Z" ? 30 : 10;
      return { start, period: hour >= 18 && hour < 22 ? "punta" : "base", kwh, kvarh: 5, kwhWithKvarh: kwh, cost: (kwh * 2).toFixed(6) };
    });
  }
  const input = (): Kpi.Input => ({
    month: "2026-03",
    timeZone: zone,
    now: new Date("2026-03-03T06:00:00Z"),
    currency: "MXN",
    contractedDemandKw: 200,
    windows: twoDays(),
    meterDays: [
      { meterId: "m1", day: "2026-03-01", kwh: 500, cost: "1000", kvarh: 250, kwhWithKvarh: 500 },
      { meterId: "m1", day: "2026-03-02", kwh: 500, cost: "1000", kvarh: 250, kwhWithKvarh: 500 },
      { meterId: "m2", day: "2026-03-01", kwh: 480, cost: "960", kvarh: 240, kwhWithKvarh: 480 },
      { meterId: "m2", day: "2026-03-02", kwh: 460, cost: "920", kvarh: 220, kwhWithKvarh: 460 },
    ],
    meters: [
      { id: "m1", line: "A" },
      { id: "m2", line: "B" },
    ],
    production: [
      { line: "A", day: "2026-03-01", units: 60 },
      { line: "A", day: "2026-03-02", units: 40 },
    ],
  });

  it("adds energy and cost up per day, shift, period and line, and reads the month's demand", () => {
    const kpis = Kpi.compute(input());

    expect(kpis.totals).toEqual({ kwh: 1940, kvarh: 960, cost: "3880.00", windows: 192, estimatedKwh: 0, estimatedShare: 0 });
    expect(kpis.byDay).toEqual([
      { day: "2026-03-01", kwh: 980, cost: "1960.00" },
      { day: "2026-03-02", kwh: 960, cost: "1920.00" },
    ]);
    expect(kpis.byShift).toEqual([
      { shift: "1", kwh: 640, cost: "1280.00" },
      { shift: "2", kwh: 660, cost: "1320.00" },
      { shift: "3", kwh: 640, cost: "1280.00" },
    ]);
    expect(kpis.byPeriod.map((period) => [period.period, period.kwh])).toEqual([
      ["base", 1600],
      ["punta", 340],
    ]);
    expect(kpis.puntaShare).toBe(0.1753);
    expect(kpis.demand).toEqual({ peakKw: 120, peakAt: "2026-03-02T01:00:00.000Z", puntaPeakKw: 120, contractedKw: 200, ofContracted: 0.6 });
    // 1940 kWh over the 48 hours with data ÷ 120 kW.
    expect(kpis.loadFactor).toBe(0.3368);
    // 1940 / √(1940² + 960²): both meters measure kVArh.
    expect(kpis.powerFactor).toBe(0.8963);
    // March 2026 takes the latest published factor, 2024's 0.444: 1940 × 0.444.
    expect(kpis.co2e).toMatchObject({ kg: 861.36, factorKgPerKwh: 0.444, factorYear: 2024 });
    expect(kpis.byLine).toEqual([
      { line: "A", kwh: 1000, cost: "2000.00", units: 100, kwhPerUnit: 10 },
      { line: "B", kwh: 940, cost: "1880.00", units: null, kwhPerUnit: null },
    ]);
    expect(kpis.energyPerUnit).toMatchObject({ units: 100, kwh: 1000, kwhPerUnit: 10, idle: { kwh: 0, lines: [] } });
    expect(kpis.coverage).toEqual({
      // 3 March 00:00 local is 48 hours in: 192 windows, all with data.
      windows: { expected: 192, withData: 192, missing: 0, hoursWithData: 48, estimated: 0 },
      meters: { withData: ["m1", "m2"], withoutData: [] },
      powerFactor: { meters: ["m1", "m2"], leftOut: [], billingMeter: null },
    });
    expect(kpis.range).toEqual({ from: "2026-03-01T06:00:00.000Z", to: "2026-04-01T06:00:00.000Z", asOf: "2026-03-03T06:00:00.000Z", complete: false });
  });

  it("an empty month has totals of zero and no ratios", () => {
    const kpis = Kpi.compute({ ...input(), windows: [], meterDays: [] });

    expect(kpis.totals).toEqual({ kwh: 0, kvarh: null, cost: "0.00", windows: 0, estimatedKwh: 0, estimatedShare: 0 });
    expect([kpis.puntaShare, kpis.loadFactor, kpis.powerFactor, kpis.demand.peakKw]).toEqual([null, null, null, null]);
    // Production rows without energy: the EnPI says 0 kWh, and the coverage that no meter had data.
    expect(kpis.energyPerUnit).toMatchObject({ units: 100, kwh: 0 });
    expect(kpis.coverage.meters).toEqual({ withData: [], withoutData: ["m1", "m2"] });
  });
});

describe("KPIs from the local lake: the API's report and the Athena views agree", () => {
  const { lake, remove: removeLake } = temporaryLake();
  let database: Awaited<ReturnType<typeof Testing.database>>;
  const factoryId = "fac_kpi";
  const meters = ["mtr_k1", "mtr_k2"];

  beforeAll(async () => {
    database = await Testing.database();
    const db = database.db;
    await db.insert(organizationTable).values({ id: "org_kpi", name: "KPI org" });
    await db
      .insert(factoryTable)
      .values({ id: factoryId, organizationId: "org_kpi", name: "Plant", timeZone: zone, tariffCode: "cfe-gdmth", contractedDemandKw: "300" });
    await db.insert(deviceTable).values({ id: "dev_kpi", organizationId: "org_kpi", factoryId, name: "gw", tokenHash: "x" });
    await db
      .insert(meterTable)
      .values(meters.map((id, index) => ({ id, organizationId: "org_kpi", factoryId, deviceId: "dev_kpi", name: id, line: `L${index}` })));
    await db.insert(productionTable).values([
      { factoryId, date: "2026-03-02", line: "L0", shift: "", units: "1000", importRunId: "run_1", updatedAt: new Date() },
      { factoryId, date: "2026-03-31", line: "L0", shift: "1", units: "500", importRunId: "run_1", updatedAt: new Date() },
      // Outside the month: not counted.
      { factoryId, date: "2026-04-01", line: "L0", shift: "", units: "999", importRunId: "run_1", updatedAt: new Date() },
    ]);
    const version = await TariffStore.addVersion({ factoryId, effectiveFrom: new Date("2020-01-01T00:00:00Z"), definition: gdmth.definition });

    const rows: Lake.Row[] = [];
    const first = Date.parse("2026-03-01T06:00:00Z");
    for (let slot = 0; slot < 31 * 288; slot++) {
      for (const [index, meterId] of meters.entries()) {
        const start = new Date(first + slot * 300_000);
        const kwh = 5 + index + ((slot * (index + 3)) % 11) / 2;
        const priced = Cost.price({ kwh, start }, version, { timeZone: zone });
        rows.push({
          meterId,
          factoryId,
          deviceId: "dev_kpi",
          intervalStart: start,
          intervalSeconds: 300,
          kwh,
          kvarh: kwh / 4,
          kwAvg: kwh * 12,
          kwMax: null,
          pf: null,
          voltage: null,
          current: null,
          touPeriod: priced.period,
          tariffId: version.id,
          unitPrice: priced.unitPrice,
          cost: priced.cost,
          estimated: priced.estimated,
          gap: false,
          computedAt: new Date("2026-04-01T10:00:00Z"),
          source: "kinesis",
          receivedAt: start,
        });
      }
    }
    await lake.put(rows);
    // The same readings in `reading` and its rollups: the report's demand and power factor are the statement's.
    for (let index = 0; index < rows.length; index += 2000) await db.insert(readingTable).values(rows.slice(index, index + 2000));
    await db.transaction((tx) => Rollup.rebuild(tx, { factoryId }));
    // A stale copy of one reading (older computedAt, wrong energy) arrives late: it must not count.
    await lake.put([{ ...(rows[100] as Lake.Row), kwh: 1000, cost: "999999.000000", computedAt: new Date("2026-03-01T00:00:00Z") }]);
    TimeSeries.provide(new LakeTimeSeries(lake));
  });
  afterAll(async () => {
    TimeSeries.provide(undefined);
    await removeLake();
    await database.close();
  });

  it("the report reads the lake, the meters, production and the tariff", async () => {
    const kpis = await KpiReport.month("org_kpi", factoryId, { month: "2026-03" }, new Date("2026-04-05T00:00:00Z"));

    expect(kpis.range.complete).toBe(true);
    expect(kpis.totals.windows).toBe(31 * 96);
    expect(kpis.byDay).toHaveLength(31);
    expect(kpis.byLine.map((line) => [line.line, line.units])).toEqual([
      ["L0", 1500],
      ["L1", null],
    ]);
    expect(kpis.demand.contractedKw).toBe(300);
    expect("monthToDate" in kpis.bill).toBe(true);
  });

  it("another organization's factory is not found", async () => {
    await expect(KpiReport.month("org_other", factoryId, { month: "2026-03" })).rejects.toMatchObject({ kind: "not_found" });
  });

  it("the views, run on DuckDB over the same lake, give the report's monthly figures", async () => {
    const kpis = await KpiReport.month("org_kpi", factoryId, { month: "2026-03" }, new Date("2026-04-05T00:00:00Z"));
    for (const view of [...LakeSchema.views("lake"), ...KpiViews.views("lake", { timeZone: zone })]) await lake.query(KpiViews.forDuckDb(view.sql, "lake"));

    const [monthly] = await lake.query(
      `SELECT kwh, kvarh, CAST(cost AS VARCHAR) AS cost, punta_share, power_factor, peak_demand_kw, load_factor, co2e_kg FROM kpi_monthly WHERE factory_id = '${factoryId}' AND local_month = '2026-03'`,
    );
    const daily = await lake.query(`SELECT local_day, sum(kwh) AS kwh FROM kpi_daily WHERE factory_id = '${factoryId}' GROUP BY 1 ORDER BY 1`);

    expect(monthly).toBeDefined();
    const view = monthly as Record<string, number | string>;
    expect(Number(view.kwh)).toBeCloseTo(kpis.totals.kwh, 3);
    expect(Number(view.kvarh)).toBeCloseTo(kpis.totals.kvarh ?? 0, 3);
    expect(Number(view.cost).toFixed(2)).toBe(kpis.totals.cost);
    expect(Number(view.punta_share)).toBeCloseTo(kpis.puntaShare ?? 0, 4);
    expect(Number(view.power_factor)).toBeCloseTo(kpis.powerFactor ?? 0, 4);
    expect(Number(view.peak_demand_kw)).toBeCloseTo(kpis.demand.peakKw ?? 0, 3);
    expect(Number(view.load_factor)).toBeCloseTo(kpis.loadFactor ?? 0, 4);
    expect(Number(view.co2e_kg)).toBeCloseTo(kpis.co2e.kg, 2);
    expect(daily.map((row) => [new Date(row.local_day as Date).toISOString().slice(0, 10), Math.round(Number(row.kwh) * 1000) / 1000])).toEqual(
      kpis.byDay.map((day) => [day.day, day.kwh]),
    );
  });
});
