/**
 * The factory page with a month of 5-minute data for 200 meters (1.73 million readings priced by the
 * CFE GDMTH engine): the time from the API's answer to the painted page must stay under a second.
 * The readings are written straight into the stack's database before it starts (ingesting them
 * through the API would take most of the run), then the page is opened through the real API. On
 * PGlite always, and on a real Postgres too when DATABASE_URL is set (a fresh database, dropped after).
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Cost } from "@wattflow/core/cost";
import { Database } from "@wattflow/core/database";
import { Device } from "@wattflow/core/device";
import { Factory } from "@wattflow/core/factory";
import { Organization } from "@wattflow/core/organization";
import { TariffStore } from "@wattflow/core/tariff/store";
import { Testing } from "@wattflow/core/testing";
import { User } from "@wattflow/core/user";
import { sql } from "drizzle-orm";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildConsole, chooseLanguage, launchBrowser, type Stack, screenshot, screenshotDir, signIn, startStack, watchPage } from "./support";

const meters = 200;
const days = 30;
const slot = 300_000;
const user = { email: "bench@wattflow.example", password: "bench password 1234" };

/** Seeds the factory; returns its id. Every reading gets the period and price the cost engine gives its slot. */
async function seed(where: { dataDir: string } | { url: string }): Promise<{ factoryId: string; readings: number; seedMs: number }> {
  const began = Date.now();
  const database = await Database.open("url" in where ? { url: where.url } : { dataDir: join(where.dataDir, "pg") });
  try {
    await Database.migrate(database);
    Database.provide(database);
    const organization = await Organization.create({ name: "Bench Industries" });
    await User.create({ organizationId: organization.id, email: user.email, name: "Bench", role: "viewer", password: user.password });
    const factory = await Factory.create({
      organizationId: organization.id,
      name: "Planta 200",
      timeZone: "America/Mexico_City",
      tariffCode: "cfe-gdmth",
      tariffZone: "central",
      contractedDemandKw: 9000,
    });
    const version = await TariffStore.addVersion({
      factoryId: factory.id,
      effectiveFrom: new Date("2020-01-01T00:00:00Z"),
      definition: {
        kind: "cfe-gdmth",
        zone: "central",
        prices: [{ fixed: "197.77", energy: { base: "0.9715", intermedia: "1.5573", punta: "1.7262" }, distribution: "90.85", capacity: "392.66" }],
      },
    });
    const device = await Device.create({ organizationId: organization.id, factoryId: factory.id, name: "Gateway A" });
    const db = Database.use();
    await db.execute(sql`
      insert into meter (id, organization_id, factory_id, device_id, name, line)
      select 'mtr_bench' || lpad(n::text, 4, '0'), ${organization.id}, ${factory.id}, ${device.id}, 'Meter ' || n, 'Line ' || (n % 10 + 1)
      from generate_series(1, ${meters}) n`);

    const end = Math.floor(Date.now() / slot) * slot;
    const start = end - days * 86_400_000;
    const starts: string[] = [];
    const periods: string[] = [];
    const prices: string[] = [];
    for (let t = start; t < end; t += slot) {
      const priced = Cost.price({ kwh: 1, start: new Date(t) }, version, { timeZone: factory.timeZone });
      starts.push(new Date(t).toISOString());
      periods.push(priced.period ?? "");
      prices.push(priced.unitPrice);
    }
    // A day-shaped load per meter: a base share plus a daytime hump, with noise.
    await db.execute(sql`
      insert into reading (meter_id, interval_start, interval_seconds, factory_id, device_id, kwh, kvarh, kw_avg, kw_max, pf,
        tou_period, tariff_id, unit_price, cost, computed_at, source, received_at, lake_delivered_at)
      select m.id, s.t, 300, ${factory.id}, ${device.id}, e.kwh, e.kwh * 0.45, e.kwh * 12, e.kwh * 13.5, 0.91,
        s.period, ${version.id}, s.price, round((e.kwh * s.price)::numeric, 6), now(), 'http', now(), now()
      from meter m
      cross join unnest(${`{${starts.join(",")}}`}::timestamptz[], ${`{${periods.join(",")}}`}::text[], ${`{${prices.join(",")}}`}::numeric[]) as s(t, period, price)
      cross join lateral (select (20 + (hashtext(m.id) % 20 + 20) * (0.4 + 0.6 * greatest(0, sin(pi() * (extract(hour from s.t at time zone 'America/Mexico_City') - 6) / 14))))
        * (0.9 + random() * 0.2) / 12 as kwh) e
      where m.factory_id = ${factory.id}`);
    const count = await db.execute(sql`select count(*)::int as n from reading where factory_id = ${factory.id}`);
    const readings = (count as unknown as { rows: { n: number }[] }).rows[0]?.n ?? 0;
    return { factoryId: factory.id, readings, seedMs: Date.now() - began };
  } finally {
    Database.provide(undefined);
    await database.close();
  }
}

const lanes = process.env.DATABASE_URL ? (["pglite", "postgres"] as const) : (["pglite"] as const);

describe.each(lanes)("factory page with a month of 200 meters on %s", (lane) => {
  let stack: Stack;
  let browser: Browser;
  let seeded: Awaited<ReturnType<typeof seed>>;
  let database: Awaited<ReturnType<typeof Testing.freshDatabase>> | undefined;

  beforeAll(async () => {
    buildConsole();
    const dataDir = mkdtempSync(join(tmpdir(), "wattflow-render-"));
    database = lane === "postgres" ? await Testing.freshDatabase(process.env.DATABASE_URL as string, "wattflow_render") : undefined;
    seeded = await seed(database ? { url: database.url } : { dataDir });
    stack = await startStack(["--no-demo"], dataDir, database?.url);
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await stack?.stop();
    await database?.drop();
  });

  it("renders the 30-day range in under a second after the data arrives", async () => {
    expect(seeded.readings).toBe(meters * days * 288);
    const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
    await chooseLanguage(context, "en");
    const page = await context.newPage();
    const problems = watchPage(page);
    await signIn(page, stack.apiUrl, user, "en");
    await page.getByRole("heading", { name: "Overview" }).waitFor();

    const runs: { renderMs: number; apiMs: number; bytes: number }[] = [];
    for (const round of [1, 2, 3]) {
      await page.goto(`${stack.apiUrl}/#/factories/${seeded.factoryId}?range=${round % 2 === 1 ? "30d" : "today"}`);
      await page.reload();
      const figures = page.getByTestId("factory-figures");
      await expect.poll(() => figures.getAttribute("data-render-ms"), { timeout: 120_000, interval: 250 }).not.toBeNull();
      if (round % 2 === 0) continue;
      const timing = await page.evaluate(() => {
        const api = performance.getEntriesByType("resource").find((entry) => entry.name.includes("/v1/factories/")) as PerformanceResourceTiming | undefined;
        return { apiMs: api ? api.responseEnd - api.startTime : Number.NaN, bytes: api?.encodedBodySize ?? 0 };
      });
      runs.push({ renderMs: Number(await figures.getAttribute("data-render-ms")), ...timing });
      // The page's 30 days end now; the seeded ones ended when seeding began, a few slots earlier.
      expect(Number(await figures.getAttribute("data-points"))).toBeGreaterThan(days * 288 - 24);
      expect(Number(await figures.getAttribute("data-meters"))).toBe(meters);
    }
    await screenshot(page, `20-factory-200-meters-30-days-${lane}`);
    const result = { lane, meters, days, readings: seeded.readings, seedMs: seeded.seedMs, runs };
    writeFileSync(join(screenshotDir, `render-200-meters-${lane}.json`), JSON.stringify(result, null, 2));
    console.log(`factory page, ${meters} meters × ${days} days of 5-minute data: ${JSON.stringify(result)}`);
    for (const run of runs) expect(run.renderMs).toBeLessThan(1000);
    expect(problems).toEqual([]);
  });
});
