/**
 * The quarantine card (src/pages/quarantine.tsx) in es-MX, rendered to HTML as React renders it: a reason's code worded
 * in Spanish with the gateway's and meter's names, an id the organization's lists lack said to be not registered, a
 * record kept before codes (or with a code this console does not know) shown by its stored reason, and the problems
 * labelled as the system's own English words. Every expected text is written out by hand from
 * src/i18n/locales/es-MX/quarantine.json; the instant's from Monterrey's fixed UTC−06:00 (no daylight saving since 2022).
 */
import { createElement } from "react";
import { renderToStaticMarkup } from "react-dom/server";
import { beforeAll, describe, expect, it, vi } from "vitest";
import type { QuarantineCard as Card, Place } from "../src/pages/quarantine";

type Item = Parameters<typeof Card>[0]["item"];

const gateway = "dev_01jtest0000000000000000000";
const meter = "mtr_01jtest0000000000000000000";
const stranger = "mtr_01jtest00000000000000000zz";
const place: Place = {
  gateways: new Map([[gateway, "Línea 1"]]),
  meters: new Map([[meter, "Compresor 2"]]),
  timeZone: "America/Monterrey",
};
const base: Item = {
  id: "qtn_1",
  createdAt: "2026-11-30T18:00:00.000Z",
  source: "consumer",
  reason: "unknown meter",
  code: null,
  params: null,
  errors: [],
  deviceId: gateway,
  meterId: meter,
  partitionKey: gateway,
  sequenceNumber: "1",
  payload: "{}",
  payloadEncoding: "utf8",
  payloadBytes: 2,
  payloadTruncated: false,
  replayedAt: null,
  replayCount: 0,
};

let QuarantineCard: typeof Card;
/** The card's text as a reader sees it, and its markup. */
const card = (item: Partial<Item>, at: Place = place) => {
  const html = renderToStaticMarkup(createElement(QuarantineCard, { item: { ...base, ...item }, place: at }));
  return { html, text: html.replace(/<[^>]+>/g, "\n").replace(/\n+/g, "\n") };
};
const reason = (item: Partial<Item>, at?: Place) => /<h2 class="quarantine-reason">([^<]*)<\/h2>/.exec(card(item, at).html)?.[1];

describe("the quarantine card in es-MX", () => {
  beforeAll(async () => {
    // The console's modules read the page's address and set <html lang> when loaded: a page's, as Node has none.
    vi.stubGlobal("location", new URL("http://localhost/"));
    vi.stubGlobal("document", { documentElement: { lang: "" } });
    ({ QuarantineCard } = await import("../src/pages/quarantine"));
    const { i18n } = await import("../src/i18n");
    await i18n.changeLanguage("es-MX");
  });

  it.each([
    ["record.not_json", {}, "El registro no es JSON en UTF-8"],
    ["record.invalid", {}, "Registro no válido: algún campo no tiene el formato de una lectura"],
    ["meter.unknown", { meterId: stranger }, `Medidor no registrado: ${stranger}`],
    ["meter.not_on_device", { deviceId: gateway, meterId: meter }, "La pasarela Línea 1 no lee el medidor Compresor 2"],
    ["record.signature_invalid", { deviceId: gateway }, "La firma no es de la pasarela Línea 1"],
    // 18:00Z is 12:00 in Monterrey.
    [
      "reading.conflict",
      { meterId: meter, start: "2026-11-30T18:00:00.000Z" },
      "Contradice las lecturas ya guardadas del medidor Compresor 2 desde 30/11/2026 12:00",
    ],
    ["consumer.gave_up", {}, "El consumidor del flujo dejó de reintentar este registro"],
  ] as const)("words %s in Spanish, naming the organization's gateway and meter", (code, params, expected) => {
    expect(reason({ code, params })).toBe(expected);
  });

  it("names a gateway or meter by its id while their lists load", () => {
    expect(reason({ code: "meter.not_on_device", params: { deviceId: gateway, meterId: meter } }, { timeZone: place.timeZone })).toBe(
      `La pasarela ${gateway} no lee el medidor ${meter}`,
    );
  });

  it("shows a record kept before codes by its stored reason, worded when it is a known text, else as stored", () => {
    expect(reason({ reason: "unknown meter" })).toBe("Medidor desconocido");
    expect(reason({ reason: "consumer gave up: RetryAttemptsExhausted" })).toBe("consumer gave up: RetryAttemptsExhausted");
  });

  it("shows the stored reason for a code this console has no wording for", () => {
    expect(reason({ code: "meter.retired" as Item["code"], params: {}, reason: "meter retired" })).toBe("meter retired");
  });

  it("shows the gateway's and meter's names with their ids beneath", () => {
    const { text } = card({});
    expect(text).toContain(`\nPasarela\nLínea 1\n${gateway}\n`);
    expect(text).toContain(`\nMedidor\nCompresor 2\n${meter}\n`);
  });

  it("says a meter id the organization does not have is not registered, and shows the id", () => {
    const { text } = card({ code: "meter.unknown", params: { meterId: stranger }, meterId: stranger });
    expect(text).toContain(`\nMedidor\n${stranger}\nno registrado en esta organización\n`);
  });

  it("labels the problems as the system's original English text, path by path", () => {
    const { html, text } = card({ code: "record.invalid", params: {}, errors: [{ path: "reading.kwh", message: "kwh must not be negative" }] });
    expect(text).toContain("\nDetalle del sistema, en sus palabras originales (inglés):\nreading.kwh\n: kwh must not be negative\n");
    expect(html).toContain('<ul class="quarantine-problems small" data-testid="quarantine-problems" lang="en">');
  });
});
