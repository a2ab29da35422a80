import { describe, expect, it } from "vitest";
import { Lake } from "../src/lake";
import { LakeSchema } from "../src/lake/schema";

const row: Lake.Row = {
  meterId: "mtr_01jtest0000000000000000000",
  factoryId: "fac_01jtest0000000000000000000",
  deviceId: "dev_01jtest0000000000000000000",
  intervalStart: new Date("2026-03-31T23:55:00Z"),
  intervalSeconds: 300,
  kwh: 12.5,
  kvarh: 5.1,
  kwAvg: 150,
  kwMax: 162,
  pf: 0.926,
  voltage: 220.4,
  current: 81.2,
  touPeriod: "punta",
  tariffId: "trf_01jtest0000000000000000000",
  unitPrice: "2.153400",
  cost: "26.917500",
  estimated: false,
  gap: false,
  computedAt: new Date("2026-04-01T00:00:03.120Z"),
  source: "kinesis",
  receivedAt: new Date("2026-04-01T00:00:01.005Z"),
};

/** What a JSON value must look like for the Hive JSON deserializer to read it as each Glue type. */
const accepts: Record<LakeSchema.GlueType, (value: unknown) => boolean> = {
  string: (value) => typeof value === "string",
  int: (value) => Number.isInteger(value),
  double: (value) => typeof value === "number",
  boolean: (value) => typeof value === "boolean",
  // LakeSchema.timestampFormat: yyyy-MM-dd'T'HH:mm:ss.SSS'Z'
  timestamp: (value) => typeof value === "string" && /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/.test(value),
  "decimal(14,6)": (value) => typeof value === "string" && /^-?\d{1,8}(\.\d{1,6})?$/.test(value),
  "decimal(18,6)": (value) => typeof value === "string" && /^-?\d{1,12}(\.\d{1,6})?$/.test(value),
};

describe("the Glue table and the lake record share one schema", () => {
  it("has a column for every field Firehose receives, and the partition key for the rest", () => {
    const record = Lake.toRecord(row);

    const columns = LakeSchema.columns.map((column) => column.name);

    expect([...columns, LakeSchema.partitionKey].sort()).toEqual(Object.keys(record).sort());
  });

  it("keeps the record's field order in the table", () => {
    const fields = Object.keys(Lake.toRecord(row)).filter((field) => field !== LakeSchema.partitionKey);

    expect(LakeSchema.columns.map((column) => column.name)).toEqual(fields);
  });

  it("gives each field a value its column's type can read", () => {
    const record = Lake.toRecord(row) as Record<string, unknown>;

    for (const column of LakeSchema.columns) {
      expect({ column: column.name, readable: accepts[column.type](record[column.name]) }).toEqual({ column: column.name, readable: true });
    }
  });

  it("leaves nullable fields null, which every column type takes", () => {
    const record = Lake.toRecord({ ...row, kvarh: null, pf: null, touPeriod: null, unitPrice: null, cost: null, computedAt: null }) as Record<string, unknown>;

    expect([record.kvarh, record.pf, record.tou_period, record.unit_price, record.cost, record.computed_at]).toEqual([null, null, null, null, null, null]);
  });

  it("partitions by the reading's UTC date, not by when it arrived", () => {
    const record = Lake.toRecord(row);

    expect(record.dt).toBe("2026-03-31");
    expect(record.received_at.slice(0, 10)).toBe("2026-04-01");
  });

  it("names the database in every KPI view and reads the latest copy per key", () => {
    const views = LakeSchema.views("wattflow_production");

    expect(views.map((view) => view.name)).toEqual(["readings_latest", "daily_energy_cost", "demand_15min"]);
    for (const view of views) expect(view.sql).toContain(`CREATE OR REPLACE VIEW "wattflow_production"."${view.name}"`);
    expect(views[0]?.sql).toContain("PARTITION BY meter_id, interval_start ORDER BY computed_at DESC");
  });
});
