/**
 * Rollups (issue 16 item 4) through the public doors: Kinesis events into the consumer handler, the cost
 * recompute step, and the usage and console series routes. What the rollups answer must be what summing
 * the readings answers (`Rollup.forceReadings`, today's path), and the rollup tables — per meter and the
 * factory's quarter-hours (`rollup_factory_15m`) — what a rebuild from the readings writes.
 */
import { readFileSync } from "node:fs";
import { BillRequest } from "@wattflow/core/billing";
import { Database } from "@wattflow/core/database";
import { Meter } from "@wattflow/core/meter";
import { Rollup } from "@wattflow/core/rollup";
import { Statement } from "@wattflow/core/statement";
import { TariffStore } from "@wattflow/core/tariff/store";
import { Testing } from "@wattflow/core/testing";
import type { KinesisStreamEvent } from "aws-lambda";
import { sql } from "drizzle-orm";
import fc from "fast-check";
import { afterEach, describe, expect, it } from "vitest";
import { app } from "../src/api/app";
import { handler as consumer } from "../src/ingest/consumer";
import * as recomputeSteps from "../src/workflows/recompute";
import { deviceToken, drainToEvent, ids, type Pipeline, usePipeline } from "./support";

const fixture = (name: string): KinesisStreamEvent => JSON.parse(readFileSync(new URL(`./events/kinesis/${name}`, import.meta.url), "utf8"));

type Json = Record<string, unknown>;

async function get(path: string, token: string): Promise<Json> {
  const response = await app.request(path, { headers: { authorization: `Bearer ${token}` } });
  expect(response.status, path).toBe(200);
  return (await response.json()) as Json;
}

/** The same request on the rollups, on the readings (the path before rollups) and on the per-meter rollups (before the factory's). */
async function both(path: string, token: string): Promise<{ rollups: Json; readings: Json; perMeter: Json }> {
  const rollups = await get(path, token);
  try {
    Rollup.forceReadings(true);
    const readings = await get(path, token);
    Rollup.forceReadings(false);
    Rollup.forcePerMeter(true);
    return { rollups, readings, perMeter: await get(path, token) };
  } finally {
    Rollup.forceReadings(false);
    Rollup.forcePerMeter(false);
  }
}

/**
 * Equal to the Wh: money (any field named cost) and everything that is not a number exactly; other
 * numbers within one unit of their last rounded digit (3 decimals), as float sums in another order may round.
 */
function expectSame(actual: unknown, expected: unknown, path = "$"): void {
  if (typeof actual === "number" && typeof expected === "number" && !/cost/i.test(path)) {
    expect(Math.abs(actual - expected), `${path}: ${actual} vs ${expected}`).toBeLessThanOrEqual(0.0011);
    return;
  }
  if (Array.isArray(actual) && Array.isArray(expected)) {
    expect(actual.length, path).toBe(expected.length);
    for (const [index, item] of actual.entries()) expectSame(item, expected[index], `${path}.${index}`);
    return;
  }
  if (actual && expected && typeof actual === "object" && typeof expected === "object") {
    expect(Object.keys(actual).sort(), path).toEqual(Object.keys(expected).sort());
    for (const key of Object.keys(actual)) expectSame((actual as Json)[key], (expected as Json)[key], `${path}.${key}`);
    return;
  }
  expect(actual, path).toEqual(expected);
}

const rollupTables = ["rollup_15m", "rollup_1h", "rollup_1d", "rollup_factory_15m"];

/** Every rollup row, floats to 9 decimals (sums of the same slots in another order differ in the last bits). */
async function rollupRows(p: Pipeline) {
  const out: Record<string, unknown[]> = {};
  for (const table of rollupTables) {
    // The factory's quarter-hours have no meter and no kW max.
    const perMeter = table !== "rollup_factory_15m";
    const result = await p.database.db.execute(
      sql.raw(`select factory_id, ${perMeter ? "meter_id, kw_max," : ""} bucket_start, tou_period, round(kwh::numeric, 9)::text as kwh,
        round(estimated_kwh::numeric, 9)::text as estimated_kwh, round(kvarh::numeric, 9)::text as kvarh,
        round(kwh_with_kvarh::numeric, 9)::text as kwh_with_kvarh, cost::text as cost, readings, last_start
        from ${table} order by factory_id, ${perMeter ? "meter_id," : ""} bucket_start, tou_period`),
    );
    out[table] = (result as unknown as { rows: unknown[] }).rows;
  }
  return out;
}

async function expectRollupsAsRebuilt(p: Pipeline) {
  const kept = await rollupRows(p);
  await p.database.db.transaction((tx) => Rollup.rebuild(tx));
  expect(kept).toEqual(await rollupRows(p));
}

describe.each(Testing.lanes())("rollups on %s", (lane) => {
  const p = usePipeline(lane);
  afterEach(() => {
    Rollup.forceReadings(false);
    Rollup.forcePerMeter(false);
  });

  it("the consumer keeps the quarter-hour, hour and day right through a gap, its measured slot and a re-delivered batch", async () => {
    // Prepare: rollup-batch.json, 2025-06-02 18:00–18:15Z (12:00 in Mexico City, UTC−6): meter 0 measures
    // 1.5, 2.25 and 3 kWh (kVArh 0.6, 0.9, 1.2; kW max 20, 30, 41) and its first reading comes twice;
    // meter 1 sends a 15-minute gap of 6 kWh, then its 18:05 slot measured at 2.5 kWh.
    const event = fixture("rollup-batch.json");
    // Act: the batch, then the whole batch again (delivery is at least once).
    expect(await consumer(event)).toEqual({ batchItemFailures: [] });
    expect(await consumer(event)).toEqual({ batchItemFailures: [] });
    // Assess, by hand: meter 1's gap re-spread around its measured slot, (6 − 2.5) / 2 = 1.75 kWh estimated
    // at 18:00 and 18:10. Quarter-hour: 6.75 + 1.75 + 2.5 + 1.75 = 12.75 kWh, 3.5 estimated, 6 slots;
    // cost at the flat 2.1534 MXN/kWh: 12.75 × 2.1534 = 27.45585 MXN.
    const day = "from=2025-06-02T06:00:00Z&to=2025-06-03T06:00:00Z";
    const expected = { kwh: 12.75, estimatedKwh: 3.5, cost: 27.45585, readings: 6 };
    // Each bucket lies wholly inside the day asked for: none is partial.
    for (const [bucket, start, end] of [
      ["15m", "2025-06-02T18:00:00.000Z", "2025-06-02T18:15:00.000Z"],
      ["1h", "2025-06-02T18:00:00.000Z", "2025-06-02T19:00:00.000Z"],
      ["1d", "2025-06-02T06:00:00.000Z", "2025-06-03T06:00:00.000Z"],
    ] as const) {
      const { rollups, readings } = await both(`/v1/factories/${ids.factory}/usage?${day}&bucket=${bucket}`, p.apiToken);
      expect(rollups.buckets, bucket).toEqual([{ start, end, partial: false, ...expected }]);
      expect(rollups.totals).toMatchObject({ kwh: 12.75, measuredKwh: 9.25, estimatedKwh: 3.5, readings: 6, cost: 27.45585 });
      expectSame(rollups, readings);
    }
    // The console's day in hours: demand of the 18:00 window from its measured kWh alone (an estimate never
    // sets demand, Figures.measuredKwh), (12.75 − 3.5) × 4 = 37 kW; meter 0's PF from
    // 6.75 kWh and 2.7 kVArh = 6.75 / √(6.75² + 2.7²) = 0.9285, its kW max 41.
    const { rollups: series, readings: seriesOnReadings } = await both(`/v1/factories/${ids.factory}/series?${day}&bucket=1h`, p.apiToken);
    expect(series.demand).toMatchObject({ t: [Date.parse("2025-06-02T18:00:00Z") / 1000], kw: [37], peak: { kw: 37 } });
    expect((series.meters as Json[])[0]).toMatchObject({ id: ids.meters[0], kwh: 6.75, cost: "14.54", maxKw: 41, powerFactor: 0.9285 });
    expect(series.totals).toMatchObject({ kwh: 12.75, cost: "27.46", readings: 6, estimatedKwh: 3.5 });
    expectSame(series, seriesOnReadings);
    await expectRollupsAsRebuilt(p);
  });

  it("a range that starts or ends inside a bucket says that bucket is partial, and sums only the part inside the range", async () => {
    // Prepare: the fixture's readings (first test): 18:00, 18:05, 18:10Z slots; meter 0 measured 1.5, 2.25, 3 kWh;
    // meter 1 had 1.75 estimated at 18:00 and 18:10 around its 2.5 kWh measured at 18:05.
    await consumer(fixture("rollup-batch.json"));
    // Act: a range cut inside the quarter-hour, and one that starts inside the local day (Mexico City, UTC−6).
    const quarter = await both(`/v1/factories/${ids.factory}/usage?from=2025-06-02T18:05:00Z&to=2025-06-02T18:10:00Z&bucket=15m`, p.apiToken);
    const day = await both(`/v1/factories/${ids.factory}/usage?from=2025-06-02T18:05:00Z&to=2025-06-04T06:00:00Z&bucket=1d`, p.apiToken);
    const whole = await both(`/v1/factories/${ids.factory}/series?from=2025-06-02T06:00:00Z&to=2025-06-03T06:00:00Z&bucket=1d`, p.apiToken);
    const cut = await both(`/v1/factories/${ids.factory}/series?from=2025-06-02T06:00:00Z&to=2025-06-02T18:10:00Z&bucket=1d`, p.apiToken);
    // Assess, by hand: [18:05, 18:10) holds the 18:05 slot alone, 2.25 + 2.5 = 4.75 kWh measured, in the quarter
    // [18:00, 18:15) the range cuts. From 18:05 the day [06-02 06:00Z, 06-03 06:00Z) holds 18:05 and 18:10:
    // 2.25 + 3 + 2.5 + 1.75 = 9.5 kWh, 1.75 estimated, 4 slots; it is cut at its start.
    expect(quarter.rollups.buckets).toMatchObject([
      { start: "2025-06-02T18:00:00.000Z", end: "2025-06-02T18:15:00.000Z", partial: true, kwh: 4.75, estimatedKwh: 0, readings: 2 },
    ]);
    expect(day.rollups.buckets).toMatchObject([
      { start: "2025-06-02T06:00:00.000Z", end: "2025-06-03T06:00:00.000Z", partial: true, kwh: 9.5, estimatedKwh: 1.75, readings: 4 },
    ]);
    // The series: the whole day is not partial; cut at 18:10 it is, and holds 18:00 and 18:05: 1.5 + 2.25 + 1.75 + 2.5 = 8 kWh.
    expect(whole.rollups.buckets).toMatchObject({ partial: [false], kwh: [12.75] });
    expect(cut.rollups.buckets).toMatchObject({ partial: [true], kwh: [8] });
    for (const answer of [quarter, day, whole, cut]) expectSame(answer.rollups, answer.readings);
  });

  it("the first migrate after the upgrade fills empty rollups from the stored readings", async () => {
    // Prepare: the fixture's readings stored, then the rollups emptied, as a database from before them.
    await consumer(fixture("rollup-batch.json"));
    for (const table of rollupTables) await p.database.db.execute(sql.raw(`delete from ${table}`));
    const day = "from=2025-06-02T06:00:00Z&to=2025-06-03T06:00:00Z";
    // Act
    await Database.migrate(p.database);
    // Assess: the day from the rollups is the readings' 12.75 kWh and 27.45585 MXN again (first test, by hand).
    const { rollups, readings } = await both(`/v1/factories/${ids.factory}/usage?${day}&bucket=1d`, p.apiToken);
    expect(rollups.totals).toMatchObject({ kwh: 12.75, cost: 27.45585, readings: 6 });
    expectSame(rollups, readings);
    await expectRollupsAsRebuilt(p);
  });

  it("the first migrate after the factory rollup was added fills it from the stored readings", async () => {
    // Prepare: the fixture's readings stored and the per-meter rollups kept, the factory's quarter-hours
    // emptied: a database migrated before `rollup_factory_15m` existed.
    await consumer(fixture("rollup-batch.json"));
    await p.database.db.execute(sql.raw("delete from rollup_factory_15m"));
    // Act
    await Database.migrate(p.database);
    // Assess: the 18:00 quarter-hour holds the batch's 12.75 kWh, 3.5 of it estimated, in 6 slots (first test, by hand).
    const result = await p.database.db.execute(
      sql`select bucket_start, kwh, estimated_kwh, readings from rollup_factory_15m where factory_id = ${ids.factory} and bucket_start = '2025-06-02T18:00:00Z'`,
    );
    expect((result as unknown as { rows: Json[] }).rows).toMatchObject([{ kwh: 12.75, estimated_kwh: 3.5, readings: 6 }]);
    await expectRollupsAsRebuilt(p);
  });

  it("the series' demand is read from the statement's windows: its peak is the statement's maximum demand, on the billing meter alone once there is one", async () => {
    // Prepare: the fixture's readings (first test): in the 18:00 window meter 0 measured 1.5 + 2.25 + 3 = 6.75 kWh,
    // meter 1 measured 2.5 kWh and had 3.5 kWh estimated. June 2025 is a calendar-month billing period (no cycle day).
    await consumer(fixture("rollup-batch.json"));
    const statementOf = () => Statement.of(ids.factory, "2025-06", new Date("2025-07-15T00:00:00Z"));
    const seriesOf = async (range: { from: string; to: string }) =>
      both(`/v1/factories/${ids.factory}/series?from=${range.from}&to=${range.to}&bucket=1d`, p.apiToken);
    try {
      // Act: no meter is marked billing, so every meter counts (Statement.basisOf).
      const allMeters = await statementOf();
      const all = await seriesOf(allMeters.range);
      // Assess: measured kWh of the window × 4 = (6.75 + 2.5) × 4 = 37 kW, in the statement and the series on both paths.
      expect(allMeters).toMatchObject({ basis: "all-meters", demand: { maxKw: 37 } });
      expect((all.rollups.demand as Json).peak).toEqual({ t: Date.parse("2025-06-02T18:00:00Z") / 1000, kw: 37 });
      expectSame(all.rollups, all.readings);

      // Act: meter 1 becomes the factory's billing meter (the utility's meter at the supply point).
      await Meter.update({ organizationId: ids.organization, id: ids.meters[1] as string, role: "billing" });
      const billing = await statementOf();
      const billed = await seriesOf(billing.range);
      // Assess: its measured 2.5 kWh × 4 = 10 kW alone; meter 0's 6.75 kWh no longer counts toward demand, but still toward energy.
      expect(billing).toMatchObject({ basis: "billing-meters", demand: { maxKw: 10 } });
      expect((billed.rollups.demand as Json).peak).toEqual({ t: Date.parse("2025-06-02T18:00:00Z") / 1000, kw: 10 });
      expect(billed.rollups.totals).toMatchObject({ kwh: 12.75 });
      expectSame(billed.rollups, billed.readings);
    } finally {
      await Meter.update({ organizationId: ids.organization, id: ids.meters[1] as string, role: "sub" });
    }
  });

  it("for any gaps, measured slots, re-delivered batches and a repricing, usage and the console series from rollups equal the readings summed", async () => {
    let run = 0;
    const reading = fc.record({
      meter: fc.integer({ min: 0, max: 2 }),
      slot: fc.integer({ min: 0, max: 59 }),
      // Mostly 5-minute readings; the rest gaps of 10 minutes to 2 hours.
      slots: fc.constantFrom(1, 1, 1, 1, 2, 3, 7, 24),
      wh: fc.integer({ min: 0, max: 9000 }),
      kvarhWh: fc.option(fc.integer({ min: 0, max: 4000 }), { nil: undefined }),
    });
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.array(reading, { minLength: 1, maxLength: 10 }), { minLength: 1, maxLength: 4 }),
        fc.array(fc.nat(), { maxLength: 2 }),
        fc.integer({ min: 0, max: 59 }),
        async (batches, again, repriceAt) => {
          // Prepare: each run its own April 2026 day, 16:00–21:00 in Mexico City (UTC−6), across intermedia and punta.
          run += 1;
          const dayStart = Date.parse("2026-04-01T06:00:00Z") + run * 86_400_000;
          const slotAt = (slot: number) => new Date(dayStart + 16 * 3_600_000 + slot * 300_000).toISOString();
          const events: KinesisStreamEvent[] = [];
          // Act: each batch through POST /v1/ingest and the stream into the consumer, some events again, then a repricing.
          for (const batch of batches) {
            const readings = batch.map((item) => ({
              meterId: ids.meters[item.meter] as string,
              start: slotAt(item.slot),
              seconds: item.slots * 300,
              kwh: (item.wh * item.slots) / 1000,
              ...(item.kvarhWh === undefined ? {} : { kvarh: item.kvarhWh / 1000 }),
              ...(item.slots > 1 ? { gap: true } : {}),
            }));
            const response = await app.request("/v1/ingest", {
              method: "POST",
              headers: { authorization: `Bearer ${deviceToken}`, "content-type": "application/json" },
              body: JSON.stringify({ readings }),
            });
            expect(response.status).toBe(200);
            const drained = await drainToEvent(p.log);
            const seen = new Set(events.flatMap((event) => event.Records.map((record) => record.eventID)));
            const fresh = { Records: drained.Records.filter((record) => !seen.has(record.eventID)) };
            events.push(fresh);
            await consumer(fresh);
          }
          for (const index of again) await consumer(events[index % events.length] as KinesisStreamEvent);
          await TariffStore.addVersion({
            factoryId: ids.factory,
            effectiveFrom: new Date(slotAt(repriceAt)),
            definition: BillRequest.definition({
              tariff: "cfe-gdmth",
              zone: "central",
              prices: { fixed: "0", energy: { base: "0.9715", intermedia: `1.${run}573`, punta: "1.7262" }, distribution: "0", capacity: "0" },
            }),
          });
          const planned = await recomputeSteps.plan({ months: ["2026-04"], factoryIds: [ids.factory] });
          for (const item of planned.items) await recomputeSteps.page({ ...item, filter: planned.filter });

          // Assess: the local day (1d rollup), its hours and quarter-hours, and an afternoon on hours (no whole local day).
          const day = `from=${new Date(dayStart).toISOString()}&to=${new Date(dayStart + 86_400_000).toISOString()}`;
          const afternoon = `from=${slotAt(0)}&to=${slotAt(60)}`;
          for (const [range, bucket] of [
            [day, "1d"],
            [day, "1h"],
            [day, "15m"],
            [afternoon, "1d"],
            [afternoon, "1h"],
          ] as const) {
            const usage = await both(`/v1/factories/${ids.factory}/usage?${range}&bucket=${bucket}`, p.apiToken);
            expectSame(usage.rollups, usage.readings);
            expectSame(usage.rollups, usage.perMeter);
            const series = await both(`/v1/factories/${ids.factory}/series?${range}&bucket=${bucket}`, p.apiToken);
            expectSame(series.rollups, series.readings);
            expectSame(series.rollups, series.perMeter);
          }
          await expectRollupsAsRebuilt(p);
        },
      ),
      { numRuns: 8 },
    );
  });
});
