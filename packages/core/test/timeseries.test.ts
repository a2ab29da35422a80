import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Flux } from "../src/flux";
import type { Lake } from "../src/lake";
import { InfluxSink, toLine } from "../src/sink/influx";
import { Testing } from "../src/testing";
import { TimeSeries } from "../src/timeseries";
import { InfluxTimeSeries } from "../src/timeseries/influx";
import { LakeTimeSeries } from "../src/timeseries/local";
import { PostgresTimeSeries } from "../src/timeseries/postgres";
import { fluxProblems } from "./flux-check";
import { FakeInflux, parseLine } from "./influx-server";
import { temporaryLake } from "./temporary-lake";

const factoryId = "fac_ts";
const zone = "America/Mexico_City";

function row(meterId: string, start: string, kwh: number, extra: Partial<Lake.Row> = {}): Lake.Row {
  return {
    meterId,
    factoryId,
    deviceId: "dev_ts",
    intervalStart: new Date(start),
    intervalSeconds: 300,
    kwh,
    kvarh: kwh / 2,
    kwAvg: kwh * 12,
    kwMax: kwh * 13,
    pf: 0.9,
    voltage: 220,
    current: 50,
    touPeriod: "base",
    tariffId: "trf_1",
    unitPrice: "1.000000",
    cost: kwh.toFixed(6),
    estimated: false,
    gap: false,
    computedAt: new Date("2026-03-10T00:00:00Z"),
    source: "kinesis",
    receivedAt: new Date("2026-03-10T00:00:00Z"),
    ...extra,
  };
}

/** Two meters over a local-day boundary (06:00 UTC is midnight in Mexico City), and a corrected copy. */
const rows: Lake.Row[] = [
  row("mtr_a", "2026-03-02T05:45:00Z", 1),
  row("mtr_a", "2026-03-02T05:50:00Z", 2),
  row("mtr_a", "2026-03-02T05:55:00Z", 3),
  row("mtr_b", "2026-03-02T05:55:00Z", 4, { kvarh: null }),
  row("mtr_a", "2026-03-02T06:00:00Z", 5, { touPeriod: "intermedia", cost: "10.000000" }),
  row("mtr_b", "2026-03-02T06:05:00Z", 6, { touPeriod: "punta", cost: "12.000000" }),
];
/** mtr_a at 06:00 recosted later: punta, 15.00. The first copy must not count. */
const correction = row("mtr_a", "2026-03-02T06:00:00Z", 5, { touPeriod: "punta", cost: "15.000000", computedAt: new Date("2026-03-20T00:00:00Z") });
const range = { factoryId, from: new Date("2026-03-01T06:00:00Z"), to: new Date("2026-04-01T06:00:00Z") };

/** kwhWithKvarh leaves out mtr_b's 05:55 reading (4 kWh, no kVArh): 1 + 2 + 3 in the first window. */
const expectedWindows = [
  { start: new Date("2026-03-02T05:45:00Z"), period: "base", kwh: 10, estimatedKwh: 0, kvarh: 3, kwhWithKvarh: 6, cost: "10.000000" },
  { start: new Date("2026-03-02T06:00:00Z"), period: "punta", kwh: 11, estimatedKwh: 0, kvarh: 5.5, kwhWithKvarh: 11, cost: "27.000000" },
];
/** mtr_b alone (a factory's billing meter, say): 4 kWh without kVArh at 05:55, 6 kWh in punta at 06:05. */
const expectedMeterB = [
  { start: new Date("2026-03-02T05:45:00Z"), period: "base", kwh: 4, estimatedKwh: 0, kvarh: null, kwhWithKvarh: 0, cost: "4.000000" },
  { start: new Date("2026-03-02T06:00:00Z"), period: "punta", kwh: 6, estimatedKwh: 0, kvarh: 3, kwhWithKvarh: 6, cost: "12.000000" },
];
const expectedDays = [
  { meterId: "mtr_a", day: "2026-03-01", kwh: 6, cost: "6.000000", kvarh: 3, kwhWithKvarh: 6 },
  { meterId: "mtr_b", day: "2026-03-01", kwh: 4, cost: "4.000000", kvarh: null, kwhWithKvarh: 0 },
  { meterId: "mtr_a", day: "2026-03-02", kwh: 5, cost: "15.000000", kvarh: 2.5, kwhWithKvarh: 5 },
  { meterId: "mtr_b", day: "2026-03-02", kwh: 6, cost: "12.000000", kvarh: 3, kwhWithKvarh: 6 },
];

describe("line protocol", () => {
  it("puts the TOU period, price, cost and computedAt in fields and only factory and meter in tags", () => {
    const point = parseLine(toLine(rows[0] as Lake.Row));

    expect(point.tags).toEqual({ factory: factoryId, meter: "mtr_a" });
    expect(point.fields).toMatchObject({ period: "base", unit_price: 1, cost: 1, computed_at: Date.parse("2026-03-10T00:00:00Z"), kwh: 1 });
    expect(point.time).toBe(Date.parse("2026-03-02T05:45:00Z"));
  });

  it("escapes tag values and strings so they cannot add tags, fields or lines", () => {
    const hostile = row('mtr a,x=1 "q"', "2026-03-02T05:45:00Z", 1, { touPeriod: 'p"un\\ta', deviceId: "dev,1" });

    const point = parseLine(toLine(hostile));

    expect(point.tags).toEqual({ factory: factoryId, meter: 'mtr a,x=1 "q"' });
    expect(point.fields.period).toBe('p"un\\ta');
    expect(point.fields.device).toBe("dev,1");
    expect(() => toLine(row("mtr\nreading x=1", "2026-03-02T05:45:00Z", 1))).toThrow(TimeSeries.TimeSeriesError);
  });
});

describe("InfluxDB adapter against an HTTP server speaking /api/v2/write and /api/v2/query", () => {
  const influx = new FakeInflux();
  let port: InfluxTimeSeries;
  let sink: InfluxSink;
  const sleeps: number[] = [];
  beforeAll(async () => {
    await influx.start();
    const settings = { url: influx.url, token: "t0ken", org: "wattflow", bucket: "readings" };
    port = new InfluxTimeSeries(settings);
    sink = new InfluxSink({
      ...settings,
      sleep: async (ms) => {
        sleeps.push(ms);
      },
    });
  });
  afterAll(() => influx.stop());

  it("writes with the token, org, bucket and ms precision, and retries throttling and server errors", async () => {
    influx.failNext = [503, 429];

    await sink.write(rows);

    expect(influx.writes).toHaveLength(3);
    expect(influx.writes[2]?.authorization).toBe("Token t0ken");
    expect(Object.fromEntries(influx.writes[2]?.query ?? [])).toEqual({ org: "wattflow", bucket: "readings", precision: "ms" });
    expect(sleeps).toHaveLength(2);
    expect(influx.points.size).toBe(rows.length);
  });

  it("does not retry a write InfluxDB refuses (400) and says why", async () => {
    influx.failNext = [400];
    const before = influx.writes.length;

    await expect(sink.write([rows[0] as Lake.Row])).rejects.toThrow(/answered 400/);
    expect(influx.writes.length - before).toBe(1);
  });

  it("a recomputed reading replaces its point instead of adding one", async () => {
    await sink.write([correction]);

    expect(influx.points.size).toBe(rows.length);
    const key = [...influx.points.keys()].find((item) => item.includes("mtr_a") && item.endsWith(`@${Date.parse("2026-03-02T06:00:00Z")}`)) ?? "";
    expect(influx.points.get(key)?.fields).toMatchObject({ period: "punta", cost: 15 });
  });

  it("answers 15-minute windows and meter days through library queries that Flux accepts", async () => {
    const windows = await port.windows(range);
    const days = await port.meterDays({ ...range, timeZone: zone });

    expect(windows).toEqual(expectedWindows);
    expect(days).toEqual(expectedDays);
    expect(await port.usage({ ...range, timeZone: zone })).toEqual({ windows: expectedWindows, meterDays: expectedDays });
    // windows: sums, periods and kWh-with-kVArh; meter days: sums and kWh-with-kVArh; usage: both again.
    expect(influx.queries).toHaveLength(10);
    for (const query of influx.queries) expect(await fluxProblems(query)).toEqual([]);
  });

  it("sums only the meters a range names, in a query Flux accepts", async () => {
    const before = influx.queries.length;

    expect(await port.windows({ ...range, meterIds: ["mtr_b"] })).toEqual(expectedMeterB);
    for (const query of influx.queries.slice(before)) expect(await fluxProblems(query)).toEqual([]);
  });

  it("reset-aware energy from a cumulative counter: 1000, 1010, 4, 9 kWh is 19 kWh, not 15", async () => {
    // Prepare: a register read every 5 minutes that was reset to 0 between the 2nd and 3rd reading.
    const at = (minute: number) => Date.parse("2026-03-05T10:00:00Z") + minute * 60_000;
    const body = [1000, 1010, 4, 9].map((value, index) => `reading,factory=fac_counter,meter=mtr_c import_kwh=${value} ${at(index * 5)}`).join("\n");
    await fetch(`${influx.url}/api/v2/write?org=wattflow&bucket=readings&precision=ms`, { method: "POST", body });
    const scope = { bucket: "readings", factoryId: "fac_counter", from: new Date(at(0)), to: new Date(at(60)), field: "import_kwh", every: "1h" };

    // Act
    const rows = await port.query(Flux.counterEnergy(scope));
    const droppingResets = Flux.from("readings")
      .range({ start: scope.from, stop: scope.to })
      .measurement("reading")
      .tag("factory", "fac_counter")
      .field("import_kwh")
      .difference({ nonNegative: true })
      .aggregateWindow({ every: "1h", fn: "sum" })
      .yield("counter_energy")
      .toString();
    const dropped = await port.query(droppingResets);

    // Assess: (1010 − 1000) + (4 − 0, the reset counted from zero) + (9 − 4) = 19; dropping the reset step gives 10 + 5 = 15.
    expect(rows.map((row) => row._value)).toEqual([19]);
    expect(dropped.map((row) => row._value)).toEqual([15]);
    expect(await fluxProblems(Flux.counterEnergy(scope))).toEqual([]);
  });

  it("splits large writes into batches of 5,000 lines", async () => {
    const before = influx.writes.length;
    const many = Array.from({ length: 12_001 }, (_, index) => row("mtr_bulk", new Date(Date.parse("2025-01-01T00:00:00Z") + index * 300_000).toISOString(), 1));

    await sink.write(many);

    expect(influx.writes.slice(before).map((write) => write.body.split("\n").length)).toEqual([5000, 5000, 2001]);
  });
});

describe("the lake answers the same questions with DuckDB", () => {
  const { lake, remove } = temporaryLake();
  const port = new LakeTimeSeries(lake);
  afterAll(remove);

  it("an empty lake has no windows", async () => {
    expect(await port.windows(range)).toEqual([]);
  });

  it("takes the latest copy of each reading, so a correction never double-counts", async () => {
    await lake.put(rows);
    await lake.put([correction]);
    // The correction's first copy again (a re-sent batch): still one reading.
    await lake.put([rows[4] as Lake.Row]);

    expect(await port.windows(range)).toEqual(expectedWindows);
    expect(await port.meterDays({ ...range, timeZone: zone })).toEqual(expectedDays);
    expect(await port.usage({ ...range, timeZone: zone })).toEqual({ windows: expectedWindows, meterDays: expectedDays });
  });

  it("sums only the meters a range names", async () => {
    expect(await port.windows({ ...range, meterIds: ["mtr_b"] })).toEqual(expectedMeterB);
    expect(await port.windows({ ...range, meterIds: ["x' OR '1'='1"] })).toEqual([]);
  });

  it("has no write of its own: the consumer's lake delivery is what it reads", () => {
    expect("write" in port).toBe(false);
  });

  it("quotes what it is given, so an id cannot change the SQL", async () => {
    expect(await port.windows({ ...range, factoryId: "x' OR '1'='1" })).toEqual([]);
    await expect(port.meterDays({ ...range, timeZone: "UTC'; DROP VIEW readings; --" })).rejects.toThrow(TimeSeries.TimeSeriesError);
  });
});

describe.each(Testing.lanes())("a stage without InfluxDB answers from the readings in Postgres (%s)", (lane) => {
  let database: Awaited<ReturnType<typeof Testing.database>>;
  beforeAll(async () => {
    database = await Testing.database(lane);
    // Postgres holds one copy per reading key: the corrected one.
    await Testing.insertReadings(
      database.db,
      rows.map((item, index) => (index === 4 ? correction : item)),
    );
    TimeSeries.provide(undefined);
  });
  afterAll(() => database.close());

  it("gives the lake's answers from the stored readings", async () => {
    const port = new PostgresTimeSeries();

    expect(await port.windows(range)).toEqual(expectedWindows);
    expect(await port.usage({ ...range, timeZone: zone })).toEqual({ windows: expectedWindows, meterDays: expectedDays });
    expect(await port.windows({ ...range, meterIds: ["mtr_b"] })).toEqual(expectedMeterB);
  });
});
