import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { GetRecordsCommand, type GetRecordsCommandOutput, GetShardIteratorCommand, KinesisClient } from "@aws-sdk/client-kinesis";
import { RawArchive } from "@wattflow/core/archive";
import { LocalArchive } from "@wattflow/core/archive/local";
import type { Database } from "@wattflow/core/database";
import { quarantineTable } from "@wattflow/core/quarantine/quarantine.sql";
import { Testing } from "@wattflow/core/testing";
import type { SQSEvent } from "aws-lambda";
import { asc, sql } from "drizzle-orm";
import { afterEach, beforeEach, describe, expect, it, type MockInstance, vi } from "vitest";
import { handler } from "../src/drainer/index";

const fixture = <T>(path: string): T => JSON.parse(readFileSync(new URL(`./events/${path}`, import.meta.url), "utf8"));

/** Lambda's on-failure record for a Kinesis batch, as SQS delivers it to the drainer. */
const event = fixture<SQSEvent>("sqs/kinesis-on-failure.json");
const failure = JSON.parse(event.Records[0]?.body ?? "{}");

type WireRecord = { SequenceNumber: string; ApproximateArrivalTimestamp: number; Data: string; PartitionKey: string; EncryptionType: string };
/** A GetRecords response on the wire (JSON, base64 data), turned into what the SDK hands back (bytes, Dates). */
const wire = fixture<{ Records: WireRecord[]; NextShardIterator: string; MillisBehindLatest: number }>("kinesis/get-records.json");
const getRecords: GetRecordsCommandOutput = {
  $metadata: { httpStatusCode: 200, requestId: "f1e2d3c4-0000-4000-8000-000000000001", attempts: 1 },
  Records: wire.Records.map((record) => ({
    ...record,
    Data: new Uint8Array(Buffer.from(record.Data, "base64")),
    ApproximateArrivalTimestamp: new Date(record.ApproximateArrivalTimestamp * 1000),
    EncryptionType: "KMS",
  })),
  NextShardIterator: wire.NextShardIterator,
  MillisBehindLatest: wire.MillisBehindLatest,
};

describe.each(Testing.lanes())("drainer on %s", (lane) => {
  let database: Database.Handle;
  let send: MockInstance;

  beforeEach(async () => {
    database = await Testing.database(lane);
    // Only the AWS call is faked: Kinesis answers with the recorded responses.
    send = vi.spyOn(KinesisClient.prototype, "send").mockImplementation(async (command: unknown) => {
      if (command instanceof GetShardIteratorCommand) return { $metadata: {}, ShardIterator: "AAAAAAAAAAFirstIterator" };
      if (command instanceof GetRecordsCommand) return getRecords;
      throw new Error(`unexpected Kinesis call ${(command as object).constructor.name}`);
    });
  });

  afterEach(async () => {
    send.mockRestore();
    await database.close();
  });

  it("archives the data of every record in the failed batch's range to quarantine, and nothing past its end", async () => {
    const response = await handler(event);

    expect(response).toEqual({ batchItemFailures: [] });
    const rows = await database.db.select().from(quarantineTable).orderBy(asc(quarantineTable.sequenceNumber));
    expect(rows.map((row) => [row.sequenceNumber, row.partitionKey, row.shardId, row.source, row.reason])).toEqual(
      wire.Records.slice(0, 3).map((record) => [
        record.SequenceNumber,
        record.PartitionKey,
        "shardId-000000000003",
        "kinesis",
        "consumer gave up: RetryAttemptsExhausted",
      ]),
    );
    // The bytes themselves, not a pointer: replay puts exactly these back on the stream.
    expect(rows.map((row) => row.data.toString("base64"))).toEqual(wire.Records.slice(0, 3).map((record) => record.Data));
    expect(rows[0]?.errors).toEqual([
      { path: "", message: `RetryAttemptsExhausted after 6 invocation(s) (Unhandled) of ${failure.requestContext.functionArn}` },
    ]);
  });

  it("reads the shard from the batch's first sequence number", async () => {
    await handler(event);

    const first = send.mock.calls[0]?.[0] as GetShardIteratorCommand;
    expect(first).toBeInstanceOf(GetShardIteratorCommand);
    expect(first.input).toEqual({
      StreamARN: failure.KinesisBatchInfo.streamArn,
      ShardId: "shardId-000000000003",
      ShardIteratorType: "AT_SEQUENCE_NUMBER",
      StartingSequenceNumber: failure.KinesisBatchInfo.startSequenceNumber,
    });
  });

  it("archives each record once when the queue delivers the same failure twice", async () => {
    await handler(event);
    await handler(event);

    const rows = await database.db.select().from(quarantineTable);
    expect(rows).toHaveLength(3);
  });

  it("leaves the message on the queue when the records cannot be read back", async () => {
    send.mockImplementation(async () => {
      throw Object.assign(new Error("Iterator expired. The iterator was created at time ... while right now it is ..."), { name: "ExpiredIteratorException" });
    });

    const response = await handler(event);

    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: event.Records[0]?.messageId }] });
    expect(await database.db.select().from(quarantineTable)).toEqual([]);
  });

  it("leaves a message that is not an on-failure record on the queue", async () => {
    const response = await handler({ Records: [{ ...(event.Records[0] as SQSEvent["Records"][number]), body: '{"hello":"world"}' }] });

    expect(response.batchItemFailures).toHaveLength(1);
    expect(send).not.toHaveBeenCalled();
  });

  it("does not quarantine a given-up record whose reading is already stored: it is not lost", async () => {
    // The first record of the range is meter 0 at 2026-11-27T18:00Z (get-records.json); it is stored, not yet in the lake.
    await Testing.insertReadings(database.db, {
      meterId: "mtr_01jtest0000000000000000000",
      intervalStart: new Date("2026-11-27T18:00:00Z"),
      intervalSeconds: 300,
      factoryId: "fac_01jtest0000000000000000000",
      deviceId: "dev_01jtest0000000000000000000",
      kwh: 12.5,
      source: "kinesis",
      receivedAt: new Date("2026-11-27T18:05:00Z"),
    });

    const response = await handler(event);

    expect(response).toEqual({ batchItemFailures: [] });
    // The range holds 3 records (drainer's first test); 1 is stored, so 2 are quarantined.
    const rows = await database.db.select().from(quarantineTable).orderBy(asc(quarantineTable.sequenceNumber));
    expect(rows.map((row) => row.sequenceNumber)).toEqual(wire.Records.slice(1, 3).map((record) => record.SequenceNumber));
  });

  it("when quarantine refuses the rows, keeps the records whole in the raw archive and takes the message off the queue", async () => {
    const dir = Testing.temporaryDir();
    RawArchive.provide(new LocalArchive(dir.path));
    // A real fault: the table is gone for a while.
    await database.db.execute(sql`alter table quarantine rename to quarantine_away`);

    const response = await handler(event);

    expect(response).toEqual({ batchItemFailures: [] });
    const [name, ...more] = readdirSync(dir.path);
    expect(more).toEqual([]);
    const kept = JSON.parse(readFileSync(join(dir.path, String(name)), "utf8")) as { cause: string; entries: { sequenceNumber: string; data: string }[] };
    expect(kept.cause).toMatch(/quarantine/);
    expect(kept.entries.map((entry) => [entry.sequenceNumber, entry.data])).toEqual(
      wire.Records.slice(0, 3).map((record) => [record.SequenceNumber, record.Data]),
    );
    RawArchive.provide(undefined);
    dir.remove();
  });
});
