/**
 * What a Lambda runs on, wired here and nowhere else: ports never choose their adapters. At the first invocation
 * Postgres opens from DATABASE_URL, and every port the local stack or a test has not provided gets its AWS
 * adapter from the environment, made on first use so a handler imports only the SDKs it touches:
 * - stream: Kinesis `READINGS_STREAM_NAME`; lake: Firehose `LAKE_DELIVERY_STREAM`; raw archive: S3
 *   `WATTFLOW_ARCHIVE_BUCKET`; uploads: S3 `WATTFLOW_UPLOADS_BUCKET`; workflows: Step Functions
 *   `WATTFLOW_WORKFLOW_ARN_PREFIX`;
 * - time series: InfluxDB when `INFLUX_URL`/`INFLUX_TOKEN` are set (and the series sink, which writes its points),
 *   else the readings stored in Postgres (no sink: the consumer's insert is their writer);
 * - the drainer's shard reader: Kinesis, with no variable (each on-failure record names its stream's ARN).
 * A port whose variable is unset stays unprovided, and using it throws that port's own error naming what is missing.
 */
import { RawArchive } from "@wattflow/core/archive";
import { Database } from "@wattflow/core/database";
import { Drain } from "@wattflow/core/drain";
import { Lake } from "@wattflow/core/lake";
import { SeriesSink } from "@wattflow/core/sink";
import { Stream } from "@wattflow/core/stream";
import { TimeSeries } from "@wattflow/core/timeseries";
import { Uploads } from "@wattflow/core/upload";
import { Workflow } from "@wattflow/core/workflow";

/**
 * Wires the ports (`wirePorts`) and opens the database before a handler runs: Postgres at DATABASE_URL unless the local
 * stack or a test provided one (a Lambda never runs PGlite).
 * @throws DatabaseError when no database was provided and DATABASE_URL is unset, or when Postgres does not answer.
 */
export async function ensureRuntime(env: NodeJS.ProcessEnv = process.env): Promise<void> {
  if (!Database.provided()) {
    const url = env.DATABASE_URL;
    if (!url) throw new Database.DatabaseError("DATABASE_URL is not set");
    Database.provideLazily(async () => (await import("@wattflow/core/database/postgres")).openPostgres(url));
  }
  await Database.ready();
  await wirePorts(env);
}

/** Provides the AWS adapter of every port not provided yet, from `env` (see the module's docstring). */
export async function wirePorts(env: NodeJS.ProcessEnv): Promise<void> {
  const streamName = env.READINGS_STREAM_NAME;
  if (streamName && !Stream.provided()) Stream.provideLazily(async () => new (await import("@wattflow/core/stream/aws")).KinesisStream({ streamName }));
  const deliveryStreamName = env.LAKE_DELIVERY_STREAM;
  if (deliveryStreamName && !Lake.provided())
    Lake.provideLazily(async () => new (await import("@wattflow/core/lake/aws")).FirehoseLake({ deliveryStreamName }));
  const archiveBucket = env.WATTFLOW_ARCHIVE_BUCKET;
  if (archiveBucket && !RawArchive.provided()) RawArchive.provideLazily(async () => new (await import("@wattflow/core/archive/aws")).S3Archive(archiveBucket));
  const influx = TimeSeries.influxSettingsFromEnv(env);
  if (influx && !SeriesSink.provided()) SeriesSink.provideLazily(async () => new (await import("@wattflow/core/sink/influx")).InfluxSink(influx));
  if (!TimeSeries.provided()) {
    TimeSeries.provideLazily(async () =>
      influx
        ? new (await import("@wattflow/core/timeseries/influx")).InfluxTimeSeries(influx)
        : new (await import("@wattflow/core/timeseries/postgres")).PostgresTimeSeries(),
    );
  }
  if (!Drain.provided()) Drain.provideLazily(async () => new (await import("@wattflow/core/drain/aws")).KinesisShards());
  const uploadsBucket = env.WATTFLOW_UPLOADS_BUCKET;
  if (uploadsBucket && !Uploads.provided()) Uploads.provideLazily(async () => new (await import("@wattflow/core/upload/aws")).S3Store(uploadsBucket));
  const arnPrefix = env.WATTFLOW_WORKFLOW_ARN_PREFIX;
  if (arnPrefix && !Workflow.provided()) Workflow.provideLazily(async () => new (await import("@wattflow/core/workflow/aws")).AwsRunner({ arnPrefix }));
}
