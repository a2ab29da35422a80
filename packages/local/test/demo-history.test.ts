/**
 * The demo's history loader (stack/demo-history.ts) with real parts: PGlite, the Parquet lake, the local
 * workflow runner with the real step handlers. One meter over 35 days ending 2026-03-03 12:00 UTC keeps it
 * short: at 12:05 UTC on 2026-03-03 the history ends a slot before the one under way, at 12:00Z, so
 * 2026-01-27 12:00Z → 2026-03-03 12:00Z is 35 × 288 = 10,080 slots, of which February (Monterrey,
 * UTC−6: 2026-02-01 06:00Z → 2026-03-01 06:00Z) is the one whole month, 28 × 288 = 8,064 slots.
 */
import { join } from "node:path";
import { Close } from "@wattflow/core/close";
import { Database } from "@wattflow/core/database";
import { Import } from "@wattflow/core/import";
import { Lake } from "@wattflow/core/lake";
import { LocalLake } from "@wattflow/core/lake/local";
import { Testing } from "@wattflow/core/testing";
import { TimeSeries } from "@wattflow/core/timeseries";
import { LakeTimeSeries } from "@wattflow/core/timeseries/local";
import { Workflow } from "@wattflow/core/workflow";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type DemoInfo, demoTimeZone, seedDemo } from "../src/stack/demo";
import { type HistoryOptions, loadHistory } from "../src/stack/demo-history";
import { calendarOf, dayKind, demoContractedDemandKw, production, reading } from "../src/stack/demo-year";
import { startWorkflows } from "../src/stack/workflows";
import type { LocalRunner } from "../src/workflow/runner";

const now = new Date("2026-03-03T12:05:00Z");

describe("the demo history loader", () => {
  let dir: ReturnType<typeof Testing.temporaryDir>;
  let database: Database.Handle;
  let lake: LocalLake;
  let stopWorkflows: () => Promise<void>;
  let demo: DemoInfo;
  let options: HistoryOptions;

  beforeAll(async () => {
    dir = Testing.temporaryDir();
    database = await Testing.database("pglite");
    lake = new LocalLake(join(dir.path, "lake"));
    Lake.provide(lake);
    TimeSeries.provide(new LakeTimeSeries(lake));
    stopWorkflows = startWorkflows(dir.path, () => {});
    const seeded = await seedDemo(dir.path, {
      apiUrl: "http://127.0.0.1:0",
      kinesis: { endpoint: "http://127.0.0.1:0", stream: "test", region: "us-east-1", credentials: { accessKeyId: "a", secretAccessKey: "b" } },
    });
    // One of the six meters: the loader writes every meter the demo lists.
    demo = { ...seeded, meterIds: seeded.meterIds.slice(0, 1) };
    options = { dataDir: dir.path, days: 35, timeZone: demoTimeZone, log: () => {}, now };
  }, 120_000);

  afterAll(async () => {
    await stopWorkflows();
    Lake.provide(undefined);
    TimeSeries.provide(undefined);
    await lake.close();
    Database.provide(undefined);
    await database.close();
    dir.remove();
  });

  it("stops between calls when told and, started again, stores only what is left", async () => {
    // Prepare: stop as soon as the newest month (2026-03-01 06:00Z → 03-03 12:00Z: 54 h × 12 = 648 slots) is in.
    const stopping = new AbortController();
    const first = loadHistory(demo, { ...options, signal: stopping.signal, onRecent: () => stopping.abort() });
    await first.done;
    expect(first.progress()).toMatchObject({ status: "loading", months: 3, monthsLoaded: 1, stored: 648, duplicates: 0 });

    // Act
    const second = loadHistory(demo, options);
    await second.done;

    // Assess: 10,080 − 648 = 9,432 slots left (January's 114 h × 12 = 1,368 and February's 8,064), none twice.
    expect(second.progress()).toMatchObject({ status: "done", months: 3, monthsLoaded: 3, stored: 9432, duplicates: 0, oldestLoaded: "2026-01" });
  }, 300_000);

  it("closes the whole past month with all its readings, and imports the utility's bill that reconciles against it", async () => {
    // Prepare: the imports the loader started (production, the utility's February bill) and the schedule's close.
    await ((await Workflow.use()) as LocalRunner).idle();

    // Act
    const ours = await Close.get(demo.factoryId, "2026-02");
    const utility = await Close.get(demo.factoryId, "2026-02", "utility");

    // Assess: February is closed over its calendar month with its 8,064 slots; the partial January is not closed.
    expect(ours?.bill).toMatchObject({ periodStart: "2026-02-01", periodEnd: "2026-03-01", readings: 8064 });
    expect(await Close.get(demo.factoryId, "2026-01")).toBeUndefined();
    // The utility read 1.8 % more punta kWh (demo-history.ts): round(ours × 1.018) at our unit price, ours minus theirs below zero.
    const punta = ours?.lines.find((line) => line.code === "energy-punta");
    const theirs = utility?.lines.find((line) => line.code === "energy-punta");
    expect(Number(theirs?.quantity)).toBe(Math.round(Number(punta?.quantity) * 1.018));
    expect(Number(theirs?.amount)).toBeCloseTo(Math.round(Number(theirs?.quantity) * Number(punta?.unitPrice) * 100) / 100, 2);
    expect(Number(punta?.difference)).toBeCloseTo(Number(punta?.amount) - Number(theirs?.amount), 2);
    expect(Number(punta?.difference)).toBeLessThan(0);
    // Every other charge is the same on both bills.
    const base = ours?.lines.find((line) => line.code === "energy-base");
    expect(Number(base?.difference)).toBe(0);
    const imports = await Import.list(demo.organizationId);
    expect(imports.map((run) => [run.kind, run.status]).sort()).toEqual([
      ["bill", "loaded"],
      ["production", "loaded"],
    ]);
  }, 300_000);

  it("never loads a finished history again", async () => {
    // Act
    const again = loadHistory(demo, options);
    await again.done;

    // Assess
    expect(again.progress()).toMatchObject({ status: "done", monthsLoaded: 3, stored: 0, duplicates: 0 });
  });
});

describe("the demo year's shape", () => {
  const calendar = calendarOf(new Date("2026-11-30T18:00:00Z"));
  /** Six meters' kWh in the 15 minutes from `startMs`, as kW (× 4). */
  const demandKw = (startMs: number) => {
    let kwh = 0;
    for (let slot = 0; slot < 3; slot++) for (let meter = 0; meter < 6; meter++) kwh += reading(meter, startMs + slot * 300_000, calendar).kwh;
    return kwh * 4;
  };

  it("puts the events inside the year: heavy punta nine months back, the PF dip six, the shutdown two", () => {
    expect(calendar).toEqual({ heavyPuntaMonth: "2026-02", powerFactorDipMonth: "2026-05", shutdownSaturday: "2026-09-12" });
  });

  it("rests on Sundays, LFT holidays and the maintenance Saturday, and works other Saturdays' mornings", () => {
    // LFT art. 74: 16 September (a Wednesday in 2026) is a rest day.
    expect(dayKind("2026-09-16", 3, calendar)).toBe("off");
    expect(dayKind("2026-09-12", 6, calendar)).toBe("off");
    expect(dayKind("2026-09-19", 6, calendar)).toBe("saturday");
    expect(dayKind("2026-09-17", 4, calendar)).toBe("weekday");
  });

  it("generates the same readings and production on every run", () => {
    // Golden values: what the demo year generated for the Assembly meter at 10:00 local on Friday 2026-06-12, and the
    // production of that day and the Saturday after, when written.
    const assembly = reading(2, Date.parse("2026-06-12T16:00:00Z"), calendar);
    expect(assembly).toEqual({ kwh: 11.3038, kvarh: 3.1689, kwAvg: 135.645, kwMax: 148.965, pf: 0.963, voltage: 13110.6, current: 6.2 });
    const units = production("2026-06-12", "2026-06-13", calendar).map((row) => `${row.date} ${row.line} ${row.units}`);
    expect(units.slice(0, 4)).toEqual(["2026-06-12 Injection 5782", "2026-06-12 Extrusion 3132", "2026-06-12 Assembly 2422", "2026-06-12 Paint 2511"]);
    expect(units.slice(4)).toEqual(["2026-06-13 Injection 1993", "2026-06-13 Extrusion 1140", "2026-06-13 Assembly 937", "2026-06-13 Paint 902"]);
  });

  it("runs the motors at a power factor under CFE's 90 % only in the dip month", () => {
    // 2026-05-12 and 2026-06-12, 10:00 local (16:00Z): PF 0.80–0.88 in the dip, 0.93–0.98 otherwise.
    expect(reading(0, Date.parse("2026-05-12T16:00:00Z"), calendar).pf).toBeLessThan(0.9);
    expect(reading(0, Date.parse("2026-06-12T16:00:00Z"), calendar).pf).toBeGreaterThanOrEqual(0.93);
  });

  it("peaks at 90–97 % of the contracted demand in the heavy-punta month", () => {
    // Every quarter-hour of February 2026 (local): the overtime evenings set the year's peak.
    let peak = 0;
    for (let ms = Date.parse("2026-02-01T06:00:00Z"); ms < Date.parse("2026-03-01T06:00:00Z"); ms += 900_000) peak = Math.max(peak, demandKw(ms));
    expect(peak / demoContractedDemandKw).toBeGreaterThan(0.9);
    expect(peak / demoContractedDemandKw).toBeLessThan(0.97);
  });
});
