/** A gateway's configuration from the cloud (GET /v1/devices/self/config) and the bus counters of its heartbeat, through the Hono app. */
import { Testing } from "@wattflow/core/testing";
import { describe, expect, it } from "vitest";
import { app } from "../src/api/app";
import { deviceToken, ids, otherDeviceToken, usePipeline } from "./support";

type Json = Record<string, unknown>;

function call(token: string, path: string, init: { method?: string; body?: unknown; headers?: Record<string, string> } = {}) {
  return app.request(path, {
    method: init.method ?? "GET",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json", ...init.headers },
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
  });
}

type Config = { deviceId: string; version: string; meters: ({ id: string } & Json)[] };

describe.each(Testing.lanes())("device config API on %s", (lane) => {
  const p = usePipeline(lane);

  it("lists the gateway's own meters with a version sent as the ETag; If-None-Match with it answers 304", async () => {
    // Act
    const first = await call(deviceToken, "/v1/devices/self/config");
    const body = (await first.json()) as Config;
    const again = await call(deviceToken, "/v1/devices/self/config", { headers: { "if-none-match": `W/"other", ${first.headers.get("etag")}` } });

    // Assess: the three meters the support pipeline assigns to this device (none configured for reading yet), not the other organization's.
    expect(first.status).toBe(200);
    expect(body.deviceId).toBe(ids.device);
    expect(body.meters.map((meter) => meter.id)).toEqual(ids.meters);
    expect(body.meters[0]).toEqual({ id: ids.meters[0], name: "m0", line: "L0" });
    expect(body.version).toMatch(/^[0-9a-f]{32}$/);
    expect(first.headers.get("etag")).toBe(`"${body.version}"`);
    expect(again.status).toBe(304);
    expect(await again.text()).toBe("");
  });

  it("a meter added through the console with its driver, bus and unit id changes the version and is listed as stored", async () => {
    // Prepare
    const before = (await (await call(deviceToken, "/v1/devices/self/config")).json()) as Config;

    // Act
    const created = await call(p.apiToken, `/v1/factories/${ids.factory}/meters`, {
      method: "POST",
      body: { deviceId: ids.device, name: "Compresor 2", line: "Aire", driver: "sdm630", bus: "line1", unitId: 4, ct: 40, maxKw: 60 },
    });
    const meter = (await created.json()) as { id: string };
    const stale = await call(deviceToken, "/v1/devices/self/config", { headers: { "if-none-match": `"${before.version}"` } });
    const after = (await stale.clone().json()) as Config;
    const other = (await (await call(otherDeviceToken, "/v1/devices/self/config")).json()) as Config;

    // Assess: multiplier defaults to ct × vt = 40 × 1
    expect(created.status).toBe(201);
    expect(stale.status).toBe(200);
    expect(after.version).not.toBe(before.version);
    expect(after.meters.find((item) => item.id === meter.id)).toEqual({
      id: meter.id,
      name: "Compresor 2",
      line: "Aire",
      driver: "sdm630",
      bus: "line1",
      unitId: 4,
      ct: 40,
      maxKw: 60,
    });
    expect(other.meters.map((item) => item.id)).toEqual([ids.otherMeter]);
  });

  it("refuses a meter on a bus without its unit id, and one with both bus and host, naming each path", async () => {
    // Act
    const response = await call(p.apiToken, `/v1/factories/${ids.factory}/meters`, {
      method: "POST",
      body: { deviceId: ids.device, name: "x", line: "y", driver: "em24", bus: "line1", host: "10.0.0.5" },
    });
    const body = (await response.json()) as { code: string; errors: { path: string; message: string }[] };

    // Assess
    expect(response.status).toBe(400);
    expect(body.code).toBe("meter.invalid_connection");
    expect(body.errors.map((error) => error.path).sort()).toEqual(["host", "unitId"]);
  });

  it("a meter's connection is changed later through PATCH and reaches the gateway; a multiplier off ct × vt is refused", async () => {
    // Prepare: meter 1 was registered without saying how it is read.
    const before = (await (await call(deviceToken, "/v1/devices/self/config")).json()) as Config;

    // Act
    const wired = await call(p.apiToken, `/v1/factories/${ids.factory}/meters/${ids.meters[1]}`, {
      method: "PATCH",
      body: { driver: "em24", bus: "line1", unitId: 7, ct: 20 },
    });
    const off = await call(p.apiToken, `/v1/factories/${ids.factory}/meters/${ids.meters[1]}`, { method: "PATCH", body: { multiplier: 5 } });
    const after = (await (await call(deviceToken, "/v1/devices/self/config")).json()) as Config;

    // Assess: the multiplier must stay ct × vt = 20 × 1 once ct is stored.
    expect(wired.status).toBe(200);
    expect(off.status).toBe(400);
    expect(((await off.json()) as { errors: { path: string }[] }).errors.map((error) => error.path)).toEqual(["multiplier"]);
    expect(after.version).not.toBe(before.version);
    expect(after.meters.find((item) => item.id === ids.meters[1])).toMatchObject({ driver: "em24", bus: "line1", unitId: 7, ct: 20 });
  });

  it("never hands a gateway the simulator: a cloud meter with driver sim is refused at driver", async () => {
    // Act
    const response = await call(p.apiToken, `/v1/factories/${ids.factory}/meters`, {
      method: "POST",
      body: { deviceId: ids.device, name: "Fake", line: "L", driver: "sim" },
    });

    // Assess
    expect(response.status).toBe(400);
    expect(JSON.stringify(await response.json())).toContain("driver");
  });

  it("a revoked or unknown device token gets 401, not a config", async () => {
    const response = await call("wfd_nobody", "/v1/devices/self/config");
    expect(response.status).toBe(401);
  });

  it("stores the heartbeat's bus counters, meters' last good read and config state, and shows them in GET /v1/devices", async () => {
    // Prepare
    const figures = {
      backlog: 0,
      oldestUnsentSeconds: null,
      lastSuccess: { kinesis: null, http: "2026-11-30T10:00:00.000Z" },
      rejected: 0,
      clockOffsetMs: 4,
      buses: [
        {
          bus: "line1",
          link: "/dev/ttyUSB0 at 9600 8N1",
          requests: 40,
          answered: 37,
          timeouts: 3,
          crcErrors: 1,
          exceptions: 0,
          portErrors: 0,
          retries: 2,
          badFrames: 1,
          strayFrames: 2,
          lastCycleMs: 812,
        },
      ],
      meters: [{ meterId: ids.meters[0], lastGoodRead: "2026-11-30T10:00:00.000Z", consecutiveFailures: 2 }],
      config: {
        source: "cloud",
        version: "abc",
        appliedAt: "2026-11-30T09:00:00.000Z",
        checkedAt: "2026-11-30T10:00:00.000Z",
        refused: { version: "def", at: "2026-11-30T09:30:00.000Z", problems: [{ path: "meters.3.bus", message: 'no bus "line9" in buses' }] },
      },
    };

    // Act
    const sent = await call(deviceToken, "/v1/devices/heartbeat", { method: "POST", body: figures });
    const listed = (await (await call(p.apiToken, "/v1/devices")).json()) as { devices: { id: string; heartbeat: Json | null }[] };

    // Assess
    expect(sent.status).toBe(200);
    const heartbeat = listed.devices.find((device) => device.id === ids.device)?.heartbeat;
    expect(heartbeat?.buses).toEqual(figures.buses);
    expect(heartbeat?.meters).toEqual(figures.meters);
    expect(heartbeat?.config).toEqual(figures.config);
  });

  it("refuses a heartbeat whose bus counter is negative, naming its path", async () => {
    const response = await call(deviceToken, "/v1/devices/heartbeat", {
      method: "POST",
      body: {
        backlog: 0,
        oldestUnsentSeconds: null,
        lastSuccess: { kinesis: null, http: null },
        rejected: 0,
        clockOffsetMs: null,
        buses: [{ bus: "line1", link: "x", requests: -1, answered: 0, timeouts: 0, crcErrors: 0, exceptions: 0, portErrors: 0, retries: 0 }],
      },
    });
    const body = (await response.json()) as { errors: { path: string }[] };
    expect(response.status).toBe(400);
    expect(body.errors.map((error) => error.path)).toContain("buses.0.requests");
  });
});
