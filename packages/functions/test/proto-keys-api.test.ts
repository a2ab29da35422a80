/**
 * A `__proto__` key in a JSON body: JSON.parse keeps it as an own key, and the body's records and objects dropped it
 * without a word, so prices entered under it were ignored by a 201. People's bodies refuse it with a 400 at its JSON
 * path; a gateway's bodies ignore it like any key they do not know and keep every good reading.
 */
import { describe, expect, it } from "vitest";
import { app } from "../src/api/app";
import { deviceToken, ids, reading, usePipeline } from "./support";

/** POSTs `text` as it is: a `__proto__` key cannot be written with an object literal (it would set the prototype). */
async function post(path: string, token: string, text: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await app.request(path, { method: "POST", headers: { authorization: `Bearer ${token}`, "content-type": "application/json" }, body: text });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

/** A GDMTO plan from 1 April 2026 with `months` (raw JSON text) entered by hand. */
const plan = (months: string) =>
  `{"tariff":"cfe-gdmto","contractedDemandKw":300,"supplyVoltage":"medium","effectiveFrom":"2026-04-01","prices":{"source":"entered","months":${months}}}`;
const april = '"month":"2026-04","fixed":"500","distribution":"100.5","capacity":"350.2"';

describe("__proto__ keys in JSON bodies", () => {
  const p = usePipeline();

  it.each([
    // The whole month under __proto__: the record dropped it, so the plan had an empty month.
    ["a month under __proto__", plan(`[{"__proto__":{${april},"energy":"1.3"}}]`), "prices.months.0.__proto__"],
    ["a price object with a __proto__ key", plan(`[{${april},"energy":{"__proto__":1}}]`), "prices.months.0.energy.__proto__"],
    // The same key spelt with JSON escapes is the same key once parsed.
    ["the key spelt with escapes", plan(`[{${april},"energy":"1.3","\\u005f_proto\\u005f_":{"fixed":"1"}}]`), "prices.months.0.__proto__"],
    ["a top-level __proto__", `{"__proto__":{"tariff":"cfe-gdmth"},${plan("[]").slice(1)}`, "__proto__"],
  ])("POST /v1/factories/:id/tariffs/cfe with %s is a 400 request.invalid at its path", async (_, text, path) => {
    const answer = await post(`/v1/factories/${ids.factory}/tariffs/cfe`, p.apiToken, text);

    expect(answer.status).toBe(400);
    expect(answer.body).toEqual({
      code: "request.invalid",
      message: "The request holds a key it may not",
      errors: [{ path, message: 'is a key "__proto__", which would be dropped without a word: name the field you meant' }],
    });
  });

  it("a `constructor` key in an entered month is not dropped either: the plan's schema refuses it at its path", async () => {
    const answer = await post(`/v1/factories/${ids.factory}/tariffs/cfe`, p.apiToken, plan(`[{${april},"energy":"1.3","constructor":"1"}]`));

    expect(answer.status).toBe(400);
    expect(JSON.stringify(answer.body.errors)).toContain("prices.months.0");
    expect(JSON.stringify(answer.body.errors)).toContain("constructor");
  });

  it("a gateway's batch keeps its readings when one carries a __proto__ key: the key is ignored like any unknown one", async () => {
    // Two readings an hour ago on the 5-minute grid; the first also carries __proto__ (as a newer or odd agent might).
    const start = new Date(Math.floor((Date.now() - 3_600_000) / 300_000) * 300_000).toISOString();
    const [first, second] = [reading(0, start, 1.5), reading(1, start, 2.5)].map((value) => JSON.stringify(value));
    const text = `{"readings":[${(first as string).slice(0, -1)},"__proto__":{"kwh":999}},${second}]}`;

    const answer = await post("/v1/ingest", deviceToken, text);

    expect(answer).toEqual({ status: 200, body: { accepted: 2, duplicates: 0, rejected: [] } });
  });

  it("a gateway's heartbeat with a __proto__ key is received: the gateway's bodies ignore keys they do not know", async () => {
    const text =
      '{"backlog":0,"oldestUnsentSeconds":null,"lastSuccess":{"kinesis":null,"http":null},"rejected":0,"clockOffsetMs":null,"__proto__":{"backlog":9}}';

    const answer = await post("/v1/devices/heartbeat", deviceToken, text);

    expect(answer.status).toBe(200);
  });

  it("a __proto__ key 10,000 arrays deep is a 400 at its path, not a 500 from an overflowed call stack", async () => {
    // {"prices":[[…[{"__proto__":1}]…]]}: 10,000 arrays, each the first (index 0) of the one around it, so the key's
    // path is "prices", then "0" ten thousand times, then "__proto__". About 20 kB, under the body limit.
    const depth = 10_000;
    const text = `{"prices":${"[".repeat(depth)}{"__proto__":1}${"]".repeat(depth)}}`;

    const answer = await post(`/v1/factories/${ids.factory}/tariffs/cfe`, p.apiToken, text);

    expect(answer.status).toBe(400);
    expect(answer.body.errors).toEqual([
      { path: `prices.${"0.".repeat(depth)}__proto__`, message: 'is a key "__proto__", which would be dropped without a word: name the field you meant' },
    ]);
  });
});
