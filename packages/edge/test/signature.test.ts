/**
 * Device identity on the Kinesis route: the consumer takes a record only with the signature its
 * route calls for — the device's enrolled Ed25519 key (via kinesis) or the API's key (via http).
 */

import { Signature } from "@wattflow/core/device/signature";
import { Ingest } from "@wattflow/core/ingest";
import { quarantineTable } from "@wattflow/core/quarantine/quarantine.sql";
import type { Reading } from "@wattflow/core/reading";
import { describe, expect, it } from "vitest";
import { app } from "../../functions/src/api/app";
import { devicePrivateKeyPem, deviceToken, ids, usePipeline } from "../../functions/test/support";

const reading = (index: number, kwh = 4.2): Reading.Input => ({
  meterId: ids.meters[0] as string,
  start: new Date(Date.parse("2026-02-02T00:00:00Z") + index * 300_000).toISOString(),
  seconds: 300,
  kwh,
});
let sequence = 0;
const input = (record: Record<string, unknown>): Ingest.StreamInput => ({
  data: new TextEncoder().encode(JSON.stringify(record)),
  sequenceNumber: String(++sequence).padStart(20, "0"),
  partitionKey: ids.meters[0] as string,
  arrivalMs: Date.now(),
});
const signed = (record: Record<string, unknown>, pem = devicePrivateKeyPem) => ({ ...record, sig: Signature.signDevice(record, Signature.privateKey(pem)) });

describe("device signatures in the consumer", () => {
  // One pipeline per group: opening a migrated database is the slow part; the tests use distinct readings.
  const p = usePipeline();

  it("stores a Kinesis record signed by its device's enrolled key", async () => {
    const result = await Ingest.consume([input(signed({ v: 1, deviceId: ids.device, via: "kinesis", reading: reading(0) }))]);
    expect(result).toMatchObject({ stored: 1, quarantined: 0 });
  });

  it("quarantines Kinesis records unsigned, altered after signing, or signed by another key, with the reason", async () => {
    const altered = { ...signed({ v: 1, deviceId: ids.device, via: "kinesis", reading: reading(1) }), reading: reading(1, 999) };
    const stranger = signed({ v: 1, deviceId: ids.device, via: "kinesis", reading: reading(2) }, Signature.generateDeviceKey().privateKeyPem);
    const result = await Ingest.consume([input({ v: 1, deviceId: ids.device, via: "kinesis", reading: reading(0) }), input(altered), input(stranger)]);
    expect(result).toMatchObject({ stored: 0, quarantined: 3 });
    const rows = await p.database.db.select().from(quarantineTable);
    expect(rows.map((row) => row.reason)).toEqual(Array(3).fill("signature not valid for this device"));
    expect(rows.map((row) => row.errors[0]?.message)).toEqual([
      expect.stringMatching(/carries no signature/),
      expect.stringMatching(/does not match/),
      expect.stringMatching(/does not match/),
    ]);
  });

  it("does not let a Kinesis writer pass its record off as the API's by claiming via http", async () => {
    const claimed = await Ingest.consume([
      input({ v: 1, deviceId: ids.device, via: "http", reading: reading(3) }),
      input(signed({ v: 1, deviceId: ids.device, via: "http", reading: reading(4) })),
      input({ v: 1, deviceId: ids.device, via: "http", reading: reading(5), sig: "hmac-sha256:AAAA" }),
    ]);
    expect(claimed).toMatchObject({ stored: 0, quarantined: 3 });
  });

  it("stores what the API put on the stream for an authenticated device (signed with the API's key)", async () => {
    const response = await app.request("/v1/ingest", {
      method: "POST",
      headers: { authorization: `Bearer ${deviceToken}`, "content-type": "application/json" },
      body: JSON.stringify({ readings: [reading(6), reading(7)] }),
    });
    expect(response.status).toBe(200);
    const records = [];
    for (const shardId of p.log.shardIds) records.push(...(await p.log.read(shardId, p.log.trimHorizon(shardId), 100)).records);
    const result = await Ingest.consume(
      records.map((record) => ({ data: record.data, sequenceNumber: record.sequenceNumber, partitionKey: record.partitionKey, arrivalMs: record.arrivalMs })),
    );
    expect(result).toMatchObject({ stored: 2, quarantined: 0 });
  });
});

describe("gateway routes", () => {
  // One pipeline per group: opening a migrated database is the slow part; the tests use distinct readings.
  const p = usePipeline();

  const call = (method: string, path: string, token: string, body?: unknown) =>
    app.request(path, {
      method,
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });

  it("enrolls a new device key, after which records signed with it are taken and the old key's are not", async () => {
    const fresh = Signature.generateDeviceKey();
    const response = await call("PUT", "/v1/devices/self/key", deviceToken, { publicKey: fresh.publicKey });
    expect(response.status).toBe(200);

    const result = await Ingest.consume([
      input(signed({ v: 1, deviceId: ids.device, via: "kinesis", reading: reading(0) }, fresh.privateKeyPem)),
      input(signed({ v: 1, deviceId: ids.device, via: "kinesis", reading: reading(1) })),
    ]);
    expect(result).toMatchObject({ stored: 1, quarantined: 1 });
  });

  it("refuses a key that is not an Ed25519 public key, naming the field", async () => {
    const response = await call("PUT", "/v1/devices/self/key", deviceToken, { publicKey: "bm90IGEga2V5" });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { errors: { path: string }[] }).errors[0]?.path).toBe("publicKey");
  });

  it("shows a device's heartbeat figures, meter events and held meters to its organization's API token", async () => {
    const heartbeat = {
      backlog: 12,
      oldestUnsentSeconds: 40,
      lastSuccess: { kinesis: "2026-02-02T00:05:00.000Z", http: null },
      rejected: 1,
      clockOffsetMs: -120,
      meterEvents: [{ meterId: ids.meters[0], at: "2026-02-02T00:10:00.000Z", kind: "glitch", detail: "counter read 0 for 1 read(s) and came back" }],
      heldMeters: [ids.meters[1]],
    };
    expect((await call("POST", "/v1/devices/heartbeat", deviceToken, heartbeat)).status).toBe(200);

    const listing = await call("GET", "/v1/devices", p.apiToken);
    const { devices } = (await listing.json()) as { devices: { id: string; heartbeat: unknown; keyEnrolled: boolean }[] };
    expect(devices).toEqual([expect.objectContaining({ id: ids.device, keyEnrolled: true, heartbeat })]);
    expect((await call("GET", "/v1/devices", p.otherApiToken)).status).toBe(200);
    expect(((await (await call("GET", "/v1/devices", p.otherApiToken)).json()) as { devices: { id: string }[] }).devices.map((device) => device.id)).toEqual([
      ids.otherDevice,
    ]);
  });
});
