import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Auth } from "@wattflow/core/auth";
import { Ingest } from "@wattflow/core/ingest";
import { Lake } from "@wattflow/core/lake";
import { LocalLake } from "@wattflow/core/lake/local";
import { quarantineTable } from "@wattflow/core/quarantine/quarantine.sql";
import { readingTable } from "@wattflow/core/reading/reading.sql";
import { Testing } from "@wattflow/core/testing";
import type { KinesisStreamEvent } from "aws-lambda";
import { asc } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { app } from "../src/api/app";
import { handler } from "../src/ingest/consumer";
import { energyPrice, ids, usePipeline } from "./support";

const fixture = (name: string): KinesisStreamEvent => JSON.parse(readFileSync(new URL(`./events/kinesis/${name}`, import.meta.url), "utf8"));

describe.each(Testing.lanes())("Kinesis consumer on %s", (lane) => {
  const p = usePipeline(lane, { each: true });

  it("stores and prices the good records of a batch and quarantines each bad one with its reason", async () => {
    const response = await handler(fixture("mixed-batch.json"));
    expect(response).toEqual({ batchItemFailures: [] });

    const stored = await p.database.db.select().from(readingTable).orderBy(asc(readingTable.meterId));
    expect(stored.map((row) => [row.meterId, row.kwh, row.unitPrice, row.cost, row.source])).toEqual([
      [ids.meters[0], 12.5, "2.153400", "26.917500", "kinesis"],
      [ids.meters[1], 7.25, "2.153400", "15.612150", "kinesis"],
    ]);
    expect(Number(stored[0]?.cost)).toBeCloseTo(12.5 * Number(energyPrice), 6);

    const quarantined = await p.database.db.select().from(quarantineTable);
    expect(quarantined.map((row) => row.reason).sort()).toEqual([
      "invalid record",
      "invalid record",
      "meter not read by this device",
      "signature not valid for this device",
      "unknown meter",
    ]);
    const negative = quarantined.find((row) => row.errors.some((error) => error.path === "reading.kwh"));
    expect(negative?.errors[0]?.message).toMatch(/negative/);
    expect(negative?.sequenceNumber).toBe("49656000000000000000000000000000000000000000000000006");
    // Written by the other organization's gateway: its row is that organization's (the writer can fix it; the meter's owner must not see it).
    const foreign = quarantined.find((row) => row.reason === "meter not read by this device");
    expect([foreign?.organizationId, foreign?.deviceId]).toEqual([ids.otherOrganization, ids.otherDevice]);
    // The record is kept whole, byte for byte, for replay.
    const events = fixture("mixed-batch.json").Records;
    for (const row of quarantined) {
      const sent = events.find((record) => record.kinesis.sequenceNumber === row.sequenceNumber);
      expect(row.data.equals(Buffer.from(sent?.kinesis.data ?? "", "base64"))).toBe(true);
    }
  });

  it("GET /v1/quarantine says why each refused record was held back as a code with the ids its wording needs", async () => {
    // Prepare: a platform token sees the record nobody claims (its bytes are not JSON); the other organization's sees its gateway's.
    const platform = (await Auth.createToken({ organizationId: ids.organization, name: "platform", role: "operator", platform: true })).token;
    // Act
    await handler(fixture("mixed-batch.json"));
    const listed = async (token: string) => {
      const response = await app.request("/v1/quarantine", { headers: { authorization: `Bearer ${token}` } });
      const { items } = (await response.json()) as { items: { sequenceNumber: string; reason: string; code: string; params: unknown }[] };
      return items.map((item) => [item.sequenceNumber.slice(-2), item.reason, item.code, item.params]).sort();
    };
    // Assess: read off events/kinesis/mixed-batch.json by hand: …04 is cut mid-JSON, …06 has kwh -4, …08 names the
    // meter mtr_…zz nobody registered, …12 carries another reading's signature; …10 is the other organization's
    // gateway writing meter 0, so that organization's; the stored English reasons stay as they were.
    expect(await listed(platform)).toEqual([
      ["04", "invalid record", "record.not_json", {}],
      ["06", "invalid record", "record.invalid", {}],
      ["08", "unknown meter", "meter.unknown", { meterId: "mtr_01jtest00000000000000000zz" }],
      ["12", "signature not valid for this device", "record.signature_invalid", { deviceId: ids.device }],
    ]);
    expect(await listed(p.otherApiToken)).toEqual([
      ["10", "meter not read by this device", "meter.not_on_device", { deviceId: ids.otherDevice, meterId: ids.meters[0] }],
    ]);
  });

  it("GET /v1/quarantine still lists a record kept before codes, and one whose code this version does not know, by its stored reason", async () => {
    // Prepare: rows as migration 0021 left the older ones (code and params null) and as a newer version might write one.
    const meter = ids.meters[0] as string;
    const row = { organizationId: ids.organization, deviceId: ids.device, meterId: meter, source: "consumer" as const, errors: [] };
    await p.database.db.insert(quarantineTable).values([
      { ...row, id: "qtn_old", reason: "unknown meter", code: null, params: null, data: Buffer.from("{}") },
      { ...row, id: "qtn_newer", reason: "meter retired", code: "meter.retired", params: { meterId: meter }, data: Buffer.from("[]") },
    ]);
    // Act
    const response = await app.request("/v1/quarantine", { headers: { authorization: `Bearer ${p.apiToken}` } });
    // Assess: both listed; the unknown code answers null (quarantine codeOf) so a client words the stored English reason.
    expect(response.status).toBe(200);
    const { items } = (await response.json()) as { items: { id: string; reason: string; code: string | null; params: unknown }[] };
    expect(items.map((item) => [item.id, item.reason, item.code, item.params]).sort()).toEqual([
      ["qtn_newer", "meter retired", null, { meterId: meter }],
      ["qtn_old", "unknown meter", null, null],
    ]);
  });

  it("stores a reading delivered twice once, and writes it to the lake once", async () => {
    await handler(fixture("mixed-batch.json"));
    await handler(fixture("mixed-batch.json"));
    expect(await p.database.db.select().from(readingTable)).toHaveLength(2);
    const lake = await p.lake.query("select meter_id, kwh, cost, dt from readings order by meter_id");
    expect(lake.map((row) => [row.meter_id, row.kwh, row.dt])).toEqual([
      [ids.meters[0], 12.5, "2025-06-02"],
      [ids.meters[1], 7.25, "2025-06-02"],
    ]);
  });

  it("when the lake fails after the insert, fails no record: the readings stay undelivered and a retry or the sweeper forwards them", async () => {
    const broken = Testing.temporaryDir();
    writeFileSync(join(broken.path, "readings"), "a file where the lake folder should be");
    Lake.provide(new LocalLake(broken.path));
    const failed = await handler(fixture("mixed-batch.json"));
    // Stored readings are not retried by the stream: retries run out and would quarantine them as lost.
    expect(failed).toEqual({ batchItemFailures: [] });
    expect((await p.database.db.select().from(readingTable)).map((row) => row.lakeDeliveredAt)).toEqual([null, null]);
    expect(await p.database.db.select().from(quarantineTable)).toHaveLength(5);

    Lake.provide(p.lake);
    const retried = await handler(fixture("mixed-batch.json"));
    expect(retried).toEqual({ batchItemFailures: [] });
    const rows = await p.lake.query("select count(*)::int as n from readings");
    expect(rows[0]?.n).toBe(2);
    const undelivered = (await p.database.db.select().from(readingTable)).filter((row) => row.lakeDeliveredAt === null);
    expect(undelivered).toHaveLength(0);
    broken.remove();
  });

  it("the sweeper forwards readings stored but never delivered when no retry comes", async () => {
    const broken = Testing.temporaryDir();
    writeFileSync(join(broken.path, "readings"), "not a folder");
    Lake.provide(new LocalLake(broken.path));
    await handler(fixture("mixed-batch.json"));
    Lake.provide(p.lake);
    expect(await Ingest.sweepUndelivered({ olderThanMs: 0, limit: 100 }, new Date(Date.now() + 1000))).toBe(2);
    expect((await p.lake.query("select count(*)::int as n from readings"))[0]?.n).toBe(2);
    expect(await Ingest.sweepUndelivered({ olderThanMs: 0, limit: 100 }, new Date(Date.now() + 1000))).toBe(0);
    broken.remove();
  });
});
