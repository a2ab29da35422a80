import { sql } from "drizzle-orm";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Database } from "../src/database";
import { Maintenance } from "../src/maintenance";
import { readingTable } from "../src/reading/reading.sql";
import { Testing } from "../src/testing";

const now = new Date("2027-02-15T12:00:00Z");

function reading(start: string, delivered: boolean) {
  return {
    meterId: "mtr_01jtest0000000000000000000",
    intervalStart: new Date(start),
    intervalSeconds: 300,
    factoryId: "fac_01jtest0000000000000000000",
    deviceId: "dev_01jtest0000000000000000000",
    kwh: 1.5,
    source: "kinesis" as const,
    receivedAt: new Date(start),
    lakeDeliveredAt: delivered ? new Date(start) : null,
  };
}

async function partitionOf(db: Database.Db, start: string): Promise<string> {
  const result = await db.execute(
    sql`select tableoid::regclass::text as name from reading where interval_start = ${new Date(start).toISOString()}::timestamptz`,
  );
  return String((result as unknown as { rows: { name: string }[] }).rows[0]?.name);
}

describe.each(Testing.lanes())("reading partitions and retention on %s", (lane) => {
  let database: Database.Handle;

  beforeEach(async () => {
    database = await Testing.database(lane);
    // Partitions around a fixed date, whatever today is.
    await Database.ensurePartitions(database.db, new Date("2026-11-15T00:00:00Z"));
    await Testing.insertReadings(database.db, [
      reading("2025-10-15T10:00:00Z", true),
      reading("2025-11-15T10:00:00Z", false),
      reading("2026-06-15T10:00:00Z", true),
      // Backfills from before any partition land in the default partition.
      reading("2020-01-10T10:00:00Z", true),
      reading("2020-02-10T10:00:00Z", false),
    ]);
  });

  afterEach(async () => {
    await database.close();
  });

  it("drops a month before the window only when the lake holds all its readings, and creates the months ahead", async () => {
    // Prepare
    expect(await partitionOf(database.db, "2025-10-15T10:00:00Z")).toBe("reading_2025_10");

    // Act: 14 months back from February 2027 keeps December 2025 onwards.
    const result = await Maintenance.run({ retentionMonths: 14 }, now);

    // Assess
    expect(result.dropped).toEqual(["reading_2025_10"]);
    expect(result.kept).toEqual([{ partition: "reading_2025_11", undelivered: 1 }]);
    expect(result.deletedFromDefault).toBe(1);
    expect(result.partitions).not.toContain("reading_2025_10");
    expect(result.partitions).toContain("reading_2027_05");
    const left = await database.db.select({ start: readingTable.intervalStart }).from(readingTable).orderBy(readingTable.intervalStart);
    expect(left.map((row) => row.start.toISOString())).toEqual(["2020-02-10T10:00:00.000Z", "2025-11-15T10:00:00.000Z", "2026-06-15T10:00:00.000Z"]);
  });

  it("refuses a retention window shorter than the partitions kept back", async () => {
    await expect(Maintenance.run({ retentionMonths: 12 }, now)).rejects.toThrow(Maintenance.MaintenanceError);
  });
});

describe("retention cutoff", () => {
  it("is the first day of the month `retentionMonths` before now's month, in UTC", () => {
    expect(Maintenance.cutoff(new Date("2026-11-28T00:00:00Z"), 25).toISOString()).toBe("2024-10-01T00:00:00.000Z");
  });
});
