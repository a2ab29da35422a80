/**
 * What a review of issues 11 and 12 through the public doors found broken: each case is one of a kind
 * (a door that skipped the one instant parser, a URL check that threw, a batch judged against the store
 * but not against itself), tried here through the Hono app and the consumer handler.
 */
import { Auth } from "@wattflow/core/auth";
import { Signature } from "@wattflow/core/device/signature";
import { quarantineTable } from "@wattflow/core/quarantine/quarantine.sql";
import { Reading } from "@wattflow/core/reading";
import { readingTable } from "@wattflow/core/reading/reading.sql";
import { asc, eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { app } from "../src/api/app";
import { handler as consumer } from "../src/ingest/consumer";
import { devicePrivateKeyPem, deviceToken, drainToEvent, ids, otherDeviceToken, usePipeline } from "./support";

type Answer = {
  status: number;
  body: {
    accepted?: number;
    duplicates?: number;
    rejected?: { index: number; errors: { path: string; message: string }[] }[];
    code?: string;
    message?: string;
    errors?: { path: string; message: string }[];
  };
};

async function call(path: string, token: string, body?: unknown): Promise<Answer> {
  const response = await app.request(path, {
    method: body === undefined ? "GET" : "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Answer["body"] };
}

const meter = ids.meters[0] as string;
/** An alert rule body with one webhook. */
const rule = (url: string) => ({ factoryId: ids.factory, kind: "gateway_silent", threshold: 15, channels: [{ type: "webhook", url }] });

describe("found by trying the doors", () => {
  const p = usePipeline("pglite", { each: true });

  it("GET /v1/meters/:id/gaps reads its times with the one instant parser: year 0000 and offset +14:30 are 400s naming the parameter", async () => {
    // Year 0000 reached Postgres as a failed query (500); +14:30 is beyond the +14:00 the parser allows.
    const year0 = await call(`/v1/meters/${meter}/gaps?from=0000-01-01T00:00:00Z&to=0000-02-01T00:00:00Z`, p.apiToken);
    const offset = await call(`/v1/meters/${meter}/gaps?from=2026-11-01T00:00:00%2B14:30&to=2026-11-02T00:00:00Z`, p.apiToken);

    expect(year0.status).toBe(400);
    expect(year0.body.errors).toContainEqual({
      path: "from",
      message: "from: 0000-01-01T00:00:00Z is outside the accepted range 1970-01-01T00:00:00Z to 2262-04-11T23:47:16Z",
    });
    expect(offset.status).toBe(400);
    expect(offset.body.errors).toContainEqual({ path: "from", message: "from: offset +14:30 is out of range (-12:00 to +14:00)" });
  });

  it("a NUL in a body, a path or a query value is a 400 naming where, never a 500 or a forged log line", async () => {
    // Prepare: PostgreSQL refuses U+0000 in text (it answered 500 before); a line break in a path forged log lines.
    const send = (method: string, path: string, body?: string) =>
      app.request(path, { method, headers: { authorization: `Bearer ${p.apiToken}`, "content-type": "application/json" }, body });
    const logged: string[] = [];
    const original = console.error;
    console.error = (...args: unknown[]) => logged.push(args.join(" "));
    try {
      // Act
      const renamed = await send("PATCH", `/v1/factories/${ids.factory}`, '{"name":"Planta \\u0000 Norte"}');
      const nested = await send("POST", "/v1/alerts/rules", JSON.stringify(rule("https://example.com/\u0000")));
      const inPath = await send("GET", "/v1/factories/x%00%0a%5B2026-11-30T19%3A30%3A00.000Z%5D%20API");
      const inQuery = await send("GET", `/v1/factories/${ids.factory}/usage?from=2026-11-01T00:00:00Z%00&to=2026-11-02T00:00:00Z`);
      const tabInName = await send("PATCH", `/v1/factories/${ids.factory}`, JSON.stringify({ name: "Planta\tNorte" }));

      // Assess
      expect(renamed.status).toBe(400);
      expect(await renamed.json()).toMatchObject({
        code: "request.invalid",
        errors: [{ path: "name", message: "holds U+0000 (NUL), which no text field may" }],
      });
      expect(nested.status).toBe(400);
      expect(await nested.json()).toMatchObject({ errors: [{ path: "channels.0.url" }] });
      expect(inPath.status).toBe(400);
      expect(await inPath.json()).toMatchObject({ code: "request.invalid_path", errors: [{ path: "(path)" }] });
      expect(inQuery.status).toBe(400);
      expect(await inQuery.json()).toMatchObject({ code: "request.invalid_query", errors: [{ path: "from" }] });
      expect(tabInName.status).toBe(200);
      expect(logged.filter((line) => line.includes("failed"))).toEqual([]);
    } finally {
      console.error = original;
    }
  });

  it("a recompute of more than 60 months, or of a month twice, is a 400 naming months before any run starts", async () => {
    // 61 months from January 2021: one past five years (a longer list failed inside the run on the 256 KiB state limit).
    const months = Array.from({ length: 61 }, (_, index) => `${2021 + Math.floor(index / 12)}-${String((index % 12) + 1).padStart(2, "0")}`);
    const tooMany = await call("/v1/runs", p.apiToken, { workflow: "CostRecompute", months });
    const twice = await call("/v1/runs", p.apiToken, { workflow: "CostRecompute", months: ["2026-06", "2026-06"] });

    expect(tooMany.status).toBe(400);
    expect(tooMany.body.errors).toContainEqual({ path: "months", message: "at most 60 months (five years) in one recompute: start one run per range" });
    expect(twice.status).toBe(400);
    expect(twice.body.errors).toContainEqual({ path: "months", message: "each month once" });
  });

  it("a second tariff version from the same instant is a 409 naming the one in force, so no typed price goes unused", async () => {
    const version = (price: string) => ({ effectiveFrom: "2026-12-01T06:00:00Z", definition: { kind: "flat", currency: "MXN", energyPrice: price } });
    const first = await call(`/v1/factories/${ids.factory}/tariffs`, p.apiToken, version("2.50"));
    const second = await call(`/v1/factories/${ids.factory}/tariffs`, p.apiToken, version("2.75"));

    expect(first.status).toBe(201);
    expect(second.status).toBe(409);
    expect(second.body).toMatchObject({ code: "tariff.duplicate_start", errors: [{ path: "effectiveFrom" }] });
    expect(second.body.message).toContain("2026-12-01T06:00:00.000Z");
  });

  it("a plant figure or a name past any real plant's (1e308 kW, a 5,000-character name) is a 400 naming the field, and changes nothing", async () => {
    const patch = (path: string, body: unknown) =>
      app.request(path, {
        method: "PATCH",
        headers: { authorization: `Bearer ${p.apiToken}`, "content-type": "application/json" },
        body: JSON.stringify(body),
      });
    const demand = await patch(`/v1/factories/${ids.factory}`, { contractedDemandKw: 1e308 });
    const ct = await patch(`/v1/factories/${ids.factory}/meters/${meter}`, { ct: 1e308 });
    const name = await patch(`/v1/factories/${ids.factory}/meters/${meter}`, { name: "M".repeat(5000) });
    const created = await call(`/v1/factories/${ids.factory}/meters`, p.apiToken, { deviceId: ids.device, name: "Nuevo", line: "L".repeat(201) });

    expect([demand.status, ct.status, name.status, created.status]).toEqual([400, 400, 400, 400]);
    expect(await demand.json()).toMatchObject({ errors: [{ path: "contractedDemandKw", message: "contractedDemandKw is at most 1000000" }] });
    expect(await ct.json()).toMatchObject({ errors: [{ path: "ct", message: "ct is at most 100000" }] });
    expect(await name.json()).toMatchObject({ errors: [{ path: "name", message: "name must be at most 200 characters" }] });
    expect(created.body).toMatchObject({ errors: [{ path: "line", message: "line must be at most 200 characters" }] });
    const factory = await call(`/v1/factories/${ids.factory}`, p.apiToken);
    expect((factory.body as { contractedDemandKw?: unknown }).contractedDemandKw).not.toBe(1e308);
  });

  it("a webhook URL that does not parse is a 400 on channels.0.url, not a 500", async () => {
    const zoned = await call("/v1/alerts/rules", p.apiToken, rule("http://[fe80::1%25lo]:3999/"));
    const text = await call("/v1/alerts/rules", p.apiToken, rule("not a url"));

    for (const answer of [zoned, text]) {
      expect(answer.status).toBe(400);
      expect(answer.body.errors).toContainEqual({ path: "channels.0.url", message: "url must be an http(s) URL" });
    }
  });

  it("a webhook to an IPv6 address that carries a private IPv4 (NAT64, 6to4) is refused like the IPv4 itself", async () => {
    // 64:ff9b::7f00:1 is 127.0.0.1 through a NAT64 gateway; 2002:a9fe:a9fe:: is 169.254.169.254 through 6to4.
    const cases: [string, string][] = [
      ["http://[64:ff9b::7f00:1]/", "url must reach a public address: [64:ff9b::7f00:1] is a loopback address"],
      ["http://[2002:a9fe:a9fe::]/", "url must reach a public address: [2002:a9fe:a9fe::] is a link-local address"],
      ["http://[64:ff9b:1::a00:1]/", "url must reach a public address: [64:ff9b:1::a00:1] is a private (NAT64 local-use) address"],
    ];

    for (const [url, message] of cases) {
      const answer = await call("/v1/alerts/rules", p.apiToken, rule(url));
      expect(answer.status).toBe(400);
      expect(answer.body.errors).toContainEqual({ path: "channels.0.url", message });
    }
    // A NAT64 address of a public IPv4 (8.8.8.8 = 0808:0808) is still allowed.
    expect((await call("/v1/alerts/rules", p.apiToken, rule("http://[64:ff9b::808:808]/"))).status).toBe(201);
  });

  it("a signed record whose receivedAt is year 0000 is quarantined at once by path, and the next record on its shard is stored", async () => {
    // Prepare: the gateway's own signed record (via kinesis) claiming year 0000, then a good one for the same meter.
    const key = Signature.privateKey(devicePrivateKeyPem);
    const record = (start: string, receivedAt?: string) => {
      const body: Record<string, unknown> = {
        v: 1,
        deviceId: ids.device,
        via: "kinesis",
        ...(receivedAt ? { receivedAt } : {}),
        reading: { meterId: meter, start, seconds: 300, kwh: 2 },
      };
      return Reading.encodeRecord({ ...(body as Reading.StreamRecord), sig: Signature.signDevice(body, key) });
    };
    await p.log.append([
      { partitionKey: meter, data: record("2026-11-27T18:00:00Z", "0000-01-01T00:00:00Z") },
      { partitionKey: meter, data: record("2026-11-27T18:05:00Z") },
    ]);

    // Act
    const response = await consumer(await drainToEvent(p.log));

    // Assess: no failed item (before, the insert threw and the batch was retried until it was given up).
    expect(response).toEqual({ batchItemFailures: [] });
    const stored = await p.database.db.select().from(readingTable).orderBy(asc(readingTable.intervalStart));
    expect(stored.map((row) => row.intervalStart.toISOString())).toEqual(["2026-11-27T18:05:00.000Z"]);
    const [quarantined] = await p.database.db.select().from(quarantineTable);
    expect(quarantined?.reason).toBe("invalid record");
    expect(quarantined?.errors).toEqual([
      { path: "receivedAt", message: "receivedAt: 0000-01-01T00:00:00Z is outside the accepted range 1970-01-01T00:00:00Z to 2262-04-11T23:47:16Z" },
    ]);
  });

  it("POST /v1/ingest judges a batch against itself: a second value for a slot in the same batch is rejected, not accepted and then quarantined", async () => {
    // Prepare: 5 kWh then 7 kWh for the same slot, and a 1 kWh 10-minute gap over a slot measured at 3 kWh in the same batch.
    const readings = [
      { meterId: meter, start: "2026-11-27T10:00:00Z", seconds: 300, kwh: 5 },
      { meterId: meter, start: "2026-11-27T10:00:00Z", seconds: 300, kwh: 7 },
      { meterId: meter, start: "2026-11-27T11:00:00Z", seconds: 300, kwh: 3 },
      { meterId: meter, start: "2026-11-27T11:00:00Z", seconds: 600, kwh: 1, gap: true },
    ];

    // Act
    const answer = await call("/v1/ingest", deviceToken, { readings });
    const response = await consumer(await drainToEvent(p.log));

    // Assess: the consumer stores the first of each and refuses the rest; the API now says so in its answer.
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({
      accepted: 2,
      duplicates: 0,
      rejected: [
        { index: 1, errors: [{ path: "readings.1", message: "slot 2026-11-27T10:00:00.000Z already holds a measured 5 kWh, not 7 kWh" }] },
        {
          index: 3,
          errors: [
            {
              path: "readings.3",
              message: "the measured slots 2026-11-27T11:00:00.000Z hold 3 kWh, which does not fit the 1 kWh measured over 2026-11-27T11:00:00.000Z (+600 s)",
            },
          ],
        },
      ],
    });
    expect(response).toEqual({ batchItemFailures: [] });
    const stored = await p.database.db.select().from(readingTable).where(eq(readingTable.meterId, meter)).orderBy(asc(readingTable.intervalStart));
    expect(stored.map((row) => [row.intervalStart.toISOString(), row.kwh])).toEqual([
      ["2026-11-27T10:00:00.000Z", 5],
      ["2026-11-27T11:00:00.000Z", 3],
    ]);
    // Nothing the API accepted ended in quarantine.
    expect(await p.database.db.select().from(quarantineTable)).toEqual([]);
  });

  it("GET /v1/quarantine shows the first 2 KiB of each payload and its size, so a page of 1 MiB records stays answerable", async () => {
    // Prepare: a record from the known device with a bad reading, padded to 1,000,000 bytes (under Kinesis' 1 MiB),
    // and a small one; both are tied to the organization, so its admin token lists them.
    const bad = (pad: number) => {
      const head = `{"v":1,"deviceId":"${ids.device}","via":"kinesis","reading":{"meterId":"${meter}","kwh":-1},"pad":"`;
      return Buffer.from(`${head}${"x".repeat(pad - head.length - 2)}"}`);
    };
    const big = bad(1_000_000);
    const small = bad(200);
    await p.log.append([
      { partitionKey: meter, data: big },
      { partitionKey: meter, data: small },
    ]);
    await consumer(await drainToEvent(p.log));

    // Act
    const response = await app.request("/v1/quarantine", { headers: { authorization: `Bearer ${p.apiToken}` } });
    const text = await response.text();

    // Assess: two items; the big one shows bytes 0–2047 of 1,000,000, the small one all 200.
    expect(response.status).toBe(200);
    const items = (JSON.parse(text) as { items: { payload: string; payloadEncoding: string; payloadBytes: number; payloadTruncated: boolean }[] }).items;
    const bySize = [...items].sort((a, b) => b.payloadBytes - a.payloadBytes);
    expect(bySize.map(({ payloadBytes, payloadTruncated, payloadEncoding }) => ({ payloadBytes, payloadTruncated, payloadEncoding }))).toEqual([
      { payloadBytes: 1_000_000, payloadTruncated: true, payloadEncoding: "utf8" },
      { payloadBytes: 200, payloadTruncated: false, payloadEncoding: "utf8" },
    ]);
    expect(bySize[0]?.payload).toBe(big.subarray(0, 2048).toString("utf8"));
    expect(bySize[1]?.payload).toBe(small.toString("utf8"));
    // The answer is a few KB, not the megabyte it carried before.
    expect(text.length).toBeLessThan(10_000);
    // Replay still has the whole bytes.
    const [row] = await p.database.db.select().from(quarantineTable).where(eq(quarantineTable.sequenceNumber, "00000000000000000001"));
    expect(row?.data.equals(big)).toBe(true);
  });

  it("the hour a clock repeats is two hourly buckets of its own: a 25-hour fall-back day in Tijuana gives 25 buckets of 10 kWh", async () => {
    // Prepare: the other organization's Tijuana factory (US clock changes). Sunday 2026-11-01 the clock falls back
    // at 02:00 PDT to 01:00 PST, so the local day runs 07:00Z (00:00 PDT) to 2026-11-02T08:00Z (00:00 PST):
    // 25 hours, 90,000 s. One gap reading of 250 kWh over it is 10 kWh an hour (flat 10 kW).
    const gap = { meterId: ids.otherMeter, start: "2026-11-01T07:00:00Z", seconds: 90_000, kwh: 250, gap: true };
    expect((await call("/v1/ingest", otherDeviceToken, { readings: [gap] })).body).toEqual({ accepted: 1, duplicates: 0, rejected: [] });
    await consumer(await drainToEvent(p.log));
    const range = "from=2026-11-01T07:00:00Z&to=2026-11-02T08:00:00Z";

    // Act
    const hourly = await app.request(`/v1/factories/${ids.otherFactory}/usage?${range}&bucket=1h`, { headers: { authorization: `Bearer ${p.otherApiToken}` } });
    const daily = await app.request(`/v1/factories/${ids.otherFactory}/usage?${range}&bucket=1d`, { headers: { authorization: `Bearer ${p.otherApiToken}` } });
    const series = await app.request(`/v1/factories/${ids.otherFactory}/series?${range}&bucket=1h`, {
      headers: { authorization: `Bearer ${p.otherApiToken}` },
    });

    // Assess: one bucket per real hour, each starting at its own instant: 01:00 PDT is 08:00Z, 01:00 PST is 09:00Z
    // (before, both were one bucket of 20 kWh stamped 09:00Z, and the console drew 20 kW).
    const hours = ((await hourly.json()) as { buckets: { start: string; kwh: number }[] }).buckets;
    expect(hours.map((bucket) => bucket.start)).toEqual(
      Array.from({ length: 25 }, (_, index) => new Date(Date.parse(gap.start) + index * 3_600_000).toISOString()),
    );
    expect(hours.every((bucket) => bucket.kwh === 10)).toBe(true);
    expect(((await daily.json()) as { buckets: { start: string; kwh: number }[] }).buckets).toMatchObject([{ start: "2026-11-01T07:00:00.000Z", kwh: 250 }]);
    const chart = ((await series.json()) as { buckets: { t: number[]; kw: number[] } }).buckets;
    expect(chart.t).toEqual(hours.map((bucket) => Date.parse(bucket.start) / 1000));
    expect(chart.kw.every((kw) => kw === 10)).toBe(true);
  });

  it("a viewer refused a quarantine replay is told the role that may replay (admin), not admin or operator", async () => {
    const viewer = (await Auth.createToken({ organizationId: ids.organization, name: "v", role: "viewer" })).token;

    const answer = await call("/v1/quarantine/replay", viewer, { ids: [] });

    expect(answer.status).toBe(403);
    expect(answer.body).toMatchObject({ message: "POST /v1/quarantine/replay needs the role admin; this token or user is viewer" });
    expect((await call("/v1/quarantine", viewer)).status).toBe(403);
  });
});
