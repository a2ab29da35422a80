/**
 * The embedded local stack: every AWS service of DESIGN.md's table answered in one process, with
 * no Docker and no AWS account. Postgres → PGlite (or DATABASE_URL), Kinesis → the durable log and
 * its Kinesis endpoint, the event source mapping → the poller, Firehose/S3 → Parquet under lake/,
 * the API Lambda → the same Hono app on @hono/node-server.
 */
import { chmodSync, mkdirSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { join, resolve } from "node:path";
import { RawArchive } from "@wattflow/core/archive";
import { LocalArchive } from "@wattflow/core/archive/local";
import { consumer as consumerConfig, localStream } from "@wattflow/core/config";
import { Database } from "@wattflow/core/database";
import { openPglite } from "@wattflow/core/database/pglite";
import { openPostgres } from "@wattflow/core/database/postgres";
import { Ingest } from "@wattflow/core/ingest";
import { Lake } from "@wattflow/core/lake";
import { LocalLake } from "@wattflow/core/lake/local";
import { SeriesSink } from "@wattflow/core/sink";
import { InfluxSink } from "@wattflow/core/sink/influx";
import { Stream } from "@wattflow/core/stream";
import { LocalStream } from "@wattflow/core/stream/local";
import { TimeSeries } from "@wattflow/core/timeseries";
import { InfluxTimeSeries } from "@wattflow/core/timeseries/influx";
import { LakeTimeSeries } from "@wattflow/core/timeseries/local";
import { KinesisEndpoint } from "../stream/kinesis-endpoint";
import { DurableLog } from "../stream/log";
import { Poller } from "../stream/poller";
import { consoleSite } from "./console";
import type { DemoInfo } from "./demo";
import { startDemo } from "./demo-run";
import { handlerLoader, listen } from "./handlers";
import { registerHealth } from "./health";
import { acquireLock } from "./lock";
import { startSchedules } from "./schedule";
import { startWorkflows } from "./workflows";

export type StackOptions = {
  dataDir: string;
  /** API port; 0 picks a free one. */
  port: number;
  kinesisPort: number;
  host?: string;
  databaseUrl?: string;
  /** Seed the demo organization and write demo.json. */
  demo: boolean;
  /** Run the demo's gateway: the edge agent with simulated meters (demo-gateway.ts). */
  demoTraffic: boolean;
  /** Days of demo history loaded in the background on the first start (`demoHistoryDays`, 3, unless told; `wattflow start` says 400). */
  demoHistoryDays?: number;
  /**
   * With no demo history (`demoHistoryDays` 0): days before the start the demo gateway reads on its first start, as if
   * it had been off since then (default 0: from the 5-minute boundary the stack started in). A later start resumes
   * from its outbox. With history, the gateway reads from where the history ends.
   */
  demoCatchUpDays?: number;
  /** Reload handlers when their source changes (`npm run dev`). */
  dev: boolean;
  log?: (line: string) => void;
};

export type Stack = {
  apiUrl: string;
  kinesisEndpoint: string;
  demo?: DemoInfo;
  poller: Poller;
  stop(): Promise<void>;
};

export const kinesisCredentials = { accessKeyId: "AKIAWATTFLOWLOCAL000", secretAccessKey: "wattflow-local-secret" };
export const kinesisRegion = "us-east-1";
const accountId = "000000000000";

export async function startStack(options: StackOptions): Promise<Stack> {
  const startedAt = Date.now();
  const log = options.log ?? (() => {});
  const dataDir = resolve(options.dataDir);
  mkdirSync(dataDir, { recursive: true });
  // The data folder holds demo.json (password, tokens), the database and the stream: its owner's only.
  chmodSync(dataDir, 0o700);
  const releaseLock = acquireLock(dataDir);
  const cleanup: (() => Promise<void> | void)[] = [releaseLock];
  const stop = async () => {
    for (const step of cleanup.reverse()) {
      try {
        await step();
      } catch (error) {
        log(`stop: ${(error as Error).message}`);
      }
    }
    cleanup.length = 0;
  };

  // The API app and the consumer take seconds to load (their module graph, through tsx): loading them while PGlite
  // starts overlaps the two, and the first /health then waits for neither alone. The handlers stay lazy for
  // dev reloads; this only starts the first load early.
  const handlers = handlerLoader(options.dev, log);
  cleanup.push(() => handlers.close());
  // A load that fails is reported by the requests that need it (and loaded again by the next), as before.
  const handlersLoading = handlers.current().catch((error: Error) => log(`handlers: ${error.message}`));
  try {
    // The stack chooses the adapter: PGlite under the data folder, so `npm start` needs no server; a Postgres when given one.
    const database = options.databaseUrl ? await openPostgres(options.databaseUrl) : await openPglite(join(dataDir, "pg"));
    cleanup.push(() => {
      Database.provide(undefined);
      return database.close();
    });
    await Database.migrate(database);
    Database.provide(database);
    log(`database: ${database.kind} at ${database.location}`);

    const streamLog = await DurableLog.open({
      dir: join(dataDir, "stream", localStream.name),
      name: localStream.name,
      shardCount: localStream.shardCount,
      segmentBytes: localStream.segmentBytes,
    });
    cleanup.push(() => {
      Stream.provide(undefined);
      return streamLog.close();
    });
    Stream.provide(new LocalStream(streamLog));

    RawArchive.provide(new LocalArchive(join(dataDir, "archive")));
    cleanup.push(() => RawArchive.provide(undefined));

    const lake = new LocalLake(join(dataDir, "lake"));
    cleanup.push(() => {
      Lake.provide(undefined);
      return lake.close();
    });
    Lake.provide(lake);
    // Series: a real InfluxDB when INFLUX_URL/INFLUX_TOKEN are set, else DuckDB over the lake just opened.
    const influx = TimeSeries.influxSettingsFromEnv();
    TimeSeries.provide(influx ? new InfluxTimeSeries(influx) : new LakeTimeSeries(lake));
    // InfluxDB is a store of its own, so delivery writes it (the sink); DuckDB reads the lake delivery already wrote.
    SeriesSink.provide(influx ? new InfluxSink(influx) : undefined);
    cleanup.push(() => {
      TimeSeries.provide(undefined);
      SeriesSink.provide(undefined);
    });

    // The monthly close schedule waits for the demo's history, so it never closes a month still loading.
    let historyLoaded = () => {};
    const scheduleAfter = new Promise<void>((resolveLoaded) => {
      historyLoaded = resolveLoaded;
    });
    cleanup.push(startWorkflows(dataDir, log, { scheduleAfter }));

    const kinesis = new KinesisEndpoint({
      log: streamLog,
      region: kinesisRegion,
      accountId,
      ...kinesisCredentials,
      retentionHours: localStream.retentionHours,
    });
    const kinesisEndpoint = await kinesis.listen(options.kinesisPort, options.host);
    cleanup.push(() => kinesis.close());

    const checkpoints = join(dataDir, "stream", localStream.name, "checkpoints");
    mkdirSync(checkpoints, { recursive: true });
    const poller = new Poller({
      log: streamLog,
      dir: checkpoints,
      handler: async () => (await handlers.current()).consumer,
      // Stored readings are not quarantined (the sweeper forwards them); the rest go to quarantine or the raw archive.
      onFailure: async (records, reason) => {
        await Ingest.giveUp(records, { source: "consumer", reason, code: "consumer.gave_up", params: {}, errors: [{ path: "(record)", message: reason }] });
      },
      ...consumerConfig,
      region: kinesisRegion,
      accountId,
    });
    poller.start();
    cleanup.push(() => poller.stop());

    // The schedules run the handlers AWS's schedules invoke (sweeper, alerts, maintenance) and trim the stream.
    cleanup.push(startSchedules({ streamLog, poller, log }));

    const server = await listen(handlers, consoleSite(log), options.port, options.host ?? "127.0.0.1");
    cleanup.push(
      () =>
        new Promise<void>((done) => {
          server.close(() => done());
          (server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
        }),
    );
    const apiUrl = `http://${options.host ?? "127.0.0.1"}:${(server.address() as AddressInfo).port}`;

    registerHealth({ database, streamLog, poller, lake, kinesisEndpoint });
    // The history below keeps the event loop busy: the app is loaded before it begins, so no request waits behind it.
    await handlersLoading;

    let demo: DemoInfo | undefined;
    if (options.demo) {
      demo = await startDemo(options, {
        dataDir,
        apiUrl,
        kinesis: { endpoint: kinesisEndpoint, stream: streamLog.name, region: kinesisRegion, credentials: kinesisCredentials },
        startedAt,
        log,
        onStop: (step) => cleanup.push(step),
        historyLoaded,
      });
    } else historyLoaded();
    return { apiUrl, kinesisEndpoint, demo, poller, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
