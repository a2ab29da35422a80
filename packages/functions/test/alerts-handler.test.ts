import { Alert } from "@wattflow/core/alert";
import { Device } from "@wattflow/core/device";
import { factoryTable } from "@wattflow/core/factory/factory.sql";
import { meterTable } from "@wattflow/core/meter/meter.sql";
import { Testing } from "@wattflow/core/testing";
import type { Context } from "aws-lambda";
import { eq } from "drizzle-orm";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { handler } from "../src/alerts/index";
import { ids, usePipeline } from "./support";

const context = {
  functionName: "wattflow-production-AlertEvaluator",
  awsRequestId: "0b6c1f52-3c1e-4d7a-9d49-3a5c2e1f0a11",
  getRemainingTimeInMillis: () => 110_000,
} as Context;

describe("the scheduled alert evaluator", () => {
  usePipeline();

  it("raises a silent gateway's alert once, however often the schedule runs", async () => {
    await Alert.createRule({ organizationId: ids.organization, factoryId: ids.factory, kind: "gateway_silent", threshold: 15 });
    await Device.touch([ids.device], new Date(Date.now() - 60 * 60_000));

    const first = await handler({}, context);
    const second = await handler({}, context);

    expect(first).toEqual({ raised: 1 });
    expect(second).toEqual({ raised: 0 });
    const alerts = await Alert.list(ids.organization);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({ factoryId: ids.factory, kind: "gateway_silent" });
  });
});

describe("the scheduled alert evaluator judges the bill's figures: its billing period and basis meters", () => {
  const p = usePipeline();
  // Mexico City is UTC−6 all year (no DST since 2022): 18:00Z is 12:00 local.
  const slots = (meter: number, start: string, count: number, kwh: number, extra: { kvarh?: number; quality?: "estimated" } = {}) =>
    Array.from({ length: count }, (_, slot) =>
      Testing.lakeRow({
        meterId: ids.meters[meter] as string,
        factoryId: ids.factory,
        deviceId: ids.device,
        intervalStart: new Date(Date.parse(start) + slot * 300_000),
        kwh,
        kvarh: extra.kvarh ?? null,
        quality: extra.quality ?? "measured",
      }),
    );

  beforeAll(async () => {
    // Cycle day 15: on 4 Oct the bill's period is 15 Sep – 15 Oct; on 20 Oct it is 15 Oct – 15 Nov. Meter 0 is the
    // supply point's billing meter; meters 1 and 2 are sub-meters (they measure meter 0's energy again).
    await p.database.db.update(factoryTable).set({ billingCycleDay: 15 }).where(eq(factoryTable.id, ids.factory));
    await p.database.db
      .update(meterTable)
      .set({ role: "billing" })
      .where(eq(meterTable.id, ids.meters[0] as string));
    await Testing.insertReadings(p.database.db, [
      // 20 Sep, billing meter: 3 × 10 = 30 kWh in the 18:00Z quarter → 120 kW (in the Sep–Oct period, not in October).
      ...slots(0, "2026-09-20T18:00:00Z", 3, 10),
      // 2 Oct: 3 × 5 = 15 kWh → 60 kW. 4 Oct, 17:45Z: 3 × 4.9 = 14.7 kWh → 58.8 kW.
      ...slots(0, "2026-10-02T18:00:00Z", 3, 5),
      ...slots(0, "2026-10-04T17:45:00Z", 3, 4.9),
      // 5 Oct: 30 kWh → 120 kW (October's peak, before the Oct–Nov period).
      ...slots(0, "2026-10-05T18:00:00Z", 3, 10),
      // 16 Oct: billing meter 15 kWh → 60 kW, the Oct–Nov period's peak; a sub-meter 3 × 20 = 60 kWh in the same quarter.
      ...slots(0, "2026-10-16T18:00:00Z", 3, 5),
      ...slots(1, "2026-10-16T18:00:00Z", 3, 20),
      // 18 Oct: a gap spread over the billing meter's slots, 3 × 30 = 90 kWh estimated (360 kW if it counted).
      ...slots(0, "2026-10-18T18:00:00Z", 3, 30, { quality: "estimated" }),
      // 20 Oct, 16:00–17:00Z: a sub-meter, 40 kWh and 0 kVArh per slot (480 kW per quarter; PF 1).
      ...slots(1, "2026-10-20T16:00:00Z", 12, 40, { kvarh: 0 }),
      // 20 Oct, 17:00–18:00Z: the billing meter, 4.9 kWh and 4.9 kVArh per slot: 14.7 kWh → 58.8 kW per quarter, PF 0.7071.
      ...slots(0, "2026-10-20T17:00:00Z", 12, 4.9, { kvarh: 4.9 }),
    ]);
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("stays quiet near October's peak when the billing period's peak (from 15 Sep) is higher", async () => {
    // Now 4 Oct 18:07Z: the latest complete quarter is 17:45Z, 58.8 kW. The period 15 Sep – 15 Oct peaked at 120 kW
    // (20 Sep): 58.8 / 120 = 0.49 < 0.95, quiet. The calendar month (from 1 Oct) would say 58.8 / 60 = 0.98 and alert.
    vi.useFakeTimers({ toFake: ["Date"], now: new Date("2026-10-04T18:07:00Z") });
    await Alert.createRule({ organizationId: ids.organization, factoryId: ids.factory, kind: "demand_near_peak", threshold: 0.95 });

    const result = await handler({}, context);

    expect(result).toEqual({ raised: 0 });
  });

  it("alerts near the billing period's basis peak, and on the billing meter's power factor, not the sub-meters'", async () => {
    // Now 20 Oct 18:07Z, period 15 Oct – 15 Nov. Demand: latest complete quarter 17:45Z, 58.8 kW; earlier in the period
    // on the billing meter: 60 kW (16 Oct; the 18 Oct estimate sets none) → 58.8 / 60 = 0.98 ≥ 0.95: alert, limit 57.
    // October's peak (120 kW on 5 Oct) would say 0.49; every meter (16 Oct: 75 kWh = 300 kW; 20 Oct 16:00Z: 480 kW) 0.12.
    // PF today (the 4 quarters 17:00–18:00Z with kVArh on the billing meter): 58.8 / √(58.8² + 58.8²) = 0.7071 < 0.9.
    // Every meter would add the sub-meter's 480 kWh at 0 kVArh: 538.8 / √(538.8² + 58.8²) = 0.9941, no alert.
    vi.useFakeTimers({ toFake: ["Date"], now: new Date("2026-10-20T18:07:00Z") });
    await Alert.createRule({ organizationId: ids.organization, factoryId: ids.factory, kind: "power_factor_low", threshold: 0.9 });

    const result = await handler({}, context);

    expect(result).toEqual({ raised: 2 });
    const alerts = await Alert.list(ids.organization);
    expect(alerts.find((alert) => alert.kind === "demand_near_peak")).toMatchObject({
      code: "demand_near_peak",
      params: { demandKw: 58.8, share: 0.98, peakKw: 60 },
      value: 58.8,
      limit: 57,
      at: "2026-10-20T17:45:00.000Z",
    });
    expect(alerts.find((alert) => alert.kind === "power_factor_low")).toMatchObject({
      value: Number(Math.SQRT1_2.toFixed(4)),
      limit: 0.9,
      params: { pf: Number(Math.SQRT1_2.toFixed(3)) },
    });
  });
});
