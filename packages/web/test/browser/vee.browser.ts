/**
 * Issue 12, deliverable 5 in the console: a gap reading and measured readings posted through the
 * device API, then the factory page's measured vs estimated figures, its missing slots and one meter's
 * gaps list, as a user sees them (in es-MX). The demo gateway stays quiet (--no-demo-traffic), so every kWh is ours.
 */
import { describe, expect, it } from "vitest";
import { screenshot, signIn, useConsole } from "./support";

const slotMs = 300_000;
const digits = (text: string | null) => Number((text ?? "").replace(/[^\d.]/g, ""));

describe("measured vs estimated energy in the console", () => {
  const ui = useConsole(["--no-demo-traffic", "--demo-history", "0"], { language: "es-MX" });
  // An hour starting three whole hours ago: inside the 7-day range, never in the future.
  const spanStart = Math.floor(Date.now() / 3_600_000) * 3_600_000 - 3 * 3_600_000;
  const at = (minutes: number) => new Date(spanStart + minutes * 60_000).toISOString();

  it("posts a one-hour gap reading, then measured 5-minute readings inside and after it", async () => {
    const { stack, demo } = ui;
    const meterId = demo.meterIds[0] as string;
    const post = async (readings: unknown[]) => {
      const response = await fetch(`${stack.apiUrl}/v1/ingest`, {
        method: "POST",
        headers: { authorization: `Bearer ${demo.deviceToken}`, "content-type": "application/json" },
        body: JSON.stringify({ readings }),
      });
      expect(response.status).toBe(200);
      return (await response.json()) as { accepted: number; rejected: unknown[] };
    };
    // The gateway's own gap interval first (12 kWh over the hour), then what the meter measured.
    expect(await post([{ meterId, start: at(0), seconds: 3600, kwh: 12, gap: true }])).toMatchObject({ accepted: 1, rejected: [] });
    const measured = [0, 5, 10].map((m) => ({ meterId, start: at(m), seconds: 300, kwh: 1.5 }));
    const after = [60, 65, 70].map((m) => ({ meterId, start: at(m), seconds: 300, kwh: 1 }));
    expect(await post([...measured, ...after])).toMatchObject({ accepted: 6, rejected: [] });
  });

  it("shows measured and estimated kWh, the estimated share and the missing slots for the range", async () => {
    const { stack, demo, page } = ui;
    await signIn(page, stack.apiUrl, demo.user);
    await page.getByRole("heading", { name: "Resumen" }).waitFor();

    // Stored slots: the gap spread flat (1 kWh a slot), its first three slots replaced by 1.5 kWh measured,
    // the other nine re-spread to keep the hour at 12 kWh: 12 − 3 × 1.5 = 7.5 kWh estimated.
    // Measured: 3 × 1.5 + 3 × 1 = 7.5 kWh. Energy 15 kWh, 7.5 / 15 = 50.0 % estimated.
    const figures = page.getByTestId("range-measured");
    await expect
      .poll(
        async () => {
          await page.goto(`${stack.apiUrl}/#/factories/${demo.factoryId}?range=7d`);
          await page.reload();
          await page.getByTestId("factory-figures").waitFor();
          return figures.textContent();
        },
        { timeout: 60_000, interval: 1000 },
      )
      .toBe("medida 7.5 kWh · estimada 7.5 kWh (50.0 %)");
    expect(digits(await page.getByTestId("range-kwh").textContent())).toBe(15);
    // The 7-day range runs from the hour 7 days before its end (the next quarter-hour) to that end; of its slots, those
    // ended by now are due for each of the demo's 6 meters, and 15 hold a value: 6 × ended slots − 15 (2,016 slots are
    // 7 days; the range adds up to 75 minutes). Counted before and after the read, in case a slot ended in between.
    const expectedMissing = (now: number) => {
      const to = Math.ceil(now / 900_000) * 900_000;
      const from = Math.floor((to - 7 * 86_400_000) / 3_600_000) * 3_600_000;
      const ended = Math.floor(now / 300_000) * 300_000;
      return 6 * ((Math.min(to, ended) - from) / 300_000) - 15;
    };
    const before = expectedMissing(Date.now());
    const missing = digits(await page.getByTestId("range-missing").textContent());
    expect([before, expectedMissing(Date.now())]).toContain(missing);
    // At least 7 days less the range's last quarter-hour (3 slots), which may not have ended yet.
    expect(missing).toBeGreaterThanOrEqual(6 * (2_016 - 3) - 15);
    // The chart's legend names the hatched estimated series.
    expect(await page.getByRole("img", { name: "Potencia y costo en el tiempo" }).locator(".u-legend").textContent()).toContain("Estimada (kW)");
  });

  it("lists a meter's missing and estimated spans under its row", async () => {
    const { page, problems } = ui;
    const row = page.getByTestId("meters-table").locator("tbody tr").filter({ hasText: "Injection main" });
    await row.getByRole("button", { name: "huecos" }).click();
    const list = page.getByTestId("gaps-list");
    await list.waitFor();
    // Missing before the hour and after the last reading; between them one estimated span: 9 slots, 7.5 kWh
    // (the three measured slots at its start are not gaps, and neither are the three measured after it).
    const estimated = list.locator("tr[data-kind=estimated]");
    expect(await estimated.count()).toBe(1);
    expect(await estimated.textContent()).toContain("9 intervalos");
    expect(await estimated.textContent()).toContain("7.500 kWh");
    expect(await list.locator("tr[data-kind=missing]").count()).toBe(2);
    // The estimated span starts 15 minutes into the hour, shown on the factory's clock as dd/mm/yyyy HH:mm (24-hour).
    // Monterrey keeps UTC−06:00 all year (Mexico ended daylight saving in 2022): its wall clock is UTC less six hours.
    const wall = new Date(spanStart + 3 * slotMs - 6 * 3_600_000).toISOString();
    const start = `${wall.slice(8, 10)}/${wall.slice(5, 7)}/${wall.slice(0, 4)} ${wall.slice(11, 16)}`;
    expect(await estimated.textContent()).toContain(start);
    await screenshot(page, "vee-01-factory-gaps");
    expect(problems).toEqual([]);
  });
});
