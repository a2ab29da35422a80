import { billTable } from "@wattflow/core/close/bill.sql";
import { factoryTable } from "@wattflow/core/factory/factory.sql";
import { importRunTable } from "@wattflow/core/import/import.sql";
import { productionTable } from "@wattflow/core/production/production.sql";
import { readingTable } from "@wattflow/core/reading/reading.sql";
import { TariffStore } from "@wattflow/core/tariff/store";
import { tariffTable } from "@wattflow/core/tariff/tariff.sql";
import { Testing } from "@wattflow/core/testing";
import { Uploads } from "@wattflow/core/upload";
import { LocalStore } from "@wattflow/core/upload/local";
import { Workflow } from "@wattflow/core/workflow";
import { limits } from "@wattflow/core/workflow/definitions";
import { RunProgress } from "@wattflow/core/workflow/progress";
import { LocalRunner, type StepHandler } from "@wattflow/local/workflow/runner";
import { and, asc, eq, gte } from "drizzle-orm";
import ExcelJS from "exceljs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { app } from "../src/api/app";
import * as closeSteps from "../src/workflows/close";
import * as importSteps from "../src/workflows/import";
import * as recomputeSteps from "../src/workflows/recompute";
import { ids, type Pipeline, pipeline } from "./support";

const stepModules: Record<string, Record<string, unknown>> = { import: importSteps, recompute: recomputeSteps, close: closeSteps };

/** The real step handlers, found by the registry's handler path as the local stack finds them. */
async function realStep(handler: string): Promise<StepHandler> {
  const match = /^packages\/functions\/src\/workflows\/(\w+)\.(\w+)$/.exec(handler) as RegExpExecArray;
  const step = stepModules[match[1] as string]?.[match[2] as string];
  if (typeof step !== "function") throw new Error(`no step ${handler}`);
  return step as StepHandler;
}

/** A 5-minute reading row of the test factory's first meter, written straight into `reading` by Testing.insertReadings. */
const ourReading = (start: string, kwh: number, source: "http" | "kinesis" = "http") => ({
  meterId: ids.meters[0] as string,
  intervalStart: new Date(start),
  intervalSeconds: 300,
  factoryId: ids.factory,
  deviceId: ids.device,
  kwh,
  source,
  receivedAt: new Date(),
});

const csv = (lines: string[]) => ({ name: "production.csv", bytes: new TextEncoder().encode(`${lines.join("\n")}\n`) });

async function finished(runner: LocalRunner, executionArn: string) {
  await runner.idle();
  const execution = (await runner.describe(executionArn)) as Workflow.Execution;
  return { execution, progress: RunProgress.of(execution, await Workflow.fullHistory(runner, executionArn)) };
}

async function importFiles(
  runner: LocalRunner,
  kind: "production" | "bill" | "prices",
  files: { name: string; bytes: Uint8Array }[],
  owner = { organizationId: ids.organization, factoryId: ids.factory },
) {
  const { Import } = await import("@wattflow/core/import");
  const started = await Import.start({ organizationId: owner.organizationId, kind, factoryId: kind === "prices" ? undefined : owner.factoryId, files });
  return finished(runner, started.executionArn);
}

/**
 * The March 2026 close of the GDMTH factory in Tecomán (tecomanFactory) with one base reading of 1,000 kWh and 400 kVArh:
 * code, quantity, amount. By hand: Q = 1,000 kWh → Q / (24 · 31 · 0.57) = 2.36 kW → 3 kW distribution (272.55); no punta
 * reading → capacity 0. Supply 197.77 + 971.50 + 272.55 = 1,441.82. FP 92.85 % < 95 % (medium voltage, ≥ 1 MW, 2024 on):
 * ⅗ (95/92.848 − 1) = 1.39 % → 1.4 % → +20.19; subtotal 1,462.01; IVA 16 % = 233.92; DAP 10 % of 1,462.01 = 146.20,
 * untaxed; total 1,842.13.
 */
const tecomanMarch: [code: string, quantity: string, amount: string][] = [
  ["fixed", "1", "197.77"],
  ["energy-base", "1000", "971.50"],
  ["energy-intermedia", "0", "0.00"],
  ["energy-punta", "0", "0.00"],
  ["distribution", "3", "272.55"],
  ["capacity", "0", "0.00"],
  ["power-factor", "1441.82", "20.19"],
  ["subtotal", "1", "1462.01"],
  ["iva", "1462.01", "233.92"],
  ["dap", "1462.01", "146.20"],
  ["total", "1", "1842.13"],
];

describe.each(Testing.lanes())("workflows on the local runner with the real steps (%s)", (lane) => {
  let p: Pipeline;
  let dir: ReturnType<typeof Testing.temporaryDir>;
  let runner: LocalRunner;
  beforeAll(async () => {
    p = await pipeline(lane);
    dir = Testing.temporaryDir();
    Uploads.provide(new LocalStore(`${dir.path}/uploads`));
    runner = new LocalRunner({ dir: `${dir.path}/workflows`, resolveStep: realStep, retryIntervalMs: 0 });
    Workflow.provide(runner);
  });
  afterAll(async () => {
    await runner.stop();
    Workflow.provide(undefined);
    Uploads.provide(undefined);
    await p.close();
    dir.remove();
  });

  /** A GDMTH factory of the other organization in Tecomán, Colima (DAP 10 %), medium voltage, 1,200 kW contracted, on Noroeste March 2026 prices. */
  async function tecomanFactory(id: string, billingCycleDay?: number): Promise<string> {
    await p.database.db.insert(factoryTable).values({
      id,
      organizationId: ids.otherOrganization,
      name: `Tecomán plant ${id}`,
      timeZone: "America/Mexico_City",
      tariffCode: "cfe-gdmth",
      contractedDemandKw: "1200",
      supplyVoltage: "medium",
      state: "Colima",
      municipality: "Tecomán",
      billingCycleDay,
    });
    await p.database.db.insert(tariffTable).values({
      id: id.replace("fac_", "trf_"),
      factoryId: id,
      effectiveFrom: new Date("2026-01-01T06:00:00Z"),
      definition: { kind: "cfe-gdmth", zone: "central", prices: [Testing.gdmthNoroesteMarch2026] },
    });
    return id;
  }

  it("imports a valid production file: SUCCEEDED with its row count, rows stored", async () => {
    // Prepare
    const file = csv(["date,line,units,shift", "2026-03-02,L0,1200,A", "2026-03-02,L1,800,A", "2026-03-03,L0,1150,B"]);

    // Act
    const { execution, progress } = await importFiles(runner, "production", [file]);

    // Assess
    expect(execution.status).toBe("SUCCEEDED");
    expect(progress.states).toMatchObject({ done: 3, total: 3 });
    expect(progress.result).toMatchObject({ rows: 3, inserted: 3, updated: 0, unchanged: 0 });
    const rows = await p.database.db.select().from(productionTable).orderBy(asc(productionTable.date), asc(productionTable.line));
    expect(rows.map((row) => [row.date, row.line, row.shift, Number(row.units)])).toEqual([
      ["2026-03-02", "L0", "A", 1200],
      ["2026-03-02", "L1", "A", 800],
      ["2026-03-03", "L0", "B", 1150],
    ]);
  });

  it("re-importing the same file changes nothing", async () => {
    const file = csv(["date,line,units,shift", "2026-03-02,L0,1200,A", "2026-03-02,L1,800,A", "2026-03-03,L0,1150,B"]);
    const before = await p.database.db.select().from(productionTable).orderBy(asc(productionTable.date), asc(productionTable.line));

    const { progress } = await importFiles(runner, "production", [file]);

    expect(progress.result).toMatchObject({ rows: 3, inserted: 0, updated: 0, unchanged: 3 });
    const after = await p.database.db.select().from(productionTable).orderBy(asc(productionTable.date), asc(productionTable.line));
    expect(after).toEqual(before);
  });

  it("fails a file with bad rows, naming each row's line (header = line 1), and loads nothing from it", async () => {
    const file = csv(["date,line,units", "2026-04-01,L0,10", "2026-04-01,L1,abc", "2026-04-31,L2,5", "2026-04-02,Nowhere,1", "2026-04-01,L0,11"]);

    const { execution, progress } = await importFiles(runner, "production", [file]);

    expect(execution.status).toBe("FAILED");
    expect(progress.error).toMatchObject({ state: "ValidateFile", type: "ImportValidationError", item: { map: "ValidateFiles", index: 0 }, retries: 0 });
    expect(progress.error?.message).toContain('line 3 (units): units must be a non-negative number, got "abc"');
    expect(progress.error?.message).toContain('line 4 (date): date "2026-04-31": 2026-04-31 is not a date: April 2026 has 30 days');
    expect(progress.error?.message).toContain('line 5 (line): unknown line "Nowhere"');
    expect(progress.error?.message).toContain("line 6: duplicate of line 2");
    expect(progress.error?.explanation).toContain("lines 3, 4, 5, 6 of production.csv");
    const april = await p.database.db.select().from(productionTable).where(eq(productionTable.date, "2026-04-01"));
    expect(april).toEqual([]);
  });

  it("takes XLSX files, several in one run through the Map", async () => {
    const workbook = new ExcelJS.Workbook();
    const sheet = workbook.addWorksheet("production");
    sheet.addRow(["date", "line", "units"]);
    sheet.addRow([new Date(Date.UTC(2026, 4, 4)), "L2", 42]);
    sheet.addRow(["2026-05-05", "L2", 43.5]);
    const xlsx = { name: "may.xlsx", bytes: new Uint8Array(await workbook.xlsx.writeBuffer()) };

    const { progress } = await importFiles(runner, "production", [xlsx, csv(["date,line,units", "2026-05-04,L1,7"])]);

    expect(progress.status).toBe("SUCCEEDED");
    expect(progress.items).toMatchObject({ map: "LoadFiles", done: 2, total: 2, failed: 0 });
    expect(progress.result).toMatchObject({ files: 2, rows: 3, inserted: 3 });
    const may = await p.database.db.select().from(productionTable).where(eq(productionTable.line, "L2"));
    expect(may.map((row) => [row.date, row.units]).sort()).toEqual([
      ["2026-05-04", "42"],
      ["2026-05-05", "43.5"],
    ]);
  });

  it("closes a month: the bill from the readings, stored, reconciled line by line with the imported utility bill", async () => {
    // Prepare: readings of 2026-02 for the flat-tariff factory (2.1534 MXN/kWh), and the utility's bill.
    await Testing.insertReadings(
      p.database.db,
      [0, 1, 2].map((meter) => ({
        meterId: ids.meters[meter] as string,
        intervalStart: new Date(`2026-02-10T1${meter}:00:00Z`),
        intervalSeconds: 300,
        factoryId: ids.factory,
        deviceId: ids.device,
        kwh: 100,
        source: "http" as const,
        receivedAt: new Date(),
      })),
    );
    const utility = {
      name: "cfe-feb.csv",
      bytes: new TextEncoder().encode("month,code,quantity,unit,unit_price,amount\n2026-02,energy,0.3,MWh,2153.4,640.00\n"),
    };
    expect((await importFiles(runner, "bill", [utility])).progress.result).toMatchObject({ rows: 1, inserted: 1 });

    // Act
    const { executionArn } = await runner.start("MonthlyClose", { month: "2026-02", factoryIds: [ids.factory] });
    const { progress } = await finished(runner, executionArn);

    // Assess
    expect(progress.status).toBe("SUCCEEDED");
    expect(progress.result).toMatchObject({ month: "2026-02", factories: 1, readings: 3, totals: { MXN: "646.02" }, reconciled: 1 });
    expect(progress.result).toMatchObject({ differences: [{ factoryId: ids.factory, difference: "6.02" }] });
    const { Close } = await import("@wattflow/core/close");
    const stored = await Close.get(ids.factory, "2026-02");
    expect(stored?.bill.status).toBe("closed");
    expect(stored?.lines.map((line) => [line.code, line.amount, line.utilityAmount, line.difference])).toEqual([["energy", "646.02", "640.00", "6.02"]]);
    const utilityBill = await Close.get(ids.factory, "2026-02", "utility");
    expect(utilityBill?.lines[0]).toMatchObject({ quantity: "300", unit: "kWh", unitPrice: "2.1534" });
  });

  it("closes the other factories of a page when one has no tariff, naming it as skipped", async () => {
    await p.database.db
      .insert(factoryTable)
      .values({ id: "fac_01jnotariff00000000000000", organizationId: ids.organization, name: "New plant", timeZone: "America/Tijuana", tariffCode: "none" });

    const { executionArn } = await runner.start("MonthlyClose", { month: "2026-02", organizationId: ids.organization });
    const { progress } = await finished(runner, executionArn);

    expect(progress.status).toBe("SUCCEEDED");
    expect(progress.result).toMatchObject({
      factories: 1,
      skipped: [{ factoryId: "fac_01jnotariff00000000000000", reason: "factory fac_01jnotariff00000000000000 has no tariff in force on 2026-02-01" }],
    });
  });

  it("skips a factory without a single reading in the billing period, saying so, and stores no bill for it", async () => {
    // A factory onboarded after the month (or whose meters never reported) has nothing measured: a bill of the fixed
    // charge and IVA alone would be a made-up figure (a review found one of 229.41 MXN for a month of 0 readings).
    const { executionArn } = await runner.start("MonthlyClose", { month: "2026-03", factoryIds: [ids.factory] });
    const { progress } = await finished(runner, executionArn);

    expect(progress.status).toBe("SUCCEEDED");
    expect(progress.result).toMatchObject({
      factories: 0,
      skipped: [{ factoryId: ids.factory, reason: expect.stringContaining("has no readings in its billing period") }],
    });
    const { Close } = await import("@wattflow/core/close");
    expect(await Close.get(ids.factory, "2026-03")).toBeUndefined();
  });

  it("re-opens a closed month when a reading of it arrives later", async () => {
    await Testing.insertReadings(p.database.db, ourReading("2026-02-20T12:00:00Z", 1, "kinesis"));

    const [bill] = await p.database.db.select().from(billTable).where(eq(billTable.source, "wattflow"));

    expect(bill).toMatchObject({ month: "2026-02", status: "reopened" });
    expect(bill?.reopenedAt).toBeInstanceOf(Date);
  });

  it("a price import writes the prices into the division's CFE tariffs and its recompute reprices the month, clearing estimated", async () => {
    // Prepare: the factory on GDMTH in division "golfo centro", prices published up to 2026-05 only.
    await p.database.db.update(factoryTable).set({ tariffDivision: "golfo centro" }).where(eq(factoryTable.id, ids.factory));
    await TariffStore.addVersion({
      factoryId: ids.factory,
      effectiveFrom: new Date("2026-06-01T06:00:00Z"),
      definition: {
        kind: "cfe-gdmth",
        zone: "central",
        prices: [{ month: "2026-05", fixed: "600", distribution: "100", capacity: "300", energy: { base: "1", intermedia: "2", punta: "3" } }],
      },
    });
    // 2026-06-09 is a Tuesday: 03:00 local (base) and 20:30 local (punta in summer).
    const start = (iso: string) => new Date(iso);
    await Testing.insertReadings(
      p.database.db,
      [start("2026-06-09T09:00:00Z"), start("2026-06-10T02:30:00Z")].map((intervalStart) => ({
        meterId: ids.meters[1] as string,
        intervalStart,
        intervalSeconds: 300,
        factoryId: ids.factory,
        deviceId: ids.device,
        kwh: 10,
        estimated: true,
        source: "http" as const,
        receivedAt: new Date(),
      })),
    );
    const prices = {
      name: "cfe-2026-06.csv",
      bytes: new TextEncoder().encode(
        "month,division,tariff,fixed,distribution,capacity,base,intermedia,punta\n2026-06,Golfo Centro,GDMTH,650,110,320,1.1,2.2,3.3\n",
      ),
    };

    // Act
    const imported = await importFiles(runner, "prices", [prices]);
    const recomputeArn = (imported.progress.result as { recompute: { executionArn: string } }).recompute.executionArn;
    const recompute = await finished(runner, recomputeArn);

    // Assess
    expect(imported.progress.status).toBe("SUCCEEDED");
    expect(recompute.progress.status).toBe("SUCCEEDED");
    expect(recompute.progress.result).toMatchObject({ factoryMonths: 1, readings: 2, changed: 2, estimated: 0 });
    const june = await p.database.db
      .select()
      .from(readingTable)
      .where(and(eq(readingTable.meterId, ids.meters[1] as string), gte(readingTable.intervalStart, new Date("2026-06-01T00:00:00Z"))))
      .orderBy(asc(readingTable.intervalStart));
    expect(june.map((row) => [row.touPeriod, Number(row.cost), row.estimated])).toEqual([
      ["base", 11, false],
      ["punta", 33, false],
    ]);
    const versions = await p.database.db.select().from(tariffTable).where(eq(tariffTable.factoryId, ids.factory));
    expect(JSON.stringify(versions.map((version) => version.definition))).toContain('"month":"2026-06"');
  });

  it("recomputing again changes nothing", async () => {
    const { executionArn } = await runner.start("CostRecompute", { months: ["2026-06"], factoryIds: [ids.factory] });
    const { progress } = await finished(runner, executionArn);
    expect(progress.result).toMatchObject({ readings: 2, changed: 0 });
  });

  it("pages factories for close and recompute Map items: five per item, every factory once", async () => {
    const { Close } = await import("@wattflow/core/close");
    await p.database.db.insert(factoryTable).values(
      Array.from({ length: 6 }, (_, index) => ({
        id: `fac_01jpage00000000000000000${index}`,
        organizationId: ids.organization,
        name: `Plant ${index}`,
        timeZone: "America/Mexico_City",
        tariffCode: "flat",
      })),
    );
    const filter = { organizationId: ids.organization };

    const items = await Close.pages(filter, ["2026-01", "2026-02"]);
    const pages = [await Close.factoryPage(filter, 0), await Close.factoryPage(filter, 1)];

    expect(items).toEqual([
      { month: "2026-01", page: 0 },
      { month: "2026-01", page: 1 },
      { month: "2026-02", page: 0 },
      { month: "2026-02", page: 1 },
    ]);
    expect(pages.map((page) => page.length)).toEqual([5, 3]);
    expect(new Set(pages.flat()).size).toBe(8);
  });

  it("the API takes a multipart upload and shows the run, in the Step Functions shape", async () => {
    const form = new FormData();
    form.set("kind", "production");
    form.set("factory", ids.factory);
    form.append("file", new Blob(["date,line,units\n2026-07-01,L0,5\n"]), "july.csv");

    const posted = await app.request("/v1/imports", { method: "POST", headers: { authorization: `Bearer ${p.apiToken}` }, body: form });
    const { executionArn } = (await posted.json()) as { executionArn: string };
    await runner.idle();
    const described = await app.request(`/v1/runs/${encodeURIComponent(executionArn)}`, { headers: { authorization: `Bearer ${p.apiToken}` } });
    const hidden = await app.request(`/v1/runs/${encodeURIComponent(executionArn)}`, { headers: { authorization: `Bearer ${p.otherApiToken}` } });
    const history = await app.request(`/v1/runs/${encodeURIComponent(executionArn)}/history`, { headers: { authorization: `Bearer ${p.apiToken}` } });

    expect(posted.status).toBe(202);
    expect(await described.json()).toMatchObject({ status: "SUCCEEDED", workflow: "ImportFiles" });
    expect(hidden.status).toBe(404);
    const page = (await history.json()) as Workflow.HistoryPage;
    expect(page.events[0]).toMatchObject({ id: 1, type: "ExecutionStarted" });
    expect(page.events.map((event) => event.type)).toContain("MapIterationSucceeded");
    const [run] = await p.database.db.select().from(importRunTable).where(eq(importRunTable.executionArn, executionArn));
    expect(run).toMatchObject({ status: "loaded", rows: 1, fileName: "july.csv" });
  });
  it("closes a CFE month on the factory's contract: 95 % power-factor threshold, its municipality's DAP after IVA, names in the API", async () => {
    // Prepare: a GDMTH factory in Tecomán, Colima (DAP 10 %, billing/dap.ts), medium voltage, 1,200 kW contracted,
    // on GDMTH Noroeste March 2026 prices (tecomanFactory); one reading of 1,000 kWh and 400 kVArh at 03:00 on Tuesday 10 March (base).
    const factoryId = await tecomanFactory("fac_01jcfe000000000000000000");
    await Testing.insertReadings(p.database.db, {
      meterId: ids.otherMeter,
      intervalStart: new Date("2026-03-10T09:00:00Z"),
      intervalSeconds: 300,
      factoryId,
      deviceId: ids.otherDevice,
      kwh: 1000,
      kvarh: 400,
      source: "http" as const,
      receivedAt: new Date(),
    });

    // Act
    const { executionArn } = await runner.start("MonthlyClose", { month: "2026-03", factoryIds: [factoryId] });
    const { progress } = await finished(runner, executionArn);

    // Assess: the lines worked out by hand in tecomanMarch.
    expect(progress.result).toMatchObject({ factories: 1, totals: { MXN: "1842.13" } });
    const { Close } = await import("@wattflow/core/close");
    const stored = await Close.get(factoryId, "2026-03");
    expect(stored?.lines.map((line) => [line.code, line.quantity, line.amount])).toEqual(tecomanMarch);
    const { User } = await import("@wattflow/core/user");
    const credentials = { email: "admin@plant-b.example", password: "correct horse battery staple" };
    await User.create({ organizationId: ids.otherOrganization, name: "B admin", role: "admin", ...credentials });
    const session = await app.request("/v1/session", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(credentials) });
    const cookie = /wattflow_session=[^;]+/.exec(session.headers.get("set-cookie") ?? "")?.[0] ?? "";
    const response = await app.request(`/v1/factories/${factoryId}/bills`, { headers: { cookie } });
    const { bills } = (await response.json()) as { bills: { lines: { code: string; name: { es: string; en: string } }[] }[] };
    expect(bills[0]?.lines.slice(6, 10).map((line) => line.name.es)).toEqual(["Cargo por factor de potencia", "Subtotal", "IVA", "DAP"]);
  });

  it("reconciles a utility bill whose lines carry CFE's printed names, and names the line it does not know in the import's summary", async () => {
    // Prepare: the Tecomán factory closed above (tecomanMarch); the utility's bill names its lines as printed, plus a
    // charge of its own.
    const factoryId = "fac_01jcfe000000000000000000";
    const utility = {
      name: "cfe-marzo.csv",
      bytes: new TextEncoder().encode(
        [
          "month,code,quantity,unit,unit_price,amount",
          "2026-03,Cargo fijo,1,month,197.77,197.77",
          "2026-03,Energía Base,1000,kWh,0.9715,971.50",
          "2026-03,ENERGIA INTERMEDIA,0,kWh,1.5573,0.00",
          "2026-03,energia-punta,0,kWh,1.7262,0.00",
          "2026-03,Distribución,3,kW,90.85,272.55",
          "2026-03,Capacidad,0,kW,392.66,0.00",
          "2026-03,Bonificación/Cargo por factor de potencia,1,,0,20.19",
          "2026-03,Cargo por reconexión,1,,0,150.00",
          "2026-03,IVA,1,,0,233.92",
          "2026-03,Derecho de alumbrado público,1,,0,146.20",
        ].join("\n"),
      ),
    };

    // Act
    const { progress } = await importFiles(runner, "bill", [utility], { organizationId: ids.otherOrganization, factoryId });

    // Assess: every named line meets ours (difference 0); the reconnection charge is the utility's alone (ours null,
    // difference −150.00) and named in the summary. Totals: ours 1,842.13; theirs 1,462.01 + 150.00 + 233.92 + 146.20 = 1,992.13.
    expect(progress.result).toMatchObject({
      rows: 10,
      unmatched: [{ factoryId, month: "2026-03", code: "Cargo por reconexión" }],
      reconciled: [{ factoryId, month: "2026-03", difference: "-150.00" }],
    });
    const { Close } = await import("@wattflow/core/close");
    const stored = await Close.get(factoryId, "2026-03");
    // Every utility amount is ours and every difference 0.00, but the sums: the utility's subtotal is its charges,
    // 1,462.01 + 150.00 of reconnection = 1,612.01, and its total 1,842.13 + 150.00 = 1,992.13.
    const sums: Record<string, [string, string]> = { subtotal: ["1612.01", "-150.00"], total: ["1992.13", "-150.00"] };
    expect(stored?.lines.map((line) => [line.code, line.utilityAmount, line.difference])).toEqual(
      tecomanMarch.map(([code, , amount]) => [code, ...(sums[code] ?? [amount, "0.00"])]),
    );
  });

  it("closes a month over the reading dates of the imported utility bill (28 Feb – 31 Mar), not the calendar month or the cycle day", async () => {
    // Prepare: a second Tecomán factory whose cycle day (28) the utility bill's reading dates override.
    const factoryId = await tecomanFactory("fac_01jcyc000000000000000000", 28);
    // 03:10 local (base) on 27 Feb (before), 28 Feb, 10 Mar (with 400 kVArh), 29 Mar (after the cycle day) and 31 Mar (the next period).
    const reading = (day: string, kwh: number, kvarh: number | null = null) => ({
      meterId: ids.otherMeter,
      intervalStart: new Date(`${day}T09:10:00Z`),
      intervalSeconds: 300,
      factoryId,
      deviceId: ids.otherDevice,
      kwh,
      kvarh,
      source: "http" as const,
      receivedAt: new Date(),
    });
    await Testing.insertReadings(p.database.db, [
      reading("2026-02-27", 300),
      reading("2026-02-28", 500),
      reading("2026-03-10", 1000, 400),
      reading("2026-03-29", 200),
      reading("2026-03-31", 700),
    ]);
    const utility = {
      name: "cfe-mar.csv",
      bytes: new TextEncoder().encode(
        "month,code,quantity,unit,unit_price,amount,period_start,period_end\n2026-03,energy-base,1700,kWh,0.9715,1651.55,2026-02-28,2026-03-31\n",
      ),
    };
    expect((await importFiles(runner, "bill", [utility], { organizationId: ids.otherOrganization, factoryId })).progress.result).toMatchObject({ inserted: 1 });

    // Act
    const { executionArn } = await runner.start("MonthlyClose", { month: "2026-03", factoryIds: [factoryId] });
    const { progress } = await finished(runner, executionArn);

    // Assess. By hand, [28 Feb, 31 Mar), d = 31, March prices: Q = 500 + 1,000 + 200 = 1,700 kWh base → 1,651.55;
    // Q / (24 · 31 · 0.57) = 4.01 kW → 5 kW distribution = 454.25; capacity 0 (no punta reading). Supply 197.77 + 1,651.55 + 454.25
    // = 2,303.57. FP from the readings that carry kVArh alone (Figures.powerFactor): 1,000 / √(1,000² + 400²) = 92.85 % < 95 %
    // → ⅗ (95/92.848 − 1) = 1.39 % → 1.4 % = +32.25; subtotal 2,335.82; IVA 373.73; DAP 10 % = 233.58; total 2,943.13.
    expect(progress.result).toMatchObject({ readings: 3, totals: { MXN: "2943.13" }, reconciled: 1 });
    const { Close } = await import("@wattflow/core/close");
    const stored = await Close.get(factoryId, "2026-03");
    expect(stored?.bill).toMatchObject({ periodStart: "2026-02-28", periodEnd: "2026-03-31", total: "2943.13" });
    expect(stored?.lines.find((line) => line.code === "energy-base")).toMatchObject({ quantity: "1700", amount: "1651.55", difference: "0.00" });
    // The utility's bill here is its energy line alone: its subtotal and total are 1,651.55, its IVA 0.
    const summing = stored?.lines.filter((line) => ["subtotal", "iva", "total"].includes(line.code));
    expect(summing?.map((line) => [line.code, line.utilityAmount, line.difference])).toEqual([
      ["subtotal", "1651.55", "684.27"],
      ["iva", "0.00", "373.73"],
      ["total", "1651.55", "1291.58"],
    ]);

    // A late reading of 28 February belongs to this bill's period, not to a February bill: it re-opens March's.
    await Testing.insertReadings(p.database.db, { ...reading("2026-02-28", 1), intervalStart: new Date("2026-02-28T09:20:00Z") });
    expect((await Close.get(factoryId, "2026-03"))?.bill.status).toBe("reopened");
  });

  it("closes a month under a demand ratchet from the peak of the month closed before it", async () => {
    // Prepare: a URDB rate, 0.10/kWh at all hours, 10/kW flat demand, an 80 % ratchet (demandratchetpercentage) every month.
    const { Urdb } = await import("@wattflow/core/tariff/urdb");
    const allDay = Array.from({ length: 12 }, () => Array(24).fill(0));
    const { definition } = Urdb.toTariff({
      energyratestructure: [[{ rate: 0.1 }]],
      energyweekdayschedule: allDay,
      energyweekendschedule: allDay,
      flatdemandstructure: [[{ rate: "10" }]],
      flatdemandmonths: Array(12).fill(0),
      demandratchetpercentage: Array(12).fill(0.8),
    });
    const factoryId = "fac_01jratchet0000000000000000";
    await p.database.db
      .insert(factoryTable)
      .values({ id: factoryId, organizationId: ids.otherOrganization, name: "Ratchet plant", timeZone: "UTC", tariffCode: "tou" });
    await p.database.db
      .insert(tariffTable)
      .values({ id: "trf_01jratchet0000000000000000", factoryId, effectiveFrom: new Date("2026-01-01T00:00:00Z"), definition });
    const reading = (start: string, kwh: number) => ({
      meterId: ids.otherMeter,
      intervalStart: new Date(start),
      intervalSeconds: 300,
      factoryId,
      deviceId: ids.otherDevice,
      kwh,
      source: "http" as const,
      receivedAt: new Date(),
    });
    await Testing.insertReadings(p.database.db, [reading("2026-05-10T12:00:00Z", 50), reading("2026-06-10T12:00:00Z", 25)]);

    // Act: May closes first, then June.
    for (const month of ["2026-05", "2026-06"]) await finished(runner, (await runner.start("MonthlyClose", { month, factoryIds: [factoryId] })).executionArn);

    // Assess. By hand: May's 50 kWh in one 15-minute window = 200 kW (stored as May's peak). June measures 25 kWh = 100 kW,
    // below the ratchet 0.8 · 200 = 160 kW: 160 · 10 = 1,600.00, energy 25 · 0.10 = 2.50, total 1,602.50.
    const { Close } = await import("@wattflow/core/close");
    expect((await Close.get(factoryId, "2026-05"))?.bill).toMatchObject({ peakDemandKw: "200", total: "2005.00" });
    const june = await Close.get(factoryId, "2026-06");
    expect(june?.lines.find((line) => line.code === "flat-demand-0")).toMatchObject({ quantity: "160", amount: "1600.00" });
    expect(june?.bill).toMatchObject({ peakDemandKw: "100", total: "1602.50" });
  });

  it("lists imports, monthly closes and recomputes in one list: kind, duration, months, files, and a failed import's plain explanation", async () => {
    // Prepare: a file with bad rows (lines 3 and 4), a recompute started through the API, and a close started the way
    // the schedule starts it (no organization in its input: every organization's).
    const bad = { name: "bad-lines.csv", bytes: new TextEncoder().encode("date,line,units\n2026-04-01,L0,10\n2026-04-01,L1,abc\n2026-04-31,L2,5\n") };
    await importFiles(runner, "production", [bad]);
    const recompute = await app.request("/v1/runs", {
      method: "POST",
      headers: { authorization: `Bearer ${p.apiToken}`, "content-type": "application/json" },
      body: JSON.stringify({ workflow: "CostRecompute", months: ["2026-06"] }),
    });
    await finished(runner, ((await recompute.json()) as { executionArn: string }).executionArn);
    const scheduled = await runner.start("MonthlyClose", { timeZone: "America/Mexico_City", month: "2026-01" }, "close-scheduled-2026-01");
    await finished(runner, scheduled.executionArn);

    // Act
    const response = await app.request("/v1/runs", { headers: { authorization: `Bearer ${p.apiToken}` } });

    // Assess
    expect(response.status).toBe(200);
    type Item = {
      executionArn: string;
      kind: string;
      status: string;
      durationMs: number | null;
      months: string[];
      files: { fileName: string; errors: number }[];
      failure: { explanation: string } | null;
    };
    const { executions } = (await response.json()) as { executions: Item[] };
    const kinds = new Set(executions.map((run) => run.kind));
    expect([...kinds].sort()).toEqual(["close", "import", "recompute"]);
    const close = executions.find((run) => run.executionArn === scheduled.executionArn);
    expect(close).toMatchObject({ kind: "close", status: "SUCCEEDED", months: ["2026-01"], failure: null });
    expect(close?.durationMs).toBeGreaterThanOrEqual(0);
    // The file with bad rows: its file, its two bad rows, and the explanation `wattflow runs watch` gives.
    const failed = executions.find((run) => run.kind === "import" && run.files[0]?.fileName === "bad-lines.csv");
    expect(failed).toMatchObject({ status: "FAILED", files: [{ fileName: "bad-lines.csv", errors: 2 }] });
    expect(failed?.failure?.explanation).toContain("lines 3, 4 of bad-lines.csv");
    // A run another organization starts through the API is not listed to this one.
    const theirs = await app.request("/v1/runs", {
      method: "POST",
      headers: { authorization: `Bearer ${p.otherApiToken}`, "content-type": "application/json" },
      body: JSON.stringify({ workflow: "CostRecompute", months: ["2026-07"] }),
    });
    const { executionArn: theirArn } = (await theirs.json()) as { executionArn: string };
    await finished(runner, theirArn);
    const after = (await (await app.request("/v1/runs", { headers: { authorization: `Bearer ${p.apiToken}` } })).json()) as { executions: Item[] };
    expect(after.executions.some((run) => run.executionArn === theirArn)).toBe(false);
  });

  it("shows a scheduled close to each organization as its own part: no other organization's factory, total or history", async () => {
    // Prepare: another organization's factory on this factory's clock (no tariff: the close skips it, naming it), a
    // reading of ours in February 2026, and the close of February started as the schedule starts it.
    const theirFactory = "fac_01jtheirclock0000000000000";
    await p.database.db
      .insert(factoryTable)
      .values({ id: theirFactory, organizationId: ids.otherOrganization, name: "Their plant", timeZone: "America/Mexico_City", tariffCode: "flat" });
    await Testing.insertReadings(p.database.db, ourReading("2026-02-16T18:00:00Z", 12));
    const scheduled = await runner.start("MonthlyClose", { timeZone: "America/Mexico_City", month: "2026-02" }, "close-scheduled-2026-02");
    await finished(runner, scheduled.executionArn);
    const { Auth } = await import("@wattflow/core/auth");
    const platform = (await Auth.createToken({ organizationId: ids.organization, name: "platform", role: "admin", platform: true })).token;
    const get = (path: string, token = p.apiToken) => app.request(path, { headers: { authorization: `Bearer ${token}` } });
    const arn = encodeURIComponent(scheduled.executionArn);
    // Our organization's bills of February (this test's factory and any an earlier test closed), as the close stored them.
    const ourFactories = (await p.database.db.select().from(factoryTable).where(eq(factoryTable.organizationId, ids.organization))).map((row) => row.id);
    const ourBills = (
      await p.database.db
        .select()
        .from(billTable)
        .where(and(eq(billTable.month, "2026-02"), eq(billTable.source, "wattflow")))
    ).filter((bill) => ourFactories.includes(bill.factoryId));

    // Act
    const listed = await (await get("/v1/runs")).text();
    const described = await get(`/v1/runs/${arn}`);
    const history = await get(`/v1/runs/${arn}/history`);
    const whole = await get(`/v1/runs/${arn}`, platform);
    const wholeHistory = await get(`/v1/runs/${arn}/history`, platform);

    // Assess: the run's whole output names their skipped factory; ours shows our bill alone.
    expect(await whole.text()).toContain(theirFactory);
    expect(wholeHistory.status).toBe(200);
    expect(listed).not.toContain(theirFactory);
    const run = (JSON.parse(listed) as { executions: { executionArn: string; result: unknown }[] }).executions.find(
      (item) => item.executionArn === scheduled.executionArn,
    );
    // Our bills' figures, and of the run's differences and skipped factories ours alone (earlier tests left some).
    const result = run?.result as { differences: { factoryId: string }[]; skipped: { factoryId: string }[] };
    expect(ourBills.map((bill) => bill.factoryId)).toContain(ids.factory);
    expect(result).toMatchObject({
      month: "2026-02",
      factories: ourBills.length,
      readings: ourBills.reduce((sum, bill) => sum + (bill.readings ?? 0), 0),
      totals: { MXN: ourBills.reduce((sum, bill) => sum + Number(bill.total), 0).toFixed(2) },
    });
    expect([...result.differences, ...result.skipped].every((entry) => ourFactories.includes(entry.factoryId))).toBe(true);
    expect(described.status).toBe(200);
    const output = ((await described.json()) as { output: string }).output;
    expect(output).not.toContain(theirFactory);
    expect(JSON.parse(output)).toMatchObject({ factories: ourBills.length });
    expect(history.status).toBe(403);
    expect(await history.json()).toMatchObject({ code: "run.history_platform_only" });
  });
});

describe("Step Functions limits on the local runner", () => {
  it("fails a run whose state data passes 256 KiB with States.DataLimitExceeded", async () => {
    // Prepare: a validate step that returns 300 KB instead of a reference.
    const big = "x".repeat(300 * 1024);
    const runner = new LocalRunner({ resolveStep: async (handler) => async () => (handler.endsWith(".validate") ? { importId: "imp_1", data: big } : {}) });

    const { executionArn } = await runner.start("ImportFiles", { organizationId: "org_1", kind: "production", imports: [{ importId: "imp_1" }] });
    const { execution, progress } = await finished(runner, executionArn);

    expect(execution.status).toBe("FAILED");
    expect(progress.error?.type).toBe("States.DataLimitExceeded");
    expect(progress.error?.explanation).toContain("256 KiB");
  });

  it("refuses an input over 256 KiB before starting", async () => {
    const runner = new LocalRunner({ resolveStep: async () => async () => ({}) });
    await expect(runner.start("ImportFiles", { imports: [], padding: "y".repeat(limits.payloadBytes) })).rejects.toThrow(/at most 262144/);
  });

  it(`fails a run whose history passes ${limits.historyEvents} events`, async () => {
    // 4,000 files: every Map item adds 7 events per Map, so validating and loading them needs ~56,000.
    const imports = Array.from({ length: 4000 }, (_, index) => ({ importId: `imp_${index}` }));
    const runner = new LocalRunner({ resolveStep: async () => async (payload) => payload });

    const { executionArn } = await runner.start("ImportFiles", { organizationId: "org_1", kind: "production", imports });
    const { execution, progress } = await finished(runner, executionArn);
    const events = await Workflow.fullHistory(runner, executionArn);

    expect(execution.status).toBe("FAILED");
    expect(execution.error).toBe("States.Runtime");
    expect(progress.error?.message).toContain("25000 history events");
    expect(events.length).toBeLessThanOrEqual(limits.historyEvents + 1);
  });

  it("retries a transient step failure and reports the retries spent when it keeps failing", async () => {
    let calls = 0;
    const runner = new LocalRunner({
      retryIntervalMs: 0,
      resolveStep: async (handler) => async (payload) => {
        if (!handler.endsWith(".validate")) return payload;
        calls += 1;
        const error = new Error("connection reset by the database");
        error.name = "TransientError";
        throw error;
      },
    });

    const { executionArn } = await runner.start("ImportFiles", { organizationId: "org_1", kind: "production", imports: [{ importId: "imp_1" }] });
    const { progress } = await finished(runner, executionArn);

    expect(calls).toBe(4);
    expect(progress.error).toMatchObject({ state: "ValidateFile", type: "TransientError", message: "connection reset by the database", retries: 3 });
  });
});

describe("step errors", () => {
  it("turns a dropped database connection into the TransientError the definitions retry, and leaves input errors alone", async () => {
    const { transient } = await import("../src/workflows/step");
    const dropped = Object.assign(new Error("Connection terminated unexpectedly"), { code: "ECONNRESET" });
    const wrapped = new Error("query failed", { cause: dropped });

    expect(transient(wrapped)).toMatchObject({ name: "TransientError", message: "Connection terminated unexpectedly" });
    expect(transient(Object.assign(new Error("duplicate key"), { code: "23505" }))).toBeUndefined();
  });
});
