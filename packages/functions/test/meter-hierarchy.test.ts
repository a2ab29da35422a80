import { Close } from "@wattflow/core/close";
import { Testing } from "@wattflow/core/testing";
import { TimeSeries } from "@wattflow/core/timeseries";
import { PostgresTimeSeries } from "@wattflow/core/timeseries/postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { app } from "../src/api/app";
import { ids, type Pipeline, pipeline, seedGdmthFactory } from "./support";

const factoryId = "fac_01jhierarchy0000000000000";
const deviceId = "dev_01jhierarchy0000000000000";

describe.each(Testing.lanes())("meter hierarchy on %s", (lane) => {
  let p: Pipeline;
  const call = (method: string, path: string, body?: unknown) =>
    app.request(path, {
      method,
      headers: { Authorization: `Bearer ${p.apiToken}`, "Content-Type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  const createMeter = async (body: Record<string, unknown>) => call("POST", `/v1/factories/${factoryId}/meters`, { deviceId, line: "L", ...body });

  beforeAll(async () => {
    p = await pipeline(lane);
    TimeSeries.provide(new PostgresTimeSeries());
    // A GDMTH factory on Mexico City's clock with no municipality (no DAP), on Noroeste March 2026 prices.
    await seedGdmthFactory(p.database.db, { factoryId, deviceId, tariffId: "trf_01jhierarchy0000000000000", name: "Tree plant" });
  });
  afterAll(async () => {
    TimeSeries.provide(undefined);
    await p.close();
  });

  const meters: Record<string, string> = {};

  it("creates a billing meter and a tree of sub-meters through the console", async () => {
    for (const { name, role, parent } of Testing.meterTree.meters) {
      const response = await createMeter({ name, role, parentId: parent === null ? null : meters[parent] });
      expect(response.status).toBe(201);
      const body = (await response.json()) as { id: string; role: string; parentId: string | null };
      expect(body).toMatchObject({ role, parentId: parent === null ? null : meters[parent] });
      meters[name] = body.id;
    }
  });

  it("refuses a billing meter with a parent, a parent of another factory and a loop, naming parentId", async () => {
    const billingWithParent = await createMeter({ name: "x", role: "billing", parentId: meters.main });
    const foreignParent = await createMeter({ name: "y", role: "sub", parentId: ids.meters[0] });
    const loop = await call("PATCH", `/v1/factories/${factoryId}/meters/${meters.lineA}`, { parentId: meters.pressA1 });
    const self = await call("PATCH", `/v1/factories/${factoryId}/meters/${meters.lineB}`, { parentId: meters.lineB });

    for (const [response, message] of [
      [billingWithParent, "a billing meter is at the point of supply and has no parent"],
      [foreignParent, `${ids.meters[0]} is not a meter of this factory`],
      [loop, `${meters.pressA1} is below this meter: the tree would loop`],
      [self, "a meter cannot be its own parent"],
    ] as const) {
      expect(response.status).toBe(400);
      expect(await response.json()).toMatchObject({ code: "meter.invalid_hierarchy", errors: [{ path: "parentId", message }] });
    }
    const other = await app.request(`/v1/factories/${factoryId}/meters/${meters.lineA}`, {
      method: "PATCH",
      headers: { Authorization: `Bearer ${p.otherApiToken}`, "Content-Type": "application/json" },
      body: JSON.stringify({ parentId: null }),
    });
    expect(other.status).toBe(404);
  });

  it("bills the main meter alone and allocates it to the sub-meters, the unmetered remainder shown", async () => {
    // Prepare: Testing.meterTree's day — 03:00 base, 10:00 intermedia, 19:00 punta local on Tuesday 10 March 2026.
    const { at, kwh } = Testing.meterTree;
    await Testing.insertReadings(
      p.database.db,
      kwh.map(([meter, period, value]) => ({
        meterId: meters[meter] as string,
        intervalStart: new Date(at[period]),
        intervalSeconds: 300,
        factoryId,
        deviceId,
        kwh: value,
        source: "http" as const,
        receivedAt: new Date(),
      })),
    );

    // Act
    const closed = await Close.factoryMonth({ factoryId, month: "2026-03" });
    const response = await call("GET", `/v1/factories/${factoryId}/allocation?month=2026-03`);

    // Assess: the bill is the main meter's alone (Q = 60 kWh, d = 31; Noroeste March 2026 prices):
    //   Cargo fijo 197.77; base 10 × 0.9715 = 9.715 → 9.72; intermedia 30 × 1.5573 = 46.719 → 46.72;
    //   punta 20 × 1.7262 = 34.524 → 34.52; Q / (24 · 31 · 0.57) = 0.1415 kW → 1 kW (up) caps both demands
    //   (measured 30 kWh / 0.25 h = 120 kW and punta 80 kW): distribution 1 × 90.85, capacity 1 × 392.66;
    //   subtotal 772.24; IVA 16 % = 123.5584 → 123.56; no DAP; total 895.80.
    //   Summing every meter (38 kWh more) would have billed the sub-meters' energy twice.
    expect(closed).toMatchObject({ basis: "billing-meters", total: "895.80", readings: 3 });
    expect(response.status).toBe(200);
    const allocation = (await response.json()) as Record<string, unknown>;
    // Prices per kWh on the bill: base 9.72 / 10 = 0.972, intermedia 46.72 / 30, punta 34.52 / 20 = 1.726;
    // the other lines 895.80 − 90.96 = 804.84 over 60 kWh = 13.414 per kWh.
    //   lineA: 12 × 46.72/30 + 8 × 1.726 = 18.688 + 13.808 = 32.496; + 20 × 13.414 = 268.28 → 300.776 → 300.78
    //   lineB: 9 × 46.72/30 + 4 × 0.972 = 14.016 + 3.888 = 17.904; + 13 × 13.414 = 174.382 → 192.286 → 192.29
    //   pressA1 (under lineA): 5 × 46.72/30 = 7.7867; + 5 × 13.414 = 67.07 → 74.8567 → 74.86
    //   lineA unmetered: 20 − 5 = 15 kWh, 300.78 − 74.86 = 225.92
    //   factory unmetered: 60 − 20 − 13 = 27 kWh, 895.80 − 300.78 − 192.29 = 402.73 (first level + remainder = total)
    expect(allocation).toMatchObject({
      basis: "billing-meters",
      billingMeters: [meters.main],
      period: { start: "2026-03-01", end: "2026-04-01" },
      total: "895.80",
      totalKwh: "60",
      otherPerKwh: "13.414",
      unmetered: { kwh: "27", amount: "402.73" },
    });
    expect(allocation.meters).toEqual([
      {
        meterId: meters.lineA,
        parentId: null,
        level: 1,
        kwh: { intermedia: "12", punta: "8" },
        totalKwh: "20",
        energy: "32.50",
        other: "268.28",
        amount: "300.78",
        unmetered: { kwh: "15", amount: "225.92" },
      },
      {
        meterId: meters.pressA1,
        parentId: meters.lineA,
        level: 2,
        kwh: { intermedia: "5" },
        totalKwh: "5",
        energy: "7.79",
        other: "67.07",
        amount: "74.86",
      },
      {
        meterId: meters.lineB,
        parentId: null,
        level: 1,
        kwh: { base: "4", intermedia: "9" },
        totalKwh: "13",
        energy: "17.90",
        other: "174.39",
        amount: "192.29",
      },
    ]);
  });

  it("refuses an allocation of another organization's factory, an impossible month, or a month without a tariff", async () => {
    const other = await app.request(`/v1/factories/${factoryId}/allocation?month=2026-03`, { headers: { Authorization: `Bearer ${p.otherApiToken}` } });
    const badMonth = await call("GET", `/v1/factories/${factoryId}/allocation?month=2026-13`);
    const noTariff = await call("GET", `/v1/factories/${factoryId}/allocation?month=2025-06`);

    expect(other.status).toBe(404);
    expect(badMonth.status).toBe(400);
    expect(await badMonth.json()).toMatchObject({ code: "allocation.invalid_query", errors: [{ path: "month" }] });
    expect(noTariff.status).toBe(400);
    expect(await noTariff.json()).toMatchObject({
      code: "allocation.unavailable",
      errors: [{ path: "month", message: expect.stringContaining("no tariff in force") }],
    });
  });

  it("KPIs sum the billing meter for the factory's figures and its bill to date, every meter for its lines", async () => {
    // Act: March 2026 is over, so the month to date is the whole month.
    const response = await call("GET", `/v1/factories/${factoryId}/kpis?month=2026-03`);

    // Assess: the main meter's 60 kWh and its bill (895.80, derived above; the KPI bill is the calendar month's
    // with no contract, the same here); the sub-meters still have their days.
    expect(response.status).toBe(200);
    const kpis = (await response.json()) as {
      basis: string;
      totals: { kwh: number };
      bill: { monthToDate: { total: string } };
      coverage: { meters: { withData: string[] } };
    };
    expect(kpis.basis).toBe("billing-meters");
    expect(kpis.totals.kwh).toBe(60);
    expect(kpis.bill.monthToDate.total).toBe("895.80");
    expect(kpis.coverage.meters.withData).toEqual([meters.main, meters.lineA, meters.lineB, meters.pressA1].sort());
  });

  it("without a billing meter sums every meter as before, and says so", async () => {
    // Prepare: the main meter demoted to a sub-meter with no parent.
    const demoted = await call("PATCH", `/v1/factories/${factoryId}/meters/${meters.main}`, { role: "sub" });
    expect(demoted.status).toBe(200);

    // Act
    const closed = await Close.factoryMonth({ factoryId, month: "2026-03" });

    // Assess: all 8 readings, Q = 98 kWh: base 14 × 0.9715 = 13.601 → 13.60; intermedia 56 × 1.5573 = 87.2088 → 87.21;
    // punta 28 × 1.7262 = 48.3336 → 48.33; Q / (24 · 31 · 0.57) = 0.231 → 1 kW: 90.85 + 392.66; fixed 197.77;
    // subtotal 830.42; IVA 132.8672 → 132.87; total 963.29.
    expect(closed).toMatchObject({ basis: "all-meters", total: "963.29", readings: 8 });
    const bills = await call("GET", `/v1/factories/${factoryId}/bills`);
    expect(((await bills.json()) as { bills: { month: string; basis: string; total: string }[] }).bills).toMatchObject([
      { month: "2026-03", basis: "all-meters", total: "963.29" },
    ]);
  });
});
