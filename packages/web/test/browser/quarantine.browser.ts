/**
 * The quarantine page (issue 13: the console reads the public /v1/quarantine): a record the consumer refused, put on the
 * local stream as a gateway would, listed with when, gateway, meter, why and its payload as text (markup shown, never
 * run); an admin replays it; the link is in the navigation for admins and operators only. es-MX, at 1440 and 390 px:
 * the reason in Spanish from its code, the gateway and meter by the names the demo gave them (read from the public
 * devices and meters lists), and a meter nobody registered by its id, said to be not registered.
 */
import type { Locator } from "playwright-core";
import { beforeAll, describe, expect, it } from "vitest";
import { artifactPath, screenshot, signInThroughApi, useConsole } from "./support";

describe("the quarantine page (es-MX)", () => {
  const ui = useConsole(["--no-demo-traffic"], { language: "es-MX", locale: "es-MX" });
  // A reading whose kWh is markup: the consumer refuses it (kWh must be a number) and keeps it, tied to the demo gateway.
  const markup = "<img src=x onerror=document.title='ran'><b>bold</b>";
  type Listed = { id: string; reason: string; payload: string; replayedAt: string | null };
  const listed = async (all = false) => {
    const { stack, demo } = ui;
    const response = await fetch(`${stack.apiUrl}/v1/quarantine${all ? "?all=true" : ""}`, { headers: { authorization: `Bearer ${demo.adminToken}` } });
    return ((await response.json()) as { items: Listed[] }).items;
  };
  /** A reading of `meterId` whose kWh is `markup`: the consumer refuses it (kWh must be a number) and keeps it. */
  const withMarkup = () => ({ meterId: ui.demo.meterIds[0], start: "2026-11-30T12:00:00Z", seconds: 300, kwh: markup });
  /** Puts `reading` on the local stream as the demo gateway: the consumer refuses and keeps it. */
  const putRefused = async (reading: Record<string, unknown> = withMarkup()) => {
    const { demo } = ui;
    const { KinesisClient, PutRecordCommand } = await import("@aws-sdk/client-kinesis");
    const { NodeHttpHandler } = await import("@smithy/node-http-handler");
    const kinesis = new KinesisClient({
      endpoint: demo.kinesis.endpoint,
      region: demo.kinesis.region,
      credentials: demo.kinesis.credentials,
      requestHandler: new NodeHttpHandler(),
    });
    const record = { v: 1, via: "kinesis", deviceId: demo.deviceId, reading };
    await kinesis.send(new PutRecordCommand({ StreamName: demo.kinesis.stream, PartitionKey: demo.deviceId, Data: Buffer.from(JSON.stringify(record)) }));
    kinesis.destroy();
  };
  /** The page as `role` sees it: the session answer's role swapped, as a person of that role would get it. */
  const asRole = async (role: "admin" | "operator" | "viewer") => {
    const { page } = ui;
    await page.unroute("**/v1/session");
    await page.route("**/v1/session", async (route) => {
      if (route.request().method() !== "GET") return route.continue();
      const response = await route.fetch();
      const body = (await response.json()) as { user: { role: string } };
      await route.fulfill({ response, json: { ...body, user: { ...body.user, role } } });
    });
  };
  /** A fact as a reader sees it laid out: an id under a name (a block of its own) reads as the next line. */
  // biome-ignore lint/performance/useDomNodeTextContent: the rendered lines are what is checked, which textContent does not give
  const shown = (locator: Locator) => locator.innerText();
  /** The name the organization gave one of its gateways or meters, as the public API lists it. */
  const nameOf = async (path: string, list: "devices" | "meters", id: string) => {
    const { stack, demo } = ui;
    const response = await fetch(`${stack.apiUrl}${path}`, { headers: { authorization: `Bearer ${demo.adminToken}` } });
    return ((await response.json()) as Record<string, { id: string; name: string }[]>)[list]?.find((item) => item.id === id)?.name;
  };
  const open = async (route: string) => {
    const { stack, page } = ui;
    await page.goto(`${stack.apiUrl}/#/${route}`);
    await page.reload();
    await page.locator("header nav a").first().waitFor();
  };

  beforeAll(async () => {
    const { stack, demo, page } = ui;
    expect(await signInThroughApi(page, stack.apiUrl, demo.user)).toBe(200);

    await putRefused();
    // The consumer takes it within a poll or two (expect.poll is for tests, not hooks).
    for (const began = Date.now(); (await listed()).length === 0; await new Promise((resolve) => setTimeout(resolve, 200)))
      if (Date.now() - began > 30_000) throw new Error("the refused record was not quarantined within 30 s");
  });

  it("lists the refused record with its gateway, meter, reason and problems, its markup shown as text", async () => {
    const { demo, page, problems } = ui;
    await asRole("admin");
    await open("quarantine");
    const item = page.getByTestId("quarantine-item");
    await item.waitFor();
    expect(await item.count()).toBe(1);
    const text = (await item.textContent()) ?? "";
    // The code record.invalid in Spanish (locales/es-MX/quarantine.json), not the API's English "invalid record".
    expect(await item.locator("h2").textContent()).toBe("Registro no válido: algún campo no tiene el formato de una lectura");
    const meterName = await nameOf(`/v1/factories/${demo.factoryId}/meters`, "meters", demo.meterIds[0] as string);
    const gatewayName = await nameOf("/v1/devices", "devices", demo.deviceId);
    expect([meterName, gatewayName].every(Boolean)).toBe(true);
    // The name first, the id beneath it (once the devices and meters lists are in).
    await expect.poll(() => shown(item.getByTestId("quarantine-meter"))).toBe(`${meterName}\n${demo.meterIds[0]}`);
    await expect.poll(() => shown(item.getByTestId("quarantine-device"))).toBe(`${gatewayName}\n${demo.deviceId}`);
    expect(text).toContain("Pasarela");
    expect(text).toContain("Detalle del sistema, en sus palabras originales (inglés):");
    expect(await item.getByTestId("quarantine-problems").textContent()).toContain("kwh");
    // The payload is the record as sent, characters and all: the markup is text in the page, no element, nothing run.
    expect(await item.getByTestId("quarantine-payload").textContent()).toContain(markup);
    expect(await page.locator("main img, main b").count()).toBe(0);
    expect(await page.title()).not.toBe("ran");
    expect(await page.getByRole("link", { name: "Cuarentena" }).getAttribute("aria-current")).toBe("page");
    // One record waiting: its own button, no second "replay all" beside it.
    expect(await page.getByRole("button", { name: /Reenviar/ }).allTextContents()).toEqual(["Reenviar"]);
    await screenshot(page, "quarantine-es-MX-1440");

    await page.setViewportSize({ width: 390, height: 844 });
    await page.reload();
    await item.waitFor();
    // Nothing sideways at a phone's width: the card, its facts and its payload wrap inside the screen.
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    const box = await item.boundingBox();
    expect((box?.x ?? -1) >= 0 && (box?.x ?? 0) + (box?.width ?? 999) <= 390).toBe(true);
    await screenshot(page, "quarantine-es-MX-390");
    await page.setViewportSize({ width: 1440, height: 900 });
    expect(problems).toEqual([]);
  });

  it("replays the record as an admin: it is marked replayed and, still bad, comes back under a new id", async () => {
    const { page, problems } = ui;
    await asRole("admin");
    await open("quarantine");
    const [first] = await listed();
    await page.getByTestId("quarantine-item").getByRole("button", { name: "Reenviar" }).click();
    await expect.poll(() => page.getByTestId("quarantine-done").textContent()).toBe("1 registro devuelto al flujo.");
    await expect.poll(async () => (await listed(true)).find((item) => item.id === first?.id)?.replayedAt ?? null, { timeout: 30_000 }).not.toBeNull();
    // Still invalid, so the consumer quarantines it again: one waiting record, a new id.
    await expect.poll(async () => (await listed()).map((item) => item.id), { timeout: 30_000 }).toEqual([expect.not.stringMatching(first?.id ?? "")]);
    await page.getByLabel("Mostrar reenviados").check();
    await expect.poll(() => page.getByTestId("quarantine-item").count()).toBe(2);
    expect(await page.getByTestId("quarantine-item").filter({ hasText: "reenviado" }).count()).toBe(1);
    expect(problems).toEqual([]);
  });

  it("replays every waiting record with one button when more than one waits", async () => {
    const { page, problems } = ui;
    // The record the last test replayed came back; a second one makes two waiting.
    await putRefused();
    await expect.poll(async () => (await listed()).length, { timeout: 30_000 }).toBe(2);
    await asRole("admin");
    await open("quarantine");
    await page.getByRole("button", { name: "Reenviar los 2 registros" }).click();
    await expect.poll(() => page.getByTestId("quarantine-done").textContent()).toBe("2 registros devueltos al flujo.");
    const replayed = (await listed(true)).filter((item) => item.replayedAt !== null);
    expect(replayed.length).toBe(3);
    expect(problems).toEqual([]);
  });

  it("links the page for operators without the replay buttons, and not at all for viewers", async () => {
    const { page, problems } = ui;
    // Operator is a token's role today (a console user is an admin or a viewer), yet the page follows the API's roles.
    await asRole("operator");
    await open("");
    await page.getByRole("link", { name: "Cuarentena" }).click();
    await page.getByTestId("quarantine-item").first().waitFor();
    expect(await page.getByRole("button", { name: /Reenviar/ }).count()).toBe(0);

    await asRole("viewer");
    await open("");
    expect(await page.getByRole("navigation").getByRole("link").allTextContents()).not.toContain("Cuarentena");
    await open("quarantine");
    expect(await page.getByTestId("quarantine-item").count()).toBe(0);
    expect(problems).toEqual([]);
  });

  it("names a meter nobody registered by its id and says so, in the reason and beside the meter", async () => {
    const { page, problems } = ui;
    // Prepare: a well-formed reading from the demo gateway of a meter id no organization has (checked before any signature).
    const stranger = `mtr_${"0".repeat(25)}z`;
    await putRefused({ meterId: stranger, start: "2026-11-30T12:05:00Z", seconds: 300, kwh: 1 });
    await expect.poll(async () => (await listed()).some((item) => item.reason === "unknown meter"), { timeout: 30_000 }).toBe(true);
    // Act
    await asRole("admin");
    await open("quarantine");
    const item = page.getByTestId("quarantine-item").filter({ hasText: stranger });
    await item.waitFor();
    // Assess: the code meter.unknown in Spanish with its id; the meter's fact the id, then (once the meters lists are
    // in) that it is not registered.
    expect(await item.locator("h2").textContent()).toBe(`Medidor no registrado: ${stranger}`);
    await expect.poll(() => shown(item.getByTestId("quarantine-meter"))).toBe(`${stranger}\nno registrado en esta organización`);
    await item.scrollIntoViewIfNeeded();
    await page.screenshot({ path: artifactPath("quarantine-unknown-meter-es-MX-1440.png") });
    await page.setViewportSize({ width: 390, height: 844 });
    await item.scrollIntoViewIfNeeded();
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    await page.screenshot({ path: artifactPath("quarantine-unknown-meter-es-MX-390.png") });
    await page.setViewportSize({ width: 1440, height: 900 });
    expect(problems).toEqual([]);
  });
});
