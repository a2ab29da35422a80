/**
 * Issue 16 item 6 in the console, in Spanish (the default language): Setup's lists with edit (a factory moved to a
 * municipality takes its division and clock; a refused field shows its problem beside it), the CFE plan form on
 * published and on entered prices, runs of every kind with a monthly close, and alerts acknowledged then resolved.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { screenshot, signInThroughApi, useConsole } from "./support";

describe("finishing the console (es-MX)", () => {
  const ui = useConsole(["--no-demo-traffic"], { locale: "es-MX" });
  const api = async (path: string, init: { method?: string; body?: unknown; token?: string } = {}) => {
    const response = await fetch(`${ui.stack.apiUrl}${path}`, {
      method: init.method ?? "GET",
      headers: { authorization: `Bearer ${init.token ?? ui.demo.adminToken}`, "content-type": "application/json" },
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };
  const open = async (route: string) => {
    await ui.page.goto(`${ui.stack.apiUrl}/#/${route}`);
    await ui.page.reload();
  };

  beforeAll(async () => {
    const { stack, demo, page } = ui;
    // Signed in through the API (the sign-in page is another branch's to translate): the cookie is the console's own.
    expect(await signInThroughApi(page, stack.apiUrl, demo.user)).toBe(200);
  });

  it("edits a factory in Setup: Navojoa brings the Noroeste division and Hermosillo's clock; a cycle day of 31 and a short RPU are refused beside their fields", async () => {
    const { demo, page } = ui;
    const factory = (await api(`/v1/factories/${demo.factoryId}`)).body as { name: string };
    await open("setup");
    await page.getByRole("button", { name: `Editar ${factory.name}` }).click();
    const form = page.getByRole("form", { name: `Editar planta ${factory.name}` });
    await form.locator('select[name="place"]').selectOption("Sonora|Navojoa");
    await expect.poll(() => form.getByTestId("factory-clock").inputValue()).toBe("America/Hermosillo");
    await form.getByLabel("Demanda contratada (kW)").fill("1250");
    await form.getByLabel("Día de corte").fill("31");
    // The demo's RPU is 000000000001; five digits are not CFE's 12-digit service number.
    expect(await form.getByLabel("RPU").inputValue()).toBe("000000000001");
    await form.getByLabel("RPU").fill("12345");
    await form.getByRole("button", { name: "Guardar" }).click();

    const refusal = form.locator('[data-field="billingCycleDay"]');
    await refusal.waitFor();
    expect(await refusal.textContent()).toBe("billingCycleDay is a day 1–28");
    expect(await form.locator('[data-field="rpu"]').textContent()).toBe(
      "rpu is CFE's service number (RPU): the 12 digits printed on the bill, such as 123456789012",
    );
    await screenshot(page, "finish-setup-refused-es-MX");

    await form.getByLabel("Día de corte").fill("12");
    await form.getByLabel("RPU").fill("123456789012");
    await form.getByRole("button", { name: "Guardar" }).click();
    const row = page.getByTestId("factory-row").filter({ hasText: factory.name });
    await expect.poll(() => row.textContent(), { timeout: 20_000 }).toContain("Noroeste");
    const text = (await row.textContent()) ?? "";
    expect(text).toContain("Navojoa (Sonora)");
    expect(text).toContain("America/Hermosillo");
    expect(text).toContain("1,250 kW");
    expect((await api(`/v1/factories/${demo.factoryId}`)).body).toMatchObject({
      tariffDivision: "Noroeste",
      billingCycleDay: 12,
      contractedDemandKw: 1250,
      rpu: "123456789012",
    });
  });

  it("renames a meter and a gateway in Setup's lists", async () => {
    const { demo, page } = ui;
    const { meters } = (await api(`/v1/factories/${demo.factoryId}/meters`)).body as { meters: { id: string; name: string }[] };
    const meter = meters[0] as { id: string; name: string };
    await page.getByRole("button", { name: `Editar ${meter.name}` }).click();
    const form = page.getByRole("form", { name: `Editar medidor ${meter.name}` });
    await form.getByLabel("Nombre").fill("Compresor principal");
    await form.getByRole("button", { name: "Guardar" }).click();
    await page.getByTestId("meter-row").filter({ hasText: "Compresor principal" }).waitFor();
    await page.getByRole("button", { name: "Editar Gateway 1" }).click();
    const gatewayForm = page.getByRole("form", { name: "Editar pasarela Gateway 1" });
    await gatewayForm.getByLabel("Nombre").fill("Gateway nave 1");
    await gatewayForm.getByRole("button", { name: "Guardar" }).click();
    await page.getByTestId("gateway-row").filter({ hasText: "Gateway nave 1" }).waitFor();
    await screenshot(page, "finish-setup-es-MX");
    expect(((await api(`/v1/factories/${demo.factoryId}/meters`)).body.meters as { id: string; name: string }[]).find((m) => m.id === meter.id)?.name).toBe(
      "Compresor principal",
    );
  });

  it("assigns a CFE plan from the form: a bad price is named in its cell, then CFE's published Noroeste prices from a date", async () => {
    const { demo, page } = ui;
    await open(`tariffs/${demo.factoryId}`);
    const form = page.getByRole("form", { name: "Plan de CFE" });
    await form.locator('select[name="tariff"]').selectOption("cfe-gdmth");
    expect(await form.locator('input[name="division"]').inputValue()).toBe("Noroeste");
    await form.getByLabel("Vigente desde").fill("2026-03-01");
    await form.getByLabel("Capturados por mes").check();
    await form.getByLabel("Mes 1", { exact: true }).fill("2026-03");
    for (const [column, value] of [
      ["Cargo fijo ($/mes)", "abc"],
      ["Distribución ($/kW)", "90.85"],
      ["Capacidad ($/kW)", "392.66"],
      ["Base ($/kWh)", "0.9715"],
      ["Intermedia ($/kWh)", "1.5573"],
      ["Punta ($/kWh)", "1.7262"],
    ])
      await form.getByLabel(`${column}, mes 1`, { exact: true }).fill(value as string);
    await form.getByRole("button", { name: "Asignar plan" }).click();
    await form.locator('[data-field="prices.months.0.fixed"]').waitFor();
    await screenshot(page, "finish-cfe-plan-refused-es-MX");

    await form.getByLabel("Publicados por CFE").check();
    await form.getByRole("button", { name: "Asignar plan" }).click();
    // The bundled Noroeste GDMTH months run 2026-01 … 2026-09: nine months.
    const notice = page.locator(".notice");
    await notice.waitFor();
    expect(await notice.textContent()).toBe("GDMTH (gran demanda en media tensión horaria) vigente desde 01/03/2026, con 9 meses de precios.");
    // 2026-03-01 00:00 in Hermosillo (UTC−7 all year) is 07:00Z.
    const tariffs = (await api(`/v1/factories/${demo.factoryId}/tariffs`)).body as { versions: { effectiveFrom: string; definition: { kind: string } }[] };
    expect(tariffs.versions.find((version) => version.definition.kind === "cfe-gdmth")?.effectiveFrom).toBe("2026-03-01T07:00:00.000Z");
    expect(await page.locator("details.advanced").getAttribute("open")).toBeNull();
    await screenshot(page, "finish-cfe-plan-es-MX");
  });

  it("lists a monthly close among the runs, in Spanish, with its months and duration", async () => {
    const { page } = ui;
    const started = await api("/v1/runs", { method: "POST", body: { workflow: "MonthlyClose", month: "2026-10" } });
    expect(started.status).toBe(202);
    await expect
      .poll(async () => ((await api(`/v1/runs/${encodeURIComponent(started.body.executionArn as string)}`)).body as { status: string }).status, {
        timeout: 60_000,
      })
      .not.toBe("RUNNING");
    await open("imports");
    const close = page.locator(`[data-testid="run-row"][data-kind="close"]`).filter({ hasText: "2026-10" });
    await close.waitFor();
    const text = (await close.textContent()) ?? "";
    expect(text).toContain("Cierre mensual");
    expect(text).toContain("mes 2026-10");
    expect(text).toMatch(/terminada|falló/);
    await screenshot(page, "finish-runs-es-MX");
  });

  it("acknowledges and then resolves an alert from the overview card, recording who", async () => {
    const { stack, demo, page, problems } = ui;
    // A reading makes the gateway heard; a 0.001-minute silence rule then raises at once.
    const reading = { meterId: demo.meterIds[0], start: new Date(Math.floor(Date.now() / 300_000) * 300_000 - 600_000).toISOString(), seconds: 300, kwh: 1 };
    const ingest = await fetch(`${stack.apiUrl}/v1/ingest`, {
      method: "POST",
      headers: { authorization: `Bearer ${demo.deviceToken}`, "content-type": "application/json" },
      body: JSON.stringify({ readings: [reading] }),
    });
    expect(ingest.status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect((await api("/v1/alerts/rules", { method: "POST", body: { factoryId: demo.factoryId, kind: "gateway_silent", threshold: 0.001 } })).status).toBe(201);
    const raised = (await api("/v1/alerts/evaluate", { method: "POST", body: { factoryId: demo.factoryId } })).body.raised as { id: string }[];
    expect(raised.length).toBeGreaterThan(0);

    await open("");
    const card = page.getByTestId("overview-alerts");
    const row = card.getByTestId("alert-row").first();
    await row.waitFor();
    expect(await row.getAttribute("data-status")).toBe("open");
    await row.getByRole("button", { name: "Atender" }).click();
    await card.locator('[data-testid="alert-row"][data-status="acknowledged"]').first().waitFor();
    expect(await card.locator('[data-testid="alert-row"][data-status="acknowledged"]').first().textContent()).toContain("Demo energy manager");
    await screenshot(page, "finish-alerts-acknowledged-es-MX");

    await card.locator('[data-testid="alert-row"][data-status="acknowledged"]').first().getByRole("button", { name: "Resolver" }).click();
    await open("alerts");
    await page.getByLabel("Mostrar").selectOption("resolved");
    const resolved = page.locator('[data-testid="alert-row"][data-status="resolved"]').first();
    await resolved.waitFor();
    expect(await resolved.textContent()).toContain("resuelta");
    const stored = (await api("/v1/alerts?status=resolved")).body.alerts as { resolved: { name: string } | null }[];
    expect(stored[0]?.resolved?.name).toBe("Demo energy manager");
    await screenshot(page, "finish-alerts-es-MX");
    // The two refusals above (cycle day 31, a price "abc") are the only failed requests; nothing else went wrong.
    expect(problems.filter((problem) => !/status of 400/.test(problem))).toEqual([]);
    expect(problems.filter((problem) => /status of 400/.test(problem))).toHaveLength(2);
  });
});
