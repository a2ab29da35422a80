import { deviceTable } from "@wattflow/core/device/device.sql";
import { meterTable } from "@wattflow/core/meter/meter.sql";
import { Testing } from "@wattflow/core/testing";
import { TimeSeries } from "@wattflow/core/timeseries";
import { LakeTimeSeries } from "@wattflow/core/timeseries/local";
import { eq, inArray } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { app } from "../src/api/app";
import { handler as consumer } from "../src/ingest/consumer";
import { deviceToken, drainToEvent, ids, type Pipeline, pipeline, reading, usePipeline } from "./support";

const get = (path: string, token: string) => app.request(path, { headers: { authorization: `Bearer ${token}` } });
const send = (method: string, path: string, token: string, body: unknown) =>
  app.request(path, { method, headers: { authorization: `Bearer ${token}`, "content-type": "application/json" }, body: JSON.stringify(body) });

describe.each(Testing.lanes())("KPIs and alerts through the API on %s", (lane) => {
  let p: Pipeline;
  beforeAll(async () => {
    p = await pipeline(lane);
    // The embedded stack's time series: DuckDB over the pipeline's lake.
    TimeSeries.provide(new LakeTimeSeries(p.lake));
    // Monday 5 October 2026, 10:00–11:00 in Mexico City: meter i draws (i + 1) kWh every 5 minutes.
    const readings = [0, 1, 2].flatMap((meter) =>
      Array.from({ length: 12 }, (_, slot) => reading(meter, new Date(Date.parse("2026-10-05T16:00:00Z") + slot * 300_000).toISOString(), meter + 1)),
    );
    const posted = await send("POST", "/v1/ingest", deviceToken, { readings });
    expect(posted.status).toBe(200);
    await consumer(await drainToEvent(p.log));
  });
  afterAll(async () => {
    TimeSeries.provide(undefined);
    await p.close();
  });

  it("GET /v1/factories/:id/kpis for a month before the first published emission factor is a 400 at month, not a 500", async () => {
    // The first published factor is 2020's (kpi/emission.ts): 2019-12 has none; with gridFactor it is answered.
    const response = await get(`/v1/factories/${ids.factory}/kpis?month=2019-12`, p.apiToken);
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({
      code: "kpi.no_emission_factor",
      errors: [{ path: "month", message: expect.stringContaining("no grid emission factor is published for 2019-12 or earlier") }],
    });
    expect((await get(`/v1/factories/${ids.factory}/kpis?month=2019-12&gridFactor=0.5`, p.apiToken)).status).toBe(200);
  });

  it("GET /v1/factories/:id/kpis reads the month from the lake the consumer wrote", async () => {
    const response = await get(`/v1/factories/${ids.factory}/kpis?month=2026-10`, p.apiToken);
    const body = (await response.json()) as Record<string, unknown> & {
      totals: unknown;
      demand: { peakKw: number };
      byShift: unknown;
      byLine: unknown;
      bill: unknown;
    };

    expect(response.status).toBe(200);
    expect(body.totals).toEqual({ kwh: 72, kvarh: null, cost: "155.04", windows: 4, estimatedKwh: 0, estimatedShare: 0 });
    expect(body.demand.peakKw).toBe(72);
    expect(body.byShift).toEqual([{ shift: "1", kwh: 72, cost: "155.04" }]);
    expect(body.byLine).toEqual([
      { line: "L0", kwh: 12, cost: "25.84", units: null, kwhPerUnit: null },
      { line: "L1", kwh: 24, cost: "51.68", units: null, kwhPerUnit: null },
      { line: "L2", kwh: 36, cost: "77.52", units: null, kwhPerUnit: null },
    ]);
    expect(body.bill).toMatchObject({ monthToDate: { total: "155.04" } });
  });

  it("answers 400 naming a bad month, 404 for another organization's factory, 401 without a token", async () => {
    const bad = await get(`/v1/factories/${ids.factory}/kpis?month=2026-13`, p.apiToken);
    const foreign = await get(`/v1/factories/${ids.factory}/kpis?month=2026-10`, p.otherApiToken);
    const anonymous = await app.request(`/v1/factories/${ids.factory}/kpis?month=2026-10`);

    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { errors: { path: string }[] }).errors.map((error) => error.path)).toEqual(["month"]);
    expect(foreign.status).toBe(404);
    expect(anonymous.status).toBe(401);
  });

  it("alert rules are created, evaluated and listed per organization", async () => {
    const created = await send("POST", "/v1/alerts/rules", p.apiToken, { factoryId: ids.factory, kind: "gateway_silent", threshold: 15 });
    const rule = (await created.json()) as { id: string };
    const foreignRule = await send("POST", "/v1/alerts/rules", p.otherApiToken, { factoryId: ids.factory, kind: "gateway_silent", threshold: 15 });
    const invalid = await send("POST", "/v1/alerts/rules", p.apiToken, { factoryId: ids.factory, kind: "too_hot", threshold: -1 });

    // The test gateway was last seen when it posted (now); the rule only fires after 15 minutes, so nothing yet.
    const evaluated = await send("POST", "/v1/alerts/evaluate", p.apiToken, { factoryId: ids.factory });
    const foreignEvaluate = await send("POST", "/v1/alerts/evaluate", p.otherApiToken, { factoryId: ids.factory });
    const listed = await get("/v1/alerts", p.apiToken);
    const rules = await get("/v1/alerts/rules", p.apiToken);
    const foreignDelete = await send("DELETE", `/v1/alerts/rules/${rule.id}`, p.otherApiToken, {});
    const deleted = await send("DELETE", `/v1/alerts/rules/${rule.id}`, p.apiToken, {});

    expect(created.status).toBe(201);
    expect(foreignRule.status).toBe(404);
    expect(invalid.status).toBe(400);
    expect(((await invalid.json()) as { errors: { path: string }[] }).errors.map((error) => error.path).sort()).toEqual(["kind", "threshold"]);
    expect(await evaluated.json()).toEqual({ raised: [] });
    // Another organization's factory is 404, as on every factory route (not a 200 that evaluated nothing).
    expect(foreignEvaluate.status).toBe(404);
    expect(((await foreignEvaluate.json()) as { code: string }).code).toBe("factory.not_found");
    expect(await listed.json()).toEqual({ alerts: [] });
    expect(((await rules.json()) as { rules: { id: string }[] }).rules.map((item) => item.id)).toEqual([rule.id]);
    expect(foreignDelete.status).toBe(404);
    expect(deleted.status).toBe(204);
  });

  it("deleting a rule keeps the alerts it raised, in the history, with no rule", async () => {
    // Prepare: a gateway_silent rule (15 minutes) and the gateway last heard from an hour ago, so one alert is raised.
    const created = await send("POST", "/v1/alerts/rules", p.apiToken, { factoryId: ids.factory, kind: "gateway_silent", threshold: 15 });
    const rule = (await created.json()) as { id: string };
    await p.database.db
      .update(deviceTable)
      .set({ lastSeenAt: new Date(Date.now() - 60 * 60_000) })
      .where(eq(deviceTable.id, ids.device));
    const raised = (await (await send("POST", "/v1/alerts/evaluate", p.apiToken, { factoryId: ids.factory })).json()) as { raised: { id: string }[] };

    // Act
    const deleted = await send("DELETE", `/v1/alerts/rules/${rule.id}`, p.apiToken, {});
    const listed = (await (await get("/v1/alerts", p.apiToken)).json()) as { alerts: { id: string; kind: string; ruleId: string | null }[] };

    // Assess: the alert raised and sent before the rule went is still listed, its rule now null.
    expect(raised.raised).toHaveLength(1);
    expect(deleted.status).toBe(204);
    expect(listed.alerts).toMatchObject([{ id: raised.raised[0]?.id, kind: "gateway_silent", ruleId: null }]);
  });
});

describe("GET /v1/factories/:id/kpis takes demand and power factor from the statement", () => {
  const p = usePipeline();
  beforeAll(async () => {
    // Two supply points (meters 0 and 1, billing) and a sub-meter (meter 2).
    await p.database.db
      .update(meterTable)
      .set({ role: "billing" })
      .where(inArray(meterTable.id, [ids.meters[0] as string, ids.meters[1] as string]));
    // Monday 5 October 2026, 16:00–17:00Z (10:00–11:00 local): every meter 3 kWh per 5 minutes; meters 0 and 1 with
    // 3 kVArh, the sub-meter with 0 kVArh.
    await Testing.insertReadings(
      p.database.db,
      [0, 1, 2].flatMap((meter) =>
        Array.from({ length: 12 }, (_, slot) =>
          Testing.lakeRow({
            meterId: ids.meters[meter] as string,
            factoryId: ids.factory,
            deviceId: ids.device,
            intervalStart: new Date(Date.parse("2026-10-05T16:00:00Z") + slot * 300_000),
            kwh: 3,
            kvarh: meter === 2 ? 0 : 3,
          }),
        ),
      ),
    );
  });

  it("the bill's basis meters decide the power factor and the peak, one figure in the KPIs and the statement", async () => {
    const response = await app.request(`/v1/factories/${ids.factory}/kpis?month=2026-10`, { headers: { authorization: `Bearer ${p.apiToken}` } });
    const body = (await response.json()) as {
      powerFactor: number | null;
      loadFactor: number | null;
      demand: { peakKw: number | null; peakAt: string | null };
      coverage: { powerFactor: { meters: string[] } };
      statement: { powerFactor: number | null; demand: { maxKw: number | null; maxAt: string | null } };
    };

    // The billing meters: 2 × 36 kWh and 2 × 36 kVArh → 72 / √(72² + 72²) = 0.7071. Every meter measuring kVArh (the
    // KPIs' own figure before, with two billing meters) would add the sub-meter's 36 kWh at 0 kVArh: 108 / √(108² + 72²) = 0.8321.
    // Peak: the billing meters' 2 × 9 kWh per quarter → 72 kW, every quarter alike: the earliest, 16:00Z.
    // Load factor: 72 kWh over the 1 hour with data ÷ 72 kW = 1.
    expect(response.status).toBe(200);
    expect(body.statement.powerFactor).toBe(Number(Math.SQRT1_2.toFixed(4)));
    expect(body.powerFactor).toBe(body.statement.powerFactor);
    expect(body.coverage.powerFactor.meters).toEqual([ids.meters[0], ids.meters[1]]);
    expect(body.statement.demand).toMatchObject({ maxKw: 72, maxAt: "2026-10-05T16:00:00.000Z" });
    expect(body.demand).toMatchObject({ peakKw: 72, peakAt: "2026-10-05T16:00:00.000Z" });
    expect(body.loadFactor).toBe(1);
  });
});
