/** POST /v1/devices/heartbeat: a gateway's clock and disk state are stored and listed; the answer carries the API's time. */
import { describe, expect, it } from "vitest";
import { app } from "../src/api/app";
import { deviceToken, ids, usePipeline } from "./support";

const figures = { backlog: 12, oldestUnsentSeconds: 600, lastSuccess: { kinesis: null, http: "2026-03-10T18:00:00.000Z" }, rejected: 0, clockOffsetMs: null };

function heartbeat(body: unknown) {
  return app.request("/v1/devices/heartbeat", {
    method: "POST",
    headers: { authorization: `Bearer ${deviceToken}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
}

describe("gateway heartbeat with clock and disk state", () => {
  const p = usePipeline();

  it("stores an untrusted clock and a full disk, and GET /v1/devices shows them", async () => {
    // Prepare: a gateway that booted without its clock (untrusted since its last trusted instant) on a full disk.
    const clock = { state: "untrusted", source: null, offsetSeconds: -1_764_000_000, untrustedSince: "2026-03-10T17:55:00.000Z", reason: "a new boot" };
    const disk = { state: "full", freeBytes: 0, since: "2026-03-10T17:58:00.000Z", pendingReadings: 24, error: "SQLITE_FULL: database or disk is full" };

    // Act
    const before = Date.now();
    const response = await heartbeat({ ...figures, clock, disk });
    const after = Date.now();

    // Assess: 200 with the API's time (between the request and the answer, to the millisecond), and the states as sent.
    expect(response.status).toBe(200);
    const answer = (await response.json()) as { ok: boolean; serverTime: string };
    expect(answer.ok).toBe(true);
    expect(Date.parse(answer.serverTime)).toBeGreaterThanOrEqual(before);
    expect(Date.parse(answer.serverTime)).toBeLessThanOrEqual(after);
    const listed = await app.request("/v1/devices", { headers: { authorization: `Bearer ${p.apiToken}` } });
    const devices = ((await listed.json()) as { devices: { id: string; heartbeat: Record<string, unknown> | null }[] }).devices;
    const device = devices.find((item) => item.id === ids.device);
    expect(device?.heartbeat?.clock).toEqual(clock);
    expect(device?.heartbeat?.disk).toEqual(disk);
  });

  it("takes a report with fields this API does not know (a newer agent's), storing the ones it knows", async () => {
    // Prepare: the agent spreads its own status objects into the report, so a newer gateway sends more than we know.
    const clock = { state: "trusted", source: "ntp", offsetSeconds: 0.2, untrustedSince: null, stratum: 2 };

    // Act
    const response = await heartbeat({ ...figures, clock, uptimeSeconds: 3600 });

    // Assess: accepted; what the API does not know is not stored.
    expect(response.status).toBe(200);
    const listed = await app.request("/v1/devices", { headers: { authorization: `Bearer ${p.apiToken}` } });
    const device = ((await listed.json()) as { devices: { id: string; heartbeat: Record<string, unknown> | null }[] }).devices.find(
      (item) => item.id === ids.device,
    );
    expect(device?.heartbeat?.clock).toEqual({ state: "trusted", source: "ntp", offsetSeconds: 0.2, untrustedSince: null });
    expect(device?.heartbeat).not.toHaveProperty("uptimeSeconds");
  });

  it("answers 400 naming the path of a clock state it does not know", async () => {
    // Act
    const response = await heartbeat({ ...figures, clock: { state: "sort of", source: null, offsetSeconds: null, untrustedSince: null } });

    // Assess
    expect(response.status).toBe(400);
    const body = (await response.json()) as { errors: { path: string }[] };
    expect(body.errors.map((error) => error.path)).toContain("clock.state");
  });
});
