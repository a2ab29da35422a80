/**
 * One truth (issues 13, 14, 16): the console's overview, GET /v1/factories/:id/kpis and the monthly close read the
 * same statement of the factory's billing period, on its billing cycle; a factory with no tariff is not priced.
 */
import { Close } from "@wattflow/core/close";
import { deviceTable } from "@wattflow/core/device/device.sql";
import { factoryTable } from "@wattflow/core/factory/factory.sql";
import { meterTable } from "@wattflow/core/meter/meter.sql";
import { TariffStore } from "@wattflow/core/tariff/store";
import { Testing } from "@wattflow/core/testing";
import { TimeSeries } from "@wattflow/core/timeseries";
import { PostgresTimeSeries } from "@wattflow/core/timeseries/postgres";
import { hashToken } from "@wattflow/core/util/hash";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { app } from "../src/api/app";
import { handler as consumer } from "../src/ingest/consumer";
import { drainToEvent, ids, type Pipeline, pipeline } from "./support";

type Line = { code: string; amount: string; quantity: string };
type BillBody = { total: string; lines: Line[]; estimated: boolean };
type Statement = {
  label: string;
  period: { start: string; end: string };
  periodSource: string;
  priced: boolean;
  prices: string | null;
  energy: { kwh: number; estimatedKwh: number };
  energyCost: { toDate: string | null; projection: string | null; byPeriod: { period: string | null; kwh: number; cost: string | null }[] };
  demand: { maxKw: number | null; maxAt: string | null; puntaKw: number | null; billedKw: { capacity: string | null; distribution: string | null } };
  powerFactor: number | null;
  bill: { monthToDate: BillBody; projection: BillBody | null } | null;
};
type Kpis = {
  month: string;
  period: { label: string; start: string; end: string; source: string };
  priced: boolean;
  prices: string | null;
  range: { from: string; to: string };
  totals: { kwh: number; cost: string | null };
  byDay: { day: string; cost: string | null }[];
  statement: Statement;
  bill: { monthToDate: BillBody; projection: BillBody | null } | { unavailable: string };
};
type Summary = {
  id: string;
  today: { cost: string | null };
  month: {
    label: string;
    period: { start: string; end: string };
    kwh: number;
    priced: boolean;
    prices: string | null;
    cost: string | null;
    projectedCost: string | null;
    energyCost: string | null;
    projectedEnergyCost: string | null;
    powerFactor: number | null;
  };
};

/** A factory of the test organization with its own gateway and one meter (ids of the shape the API checks). */
const plants = {
  gdmth: {
    factory: "fac_01jonetruth000000000000001",
    device: "dev_01jonetruth000000000000001",
    meter: "mtr_01jonetruth000000000000001",
    token: "wfd_one-truth-gdmth",
  },
  cycle: {
    factory: "fac_01jonetruth000000000000002",
    device: "dev_01jonetruth000000000000002",
    meter: "mtr_01jonetruth000000000000002",
    token: "wfd_one-truth-cycle",
  },
  bare: {
    factory: "fac_01jonetruth000000000000003",
    device: "dev_01jonetruth000000000000003",
    meter: "mtr_01jonetruth000000000000003",
    token: "wfd_one-truth-bare",
  },
  asuncion: {
    factory: "fac_01jonetruth000000000000004",
    device: "dev_01jonetruth000000000000004",
    meter: "mtr_01jonetruth000000000000004",
    token: "wfd_one-truth-asu",
  },
} as const;

describe.each(Testing.lanes())("one statement for overview, KPIs and close on %s", (lane) => {
  let p: Pipeline;
  const get = async <T>(path: string) => {
    const response = await app.request(path, { headers: { authorization: `Bearer ${p.apiToken}` } });
    return { status: response.status, body: (await response.json()) as T };
  };
  /** Stores readings through the public door: the gateway's POST /v1/ingest, then the stream consumer. */
  const ingest = async (token: string, readings: Record<string, unknown>[]) => {
    const response = await app.request("/v1/ingest", {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify({ readings }),
    });
    expect(response.status).toBe(200);
    await consumer(await drainToEvent(p.log));
  };
  /** The overview as the console asks for it, with the clock at `now` (only Date is faked: timers and I/O run as usual). */
  const overviewAt = async (now: string, factoryId: string) => {
    vi.useFakeTimers({ toFake: ["Date"], now: new Date(now) });
    const { body } = await get<{ factories: Summary[] }>("/v1/overview");
    const found = body.factories.find((factory) => factory.id === factoryId);
    if (!found) throw new Error(`the overview has no ${factoryId}`);
    return found;
  };
  const kpisAt = async (now: string, factoryId: string, query: string) => {
    vi.useFakeTimers({ toFake: ["Date"], now: new Date(now) });
    return get<Kpis>(`/v1/factories/${factoryId}/kpis?${query}`);
  };

  beforeAll(async () => {
    p = await pipeline(lane);
    TimeSeries.provide(new PostgresTimeSeries());
    const db = p.database.db;
    await db.insert(factoryTable).values([
      // GDMTH on Mexico City's clock (UTC−6 all year), 300 kW contracted (PF threshold 90 %), no municipality: no DAP.
      {
        id: plants.gdmth.factory,
        organizationId: ids.organization,
        name: "A GDMTH plant",
        timeZone: "America/Mexico_City",
        tariffCode: "cfe-gdmth",
        contractedDemandKw: "300",
      },
      // CFE reads its meter on the 28th; its March 2026 bill was read 28 Feb – 31 Mar (imported below).
      {
        id: plants.cycle.factory,
        organizationId: ids.organization,
        name: "B cycle plant",
        timeZone: "America/Mexico_City",
        tariffCode: "flat",
        billingCycleDay: 28,
      },
      { id: plants.bare.factory, organizationId: ids.organization, name: "C plant without tariff", timeZone: "America/Mexico_City", tariffCode: "flat" },
      // Paraguay's clocks skipped midnight on 1 October 2023 (00:00 → 01:00, −04 → −03).
      { id: plants.asuncion.factory, organizationId: ids.organization, name: "D Asunción plant", timeZone: "America/Asuncion", tariffCode: "flat" },
    ]);
    for (const plant of Object.values(plants)) {
      await db
        .insert(deviceTable)
        .values({ id: plant.device, organizationId: ids.organization, factoryId: plant.factory, name: "gw", tokenHash: hashToken(plant.token) });
      await db
        .insert(meterTable)
        .values({ id: plant.meter, organizationId: ids.organization, factoryId: plant.factory, deviceId: plant.device, name: "main", line: "L" });
    }
    await TariffStore.addVersion({
      factoryId: plants.gdmth.factory,
      effectiveFrom: new Date("2026-01-01T06:00:00Z"),
      definition: { kind: "cfe-gdmth", zone: "central", prices: [Testing.gdmthNoroesteMarch2026] },
    });
    for (const plant of [plants.cycle, plants.asuncion])
      await TariffStore.addVersion({
        factoryId: plant.factory,
        effectiveFrom: new Date("2020-01-01T00:00:00Z"),
        definition: { kind: "flat", currency: "MXN", energyPrice: "2.1534" },
      });

    // GDMTH: Tuesday 3 March 2026, local 17:00–19:00 (23:00Z–01:00Z), 10 kWh and 10 kVArh every 5 minutes.
    await ingest(
      plants.gdmth.token,
      Array.from({ length: 24 }, (_, slot) => ({
        meterId: plants.gdmth.meter,
        start: new Date(Date.parse("2026-03-03T23:00:00Z") + slot * 300_000).toISOString(),
        seconds: 300,
        kwh: 10,
        kvarh: 10,
      })),
    );
    // Cycle plant: noon of 27 February and of 1 March (local), 10 kWh each.
    await ingest(plants.cycle.token, [
      { meterId: plants.cycle.meter, start: "2026-02-27T18:00:00Z", seconds: 300, kwh: 10 },
      { meterId: plants.cycle.meter, start: "2026-03-01T18:00:00Z", seconds: 300, kwh: 10 },
    ]);
    await Close.loadUtilityBills(plants.cycle.factory, "run_one_truth", "MXN", [
      {
        month: "2026-03",
        code: "energy",
        quantity: "10",
        unit: "kWh",
        unitPrice: "2.1534",
        amount: "21.53",
        periodStart: "2026-02-28",
        periodEnd: "2026-03-31",
      },
    ]);
    await ingest(plants.bare.token, [{ meterId: plants.bare.meter, start: "2026-03-03T18:00:00Z", seconds: 300, kwh: 80 }]);
  });
  afterEach(() => {
    vi.useRealTimers();
  });
  afterAll(async () => {
    vi.useRealTimers();
    TimeSeries.provide(undefined);
    await p.close();
  });

  it("the overview's period to date and projection are /kpis' bill to the cent, with the energy-only cost beside it", async () => {
    // Act: 4 March 2026 00:00 local (06:00Z), three days into March's 31.
    const now = "2026-03-04T06:00:00Z";
    const overview = await overviewAt(now, plants.gdmth.factory);
    const kpis = await kpisAt(now, plants.gdmth.factory, "period=current");

    // Assess, by hand (GDMTH central winter weekday: 17–18 h intermedia, 18–22 h punta; March 2026 prices):
    //   energy: 120 kWh intermedia × 1.5573 = 186.876 → 186.88; 120 kWh punta × 1.7262 = 207.144 → 207.14;
    //   demand: every 15-minute window 30 kWh → 120 kW (punta too); the cap Q/(24·d·FC) = 240/(24·31·0.57) = 0.566 →
    //   rounds up to 1 kW, under 120, so distribution 1 × 90.85 and capacity 1 × 392.66;
    //   supply 197.77 + 186.88 + 207.14 + 90.85 + 392.66 = 1,075.30;
    //   PF 240/√(240² + 240²) = 70.71 % < 90 %: surcharge 3/5 · (90/70.71 − 1) = 16.37 % → 16.4 % × 1,075.30 = 176.35;
    //   subtotal 1,251.65; IVA 16 % 200.264 → 200.26; total 1,451.91 (no municipality: no DAP).
    // Projection (× 31/3 energy and kVArh, demand as measured): 1,240 kWh each → 1,931.05 and 2,140.49; cap
    //   2,480/424.08 = 5.85 → 6 kW: 545.10 and 2,355.96; supply 7,170.37; PF the same 16.4 % → 1,175.94;
    //   subtotal 8,346.31; IVA 1,335.41; total 9,681.72. Energy only: 394.02 so far, 4,071.54 projected.
    expect(kpis.status).toBe(200);
    if (!("monthToDate" in kpis.body.bill)) throw new Error(kpis.body.bill.unavailable);
    expect(kpis.body.period).toEqual({ label: "2026-03", start: "2026-03-01", end: "2026-04-01", source: "calendar-month" });
    expect([kpis.body.priced, kpis.body.prices]).toEqual([true, "published"]);
    expect(kpis.body.bill.monthToDate.total).toBe("1451.91");
    expect(kpis.body.bill.projection?.total).toBe("9681.72");
    expect(overview.month).toMatchObject({ label: "2026-03", priced: true, prices: "published", cost: "1451.91", projectedCost: "9681.72" });
    expect([overview.month.energyCost, overview.month.projectedEnergyCost]).toEqual(["394.02", "4071.54"]);
    expect(kpis.body.statement.energyCost).toMatchObject({ toDate: "394.02", projection: "4071.54" });
    expect(kpis.body.statement.energyCost.byPeriod).toEqual([
      { period: "intermedia", kwh: 120, cost: "186.88" },
      { period: "punta", kwh: 120, cost: "207.14" },
    ]);
    // Every window is 120 kW: the highest is the earliest, the first reading's quarter (3 March 23:00Z).
    expect(kpis.body.statement.demand).toEqual({ maxKw: 120, maxAt: "2026-03-03T23:00:00.000Z", puntaKw: 120, billedKw: { capacity: "1", distribution: "1" } });
    // 240 / √(240² + 240²) to 4 places.
    const pf = Number((240 / Math.hypot(240, 240)).toFixed(4));
    expect(kpis.body.statement.powerFactor).toBe(pf);
    expect(overview.month.powerFactor).toBe(pf);
  });

  it("closing the period stores the statement's bill at the period's end, line for line", async () => {
    // Act: March has ended (real clock); the close and the KPIs of 2026-03.
    const closed = await Close.factoryMonth({ factoryId: plants.gdmth.factory, month: "2026-03" });
    const kpis = await get<Kpis>(`/v1/factories/${plants.gdmth.factory}/kpis?month=2026-03`);
    const stored = await Close.get(plants.gdmth.factory, "2026-03");

    // Assess: the same 240 kWh over the same 31 days: 1,451.91 (derived above), and at the end the projection is the bill.
    if (!("monthToDate" in kpis.body.bill)) throw new Error(kpis.body.bill.unavailable);
    expect(closed.total).toBe("1451.91");
    expect(kpis.body.bill.monthToDate.total).toBe(closed.total);
    expect(kpis.body.bill.projection?.total).toBe(closed.total);
    expect(stored?.lines.map((line) => [line.code, Number(line.amount).toFixed(2)])).toEqual(
      kpis.body.bill.monthToDate.lines.map((line) => [line.code, line.amount]),
    );
  });

  it("a factory on a 28 Feb – 31 Mar cycle puts 27 Feb and 1 Mar in different periods in the overview, the KPIs and the close", async () => {
    // Act
    const march = await kpisAt("2026-03-02T06:00:00Z", plants.cycle.factory, "month=2026-03");
    const current = await kpisAt("2026-03-02T06:00:00Z", plants.cycle.factory, "period=current");
    const february = await kpisAt("2026-03-02T06:00:00Z", plants.cycle.factory, "period=2026-02");
    const overview = await overviewAt("2026-03-02T06:00:00Z", plants.cycle.factory);
    vi.useRealTimers();
    const closedMarch = await Close.factoryMonth({ factoryId: plants.cycle.factory, month: "2026-03" });
    const closedFebruary = await Close.factoryMonth({ factoryId: plants.cycle.factory, month: "2026-02" });

    // Assess: March is the utility bill's 28 Feb – 31 Mar (end exclusive: the next reading's day), February the
    // cycle day's 28 Jan – 28 Feb; each holds one 10 kWh reading: 10 × 2.1534 = 21.534 → 21.53.
    expect(march.body.period).toEqual({ label: "2026-03", start: "2026-02-28", end: "2026-03-31", source: "utility-bill" });
    expect(current.body.period).toEqual(march.body.period);
    expect(february.body.period).toEqual({ label: "2026-02", start: "2026-01-28", end: "2026-02-28", source: "cycle-day" });
    // 28 Feb 00:00 local is 06:00Z.
    expect(march.body.range.from).toBe("2026-02-28T06:00:00.000Z");
    for (const kpis of [march, february]) {
      expect(kpis.body.statement.energy.kwh).toBe(10);
      expect(kpis.body.totals.kwh).toBe(10);
      expect(kpis.body.statement.bill?.monthToDate.total).toBe("21.53");
    }
    // Two of the period's 31 days have passed: 10 kWh × 31/2 = 155 kWh × 2.1534 = 333.777 → 333.78.
    expect(overview.month).toMatchObject({
      label: "2026-03",
      period: { start: "2026-02-28", end: "2026-03-31" },
      kwh: 10,
      cost: "21.53",
      projectedCost: "333.78",
    });
    expect(current.body.bill).toMatchObject({ monthToDate: { total: "21.53" }, projection: { total: "333.78" } });
    expect([closedMarch.readings, closedMarch.total, closedFebruary.readings, closedFebruary.total]).toEqual([1, "21.53", 1, "21.53"]);
  });

  it("the period after an imported bill starts on that bill's reading date: no day billed twice or never", async () => {
    // Act: April on the 28th cycle would be 28 Mar – 28 Apr, but March's utility bill was read up to 31 Mar.
    const april = await kpisAt("2026-04-02T06:00:00Z", plants.cycle.factory, "month=2026-04");
    vi.useRealTimers();

    // Assess: CFE bills from one reading to the next, so April starts on 31 Mar (where March's bill ended) and ends on
    // the cycle day; 28–30 Mar stay in March alone.
    expect(april.body.period).toEqual({ label: "2026-04", start: "2026-03-31", end: "2026-04-28", source: "cycle-day" });
  });

  it("a factory with no tariff in force is not priced: priced false and every cost null, never 0.00", async () => {
    // Act
    const overview = await overviewAt("2026-03-03T19:00:00Z", plants.bare.factory);
    const kpis = await kpisAt("2026-03-03T19:00:00Z", plants.bare.factory, "period=current");

    // Assess: the 80 kWh are counted, not valued.
    expect(overview.month).toMatchObject({
      kwh: 80,
      priced: false,
      prices: null,
      cost: null,
      projectedCost: null,
      energyCost: null,
      projectedEnergyCost: null,
    });
    expect(overview.today.cost).toBeNull();
    expect(kpis.status).toBe(200);
    expect([kpis.body.priced, kpis.body.prices, kpis.body.totals.kwh, kpis.body.totals.cost]).toEqual([false, null, 80, null]);
    expect(kpis.body.byDay.map((day) => day.cost)).toEqual([null]);
    expect(kpis.body.statement.energyCost.byPeriod).toEqual([{ period: null, kwh: 80, cost: null }]);
    expect(kpis.body.bill).toEqual({ unavailable: expect.stringContaining("no tariff is in force") });

    // The range reads say so too: /usage and the console's factory page.
    vi.useRealTimers();
    const range = "from=2026-03-03T00:00:00Z&to=2026-03-04T00:00:00Z";
    const usage = await get<{ priced: boolean; totals: { kwh: number; cost: number | null }; buckets: { cost: number | null }[] }>(
      `/v1/factories/${plants.bare.factory}/usage?${range}&bucket=1d`,
    );
    const series = await get<{ priced: boolean; totals: { kwh: number; cost: string | null }; byPeriod: { cost: string | null }[] }>(
      `/v1/factories/${plants.bare.factory}/series?${range}&bucket=1h`,
    );
    expect(usage.body).toMatchObject({ priced: false, totals: { kwh: 80, cost: null } });
    expect(usage.body.buckets.map((bucket) => bucket.cost)).toEqual([null]);
    expect(series.body).toMatchObject({ priced: false, totals: { kwh: 80, cost: null }, byPeriod: [{ cost: null }] });
    // A priced factory's range keeps its costs: 10 kWh × 2.1534 on 1 March.
    const priced = await get<{ priced: boolean; totals: { cost: number | null } }>(
      `/v1/factories/${plants.cycle.factory}/usage?from=2026-03-01T06:00:00Z&to=2026-03-02T06:00:00Z&bucket=1d`,
    );
    expect(priced.body).toMatchObject({ priced: true, totals: { cost: 21.534 } });
  });

  it("a month whose first midnight the clocks skip starts when the day does (Asunción, October 2023), not a 500", async () => {
    // Act
    const kpis = await get<Kpis>(`/v1/factories/${plants.asuncion.factory}/kpis?month=2023-10`);

    // Assess: 1 October 2023 began at 01:00 −03 = 04:00Z; 1 November 00:00 −03 = 03:00Z.
    expect(kpis.status).toBe(200);
    expect([kpis.body.range.from, kpis.body.range.to]).toEqual(["2023-10-01T04:00:00.000Z", "2023-11-01T03:00:00.000Z"]);
    expect(kpis.body.period).toMatchObject({ start: "2023-10-01", end: "2023-11-01" });
  });
});
