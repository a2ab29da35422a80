import { meterTable } from "@wattflow/core/meter/meter.sql";
import { Statement } from "@wattflow/core/statement";
import { Testing } from "@wattflow/core/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ids, type Pipeline, pipeline, seedGdmthFactory } from "./support";

const factoryId = "fac_01jquarters00000000000000";
const deviceId = "dev_01jquarters00000000000000";
const meters = ["mtr_01jquarters00000000000000", "mtr_01jquarters00000000000001", "mtr_01jquarters00000000000002"];

/** A reading of `meter` in the 5-minute slot starting at `start`. */
const reading = (meter: string, start: string | number, kwh: number, extra: { kvarh?: number; quality?: "estimated" } = {}) => ({
  meterId: meter,
  intervalStart: new Date(start),
  intervalSeconds: 300,
  factoryId,
  deviceId,
  kwh,
  kvarh: extra.kvarh ?? null,
  quality: extra.quality ?? ("measured" as const),
  estimated: extra.quality === "estimated",
  source: "http" as const,
  receivedAt: new Date(),
});

describe.each(Testing.lanes())("the statement from quarter-hour rollups on %s", (lane) => {
  let p: Pipeline;

  beforeAll(async () => {
    p = await pipeline(lane);
    await seedGdmthFactory(p.database.db, { factoryId, deviceId, tariffId: "trf_01jquarters00000000000000", name: "Quarters plant" });
    await p.database.db
      .insert(meterTable)
      .values(meters.map((id, index) => ({ id, organizationId: ids.organization, factoryId, deviceId, name: `m${index}`, line: "L" })));
  });
  afterAll(async () => {
    await p.close();
  });

  it("bills a month the same from quarter-hours as from 5-minute slots, and an estimate never sets the peak", async () => {
    // Prepare: 10 March 2026 16:00Z (10:00 local, intermedia): the quarter 16:00–16:15 measured 10 + 20 + 30 kWh on
    // meter 0 and 5 kWh on meter 1 in its first slot; the next quarter a gap of meter 0 spread as 3 × 40 kWh
    // estimates. Then two days of every meter at irregular values with kVArh, over base, intermedia and punta.
    const quarter = Date.parse("2026-03-10T16:00:00Z");
    const rows = [
      reading(meters[0] as string, quarter, 10, { kvarh: 4 }),
      reading(meters[0] as string, quarter + 300_000, 20, { kvarh: 8 }),
      reading(meters[0] as string, quarter + 600_000, 30, { kvarh: 12 }),
      reading(meters[1] as string, quarter, 5),
      ...[0, 1, 2].map((slot) => reading(meters[0] as string, quarter + 900_000 + slot * 300_000, 40, { quality: "estimated" })),
    ];
    const first = Date.parse("2026-03-12T06:00:00Z");
    for (let slot = 0; slot < 576; slot++)
      meters.forEach((meter, index) => {
        const kwh = ((slot * 7 + index * 13) % 17) / 4 + 0.123;
        rows.push(reading(meter, first + slot * 300_000, kwh, slot % 5 === 0 ? {} : { kvarh: kwh * 0.41 }));
      });
    await Testing.insertReadings(p.database.db, rows);

    // Act
    const input = await Statement.gather(factoryId, "2026-03", Statement.atPeriodEnd);
    const fromSlots = await Statement.slots(factoryId, new Date("2026-03-01T06:00:00Z"), new Date("2026-04-01T06:00:00Z"), "slot");
    const quarters = Statement.compute(input);
    const slots = Statement.compute({ ...input, slots: fromSlots.slots });

    // Assess: the gathered input is quarter-hours (2 slots for the gap's quarter: measured and estimated are kept apart);
    // 16:00–16:15 measured 65 kWh → 65 × 4 = 260 kW, the peak: the estimated quarter's 120 kWh (480 kW) does not count.
    expect(input.slots.every((slot) => slot.seconds === 900)).toBe(true);
    expect(input.slots.length).toBeLessThan(fromSlots.slots.length / 2);
    expect(quarters.demand.maxKw).toBe(260);
    expect(quarters.energy.estimatedKwh).toBe(120);
    expect(quarters.energy.readings).toBe(rows.length);
    expect(quarters.bill?.monthToDate.lines).toEqual(slots.bill?.monthToDate.lines);
    expect(quarters.energy).toEqual(slots.energy);
    expect(quarters.energyCost).toEqual(slots.energyCost);
    expect(quarters.powerFactor).toBe(slots.powerFactor);
    expect(quarters.priced).toBe(true);
  });

  it("reads 5-minute slots where the tariff's demand window rolls every 5 minutes", () => {
    const version = (definition: unknown) => ({ id: "trf_x", effectiveFrom: new Date(0), definition }) as never;
    const cfe = { kind: "cfe-gdmth", zone: "central", prices: [Testing.gdmthNoroesteMarch2026] };
    expect(Statement.quarterHoursSuffice(version(cfe))).toBe(true);
    expect(Statement.quarterHoursSuffice(version({ ...cfe, rollingDemand: true }))).toBe(false);
    expect(Statement.quarterHoursSuffice(version({ kind: "flat", currency: "MXN", energyPrice: "2" }))).toBe(true);
    expect(Statement.quarterHoursSuffice(undefined)).toBe(true);
  });
});
