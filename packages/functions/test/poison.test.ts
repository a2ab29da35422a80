/**
 * Hostile records through the consumer handler (issue 11): none may fail its batch or hold its
 * shard. Each ends stored, quarantined with its exact bytes and a safe reason, or — when quarantine
 * itself refuses — in the raw archive, from where the sweeper handler restores it.
 */
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { RawArchive } from "@wattflow/core/archive";
import { LocalArchive } from "@wattflow/core/archive/local";
import { Ingest } from "@wattflow/core/ingest";
import { quarantineTable } from "@wattflow/core/quarantine/quarantine.sql";
import { readingTable } from "@wattflow/core/reading/reading.sql";
import { Testing } from "@wattflow/core/testing";
import { asc, sql } from "drizzle-orm";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { handler } from "../src/ingest/consumer";
import { handler as sweep } from "../src/sweeper/index";
import { drainToEvent, ids, type Pipeline, pipeline, reading } from "./support";

/** One MiB (Kinesis' largest record) of every byte value, NUL included, in a fixed pattern. */
const garbage = Buffer.from(Array.from({ length: 1024 * 1024 }, (_, index) => (index * 31) % 256));

const poison: Record<string, Buffer> = {
  "not json with a NUL": Buffer.from("not json \0"),
  "invalid UTF-8": Buffer.from([0xff, 0xfe, 0x00, 0x41, 0xc3]),
  empty: Buffer.alloc(0),
  "1 MiB of garbage": garbage,
  // Valid JSON from a known device with a NUL in a field: quarantined and tied to the device's organization.
  "known device, bad reading": Buffer.from(
    JSON.stringify({
      v: 1,
      deviceId: ids.device,
      via: "kinesis",
      reading: { meterId: ids.meters[1], start: "2026-11-27T18:00:00Z\u0000", seconds: 300, kwh: -1 },
    }),
  ),
};

const device = { id: ids.device, organizationId: ids.organization, factoryId: ids.factory };

describe("hostile records through the consumer", () => {
  let p: Pipeline;
  let archiveDir: { path: string; remove(): void };
  beforeEach(async () => {
    p = await pipeline();
    archiveDir = Testing.temporaryDir();
    RawArchive.provide(new LocalArchive(join(archiveDir.path, "archive")));
  });
  afterEach(async () => {
    RawArchive.provide(undefined);
    archiveDir.remove();
    await p.close();
  });

  /** The poison on the stream, then one valid reading (through the API, so signed) for a meter on the same stream. */
  async function poisonThenValid(now: Date) {
    await p.log.append(Object.values(poison).map((data) => ({ partitionKey: ids.meters[0] as string, data })));
    const submitted = await Ingest.submit(device, { readings: [reading(0, "2026-11-27T18:00:00Z", 4.5)] }, now);
    expect(submitted.accepted).toBe(1);
    return drainToEvent(p.log);
  }

  it("quarantines every kind of poison with its exact bytes and a safe reason, and stores the valid reading after them", async () => {
    const event = await poisonThenValid(new Date());

    const response = await handler(event);

    expect(response).toEqual({ batchItemFailures: [] });
    const stored = await p.database.db.select().from(readingTable);
    expect(stored.map((row) => [row.meterId, row.kwh])).toEqual([[ids.meters[0], 4.5]]);
    const rows = await p.database.db.select().from(quarantineTable).orderBy(asc(quarantineTable.sequenceNumber));
    // One row per poison record, in stream order, each holding exactly the bytes put on the stream.
    expect(rows.map((row) => row.data.equals(Object.values(poison)[rows.indexOf(row)] as Buffer))).toEqual([true, true, true, true, true]);
    for (const row of rows) {
      for (const text of [row.reason, ...row.errors.flatMap((problem) => [problem.path, problem.message])]) {
        // biome-ignore lint/suspicious/noControlCharactersInRegex: the point is that none is left.
        expect(text).not.toMatch(/[\u0000-\u0008\u000b-\u001f]/);
        // messageChars (1000) plus the "… (N more characters)" marker.
        expect(text.length).toBeLessThan(1100);
      }
    }
    const known = rows[4];
    expect([known?.organizationId, known?.deviceId, known?.meterId]).toEqual([ids.organization, ids.device, ids.meters[1]]);
    expect(rows.slice(0, 4).map((row) => row.organizationId)).toEqual([null, null, null, null]);
  });

  it("when quarantine refuses the rows, archives them raw and stores the valid reading; the sweeper restores them", async () => {
    const event = await poisonThenValid(new Date());
    // A real fault: the table is gone for a while.
    await p.database.db.execute(sql`alter table quarantine rename to quarantine_away`);

    const response = await handler(event);

    expect(response).toEqual({ batchItemFailures: [] });
    expect(await p.database.db.select().from(readingTable)).toHaveLength(1);
    const archived = readdirSync(join(archiveDir.path, "archive"));
    expect(archived).toHaveLength(1);
    expect(archived[0]).toMatch(/^\d{4}-\d{2}-\d{2}T.*\.json$/);

    await p.database.db.execute(sql`alter table quarantine_away rename to quarantine`);
    const swept = await sweep({});

    expect(swept).toMatchObject({ restored: 5, unreadable: 0 });
    expect(readdirSync(join(archiveDir.path, "archive"))).toEqual([]);
    const rows = await p.database.db.select().from(quarantineTable).orderBy(asc(quarantineTable.sequenceNumber));
    expect(rows.map((row) => row.data.equals(Object.values(poison)[rows.indexOf(row)] as Buffer))).toEqual([true, true, true, true, true]);
  });

  it("the sweeper handler forwards readings a lake outage left undelivered, and only those", async () => {
    const event = await poisonThenValid(new Date());
    const lakeDir = p.lake.readingsDir;
    // The lake is unwritable: a file where its folder should be.
    const { writeFileSync, rmSync, mkdirSync } = await import("node:fs");
    rmSync(lakeDir, { recursive: true, force: true });
    mkdirSync(join(lakeDir, ".."), { recursive: true });
    writeFileSync(lakeDir, "not a folder");
    await handler(event);
    expect((await p.database.db.select().from(readingTable)).map((row) => row.lakeDeliveredAt)).toEqual([null]);
    // The sweeper takes readings stored longer ago than deliverySweepMs (30 s): age this one by a minute.
    await p.database.db.execute(sql`update reading set stored_at = stored_at - interval '1 minute'`);

    rmSync(lakeDir);
    const swept = await sweep({});

    expect(swept.forwarded).toBe(1);
    expect((await p.lake.query("select meter_id, kwh from readings")).map((row) => [row.meter_id, row.kwh])).toEqual([[ids.meters[0], 4.5]]);
    expect((await sweep({})).forwarded).toBe(0);
  });
});
