import { Testing } from "@wattflow/core/testing";
import { describe, expect, it } from "vitest";
import { app } from "../src/api/app";
import { handler as consumer } from "../src/ingest/consumer";
import { deviceToken, drainToEvent, ids, otherDeviceToken, reading, usePipeline } from "./support";

type Problem = { path: string; message: string };
type Answer = { accepted: number; duplicates: number; rejected: { index: number; errors: Problem[] }[]; code?: string; errors: Problem[] };
const read = async (response: Response) => (await response.json()) as Answer;

function post(body: unknown, token = deviceToken) {
  return app.request("/v1/ingest", {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
}

describe.each(Testing.lanes())("POST /v1/ingest on %s", (lane) => {
  const p = usePipeline(lane);

  it("refuses a request without a valid device token", async () => {
    const missing = await app.request("/v1/ingest", { method: "POST", body: "{}" });
    expect(missing.status).toBe(401);
    const wrong = await post({ readings: [reading(0, "2025-01-01T00:00:00Z", 1)] }, "wfd_nope");
    expect(wrong.status).toBe(401);
    expect(await read(wrong)).toMatchObject({ code: "auth.invalid_device_token" });
  });

  it("answers a malformed envelope with 400 naming each problem by its path", async () => {
    const notJson = await post("{not json");
    expect(notJson.status).toBe(400);
    expect((await read(notJson)).errors[0]?.path).toBe("(body)");

    const wrongShape = await post({ readings: "many" });
    expect(wrongShape.status).toBe(400);
    expect((await read(wrongShape)).errors).toEqual([{ path: "readings", message: "readings must be an array" }]);

    const tooMany = await post({ readings: Array.from({ length: 501 }, () => reading(0, "2025-01-01T00:00:00Z", 1)) });
    expect(tooMany.status).toBe(400);
    expect((await read(tooMany)).errors[0]).toMatchObject({ path: "readings", message: expect.stringContaining("at most 500") });
  });

  it("accepts the good readings of a batch and returns each bad one's reasons by path", async () => {
    const response = await post({
      readings: [
        reading(0, "2025-02-01T00:00:00Z", 5),
        { ...reading(1, "2025-02-01T00:00:00Z", -2), pf: 3 },
        reading(2, "2025-02-01T00:02:00Z", 1),
        { start: "2025-02-01T00:00:00Z", seconds: 300, kwh: 1 },
        reading(1, "2099-01-01T00:00:00Z", 1),
      ],
    });
    expect(response.status).toBe(200);
    const body = await read(response);
    expect(body.accepted).toBe(1);
    expect(body.duplicates).toBe(0);
    expect(body.rejected.map((item) => item.index)).toEqual([1, 2, 3, 4]);
    const paths = (index: number) => body.rejected.find((item) => item.index === index)?.errors.map((error) => error.path);
    expect(paths(1)).toEqual(expect.arrayContaining(["readings.1.kwh", "readings.1.pf"]));
    expect(paths(2)).toEqual(["readings.2.start"]);
    expect(paths(3)).toEqual(["readings.3.meterId"]);
    expect(body.rejected[3]?.errors[0]?.message).toMatch(/future/);
  });

  it("refuses impossible dates and years outside the window per reading, and stores the genuine next-day reading", async () => {
    // 2026-04-31 used to become 2026-05-01 and push the real 2026-05-01 reading out as its duplicate.
    const response = await post({
      readings: [
        reading(0, "2026-04-31T00:00:00Z", 7),
        reading(0, "2026-05-01T00:00:00Z", 4.25),
        reading(0, "0000-01-01T00:00:00Z", 1),
        reading(0, "1900-01-01T00:00:00Z", 1),
        reading(0, "2026-02-30T00:00:00Z", 1),
        reading(0, "2026-04-30T24:00:00Z", 1),
      ],
    });
    expect(response.status).toBe(200);
    const body = await read(response);
    expect(body.accepted).toBe(1);
    expect(body.duplicates).toBe(0);
    expect(body.rejected.map((item) => [item.index, item.errors.map((error) => error.path)])).toEqual([
      [0, ["readings.0.start"]],
      [2, ["readings.2.start"]],
      [3, ["readings.3.start"]],
      [4, ["readings.4.start"]],
      [5, ["readings.5.start"]],
    ]);
    expect(body.rejected[0]?.errors[0]?.message).toBe("start 2026-04-31 is not a date: April 2026 has 30 days");

    await consumer(await drainToEvent(p.log));
    const stored = await app.request(`/v1/meters/${ids.meters[0]}/readings?from=2026-04-30T00:00:00Z&to=2026-05-02T00:00:00Z`, {
      headers: { authorization: `Bearer ${p.apiToken}` },
    });
    const readings = ((await stored.json()) as { readings: { start: string; kwh: number }[] }).readings;
    expect(readings.map((row) => [row.start, row.kwh])).toEqual([["2026-05-01T00:00:00.000Z", 4.25]]);
  });

  it("answers year 0000 and impossible dates in query parameters with 400 naming the parameter", async () => {
    const routes = [
      `/v1/factories/${ids.factory}/usage?from=0000-01-01T00:00:00Z&to=2026-01-01T00:00:00Z`,
      `/v1/meters/${ids.meters[0]}/readings?from=0000-01-01T00:00:00Z&to=2026-01-01T00:00:00Z`,
      `/v1/factories/${ids.factory}/series?from=2026-02-30T00:00:00Z&to=2026-03-02T00:00:00Z`,
      `/v1/factories/${ids.factory}/kpis?month=0000-01`,
    ];
    for (const route of routes) {
      const response = await app.request(route, { headers: { authorization: `Bearer ${p.apiToken}` } });
      expect({ route, status: response.status }).toEqual({ route, status: 400 });
      // The bad parameter alone: 30 February is not also "before" a valid `to`.
      const { errors } = await read(response);
      expect({ route, paths: errors.map((problem: { path: string }) => problem.path) }).toEqual({ route, paths: [expect.stringMatching(/^(from|month)$/)] });
    }
  });

  it("does not let a device write readings for another device's meter", async () => {
    const response = await post({ readings: [{ ...reading(0, "2025-02-02T00:00:00Z", 1), meterId: ids.otherMeter }] });
    const body = await read(response);
    expect(body.accepted).toBe(0);
    expect(body.rejected[0]?.errors[0]).toEqual({ path: "readings.0.meterId", message: `meter ${ids.otherMeter} is not read by this device` });
    const owner = await post({ readings: [{ ...reading(0, "2025-02-02T00:00:00Z", 1), meterId: ids.otherMeter }] }, otherDeviceToken);
    expect((await read(owner)).accepted).toBe(1);
  });

  it("counts readings already stored, or repeated in the batch, as duplicates and does not stream them again", async () => {
    const batch = { readings: [reading(0, "2025-03-01T00:00:00Z", 2), reading(1, "2025-03-01T00:00:00Z", 3)] };
    expect(await read(await post(batch))).toMatchObject({ accepted: 2, duplicates: 0 });
    await consumer(await drainToEvent(p.log));
    const again = await read(await post({ readings: [...batch.readings, reading(2, "2025-03-01T00:05:00Z", 1), reading(2, "2025-03-01T00:05:00Z", 1)] }));
    expect(again).toEqual({ accepted: 1, duplicates: 3, rejected: [] });
  });

  it("answers a framework-level refusal with its own 4xx, not a 500", async () => {
    const { Hono } = await import("hono");
    const { HTTPException } = await import("hono/http-exception");
    const { onError } = await import("../src/api/errors");
    const probe = new Hono()
      .post("/", () => {
        throw new HTTPException(413, { message: "body too large" });
      })
      .onError(onError);
    const response = await probe.request("/", { method: "POST", body: "x" });
    expect(response.status).toBe(413);
    expect(await read(response)).toMatchObject({ code: "request.invalid", errors: [{ path: "(body)", message: "body too large" }] });
  });

  it("answers 503 with Retry-After when the stream cannot take the batch", async () => {
    await p.log.close();
    const response = await post({ readings: [reading(0, "2025-04-01T00:00:00Z", 1)] });
    expect(response.status).toBe(503);
    expect(response.headers.get("retry-after")).toBe("5");
    expect(await read(response)).toMatchObject({ code: "ingest.stream_unavailable" });
  });
});
