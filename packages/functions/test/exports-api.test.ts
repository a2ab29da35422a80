/**
 * Exports through the HTTP API: a closed bill as a PDF (read back with pdf.js), the bills list, and readings and
 * usage as CSV (RFC 4180, local times, BOM on request), with the API's usual problems for bad input and other
 * organizations' ids.
 */
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { Close } from "@wattflow/core/close";
import { Database } from "@wattflow/core/database";
import { factoryTable } from "@wattflow/core/factory/factory.sql";
import { meterTable } from "@wattflow/core/meter/meter.sql";
import { organizationTable } from "@wattflow/core/organization/organization.sql";
import { readingTable } from "@wattflow/core/reading/reading.sql";
import { Rollup } from "@wattflow/core/rollup";
import { tariffTable } from "@wattflow/core/tariff/tariff.sql";
import { Testing } from "@wattflow/core/testing";
import { and, eq } from "drizzle-orm";
import { getDocument } from "pdfjs-dist/legacy/build/pdf.mjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { app } from "../src/api/app";
import { ids, type Pipeline, pipeline } from "./support";

const standardFontDataUrl = `${join(dirname(createRequire(import.meta.url).resolve("pdfjs-dist/package.json")), "standard_fonts")}/`;

/** The text of a PDF, one string per printed line (items on the same baseline joined by " | "), pages in order. */
async function pdfLines(bytes: Uint8Array): Promise<string[]> {
  const document = await getDocument({ data: bytes, standardFontDataUrl, verbosity: 0 }).promise;
  const lines: string[] = [];
  for (let number = 1; number <= document.numPages; number++) {
    const content = await (await document.getPage(number)).getTextContent();
    const rows = new Map<number, { x: number; text: string }[]>();
    for (const item of content.items) {
      if (!("str" in item) || item.str.trim() === "") continue;
      const y = Math.round(item.transform[5] as number);
      rows.set(y, [...(rows.get(y) ?? []), { x: item.transform[4] as number, text: item.str.trim() }]);
    }
    for (const [, items] of [...rows].sort(([a], [b]) => b - a))
      lines.push(
        items
          .sort((a, b) => a.x - b.x)
          .map((item) => item.text)
          .join(" | "),
      );
  }
  await document.destroy();
  return lines;
}

/** RFC 4180 records of a CSV text (quotes, doubled quotes, CRLF) — small, for reading answers back in tests. */
function records(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = "";
  let quoted = false;
  for (let index = 0; index < text.length; index++) {
    const char = text[index] as string;
    if (quoted) {
      if (char === '"' && text[index + 1] === '"') {
        field += '"';
        index++;
      } else if (char === '"') quoted = false;
      else field += char;
    } else if (char === '"') quoted = true;
    else if (char === ",") {
      row.push(field);
      field = "";
    } else if (char === "\r" && text[index + 1] === "\n") {
      row.push(field);
      rows.push(row);
      row = [];
      field = "";
      index++;
    } else field += char;
  }
  if (field !== "" || row.length > 0) rows.push([...row, field]);
  return rows;
}

const cfeFactory = "fac_01jexport0000000000000000";
const cfeMeter = "mtr_01jexport0000000000000000";
const dstFactory = "fac_01jexportdst000000000000";
const dstMeter = "mtr_01jexportdst000000000000";

describe.each(Testing.lanes())("exports through the API (%s)", (lane) => {
  let p: Pipeline;
  const auth = () => ({ authorization: `Bearer ${p.apiToken}` });
  let marchBill: string;
  let aprilBill: string;

  beforeAll(async () => {
    p = await pipeline(lane);
    const db = p.database.db;
    // A GDMTH factory in Tecomán, Colima (DAP 10 %), medium voltage, 1,200 kW contracted, on Noroeste March 2026 prices.
    await db.insert(factoryTable).values([
      {
        id: cfeFactory,
        organizationId: ids.organization,
        name: "Planta Tecomán",
        timeZone: "America/Mexico_City",
        tariffCode: "cfe-gdmth",
        tariffZone: "central",
        tariffDivision: "Noroeste",
        contractedDemandKw: "1200",
        supplyVoltage: "medium",
        state: "Colima",
        municipality: "Tecomán",
        rpu: "123456789012",
      },
    ]);
    await db.insert(tariffTable).values({
      id: "trf_01jexport0000000000000000",
      factoryId: cfeFactory,
      effectiveFrom: new Date("2026-01-01T06:00:00Z"),
      definition: { kind: "cfe-gdmth", zone: "central", prices: [Testing.gdmthNoroesteMarch2026] },
    });
    await db
      .insert(meterTable)
      .values({ id: cfeMeter, organizationId: ids.organization, factoryId: cfeFactory, deviceId: ids.device, name: "Principal", line: "Acometida" });
    const reading = (meterId: string, factoryId: string, start: string, kwh: number, more: Partial<typeof readingTable.$inferInsert> = {}) => ({
      meterId,
      factoryId,
      deviceId: ids.device,
      intervalStart: new Date(start),
      intervalSeconds: 300,
      kwh,
      source: "http" as const,
      receivedAt: new Date(),
      ...more,
    });
    await Testing.insertReadings(db, [
      // March: one slot of 1,000 kWh and 400 kVArh at 03:00 local on Tuesday 10 March (base).
      reading(cfeMeter, cfeFactory, "2026-03-10T09:00:00Z", 1000, { kvarh: 400 }),
      // April (prices not published: March's are used): 300 kWh measured and 100 kWh estimated (a gap spread), both base.
      reading(cfeMeter, cfeFactory, "2026-04-14T09:00:00Z", 300),
      reading(cfeMeter, cfeFactory, "2026-04-15T09:00:00Z", 100, { quality: "estimated" }),
    ]);
    const now = new Date("2026-05-01T08:00:00Z");
    await Close.factoryMonth({ factoryId: cfeFactory, month: "2026-03" }, now);
    await Close.factoryMonth({ factoryId: cfeFactory, month: "2026-04" }, now);
    // The utility's March bill: energy 960.00 instead of 971.50, its IVA and DAP on that; total 1,827.64.
    const line = (code: string, amount: string, quantity = "1", unit = "MXN") => ({ month: "2026-03", code, quantity, unit, unitPrice: amount, amount });
    await Close.loadUtilityBills(
      cfeFactory,
      "run_test",
      "MXN",
      [
        line("fixed", "197.77", "1", "month"),
        { ...line("energy-base", "960.00", "988.16", "kWh"), unitPrice: "0.9715" },
        { ...line("distribution", "272.55", "3", "kW"), unitPrice: "90.85" },
        line("power-factor", "20.19"),
        line("iva", "232.08"),
        line("dap", "145.05"),
        line("total", "1827.64"),
      ],
      now,
    );
    await Close.reconcile({ factoryId: cfeFactory, month: "2026-03" });
    marchBill = (await Close.get(cfeFactory, "2026-03"))?.bill.id as string;
    aprilBill = (await Close.get(cfeFactory, "2026-04"))?.bill.id as string;
    // Readings written straight into the table, not through the store: their rollups are rebuilt as a backfill would.
    await Rollup.rebuild(db);
  });
  afterAll(async () => {
    await p.close();
  });

  it("answers a closed bill as a PDF with CFE's Spanish line names, the period, the supply and the reconciliation", async () => {
    // Act
    const response = await app.request(`/v1/factories/${cfeFactory}/bills/${marchBill}.pdf`, { headers: auth() });

    // Assess
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("application/pdf");
    expect(response.headers.get("content-disposition")).toBe(`attachment; filename="recibo-2026-03-${cfeFactory}.pdf"`);
    const lines = await pdfLines(new Uint8Array(await response.arrayBuffer()));
    expect(lines).toEqual(
      expect.arrayContaining([
        "Planta | Planta Tecomán",
        "RPU | 123456789012",
        "División | Noroeste",
        "Tarifa | GDMTH (región central)",
        "Mes de facturación | marzo de 2026",
        // Calendar month, [1 Mar, 1 Apr): CFE prints the next reading's date as the period's end.
        "Periodo de facturación | 01/03/2026 al 31/03/2026 (31 días)",
        // Closed at 08:00Z on 1 May: 02:00 in Mexico City (UTC−6).
        "Estado | Cerrado el 01/05/2026 02:00",
      ]),
    );
    // By hand (the close's golden values): Q = 1,000 kWh base at 0.9715 = 971.50; distribution min(Dmax, Q / (24 · 31 · 0.57))
    // = 2.36 → 3 kW × 90.85 = 272.55; capacity 0 (no punta). Supply 197.77 + 971.50 + 272.55 = 1,441.82. PF 1,000 / √(1,000² + 400²)
    // = 92.85 % < 95 % (≥ 1 MW contracted): ⅗ (95/92.848 − 1) = 1.39 → 1.4 % = 20.19; subtotal 1,462.01; IVA 16 % 233.92; DAP 10 % 146.20;
    // total 1,842.13. Peak demand: 1,000 kWh in one 15-minute window = 4,000 kW.
    expect(lines).toEqual(
      expect.arrayContaining([
        "Energía base | 1,000",
        "Energía intermedia | 0",
        "Energía punta | 0",
        "Total | 1,000",
        "Demanda contratada | 1,200 kW",
        "Demanda máxima medida | 4,000 kW",
        "Demanda facturable: Distribución | 3 kW",
        "Demanda facturable: Capacidad | 0 kW",
        "Factor de potencia | 92.85 %",
        "Cargo fijo | 1 mes | $197.77 MXN | $197.77 MXN",
        "Energía base | 1,000 kWh | $0.9715 MXN/kWh | $971.50 MXN",
        "Distribución | 3 kW | $90.85 MXN/kW | $272.55 MXN",
        "Cargo por factor de potencia | base $1,441.82 MXN | 1.4 % | $20.19 MXN",
        "Subtotal | $1,462.01 MXN",
        "IVA | base $1,462.01 MXN | 16 % | $233.92 MXN",
        "DAP | base $1,462.01 MXN | 10 % | $146.20 MXN",
        "Total | $1,842.13 MXN",
      ]),
    );
    // Reconciliation, ours − CFE's: energy 971.50 − 960.00 = 11.50; subtotal 1,462.01 − (197.77 + 960.00 + 272.55 + 20.19 = 1,450.51)
    // = 11.50; IVA 233.92 − 232.08 = 1.84; DAP 146.20 − 145.05 = 1.15; total 1,842.13 − 1,827.64 = 14.49 (= 11.50 + 1.84 + 1.15).
    expect(lines).toEqual(
      expect.arrayContaining([
        "Concepto | Calculado | CFE | Diferencia",
        "Cargo fijo | $197.77 MXN | $197.77 MXN | $0.00 MXN",
        "Energía base | $971.50 MXN | $960.00 MXN | $11.50 MXN",
        "Energía intermedia | $0.00 MXN | — | $0.00 MXN",
        "Subtotal | $1,462.01 MXN | $1,450.51 MXN | $11.50 MXN",
        "IVA | $233.92 MXN | $232.08 MXN | $1.84 MXN",
        "DAP | $146.20 MXN | $145.05 MXN | $1.15 MXN",
        "Total | $1,842.13 MXN | $1,827.64 MXN | $14.49 MXN",
      ]),
    );
    expect(lines.join("\n")).toContain("Calculado $1,842.13 MXN contra CFE $1,827.64 MXN: diferencia $14.49 MXN");
    // March's prices were published and every kWh was measured: neither note.
    expect(lines.join("\n")).not.toMatch(/PRECIOS ESTIMADOS|Datos estimados/);
  });

  it("marks every page of a demo organization's bill as demo data with demo prices, and no other organization's", async () => {
    // Prepare: the test's organization as the local stack's demo is (Organization demo), then back.
    const db = Database.use();
    await db.update(organizationTable).set({ demo: true }).where(eq(organizationTable.id, ids.organization));
    try {
      // Act
      const demo = await pdfLines(
        new Uint8Array(await (await app.request(`/v1/factories/${cfeFactory}/bills/${marchBill}.pdf`, { headers: auth() })).arrayBuffer()),
      );
      // Assess: the mark heads every page (the footer's "página n de m" counts them).
      const marks = demo.filter((line) => line === "DATOS DE DEMOSTRACIÓN, PRECIOS DE DEMOSTRACIÓN / DEMO DATA, DEMO PRICES");
      expect(marks.length).toBeGreaterThan(0);
      expect(marks).toHaveLength(demo.filter((line) => /página \d+ de \d+/.test(line)).length);
    } finally {
      await db.update(organizationTable).set({ demo: false }).where(eq(organizationTable.id, ids.organization));
    }
    const real = await pdfLines(
      new Uint8Array(await (await app.request(`/v1/factories/${cfeFactory}/bills/${marchBill}.pdf`, { headers: auth() })).arrayBuffer()),
    );
    expect(real.join("\n")).not.toMatch(/DEMOSTRACIÓN|DEMO DATA/);
  });

  it("marks a bill priced with unpublished prices and says how much of its energy was estimated", async () => {
    // Act: April, with Accept instead of the .pdf name.
    const response = await app.request(`/v1/factories/${cfeFactory}/bills/${aprilBill}`, { headers: { ...auth(), accept: "application/pdf" } });

    // Assess: 100 of 400 kWh were estimated = 25.00 %; April has no published prices, so March's were used.
    expect(response.status).toBe(200);
    const text = (await pdfLines(new Uint8Array(await response.arrayBuffer()))).join("\n");
    expect(text).toContain("PRECIOS ESTIMADOS");
    expect(text).toContain("Datos estimados: 25.00 % de la energía (100 kWh)");
    expect(text).toContain("Factor de potencia | sin energía reactiva medida");
    expect(text).toContain("Recibo de CFE | no se ha importado el recibo de CFE de este mes");
  });

  it("says on the bill, its PDF and the list when the readings cover only part of the period, and how much", async () => {
    // Arrange: a meter connected on 17 October (local) of a factory billed by calendar month: October's last 15 days
    // of 5-minute readings (15 × 288 = 4,320) of the 31 days' 8,928 slots CFE's meter counts.
    const db = p.database.db;
    const factoryId = "fac_01jexportlate00000000000";
    const meterId = "mtr_01jexportlate00000000000";
    await db.insert(factoryTable).values({
      id: factoryId,
      organizationId: ids.organization,
      name: "Planta nueva",
      timeZone: "America/Mexico_City",
      tariffCode: "cfe-gdmth",
      tariffZone: "central",
      tariffDivision: "Noroeste",
    });
    await db.insert(tariffTable).values({
      id: "trf_01jexportlate00000000000",
      factoryId,
      effectiveFrom: new Date("2026-01-01T06:00:00Z"),
      definition: { kind: "cfe-gdmth", zone: "central", prices: [Testing.gdmthNoroesteMarch2026] },
    });
    await db
      .insert(meterTable)
      .values({ id: meterId, organizationId: ids.organization, factoryId, deviceId: ids.device, name: "Principal", line: "Acometida" });
    const first = Date.parse("2026-10-17T06:00:00Z");
    const rows = Array.from({ length: 15 * 288 }, (_, slot) => ({
      meterId,
      factoryId,
      deviceId: ids.device,
      intervalStart: new Date(first + slot * 300_000),
      intervalSeconds: 300,
      kwh: 1,
      source: "http" as const,
      receivedAt: new Date(),
    }));
    for (let start = 0; start < rows.length; start += 1000) await Testing.insertReadings(db, rows.slice(start, start + 1000));

    // Act
    const closed = await Close.factoryMonth({ factoryId, month: "2026-10" }, new Date("2026-11-02T08:00:00Z"));
    const list = (await (await app.request(`/v1/factories/${factoryId}/bills`, { headers: auth() })).json()) as {
      bills: { id: string; readings: number; coverage: string | null; coverageLow: boolean }[];
    };
    const [bill] = list.bills;
    const pdf = (
      await pdfLines(new Uint8Array(await (await app.request(`/v1/factories/${factoryId}/bills/${bill?.id}.pdf`, { headers: auth() })).arrayBuffer()))
    ).join("\n");

    // Assess: 4,320 ÷ 8,928 = 0.48387 → 48.4 %, below the 98 % a bill needs to be taken as whole.
    expect(closed).toMatchObject({ readings: 4320, coverage: "0.4839" });
    expect(bill).toMatchObject({ readings: 4320, coverage: "0.4839", coverageLow: true });
    expect(pdf).toContain("LECTURAS INCOMPLETAS: las lecturas cubren el 48.4 % del periodo (4,320 lecturas de 5 minutos)");
    // A meter added after October owes October nothing: closing October again keeps its coverage. One on record since
    // 5 October that never sent a reading owes its 8,928 slots: 4,320 ÷ 17,856 = 0.24194.
    const meter = (id: string, createdAt: string) => ({
      id,
      organizationId: ids.organization,
      factoryId,
      deviceId: ids.device,
      name: id,
      line: "Línea",
      createdAt: new Date(createdAt),
    });
    await db.insert(meterTable).values(meter("mtr_01jexportlater0000000000", "2026-11-15T18:00:00Z"));
    expect(await Close.factoryMonth({ factoryId, month: "2026-10" })).toMatchObject({ coverage: "0.4839" });
    await db.insert(meterTable).values(meter("mtr_01jexportsilent000000000", "2026-10-05T18:00:00Z"));
    expect(await Close.factoryMonth({ factoryId, month: "2026-10" })).toMatchObject({ coverage: "0.2419" });
    // March's bill of one reading is flagged too (1 of 8,928 slots); a utility bill has no coverage of its own.
    const march = (await (await app.request(`/v1/factories/${cfeFactory}/bills`, { headers: auth() })).json()) as {
      bills: { month: string; source: string; coverage: string | null; coverageLow: boolean }[];
    };
    expect(march.bills.filter((one) => one.month === "2026-03").map((one) => [one.source, one.coverage, one.coverageLow])).toEqual([
      ["utility", null, false],
      ["wattflow", "0.0001", true],
    ]);
  });

  it("lists the factory's bills as JSON, the one list the console uses too, and one bill by id", async () => {
    const list = await app.request(`/v1/factories/${cfeFactory}/bills`, { headers: auth() });
    const one = await app.request(`/v1/factories/${cfeFactory}/bills/${marchBill}`, { headers: auth() });

    expect(list.status).toBe(200);
    const body = (await list.json()) as { bills: { id: string; month: string; source: string; total: string; pricesEstimated: boolean | null }[] };
    expect(body.bills.map((bill) => [bill.month, bill.source, bill.total, bill.pricesEstimated])).toEqual([
      ["2026-04", "wattflow", expect.any(String), true],
      ["2026-03", "utility", "1827.64", null],
      ["2026-03", "wattflow", "1842.13", false],
    ]);
    expect(await one.json()).toMatchObject({
      id: marchBill,
      total: "1842.13",
      lines: expect.arrayContaining([expect.objectContaining({ code: "total", difference: "14.49" })]),
    });
  });

  it("serves the console's PDF and CSV links (plain links, the session cookie, no token) and refuses them without one", async () => {
    // Prepare: a console user of the organization, signed in.
    const { User } = await import("@wattflow/core/user");
    const credentials = { email: "finance@plant-a.example", password: "correct horse battery staple" };
    await User.create({ organizationId: ids.organization, name: "Finanzas", role: "viewer", ...credentials });
    const session = await app.request("/v1/session", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(credentials) });
    const cookie = /wattflow_session=[^;]+/.exec(session.headers.get("set-cookie") ?? "")?.[0] ?? "";

    // Act: the hrefs bills.tsx and factory.tsx build.
    const pdf = await app.request(`/v1/factories/${cfeFactory}/bills/${marchBill}.pdf`, { headers: { cookie } });
    const csv = await app.request(
      `/v1/factories/${cfeFactory}/exports/usage.csv?from=2026-03-10T06%3A00%3A00.000Z&to=2026-03-11T06%3A00%3A00.000Z&bom=1&bucket=1h`,
      {
        headers: { cookie },
      },
    );
    const anonymous = await app.request(`/v1/factories/${cfeFactory}/bills/${marchBill}.pdf`);

    // Assess: the March slot (1,000 kWh at 09:00Z) is the day's one hour with energy.
    expect(pdf.status).toBe(200);
    expect(new TextDecoder().decode(new Uint8Array(await pdf.arrayBuffer()).slice(0, 5))).toBe("%PDF-");
    const rows = records((await csv.text()).replace(/^\uFEFF/, ""));
    expect(rows.slice(1).map((row) => [row[0], row[2]])).toEqual([["2026-03-10T09:00:00.000Z", "1000"]]);
    expect(anonymous.status).toBe(401);
  });

  it("answers 404 for another organization's factory, a bill of another factory and an unknown bill", async () => {
    const otherOrg = await app.request(`/v1/factories/${cfeFactory}/bills/${marchBill}.pdf`, { headers: { authorization: `Bearer ${p.otherApiToken}` } });
    const otherFactory = await app.request(`/v1/factories/${ids.factory}/bills/${marchBill}.pdf`, { headers: auth() });
    const unknown = await app.request(`/v1/factories/${cfeFactory}/bills/bil_nothing.pdf`, { headers: auth() });

    expect(otherOrg.status).toBe(404);
    expect(await otherOrg.json()).toMatchObject({ code: "factory.not_found" });
    expect(otherFactory.status).toBe(404);
    expect(await otherFactory.json()).toMatchObject({ code: "bill.not_found" });
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({ code: "bill.not_found", message: `bill bil_nothing of factory ${cfeFactory} not found` });
  });
});

describe.each(Testing.lanes())("CSV exports through the API (%s)", (lane) => {
  let p: Pipeline;
  const auth = () => ({ authorization: `Bearer ${p.apiToken}` });
  const [m0, m1, m2] = ids.meters as [string, string, string];

  beforeAll(async () => {
    p = await pipeline(lane);
    const db = p.database.db;
    await db
      .insert(factoryTable)
      .values({ id: dstFactory, organizationId: ids.organization, name: "Planta Tijuana", timeZone: "America/Tijuana", tariffCode: "flat" });
    await db
      .insert(meterTable)
      .values({ id: dstMeter, organizationId: ids.organization, factoryId: dstFactory, deviceId: ids.device, name: 'Compresor "A", línea 2', line: "L9" });
    const base = {
      factoryId: ids.factory,
      deviceId: ids.device,
      intervalSeconds: 300,
      source: "http" as const,
      receivedAt: new Date(),
      touPeriod: "energy",
      unitPrice: "2.1534",
    };
    // Plant A (Mexico City, UTC−6 all year), flat 2.1534 MXN/kWh, slots from 2026-03-10T00:00Z: meter 0 has 5,100 (more than one page
    // of Config.exportLimits.pageRows, 5,000), meters 1 and 2 have 2,100 (7 days and 7 hours). Meter i's slots hold (i + 1) × 0.25 kWh.
    const rows = [];
    for (const [index, meterId] of [m0, m1, m2].entries())
      for (let slot = 0; slot < (index === 0 ? 5100 : 2100); slot++) {
        const kwh = (index + 1) * 0.25;
        rows.push({ ...base, meterId, intervalStart: new Date(Date.parse("2026-03-10T00:00:00Z") + slot * 300_000), kwh, cost: (kwh * 2.1534).toFixed(6) });
      }
    for (let start = 0; start < rows.length; start += 1000) await Testing.insertReadings(db, rows.slice(start, start + 1000));
    // The first slot of meter 0 carries the rest of the columns: kVArh, PF, an estimated price and a flag.
    await db
      .update(readingTable)
      .set({ kvarh: 0.1, pf: 0.93, estimated: true, flags: ["spike_over_rating", "pf_out_of_range"] })
      .where(and(eq(readingTable.meterId, m0), eq(readingTable.intervalStart, new Date("2026-03-10T00:00:00Z"))));
    // Tijuana falls back on Sunday 1 November 2026 at 02:00 PDT: 01:30 happens at 08:30Z (−07:00) and again at 09:30Z (−08:00).
    await Testing.insertReadings(
      db,
      ["2026-11-01T08:30:00Z", "2026-11-01T09:30:00Z"].map((start) => ({
        ...base,
        factoryId: dstFactory,
        meterId: dstMeter,
        intervalStart: new Date(start),
        kwh: 1,
        cost: "2.1534",
        quality: "estimated" as const,
      })),
    );
    // Readings written straight into the table, not through the store: their rollups are rebuilt as a backfill would.
    await Rollup.rebuild(db);
  });
  afterAll(async () => {
    await p.close();
  });

  it("streams a factory's readings as RFC 4180 CSV ordered by meter then slot, across pages, with UTC and local instants", async () => {
    // Act
    const response = await app.request(`/v1/factories/${ids.factory}/exports/readings.csv?from=2026-03-10T00:00:00Z&to=2026-03-30T00:00:00Z`, {
      headers: auth(),
    });

    // Assess
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("text/csv; charset=utf-8; header=present");
    expect(response.headers.get("content-disposition")).toBe(`attachment; filename="readings-${ids.factory}-2026-03-10-2026-03-30.csv"`);
    const text = await response.text();
    // No BOM by default: the header is the first line as a spreadsheet shows it; CRLF after every record, the last one included.
    expect(text.slice(0, text.indexOf("\r\n"))).toBe(
      "meter_id,meter,line,start_utc,start_local,seconds,quality,kwh,kvarh,pf,period,unit_price,cost,price_estimated,flags",
    );
    expect(text.endsWith("\r\n")).toBe(true);
    const [, ...rows] = records(text);
    expect(rows).toHaveLength(5100 + 2 * 2100);
    // Slot 0 of meter 0: 00:00Z is 18:00 the day before in Mexico City; 0.25 kWh × 2.1534 = 0.538350 MXN.
    expect(rows[0]).toEqual([
      m0,
      "m0",
      "L0",
      "2026-03-10T00:00:00.000Z",
      "2026-03-09T18:00:00-06:00",
      "300",
      "measured",
      "0.25",
      "0.1",
      "0.93",
      "energy",
      "2.153400",
      "0.538350",
      "true",
      "spike_over_rating;pf_out_of_range",
    ]);
    // Slot 2,099 of meter 2 (the last row): 00:00Z + 2,099 × 5 min = 2026-03-17T06:55Z; 0.75 kWh × 2.1534 = 1.615050.
    expect(rows[9299]).toEqual([
      m2,
      "m2",
      "L2",
      "2026-03-17T06:55:00.000Z",
      "2026-03-17T00:55:00-06:00",
      "300",
      "measured",
      "0.75",
      "",
      "",
      "energy",
      "2.153400",
      "1.615050",
      "false",
      "",
    ]);
    // Every (meter, slot) once, in order, across meter 0's page boundary at its slot 5,000 (2026-03-27T08:40Z).
    expect(rows[5000]?.slice(0, 4)).toEqual([m0, "m0", "L0", "2026-03-27T08:40:00.000Z"]);
    const keys = rows.map((row) => `${row[0]} ${row[3]}`);
    expect(new Set(keys).size).toBe(9300);
    expect([...keys].sort()).toEqual(keys);
  });

  it("writes the hour a clock repeats as two local times with their offsets, quotes a name with a comma and quotes, and adds a BOM when asked", async () => {
    const response = await app.request(`/v1/factories/${dstFactory}/exports/readings.csv?from=2026-11-01T00:00:00Z&to=2026-11-02T00:00:00Z&bom=1`, {
      headers: auth(),
    });

    const bytes = new Uint8Array(await response.arrayBuffer());
    expect([...bytes.slice(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    const text = new TextDecoder("utf-8", { ignoreBOM: true }).decode(bytes);
    expect(text).toContain('"Compresor ""A"", línea 2"');
    const [, first, second] = records(text.slice(1));
    expect(first?.slice(3, 7)).toEqual(["2026-11-01T08:30:00.000Z", "2026-11-01T01:30:00-07:00", "300", "estimated"]);
    expect(second?.slice(3, 7)).toEqual(["2026-11-01T09:30:00.000Z", "2026-11-01T01:30:00-08:00", "300", "estimated"]);
  });

  it("narrows to one meter with ?meter= and answers the meter readings route as CSV on Accept: text/csv", async () => {
    const range = "from=2026-03-10T00:00:00Z&to=2026-03-10T01:00:00Z";
    const byQuery = await app.request(`/v1/factories/${ids.factory}/exports/readings.csv?${range}&meter=${m1}`, { headers: auth() });
    const byAccept = await app.request(`/v1/meters/${m1}/readings?${range}`, { headers: { ...auth(), accept: "text/csv" } });
    const json = await app.request(`/v1/meters/${m1}/readings?${range}`, { headers: auth() });

    const rows = records(await byQuery.text()).slice(1);
    // 00:00–01:00Z is 12 slots of meter 1 at 0.5 kWh (× 2.1534 = 1.076700).
    expect(rows).toHaveLength(12);
    expect(rows.every((row) => row[0] === m1 && row[7] === "0.5" && row[12] === "1.076700")).toBe(true);
    expect(byAccept.headers.get("content-type")).toBe("text/csv; charset=utf-8; header=present");
    expect(records(await byAccept.text()).slice(1)).toEqual(rows);
    expect(json.headers.get("content-type")).toContain("application/json");
    expect(((await json.json()) as { readings: unknown[] }).readings).toHaveLength(12);
  });

  it("answers usage as CSV per bucket on Accept: text/csv, with the bucket's local start", async () => {
    const response = await app.request(`/v1/factories/${ids.factory}/usage?from=2026-03-10T06:00:00Z&to=2026-03-10T08:00:00Z&bucket=1h`, {
      headers: { ...auth(), accept: "text/csv" },
    });

    // By hand: an hour is 12 slots of each meter, (0.25 + 0.5 + 0.75) × 12 = 18 kWh, all measured, cost 18 × 2.1534 = 38.7612 MXN, 36 slots.
    expect(response.status).toBe(200);
    expect(records(await response.text())).toEqual([
      ["start_utc", "start_local", "kwh", "measured_kwh", "estimated_kwh", "cost", "readings", "partial"],
      ["2026-03-10T06:00:00.000Z", "2026-03-10T00:00:00-06:00", "18", "18", "0", "38.7612", "36", "false"],
      ["2026-03-10T07:00:00.000Z", "2026-03-10T01:00:00-06:00", "18", "18", "0", "38.7612", "36", "false"],
    ]);
  });

  it("answers bad ranges with 400 naming the parameter, and other organizations' or factories' ids with 404, before any CSV", async () => {
    const backwards = await app.request(`/v1/factories/${ids.factory}/exports/readings.csv?from=2026-03-10T00:00:00Z&to=2026-03-09T00:00:00Z`, {
      headers: auth(),
    });
    const impossible = await app.request(`/v1/factories/${ids.factory}/exports/readings.csv?from=2026-04-31T00:00:00Z&to=2026-05-02T00:00:00Z`, {
      headers: auth(),
    });
    const tooLong = await app.request(`/v1/factories/${ids.factory}/exports/readings.csv?from=2025-01-01T00:00:00Z&to=2026-03-01T00:00:00Z`, {
      headers: auth(),
    });
    const badBom = await app.request(`/v1/factories/${ids.factory}/exports/readings.csv?from=2026-03-10T00:00:00Z&to=2026-03-11T00:00:00Z&bom=yes`, {
      headers: auth(),
    });
    const range = "from=2026-03-10T00:00:00Z&to=2026-03-11T00:00:00Z";
    const otherOrg = await app.request(`/v1/factories/${ids.factory}/exports/readings.csv?${range}`, {
      headers: { authorization: `Bearer ${p.otherApiToken}` },
    });
    const meterElsewhere = await app.request(`/v1/factories/${ids.factory}/exports/readings.csv?${range}&meter=${dstMeter}`, { headers: auth() });
    const otherMeter = await app.request(`/v1/meters/${ids.otherMeter}/readings?${range}`, { headers: { ...auth(), accept: "text/csv" } });
    const otherUsage = await app.request(`/v1/factories/${ids.otherFactory}/usage?${range}`, { headers: { ...auth(), accept: "text/csv" } });

    expect(backwards.status).toBe(400);
    expect(await backwards.json()).toMatchObject({ code: "readings.invalid_query", errors: [{ path: "to", message: "to must be after from" }] });
    expect(impossible.status).toBe(400);
    expect(((await impossible.json()) as { errors: { path: string }[] }).errors[0]?.path).toBe("from");
    expect(await tooLong.json()).toMatchObject({
      errors: [{ path: "to", message: "a range spans at most 400 days (this one 424): ask for it in parts of 400 days or fewer" }],
    });
    expect(await badBom.json()).toMatchObject({ errors: [{ path: "bom", message: "bom is 1, true, 0 or false" }] });
    expect([otherOrg.status, meterElsewhere.status, otherMeter.status, otherUsage.status]).toEqual([404, 404, 404, 404]);
    expect(await otherOrg.json()).toMatchObject({ code: "factory.not_found" });
    expect(await meterElsewhere.json()).toMatchObject({ code: "meter.not_found" });
    expect(otherUsage.headers.get("content-type")).toContain("application/json");
  });
});
