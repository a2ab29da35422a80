/**
 * The bulk path (Ingest.storeBulk, the local demo's year of history): readings stored on the same grid the
 * consumer uses, priced, delivered to the lake before they are inserted, and seen through the usage API.
 */
import { Ingest } from "@wattflow/core/ingest";
import { readingTable } from "@wattflow/core/reading/reading.sql";
import { VisibleError } from "@wattflow/core/util/error";
import { asc, eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { app } from "../src/api/app";
import { energyPrice, ids, usePipeline } from "./support";

const meter = ids.meters[0] as string;
/** Three 5-minute readings of one meter, 2026-05-04 18:00–18:15 UTC: 1.5 + 2.5 + 4 = 8 kWh. */
const readings = [
  { meterId: meter, start: "2026-05-04T18:00:00.000Z", seconds: 300, kwh: 1.5, kvarh: 0.5 },
  { meterId: meter, start: "2026-05-04T18:05:00.000Z", seconds: 300, kwh: 2.5, kvarh: 0.8 },
  { meterId: meter, start: "2026-05-04T18:10:00.000Z", seconds: 300, kwh: 4, kvarh: 1.2 },
];

describe("Ingest.storeBulk: server-side history through the grid store", () => {
  const p = usePipeline("pglite");

  it("stores each reading once, priced, already delivered to the lake, and the usage API shows them", async () => {
    // Act
    const result = await Ingest.storeBulk(ids.device, readings);

    // Assess: 3 stored and forwarded; nothing left for the sweeper.
    expect(result).toEqual({ stored: 3, duplicates: 0, conflicts: 0, forwarded: 3, undelivered: 0 });
    const rows = await p.database.db.select().from(readingTable).where(eq(readingTable.meterId, meter)).orderBy(asc(readingTable.intervalStart));
    expect(rows.map((row) => [row.kwh, row.source, row.quality, row.lakeDeliveredAt !== null])).toEqual([
      [1.5, "bulk", "measured", true],
      [2.5, "bulk", "measured", true],
      [4, "bulk", "measured", true],
    ]);
    // The flat test tariff: 8 kWh × 2.1534 MXN/kWh = 17.2272 MXN.
    const usage = await app.request(`/v1/factories/${ids.factory}/usage?from=2026-05-04T00:00:00Z&to=2026-05-05T00:00:00Z&bucket=1d`, {
      headers: { authorization: `Bearer ${p.apiToken}` },
    });
    const body = (await usage.json()) as { totals: { kwh: number; cost: number; readings: number } };
    expect(body.totals).toMatchObject({ kwh: 8, readings: 3 });
    expect(body.totals.cost).toBeCloseTo(8 * Number(energyPrice), 6);
    const lake = await p.lake.query(`select count(*)::int as n, sum(kwh) as kwh, sum(kvarh) as kvarh from readings where meter_id = '${meter}'`);
    expect(lake[0]?.n).toBe(3);
    expect(Number(lake[0]?.kwh)).toBeCloseTo(8, 9);
    // 0.5 + 0.8 + 1.2 = 2.5 kVArh
    expect(Number(lake[0]?.kvarh)).toBeCloseTo(2.5, 9);
  });

  it("counts a repeat of stored readings as duplicates and writes nothing", async () => {
    // Act
    const again = await Ingest.storeBulk(ids.device, readings);

    // Assess
    expect(again).toMatchObject({ stored: 0, duplicates: 3, conflicts: 0 });
    const lake = await p.lake.query(`select count(*)::int as n from readings where meter_id = '${meter}'`);
    expect(lake[0]?.n).toBe(3);
  });

  it("refuses a batch with a meter the device does not read, naming the reading, and stores none of it", async () => {
    // Prepare: a good reading first, then another organization's meter.
    const batch = [
      { meterId: ids.meters[1], start: "2026-05-05T10:00:00Z", seconds: 300, kwh: 1 },
      { meterId: ids.otherMeter, start: "2026-05-05T10:00:00Z", seconds: 300, kwh: 1 },
    ];

    // Act
    const error = await Ingest.storeBulk(ids.device, batch).catch((caught: unknown) => caught);

    // Assess
    expect(error).toBeInstanceOf(VisibleError);
    expect((error as VisibleError).problems).toEqual([{ path: "readings.1.meterId", message: `meter ${ids.otherMeter} is not read by device ${ids.device}` }]);
    const stored = await p.database.db
      .select()
      .from(readingTable)
      .where(eq(readingTable.meterId, ids.meters[1] as string));
    expect(stored).toEqual([]);
  });

  it("refuses an invalid reading with its path", async () => {
    const error = await Ingest.storeBulk(ids.device, [{ meterId: meter, start: "2026-05-05T10:00:00Z", seconds: 300, kwh: "lots" }]).catch(
      (caught: unknown) => caught,
    );
    expect((error as VisibleError).problems).toEqual([{ path: "readings.0.kwh", message: "kwh must be a number" }]);
  });
});
