/**
 * Issue 12 through the stack's public doors: POST /v1/ingest, the Kinesis consumer, then usage and
 * gaps over HTTP. Every meter slot holds one value; a gap reading is spread over its slots as an
 * estimate until measured slots replace it.
 */
import { BillRequest } from "@wattflow/core/billing";
import { Gateway } from "@wattflow/core/device/gateway";
import { Signature } from "@wattflow/core/device/signature";
import { Ingest } from "@wattflow/core/ingest";
import { meterTable } from "@wattflow/core/meter/meter.sql";
import { quarantineTable } from "@wattflow/core/quarantine/quarantine.sql";
import { Reading } from "@wattflow/core/reading";
import { readingTable } from "@wattflow/core/reading/reading.sql";
import { TariffStore } from "@wattflow/core/tariff/store";
import { Testing } from "@wattflow/core/testing";
import { TimeSeries } from "@wattflow/core/timeseries";
import { LakeTimeSeries } from "@wattflow/core/timeseries/local";
import { Usage } from "@wattflow/core/usage";
import { and, asc, eq, gte, lt } from "drizzle-orm";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { app } from "../src/api/app";
import { handler as consumer } from "../src/ingest/consumer";
import { deviceToken, drainToEvent, ids, type Pipeline, pipeline } from "./support";

type Input = { meterId: string; start: string; seconds: number; kwh: number; gap?: boolean };

const meter = ids.meters[0] as string;

async function post(readings: Input[]) {
  const response = await app.request("/v1/ingest", {
    method: "POST",
    headers: { authorization: `Bearer ${deviceToken}`, "content-type": "application/json" },
    body: JSON.stringify({ readings }),
  });
  return (await response.json()) as { accepted: number; duplicates: number; rejected: { index: number; errors: { path: string; message: string }[] }[] };
}

async function get(path: string, token: string) {
  const response = await app.request(path, { headers: { authorization: `Bearer ${token}` } });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

const slot = (start: string, minutes: number, kwh: number): Input => ({
  meterId: meter,
  start: new Date(Date.parse(start) + minutes * 60_000).toISOString(),
  seconds: 300,
  kwh,
});

async function storedKwh(p: Pipeline, from: string, to: string) {
  const rows = await p.database.db
    .select()
    .from(readingTable)
    .where(and(eq(readingTable.meterId, meter), gte(readingTable.intervalStart, new Date(from)), lt(readingTable.intervalStart, new Date(to))))
    .orderBy(asc(readingTable.intervalStart));
  return { rows, kwh: rows.reduce((sum, row) => sum + row.kwh, 0) };
}

describe.each(Testing.lanes())("the 5-minute grid on %s", (lane) => {
  let p: Pipeline;
  const consumed = new Set<string>();
  beforeAll(async () => {
    p = await pipeline(lane);
    await p.database.db
      .update(meterTable)
      .set({ maxKw: 100 })
      .where(eq(meterTable.id, ids.meters[2] as string));
    // Case 2's tariff: GDMTH central with energy at 1 / 2 / 3 and nothing else, from 2026.
    await TariffStore.addVersion({
      factoryId: ids.factory,
      effectiveFrom: new Date("2026-01-01T06:00:00Z"),
      definition: BillRequest.definition({
        tariff: "cfe-gdmth",
        zone: "central",
        prices: { fixed: "0", energy: { base: "1", intermedia: "2", punta: "3" }, distribution: "0", capacity: "0" },
      }),
    });
  });
  afterAll(async () => {
    await p.close();
  });

  /** Gives the consumer what the stream holds and it has not had yet, as the event source mapping would. */
  async function drain() {
    const event = await drainToEvent(p.log);
    const fresh = event.Records.filter((item) => !consumed.has(item.eventID));
    for (const item of fresh) consumed.add(item.eventID);
    return consumer({ Records: fresh });
  }
  async function deliver(batches: Input[][]) {
    const answers = [];
    for (const batch of batches) {
      answers.push(await post(batch));
      await drain();
    }
    return answers;
  }

  it("case 2: a 24-hour gap lands in 24 hourly buckets of 10 kWh and costs 440.00 by its slots' periods", async () => {
    // Prepare: Monday 2026-04-06 00:00–24:00 Mexico City (UTC−6), one gap reading of 240 kWh (flat 10 kW).
    const gap = { meterId: meter, start: "2026-04-06T06:00:00Z", seconds: 86_400, kwh: 240, gap: true };
    // Act
    const [answer] = await deliver([[gap]]);
    const usage = await get(`/v1/factories/${ids.factory}/usage?from=2026-04-06T06:00:00Z&to=2026-04-07T06:00:00Z&bucket=1h`, p.apiToken);
    // Assess: 288 estimated slots of 240/288 kWh; each hour 10 kWh. By hand, April weekday GDMTH central:
    // base 00–06 = 60 kWh × 1 = 60; intermedia 06–20 and 22–24 = 160 kWh × 2 = 320; punta 20–22 = 20 kWh × 3 = 60 → 440.00.
    expect(answer).toEqual({ accepted: 1, duplicates: 0, rejected: [] });
    const body = usage.body as { buckets: { kwh: number; estimatedKwh: number }[]; totals: Record<string, number> };
    expect(body.buckets).toHaveLength(24);
    for (const bucket of body.buckets) expect(bucket).toMatchObject({ kwh: 10, estimatedKwh: 10 });
    expect(body.totals).toMatchObject({ kwh: 240, cost: 440, readings: 288, measuredKwh: 0, estimatedKwh: 240, estimatedShare: 1 });
    // The two other meters of the factory sent nothing that day: 2 × 288 missing slots.
    expect(body.totals.missingSlots).toBe(576);
    const { rows } = await storedKwh(p, "2026-04-06T06:00:00Z", "2026-04-07T06:00:00Z");
    expect(new Set(rows.map((row) => row.touPeriod))).toEqual(new Set(["base", "intermedia", "punta"]));
    expect(rows.every((row) => row.quality === "estimated" && row.intervalSeconds === 300 && row.flags.includes("estimated_gap"))).toBe(true);
    // Lake: one copy per slot, all 240 kWh.
    const lake = await p.lake.query(
      "select count(*)::int as n, sum(kwh) as kwh from readings where meter_id = '" +
        meter +
        "' and interval_start >= '2026-04-06 06:00:00+00' and interval_start < '2026-04-07 06:00:00+00'",
    );
    expect(lake[0]?.n).toBe(288);
    expect(Number(lake[0]?.kwh)).toBeCloseTo(240, 6);
  });

  const hour = (day: number) => `2026-10-0${day}T16:00:00Z`;
  const gapOf = (day: number): Input => ({ meterId: meter, start: hour(day), seconds: 3600, kwh: 12, gap: true });
  const fives = (day: number) => Array.from({ length: 12 }, (_, index) => slot(hour(day), index * 5, 1));
  const orders: [string, (day: number) => Input[][]][] = [
    ["gap first", (day) => [[gapOf(day)], ...fives(day).map((reading) => [reading])]],
    ["measured first", (day) => [...fives(day).map((reading) => [reading]), [gapOf(day)]]],
    ["interleaved", (day) => fives(day).flatMap((reading, index) => (index === 5 ? [[reading], [gapOf(day)]] : [[reading]]))],
    [
      "repeated, in one batch",
      (day) => [
        [fives(day)[0] as Input, gapOf(day), ...fives(day), gapOf(day)],
        [gapOf(day), ...fives(day)],
      ],
    ],
  ];
  it.each(orders.map(([name, batches], index) => [name, batches, index + 5] as const))(
    "case 3: an hour with a 12 kWh gap reading and twelve 1 kWh readings holds 12 kWh (%s)",
    async (_name, batches, day) => {
      // Act
      await deliver(batches(day));
      const usage = await get(`/v1/factories/${ids.factory}/usage?from=${hour(day)}&to=${hour(day).replace("16:00", "17:00")}&bucket=1h`, p.apiToken);
      // Assess: 12 kWh whatever the order (the old store held 23), every slot measured in the end.
      const body = usage.body as { buckets: { kwh: number; estimatedKwh: number; readings: number }[] };
      const [start, end] = [hour(day).replace("Z", ".000Z"), hour(day).replace("16:00:00Z", "17:00:00.000Z")];
      expect(body.buckets).toEqual([{ start, end, partial: false, kwh: 12, estimatedKwh: 0, cost: expect.any(Number), readings: 12 }]);
      const { rows } = await storedKwh(p, hour(day), hour(day).replace("16:00", "17:00"));
      expect(rows.map((row) => [row.kwh, row.quality])).toEqual(Array.from({ length: 12 }, () => [1, "measured"]));
    },
  );

  it("a measured slot replaces its estimate and the rest of the span is re-spread to keep the span's total", async () => {
    // Prepare: a 15-minute gap of 3 kWh (three 1 kWh estimates), then the first slot measured at 2.4 kWh.
    const start = "2026-10-10T16:00:00Z";
    await deliver([[{ meterId: meter, start, seconds: 900, kwh: 3, gap: true }]]);
    // Act
    const [answer] = await deliver([[slot(start, 0, 2.4)]]);
    // Assess: 2.4 measured + 0.6 left, spread flat over the two open slots (0.3 each): still 3 kWh.
    expect(answer).toEqual({ accepted: 1, duplicates: 0, rejected: [] });
    const { rows, kwh } = await storedKwh(p, start, "2026-10-10T16:15:00Z");
    expect(rows.map((row) => [row.kwh, row.quality])).toEqual([
      [2.4, "measured"],
      [0.3, "estimated"],
      [0.3, "estimated"],
    ]);
    expect(kwh).toBeCloseTo(3, 9);
    // The re-spread slots went to the lake again; its latest copy per slot holds the new values.
    const lake = await p.lake.query(
      `select arg_max(kwh, computed_at) as kwh from readings where meter_id = '${meter}' and interval_start >= '2026-10-10 16:00:00+00' and interval_start < '2026-10-10 16:15:00+00' group by interval_start order by interval_start`,
    );
    expect(lake.map((row) => Number(row.kwh))).toEqual([2.4, 0.3, 0.3]);
  });

  it("a reading that contradicts measured slots is refused by POST and quarantined by the consumer, naming the slots", async () => {
    // Prepare: a measured slot of 1 kWh.
    const start = "2026-10-11T16:00:00Z";
    await deliver([[slot(start, 0, 1)]]);
    // Act: the same slot with 2 kWh, and a gap over it claiming less than what was measured.
    const [answer] = await deliver([[slot(start, 0, 2), { meterId: meter, start, seconds: 600, kwh: 0.5, gap: true }]]);
    // Assess
    expect(answer?.accepted).toBe(0);
    expect(answer?.rejected.map((item) => item.errors[0]?.message)).toEqual([
      "slot 2026-10-11T16:00:00.000Z already holds a measured 1 kWh, not 2 kWh",
      "the measured slots 2026-10-11T16:00:00.000Z hold 1 kWh, which does not fit the 0.5 kWh measured over 2026-10-11T16:00:00.000Z (+600 s)",
    ]);
    // Two POSTs before the consumer runs both pass the check; the consumer keeps the first and quarantines the second.
    const other = "2026-10-12T16:00:00Z";
    await post([slot(other, 0, 1)]);
    await post([slot(other, 0, 1.5)]);
    await drain();
    const quarantined = await p.database.db.select().from(quarantineTable).where(eq(quarantineTable.reason, "conflicts with stored slots"));
    expect(quarantined.map((row) => row.errors[0]?.message)).toEqual(["slot 2026-10-12T16:00:00.000Z already holds a measured 1 kWh, not 1.5 kWh"]);
    // The API says it as a code with the meter and the reading's start (the second POST's), for the console to word.
    const listed = (await get("/v1/quarantine", p.apiToken)).body.items as { reason: string; code: string; params: unknown }[];
    expect(listed.filter((item) => item.reason === "conflicts with stored slots").map((item) => [item.code, item.params])).toEqual([
      ["reading.conflict", { meterId: meter, start: "2026-10-12T16:00:00.000Z" }],
    ]);
    expect((await storedKwh(p, other, "2026-10-12T16:05:00Z")).kwh).toBe(1);
  });

  it("GET /v1/meters/:id/gaps lists missing and estimated spans, 400 on bad params, 404 for another organization's meter", async () => {
    // Prepare: 16:00–16:15 estimated (a 3-slot gap), 16:15 measured, 16:20–16:30 missing.
    const start = "2026-10-13T16:00:00Z";
    await deliver([[{ meterId: meter, start, seconds: 900, kwh: 3, gap: true }, slot(start, 15, 1)]]);
    // Act
    const gaps = await get(`/v1/meters/${meter}/gaps?from=${start}&to=2026-10-13T16:30:00Z`, p.apiToken);
    // Assess
    expect(gaps).toEqual({
      status: 200,
      body: {
        meterId: meter,
        from: "2026-10-13T16:00:00.000Z",
        to: "2026-10-13T16:30:00.000Z",
        missing: [{ start: "2026-10-13T16:20:00.000Z", end: "2026-10-13T16:30:00.000Z", slots: 2 }],
        estimated: [
          {
            start: "2026-10-13T16:00:00.000Z",
            end: "2026-10-13T16:15:00.000Z",
            slots: 3,
            kwh: 3,
            span: { start: "2026-10-13T16:00:00.000Z", seconds: 900, kwh: 3 },
          },
        ],
      },
    });
    const bad = await get(`/v1/meters/${meter}/gaps?from=yesterday&to=2026-10-13T16:30:00Z`, p.apiToken);
    expect(bad.status).toBe(400);
    expect(bad.body.errors).toContainEqual({ path: "from", message: 'from: "yesterday" is not an ISO 8601 instant such as 2026-04-06T20:30:00Z' });
    expect((await get(`/v1/meters/${meter}/gaps?from=${start}&to=2026-10-13T16:30:00Z`, p.otherApiToken)).status).toBe(404);
  });

  it("KPIs take demand from measured slots only and say how much energy was estimated", async () => {
    // Prepare: Monday 2026-11-02 10:00 Mexico City, meter 0 measures 3 × 1 kWh (a 12 kW quarter hour), then a
    // one-hour gap of 60 kWh follows (15 kWh a quarter hour: 60 kW, if an estimate could set a peak).
    TimeSeries.provide(new LakeTimeSeries(p.lake));
    const start = "2026-11-02T16:00:00Z";
    await deliver([
      [slot(start, 0, 1), slot(start, 5, 1), slot(start, 10, 1), { meterId: meter, start: "2026-11-02T16:15:00Z", seconds: 3600, kwh: 60, gap: true }],
    ]);
    // Act
    const kpis = await get(`/v1/factories/${ids.factory}/kpis?month=2026-11`, p.apiToken);
    TimeSeries.provide(undefined);
    // Assess: 63 kWh of which 60 estimated (60 / 63 = 0.9524); the peak is the measured 12 kW.
    const body = kpis.body as { totals: Record<string, unknown>; demand: { peakKw: number }; bill: { monthToDate: { estimatedKwh: string } } };
    expect(body.totals).toMatchObject({ kwh: 63, estimatedKwh: 60, estimatedShare: 0.9524 });
    expect(body.demand.peakKw).toBe(12);
    expect(body.bill.monthToDate.estimatedKwh).toBe("60");
  });

  it("flags a spike over the meter's rating and a long flat zero while the factory runs, and keeps both", async () => {
    // Prepare: meter 2 is rated 100 kW; meter 1 reads 0 for 2 hours (24 slots) while meter 0 uses 1 kWh a slot.
    const start = "2026-10-14T16:00:00Z";
    const zeros = Array.from({ length: 24 }, (_, index) => ({ ...slot(start, index * 5, 0), meterId: ids.meters[1] as string }));
    const running = Array.from({ length: 24 }, (_, index) => slot(start, index * 5, 1));
    // 12 kWh in 5 minutes is 144 kW, over the 100 kW rating.
    const spike = { ...slot(start, 0, 12), meterId: ids.meters[2] as string };
    // Act
    const [answer] = await deliver([[...running, ...zeros, spike]]);
    // Assess: nothing dropped; each rule named on the slots it concerns.
    expect(answer).toEqual({ accepted: 49, duplicates: 0, rejected: [] });
    const flagsOf = async (meterId: string) =>
      (await Usage.meterReadings(ids.organization, meterId, new Date(start), new Date("2026-10-14T18:00:00Z"))).map((reading) => [reading.kwh, reading.flags]);
    expect(await flagsOf(ids.meters[1] as string)).toEqual(Array.from({ length: 24 }, () => [0, ["flat_zero"]]));
    expect(await flagsOf(ids.meters[2] as string)).toEqual([[12, ["spike_over_rating"]]]);
    expect((await flagsOf(meter)).every(([, flags]) => (flags as string[]).length === 0)).toBe(true);
  });

  it("for any mix of gap and measured readings of one counter series, in any order and repeated, the stored kWh is what the counters measured", async () => {
    const secret = await Gateway.recordSecret();
    let sequence = 0;
    const record = (reading: Input) => {
      const body: Reading.StreamRecord = { v: 1, deviceId: ids.device, via: "http", receivedAt: new Date().toISOString(), reading };
      return {
        data: Reading.encodeRecord({ ...body, sig: Signature.signServer(body, secret) }),
        sequenceNumber: String(++sequence),
        partitionKey: meter,
        arrivalMs: Date.now(),
      };
    };
    let run = 0;
    await fc.assert(
      fc.asyncProperty(
        // Per slot: Wh used (the counter's steps) and whether its measured reading arrives.
        fc.array(fc.record({ wh: fc.integer({ min: 0, max: 5000 }), measured: fc.boolean() }), { minLength: 2, maxLength: 24 }),
        // Where gap spans end (disjoint spans cut the series), and the arrival order.
        fc.array(fc.boolean(), { minLength: 24, maxLength: 24 }),
        fc.integer({ min: 0, max: 2 ** 31 - 1 }),
        fc.integer({ min: 1, max: 5 }),
        async (slots, cuts, seed, batches) => {
          // Prepare: each run on its own day of 2025 so runs never meet.
          const first = Date.parse("2025-01-01T00:00:00Z") + run++ * 86_400_000;
          const at = (index: number) => new Date(first + index * 300_000).toISOString();
          const readings: Input[] = [];
          let spanStart = 0;
          for (let index = 0; index <= slots.length; index++) {
            if (index < slots.length && !cuts[index]) continue;
            const span = slots.slice(spanStart, index + 1);
            if (span.length >= 2) {
              // A gap reading over the span: the counter difference; its measured slots may arrive too.
              const wh = span.reduce((sum, item) => sum + item.wh, 0);
              readings.push({ meterId: meter, start: at(spanStart), seconds: span.length * 300, kwh: wh / 1000, gap: true });
              span.forEach((item, offset) => {
                if (item.measured) readings.push(slot(at(spanStart + offset), 0, item.wh / 1000));
              });
            } else for (const [offset, item] of span.entries()) readings.push(slot(at(spanStart + offset), 0, item.wh / 1000));
            spanStart = index + 1;
          }
          // Any order (a seeded shuffle), with some readings delivered twice (at-least-once).
          const random = [...readings, ...readings.slice(0, seed % (readings.length + 1))];
          let state = seed;
          for (let index = random.length - 1; index > 0; index--) {
            state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
            const other = state % (index + 1);
            [random[index], random[other]] = [random[other] as Input, random[index] as Input];
          }
          const size = Math.ceil(random.length / batches);
          // Act
          for (let from = 0; from < random.length; from += size) await Ingest.consume(random.slice(from, from + size).map(record));
          // Assess: one row per slot; the series sums to what the counters measured, to the Wh.
          const { rows, kwh } = await storedKwh(p, at(0), at(slots.length));
          expect(rows.map((row) => row.intervalStart.toISOString())).toEqual(slots.map((_, index) => at(index)));
          const measuredWh = slots.reduce((sum, item) => sum + item.wh, 0);
          expect(Math.abs(kwh * 1000 - measuredWh)).toBeLessThanOrEqual(1);
        },
      ),
      { numRuns: 25 },
    );
  }, 240_000);
});
