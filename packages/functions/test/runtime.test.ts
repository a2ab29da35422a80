import { RawArchive } from "@wattflow/core/archive";
import { S3Archive } from "@wattflow/core/archive/aws";
import { Database } from "@wattflow/core/database";
import { Drain } from "@wattflow/core/drain";
import { KinesisShards } from "@wattflow/core/drain/aws";
import { Lake } from "@wattflow/core/lake";
import { FirehoseLake } from "@wattflow/core/lake/aws";
import { LocalLake } from "@wattflow/core/lake/local";
import { SeriesSink } from "@wattflow/core/sink";
import { InfluxSink } from "@wattflow/core/sink/influx";
import { Stream } from "@wattflow/core/stream";
import { KinesisStream } from "@wattflow/core/stream/aws";
import { TimeSeries } from "@wattflow/core/timeseries";
import { InfluxTimeSeries } from "@wattflow/core/timeseries/influx";
import { PostgresTimeSeries } from "@wattflow/core/timeseries/postgres";
import { Uploads } from "@wattflow/core/upload";
import { S3Store } from "@wattflow/core/upload/aws";
import { Workflow } from "@wattflow/core/workflow";
import { AwsRunner } from "@wattflow/core/workflow/aws";
import { afterEach, describe, expect, it } from "vitest";
import { ensureRuntime, wirePorts } from "../src/runtime";

const clear = () => {
  for (const port of [Stream, Lake, RawArchive, TimeSeries, SeriesSink, Uploads, Workflow, Drain]) port.provide(undefined);
};

describe("the Lambda runtime wires every port from the environment, and only there", () => {
  afterEach(clear);

  it("gives each port its AWS adapter from its variable", async () => {
    clear();
    await wirePorts({
      READINGS_STREAM_NAME: "wattflow-prod-Readings",
      LAKE_DELIVERY_STREAM: "wattflow-prod-Lake",
      WATTFLOW_ARCHIVE_BUCKET: "wattflow-prod-archive",
      WATTFLOW_UPLOADS_BUCKET: "wattflow-prod-uploads",
      WATTFLOW_WORKFLOW_ARN_PREFIX: "arn:aws:states:us-east-1:123456789012:stateMachine:wattflow-prod-",
      INFLUX_URL: "http://influx.internal:8086",
      INFLUX_TOKEN: "t",
    });

    expect(await Stream.use()).toBeInstanceOf(KinesisStream);
    expect(await Lake.use()).toBeInstanceOf(FirehoseLake);
    expect(await RawArchive.use()).toBeInstanceOf(S3Archive);
    expect(await TimeSeries.use()).toBeInstanceOf(InfluxTimeSeries);
    expect(await SeriesSink.use()).toBeInstanceOf(InfluxSink);
    expect(await Uploads.use()).toBeInstanceOf(S3Store);
    expect(await Workflow.use()).toBeInstanceOf(AwsRunner);
    expect(await Drain.use()).toBeInstanceOf(KinesisShards);
  });

  it("answers series from Postgres on a stage without InfluxDB, and leaves unset ports unprovided with their own error", async () => {
    clear();
    await wirePorts({});

    expect(await TimeSeries.use()).toBeInstanceOf(PostgresTimeSeries);
    expect(SeriesSink.provided()).toBe(false);
    await expect(Stream.use()).rejects.toThrow(Stream.StreamUnavailableError);
    await expect(Lake.use()).rejects.toThrow(/no lake/);
    await expect(RawArchive.use()).rejects.toThrow(RawArchive.ArchiveError);
    await expect(Uploads.use()).rejects.toThrow(/no upload store/);
    await expect(Workflow.use()).rejects.toThrow(Workflow.WorkflowError);
  });

  it("makes no adapter before a handler uses its port: S3 and Step Functions are imported on first use", async () => {
    clear();
    await wirePorts({ WATTFLOW_UPLOADS_BUCKET: "wattflow-prod-uploads", WATTFLOW_WORKFLOW_ARN_PREFIX: "arn:aws:states:us-east-1:1:stateMachine:w-" });

    // Provided (lazily) but not made: wiring a port costs no SDK import.
    expect([Uploads.provided(), Uploads.current(), Workflow.provided(), Workflow.current()]).toEqual([true, undefined, true, undefined]);
    expect(await Workflow.use()).toBeInstanceOf(AwsRunner);
    expect(Workflow.current()).toBeInstanceOf(AwsRunner);
  });

  it("keeps what the local stack or a test provided", async () => {
    const lake = new LocalLake("/tmp/wattflow-runtime-test-lake");
    Lake.provide(lake);

    await wirePorts({ LAKE_DELIVERY_STREAM: "wattflow-prod-Lake" });

    expect(await Lake.use()).toBe(lake);
  });

  it("opens no database on its own without DATABASE_URL: a Lambda never falls back to PGlite", async () => {
    clear();
    Database.provide(undefined);

    await expect(ensureRuntime({})).rejects.toThrow(Database.DatabaseError);
    expect(Database.provided()).toBe(false);
  });
});
