/**
 * Issue 16 in the console: Spanish (es-MX) by default and English a click away (kept across visits), es-MX formats
 * ($ money, dd/mm/yyyy dates, 24-hour times on the factory's clock, its zone labelled once), plural words, CFE's names
 * for bill lines and time-of-use periods, chart axes that span the range asked for with a single reading, every page
 * in English, and every page at 390 px without the page growing wider than the screen. Screenshots of every page in
 * es-MX at 1440 and 390 px go to WATTFLOW_SCREENS when set (packages/web/test-results/screenshots otherwise).
 */

import { getDocument } from "pdfjs-dist/legacy/build/pdf.mjs";
import type { Page } from "playwright-core";
import { beforeAll, describe, expect, it } from "vitest";
import { chooseLanguage, screenshot, signIn, useConsole } from "./support";

/** "30/11/2026 05:40": a day-first date and a 24-hour time. */
const instant = /^(\d{2})\/(\d{2})\/(\d{4}) (\d{2}):(\d{2})$/;
/** "$43,725.42": the narrow peso sign, thousands by commas, two decimals. */
const pesos = /^-?\$\d{1,3}(,\d{3})*\.\d{2}$/;

/** The factory page's chart once the figures of `bucket` are in. */
const drawn = (page: Page, bucket: string) => page.locator(`[data-testid="factory-figures"][data-bucket="${bucket}"] .chart canvas`).first();

/** Every page of the console: where it is and what shows it has loaded. */
const pages = (factoryId: string) =>
  [
    { name: "overview", path: "#/", ready: (page: Page) => page.getByTestId("factory-card").first() },
    // Each range's own figures (the page keeps the last range's while the next loads): 7 days in quarter-hours, 30 in hours, 12 months in days.
    { name: "factory", path: `#/factories/${factoryId}?range=7d`, ready: (page: Page) => drawn(page, "15m") },
    { name: "factory-30d", path: `#/factories/${factoryId}?range=30d`, ready: (page: Page) => drawn(page, "1h") },
    { name: "factory-year", path: `#/factories/${factoryId}?range=year`, ready: (page: Page) => drawn(page, "1d") },
    { name: "devices", path: "#/devices", ready: (page: Page) => page.getByTestId("devices-table").locator("tbody tr").first() },
    { name: "tariffs", path: `#/tariffs/${factoryId}`, ready: (page: Page) => page.getByTestId("tariff-version").first() },
    { name: "bills", path: `#/bills/${factoryId}`, ready: (page: Page) => page.getByTestId("bill").first() },
    { name: "imports", path: "#/imports", ready: (page: Page) => page.getByRole("heading", { level: 1 }) },
    { name: "setup", path: "#/setup", ready: (page: Page) => page.getByRole("form").first() },
    { name: "alerts", path: "#/alerts", ready: (page: Page) => page.getByRole("heading", { level: 1 }) },
  ] as const;

describe("the console's languages, formats and phone layout", () => {
  // 40 days of demo history: last month has readings, so its close stores a bill (a month without any is skipped).
  // Every page's uncaught errors and console errors go to `ui.problems`, checked at the end.
  const ui = useConsole(["--demo-history", "40"]);

  /** A signed-in page in `language` at `width` × 900. */
  const open = async (language: "es-MX" | "en", width = 1440) => {
    const page = await ui.newPage({ language, width });
    await signIn(page, ui.stack.apiUrl, ui.demo.user, language);
    return page;
  };
  const api = (method: string, path: string, body?: unknown, token = ui.demo.adminToken) =>
    fetch(`${ui.stack.apiUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });

  beforeAll(async () => {
    const { demo } = ui;
    // The history closes last month once its readings are in: wait for its bill, which the bills pages show.
    const began = Date.now();
    const bills = async () => ((await (await api("GET", `/v1/factories/${demo.factoryId}/bills`)).json()) as { bills: unknown[] }).bills.length;
    while ((await bills()) === 0) {
      if (Date.now() - began > 240_000) throw new Error("the demo's monthly close stored no bill within 240 s");
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  });

  it("is in Spanish by default, switches to English from the header and keeps the choice after a reload", async () => {
    // The first page: no language chosen yet.
    const { stack, demo, context, page } = ui;
    await page.goto(stack.apiUrl);
    await page.getByRole("button", { name: "Iniciar sesión" }).waitFor();
    expect(await page.evaluate(() => document.documentElement.lang)).toBe("es-MX");
    await signIn(page, stack.apiUrl, demo.user);
    await page.getByRole("heading", { name: "Resumen" }).waitFor();
    expect(await page.locator("header nav").textContent()).toBe("ResumenDispositivosTarifasFacturasImportacionesAlertasCuarentenaConfiguración");

    await page.getByLabel("Idioma").selectOption("en");
    await page.getByRole("heading", { name: "Overview" }).waitFor();
    expect(await page.locator("header nav").textContent()).toBe("OverviewDevicesTariffsBillsImportsAlertsQuarantineSetup");
    await page.reload();
    await page.getByRole("heading", { name: "Overview" }).waitFor();
    expect(await page.evaluate(() => [document.documentElement.lang, localStorage.getItem("wattflow.language")])).toEqual(["en", "en"]);

    await page.getByLabel("Language").selectOption("es-MX");
    await page.getByRole("heading", { name: "Resumen" }).waitFor();
    await context.close();
  });

  it("shows money, dates and times in es-MX formats on the factory's clock, its zone labelled once", async () => {
    const { stack, demo } = ui;
    const page = await open("es-MX");
    const card = page.getByTestId("factory-card").first();
    // The demo gateway posts its last days as the stack starts: refresh until the month has a cost.
    await expect
      .poll(
        async () => {
          await page.getByRole("button", { name: "Actualizar" }).click();
          await page.waitForTimeout(500);
          return card.getByTestId("month-cost").textContent();
        },
        { timeout: 60_000, interval: 1000 },
      )
      .toMatch(pesos);
    const last = /^última lectura (.*)$/.exec((await card.getByTestId("last-reading").textContent()) ?? "")?.[1] ?? "";
    expect(last).toMatch(instant);
    expect(Number(instant.exec(last)?.[4])).toBeLessThan(24);
    // America/Monterrey has kept UTC−6 all year since 2022 (no DST): one label for the page.
    expect(await page.getByTestId("zone-note").allTextContents()).toEqual(["Horas en Monterrey (UTC−06:00)"]);

    // The demo tariff is in force from 1 January two years back at UTC midnight (31/12 18:00 in Monterrey): a date, shown as that date.
    await page.goto(`${stack.apiUrl}/#/tariffs/${demo.factoryId}`);
    expect(await page.getByTestId("tariff-from").last().textContent()).toBe(`Vigente desde 01/01/${new Date().getUTCFullYear() - 2}`);

    // Last month's bill: its period as dates, closed at an instant on the factory's clock, lines by CFE's printed names.
    await page.goto(`${stack.apiUrl}/#/bills/${demo.factoryId}`);
    const bill = page.getByTestId("bill").first();
    await bill.waitFor();
    expect(await bill.getByTestId("bill-period").textContent()).toMatch(/^Periodo del \d{2}\/\d{2}\/\d{4} al \d{2}\/\d{2}\/\d{4}$/);
    // Closed at an instant; once the utility's bill for the month is in (the demo imports last month's when its history
    // covers it, demo-history.ts), the status says so too, and only then.
    const status = (await bill.getByTestId("bill-status").textContent()) ?? "";
    expect(status).toMatch(/^cerrada \d{2}\/\d{2}\/\d{4} \d{2}:\d{2}( · recibo del suministrador importado)?$/);
    if (status.endsWith("importado")) {
      const listed = (await (await api("GET", `/v1/factories/${demo.factoryId}/bills`)).json()) as { bills: { source: string }[] };
      expect(listed.bills.some((listedBill) => listedBill.source === "utility")).toBe(true);
    }
    const names = await bill.locator("tbody tr td:first-child").allTextContents();
    expect(names).toContain("Cargo fijo");
    expect(names).toContain("Energía intermedia");
    expect(names.filter((name) => /^[a-z]+(-[a-z]+)+$|^fixed$/.test(name))).toEqual([]);
    for (const amount of await bill.locator("tbody tr td:nth-child(4)").allTextContents()) expect(amount).toMatch(pesos);

    // The factory page: meters' last readings on the factory's clock, periods by their CFE names.
    await page.goto(`${stack.apiUrl}/#/factories/${demo.factoryId}?range=7d`);
    await page.locator(".chart canvas").first().waitFor();
    for (const text of await page.getByTestId("meters-table").locator("tbody tr td:nth-child(7)").allTextContents()) expect(text).toMatch(instant);
    const periods = await page.getByTestId("cost-by-period").locator("th").allTextContents();
    expect(periods.length).toBeGreaterThan(0);
    for (const period of periods) expect(["Base", "Intermedia", "Punta"]).toContain(period);
    expect(await page.getByTestId("zone-note").count()).toBe(1);

    // Plural words: the demo organization has one gateway.
    await page.goto(`${stack.apiUrl}/#/devices`);
    await expect.poll(() => page.getByTestId("devices-count").textContent()).toBe("1 pasarela");
    expect(await page.getByTestId("devices-table").locator(".pill").first().textContent()).toBe("en línea");
    await page.context().close();
  });

  it("draws a single reading on axes that span the day asked for, from 0 kW up", async () => {
    const { stack } = ui;
    // A factory on Mexico City's clock (UTC−6 all year since 2022) with one gateway, one meter and one 5-minute reading.
    const factory = (await (
      await api("POST", "/v1/factories", {
        name: "Planta Una Lectura",
        timeZone: "America/Mexico_City",
        tariffCode: "cfe-gdmth",
        tariffZone: "central",
        contractedDemandKw: 100,
      })
    ).json()) as { id: string };
    const gateway = (await (await api("POST", `/v1/factories/${factory.id}/gateways`, { name: "Pasarela Sola" })).json()) as {
      code: string;
      deviceId: string;
    };
    const enrolled = (await (await api("POST", "/v1/enroll", { code: gateway.code })).json()) as { token: string };
    const meter = (await (
      await api("POST", `/v1/factories/${factory.id}/meters`, { deviceId: gateway.deviceId, name: "Prensa 1", line: "Prensas" })
    ).json()) as {
      id: string;
    };
    const now = Date.now();
    const start = Math.floor(now / 300_000) * 300_000 - 300_000;
    // 5 kWh in 5 minutes: 60 kW.
    const ingest = await api(
      "POST",
      "/v1/ingest",
      { readings: [{ meterId: meter.id, start: new Date(start).toISOString(), seconds: 300, kwh: 5 }] },
      enrolled.token,
    );
    expect(ingest.status).toBe(200);

    const page = await open("es-MX");
    const chart = page.getByRole("img", { name: "Potencia y costo en el tiempo" });
    await expect
      .poll(
        async () => {
          await page.goto(`${stack.apiUrl}/#/factories/${factory.id}?range=today`);
          await page.reload();
          await page.getByTestId("factory-figures").waitFor();
          return chart.count();
        },
        { timeout: 60_000, interval: 1000 },
      )
      .toBe(1);
    const bound = async (name: string) => Number(await chart.getAttribute(`data-${name}`));
    // Today in Mexico City starts at its local midnight, 06:00 UTC of the local date; the range ends at now rounded up to the quarter-hour.
    const local = new Date(now - 6 * 3_600_000);
    const midnight = Date.UTC(local.getUTCFullYear(), local.getUTCMonth(), local.getUTCDate(), 6) / 1000;
    expect(await bound("x-min")).toBe(midnight);
    expect(await bound("x-max")).toBeGreaterThanOrEqual(start / 1000 + 300);
    expect(await bound("x-max")).toBeLessThanOrEqual(Math.ceil((Date.now() + 900_000) / 900_000) * 900);
    // y from 0 to a tenth above the one bucket's 60 kW: 66 kW.
    expect(await bound("y-min")).toBe(0);
    expect(await bound("y-max")).toBeCloseTo(66, 6);
    await screenshot(page, "i18n-single-reading");
    await page.context().close();
  });

  it("shows every page in English, with English plurals, periods and bill lines", async () => {
    const { stack, demo } = ui;
    const page = await open("en");
    const seen: Record<string, string> = {};
    for (const { name, path, ready } of pages(demo.factoryId)) {
      await page.goto(`${stack.apiUrl}/${path}`);
      await ready(page).waitFor();
      seen[name] = (await page.locator("main").textContent()) ?? "";
    }
    expect(seen.overview).toContain("Billing period to date");
    expect(seen.factory).toContain("Cost by period");
    expect(seen.factory).toMatch(/Base|Intermediate|Peak/);
    // The demo gateway and the one added for the single-reading factory.
    expect(seen.devices).toContain("2 gateways");
    expect(seen.devices).toContain("online");
    expect(seen.tariffs).toContain(`In force from 01/01/${new Date().getUTCFullYear() - 2}`);
    expect(seen.bills).toContain("Fixed charge");
    expect(seen.bills).toContain("Intermediate energy");
    expect(seen.imports).toContain("Imports and runs");
    expect(seen.setup).toContain("New factory");
    for (const text of Object.values(seen)) expect(text).not.toMatch(/Resumen|Facturas|Tarifa única|pasarela/);
    await page.context().close();
  });

  it("fits every page in 390 px (nothing wider than the screen) and saves each page at 1440 and 390 px", async () => {
    const { stack, demo, browser, problems } = ui;
    const widths: Record<string, number> = {};
    for (const width of [1440, 390]) {
      // The sign-in page first, before signing in.
      const context = await browser.newContext({ viewport: { width, height: 844 } });
      await chooseLanguage(context, "es-MX");
      const signin = await context.newPage();
      await signin.goto(stack.apiUrl);
      await signin.getByRole("button", { name: "Iniciar sesión" }).waitFor();
      widths[`signin@${width}`] = await signin.evaluate(() => document.documentElement.scrollWidth);
      await screenshot(signin, `es-MX-${width}-0-signin`);
      await context.close();

      const page = await open("es-MX", width);
      for (const [index, { name, path, ready }] of pages(demo.factoryId).entries()) {
        await page.goto(`${stack.apiUrl}/${path}`);
        await ready(page).waitFor();
        await page.waitForTimeout(300);
        widths[`${name}@${width}`] = await page.evaluate(() => document.documentElement.scrollWidth);
        await screenshot(page, `es-MX-${width}-${index + 1}-${name}`);
      }
      // The plural for two gateways, at phone width.
      if (width === 390) {
        await page.goto(`${stack.apiUrl}/#/devices`);
        await expect.poll(() => page.getByTestId("devices-count").textContent()).toBe("2 pasarelas");
        // A bill on a phone: each line's amount (Wattflow's, the 4th cell; quantity and unit price are left out) is on
        // screen, not behind a sideways scroll, the total's included.
        await page.goto(`${stack.apiUrl}/#/bills/${demo.factoryId}`);
        const lines = page.getByTestId("bill").first().locator("table.bill-lines tbody tr");
        await lines.first().waitFor();
        const amounts = await lines.evaluateAll((rows) =>
          rows.map((row) => ({ text: row.children[3]?.textContent ?? "", right: row.children[3]?.getBoundingClientRect().right ?? 9999 })),
        );
        expect(amounts.length).toBeGreaterThan(3);
        expect(amounts.filter((amount) => amount.right > 390 || !/\d/.test(amount.text))).toEqual([]);
      }
      await page.context().close();
    }
    console.log(`page widths (px): ${JSON.stringify(widths)}`);
    const overflowing = Object.entries(widths).filter(([key, scrollWidth]) => key.endsWith("@390") && scrollWidth > 390);
    expect(overflowing).toEqual([]);
    expect(problems).toEqual([]);
  });
  it("draws 30 days in hours and 12 months in days, and says what a point is, in Spanish and English", async () => {
    const { stack, demo } = ui;
    const words = {
      "es-MX": { hour: "Potencia promedio por hora.", day: "Potencia promedio por día.", demand: "La ventana de 15 minutos más alta de cada día." },
      en: { hour: "Average power per hour.", day: "Average power per day.", demand: "Highest 15-minute window per day." },
    } as const;
    for (const language of ["es-MX", "en"] as const) {
      const page = await open(language);
      const figures = page.getByTestId("factory-figures");
      await page.goto(`${stack.apiUrl}/#/factories/${demo.factoryId}?range=30d`);
      await page.locator(".chart canvas").first().waitFor();
      expect(await figures.getAttribute("data-bucket")).toBe("1h");
      expect(await page.getByTestId("bucket-note").textContent()).toContain(words[language].hour);
      await page.goto(`${stack.apiUrl}/#/factories/${demo.factoryId}?range=year`);
      await page.reload();
      await expect.poll(() => figures.getAttribute("data-bucket")).toBe("1d");
      expect(await page.getByTestId("bucket-note").textContent()).toContain(words[language].day);
      expect(await page.locator("main").textContent()).toContain(words[language].demand);
      await page.context().close();
    }
  });

  it("prints the demo's bill PDF with the demo data, demo prices mark", async () => {
    const { demo } = ui;
    const { bills } = (await (await api("GET", `/v1/factories/${demo.factoryId}/bills`)).json()) as { bills: { id: string }[] };
    const bill = bills[0] as { id: string };
    const response = await api("GET", `/v1/factories/${demo.factoryId}/bills/${bill.id}.pdf`);
    expect(response.headers.get("content-type")).toBe("application/pdf");
    const document = await getDocument({ data: new Uint8Array(await response.arrayBuffer()), verbosity: 0 }).promise;
    const first = await (await document.getPage(1)).getTextContent();
    const text = first.items.map((item) => ("str" in item ? item.str : "")).join(" ");
    await document.destroy();
    expect(text).toContain("DATOS DE DEMOSTRACIÓN, PRECIOS DE DEMOSTRACIÓN / DEMO DATA, DEMO PRICES");
  });

  it("shows a gateway's buses, refused configuration, clock and disk in Spanish and English, within 390 px", async () => {
    const { stack, demo, problems } = ui;
    const gateway = (await (await api("POST", `/v1/factories/${demo.factoryId}/gateways`, { name: "Pasarela Diagnóstico" })).json()) as { code: string };
    const { token } = (await (await api("POST", "/v1/enroll", { code: gateway.code })).json()) as { token: string };
    const at = new Date(Date.now() - 3_600_000).toISOString();
    const beat = await api(
      "POST",
      "/v1/devices/heartbeat",
      {
        backlog: 42,
        oldestUnsentSeconds: 900,
        lastSuccess: { kinesis: null, http: new Date().toISOString() },
        rejected: 0,
        clockOffsetMs: -1250,
        diskBytes: 12 * 1024 * 1024,
        diskCapBytes: 64 * 1024 * 1024,
        buses: [
          {
            bus: "rtu-1",
            link: "/dev/ttyUSB0 19200 8E1",
            requests: 1200,
            answered: 1188,
            timeouts: 9,
            crcErrors: 3,
            exceptions: 0,
            portErrors: 0,
            retries: 12,
            lastCycleMs: 840,
          },
        ],
        config: {
          source: "cloud",
          version: "cfg-8",
          appliedAt: at,
          checkedAt: at,
          refused: { version: "cfg-9", at, problems: [{ path: "meters.2.unitId", message: "unit id must be 1 to 247" }] },
        },
        clock: { state: "trusted", source: "ntp", offsetSeconds: -1.25, untrustedSince: null },
        disk: { state: "full", freeBytes: 0, since: at, pendingReadings: 42 },
      },
      token,
    );
    expect(beat.status).toBe(200);
    const words = {
      "es-MX": {
        open: "detalles",
        texts: ["Buses Modbus", "1,188 de 1,200", "Errores CRC", "Rechazó la versión cfg-9", "Desfase", "-1,250 ms", "lleno", "12.0 MiB de 64.0 MiB"],
      },
      en: {
        open: "details",
        texts: ["Modbus buses", "1,188 of 1,200", "CRC errors", "Refused version cfg-9", "Offset", "-1,250 ms", "full", "12.0 MiB of 64.0 MiB"],
      },
    } as const;
    for (const [language, width] of [
      ["es-MX", 390],
      ["en", 1440],
      ["en", 390],
      ["es-MX", 1440],
    ] as const) {
      const page = await open(language, width);
      await page.goto(`${stack.apiUrl}/#/devices`);
      const row = page.getByTestId("devices-table").locator("tr", { hasText: "Pasarela Diagnóstico" });
      await row.getByRole("button", { name: words[language].open }).click();
      const detail = page.getByTestId("gateway-detail");
      await detail.waitFor();
      const text = (await detail.textContent()) ?? "";
      for (const expected of words[language].texts) expect(text).toContain(expected);
      expect(await page.getByTestId("gateway-refused").textContent()).toContain("meters.2.unitId: unit id must be 1 to 247");
      // The details wrap to the screen: nothing wider than the page.
      const box = await detail.boundingBox();
      expect((box?.x ?? 0) + (box?.width ?? 0)).toBeLessThanOrEqual(width);
      expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(width);
      await screenshot(page, `${language}-${width}-devices-gateway-detail`);
      await page.context().close();
    }
    expect(problems).toEqual([]);
  });
});
