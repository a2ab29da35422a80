/**
 * The bulk path (Ingest.storeBulk, the local demo's year of history): readings stored on the same grid the
 * consumer uses, priced, delivered to the lake before they are inserted, and seen through the usage API.
 */
import { Ingest } from "@wattflow/core/ingest";
import { insertKeys } from "@wattflow/core/ingest/slot-rows";
import { readingTable } from "@wattflow/core/reading/reading.sql";
import { Rollup } from "@wattflow/core/rollup";
import { VisibleError } from "@wattflow/core/util/error";
import { and, asc, eq, gte, sql } from "drizzle-orm";
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

  /** Every rollup row of the factory, floats to 9 decimals (sums in another order differ in the last bits). */
  const rollupRows = async () => {
    const out: Record<string, unknown[]> = {};
    for (const table of ["rollup_15m", "rollup_1h", "rollup_1d", "rollup_factory_15m"]) {
      const result = await p.database.db.execute(
        sql.raw(`select * , round(kwh::numeric, 9)::text as kwh, round(kwh_with_kvarh::numeric, 9)::text as kwh_with_kvarh
          from ${table} where factory_id = '${ids.factory}' order by 1, 2, 3, 4`),
      );
      out[table] = (result as unknown as { rows: unknown[] }).rows;
    }
    return out;
  };

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

  it("with rollups deferred, one rebuild over the loaded range leaves every rollup as summing the readings afresh", async () => {
    // Prepare: meter 2, every slot of 2026-05-06 04:00–08:00 UTC: the range starts and ends mid-day in Mexico City
    // (UTC−6, its day turns at 06:00Z), so a local day is rebuilt from slots on both sides of the range's edge.
    const meterId = ids.meters[2] as string;
    const from = Date.parse("2026-05-06T04:00:00Z");
    const to = Date.parse("2026-05-06T08:00:00Z");
    const batch = [];
    for (let start = from; start < to; start += 300_000) batch.push({ meterId, start: new Date(start).toISOString(), seconds: 300, kwh: 1 + (start % 7) / 10 });
    const quarters = () => p.database.db.execute(sql`select count(*)::int as n from rollup_15m where meter_id = ${meterId}`);

    // Act: two calls that leave the rollups to the caller, then the caller's rebuild of the range.
    await Ingest.storeBulk(ids.device, batch.slice(0, 20), new Date(), { rollups: "deferred" });
    await Ingest.storeBulk(ids.device, batch.slice(20), new Date(), { rollups: "deferred" });
    const before = ((await quarters()) as unknown as { rows: { n: number }[] }).rows[0]?.n;
    await p.database.db.transaction((tx) => Rollup.rebuild(tx, { factoryId: ids.factory, range: { from: new Date(from), to: new Date(to) } }));

    // Assess: nothing summed before the rebuild; after it, 4 h = 16 quarter-hours, and every table as a full rebuild writes it.
    expect(before).toBe(0);
    expect(((await quarters()) as unknown as { rows: { n: number }[] }).rows[0]?.n).toBe(16);
    const rebuilt = await rollupRows();
    await p.database.db.transaction((tx) => Rollup.rebuild(tx));
    expect(rebuilt).toEqual(await rollupRows());
  });

  it("inserts rows whose slot was taken after all by skipping that slot: the COPY gives way to the insert that skips", async () => {
    // Prepare: a stored row of meter 0 as the template, and two new slots, one of which is stored meanwhile.
    const [stored] = await p.database.db.select().from(readingTable).where(eq(readingTable.meterId, meter)).orderBy(asc(readingTable.intervalStart));
    const { storedAt: _storedAt, ...template } = stored as typeof readingTable.$inferSelect;
    const taken = { ...template, intervalStart: new Date("2026-05-07T10:00:00Z"), kwh: 9 };
    const free = { ...template, intervalStart: new Date("2026-05-07T10:05:00Z"), kwh: 3 };
    await insertKeys([taken]);

    // Act
    const keys = await insertKeys([{ ...taken, kwh: 5 }, free]);

    // Assess: only the free slot is reported written; the taken one keeps its first value.
    expect([...keys]).toEqual([`${meter}@${free.intervalStart.getTime()}`]);
    const rows = await p.database.db
      .select({ kwh: readingTable.kwh })
      .from(readingTable)
      .where(and(eq(readingTable.meterId, meter), gte(readingTable.intervalStart, taken.intervalStart)))
      .orderBy(asc(readingTable.intervalStart));
    expect(rows.map((row) => row.kwh)).toEqual([9, 3]);
  });

  it("refuses an invalid reading with its path", async () => {
    const error = await Ingest.storeBulk(ids.device, [{ meterId: meter, start: "2026-05-05T10:00:00Z", seconds: 300, kwh: "lots" }]).catch(
      (caught: unknown) => caught,
    );
    expect((error as VisibleError).problems).toEqual([{ path: "readings.0.kwh", message: "kwh must be a number" }]);
  });
});
