/**
 * The embedded local stack: every AWS service of DESIGN.md's table answered in one process, with
 * no Docker and no AWS account. Postgres → PGlite (or DATABASE_URL), Kinesis → the durable log and
 * its Kinesis endpoint, the event source mapping → the poller, Firehose/S3 → Parquet under lake/,
 * the API Lambda → the same Hono app on @hono/node-server.
 */
import { chmodSync, type FSWatcher, mkdirSync, readdirSync, statSync, watch } from "node:fs";
import type { AddressInfo } from "node:net";
import { join, relative, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { type ServerType, serve } from "@hono/node-server";
import { RawArchive } from "@wattflow/core/archive";
import { LocalArchive } from "@wattflow/core/archive/local";
import { consumer as consumerConfig, deliverySweepMs, intervalSeconds, localStream } from "@wattflow/core/config";
import { Database } from "@wattflow/core/database";
import { openPglite } from "@wattflow/core/database/pglite";
import { openPostgres } from "@wattflow/core/database/postgres";
import { Health } from "@wattflow/core/health";
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
import { sql } from "drizzle-orm";
import { KinesisEndpoint } from "../stream/kinesis-endpoint";
import { DurableLog } from "../stream/log";
import { type KinesisHandler, Poller } from "../stream/poller";
import { type ConsoleSite, consoleSite } from "./console";
import { type DemoInfo, demoHistoryDays, demoTimeZone, seedDemo } from "./demo";
import { loadHistory } from "./demo-history";
import { acquireLock } from "./lock";
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
/** The retention every stage deploys (stacks/config.ts `database.readingRetentionMonths`), given to the maintenance handler. */
const readingRetentionMonths = 14;
/** The maintenance schedule's period: daily, as `MaintenanceSchedule` in stacks/database.ts. */
const maintenanceEveryMs = 86_400_000;

type Handlers = { consumer: KinesisHandler; app: { fetch: (request: Request, env?: unknown) => Response | Promise<Response> } };

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

    const trimmer = setInterval(() => {
      for (const shard of poller.shards()) {
        if (shard.checkpoint)
          void streamLog
            .trim(shard.shardId, shard.checkpoint, localStream.retentionHours * 3_600_000)
            .catch((error: Error) => log(`stream retention: ${error.message}`));
      }
    }, 60_000);
    // The scheduler calls the same handler the AWS schedule invokes (stacks/stream.ts).
    const sweeper = setInterval(() => {
      void import("@wattflow/functions/sweeper/index")
        .then(({ handler }) => handler({}))
        .then(({ forwarded, restored }) => {
          if (forwarded > 0) log(`lake: forwarded ${forwarded} stored reading(s) that had not reached it`);
          if (restored > 0) log(`quarantine: restored ${restored} record(s) from the raw archive`);
        })
        .catch((error: Error) => log(`sweeper: ${error.message}`));
    }, deliverySweepMs);
    // Alert rules: the same handler the AWS schedule invokes (stacks/timeseries.ts, every 5 minutes), every minute here.
    const alerter = setInterval(() => {
      void import("@wattflow/functions/alerts/index").then(({ handler }) => handler({})).catch((error: Error) => log(`alerts: ${error.message}`));
    }, 60_000);
    // Reading partitions and retention: the same handler the AWS schedule invokes daily (stacks/database.ts), daily here
    // too, first a day after start as a deploy does not run it either. Safe on local data: it creates the coming months'
    // partitions and drops or deletes only readings past retention that the lake already holds (lake_delivered_at set).
    process.env.READING_RETENTION_MONTHS ??= String(readingRetentionMonths);
    const maintainer = setInterval(() => {
      void import("@wattflow/functions/maintenance/index")
        .then(({ handler }) => handler({}))
        .then(({ dropped, deletedFromDefault }) => {
          if (dropped.length > 0 || deletedFromDefault > 0)
            log(`maintenance: past retention and kept in the lake: dropped ${dropped.join(", ") || "no partition"}, ${deletedFromDefault} late reading(s)`);
        })
        .catch((error: Error) => log(`maintenance: ${error.message}`));
    }, maintenanceEveryMs);
    cleanup.push(() => {
      clearInterval(trimmer);
      clearInterval(sweeper);
      clearInterval(alerter);
      clearInterval(maintainer);
    });

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
      demo = await seedDemo(dataDir, {
        apiUrl,
        kinesis: { endpoint: kinesisEndpoint, stream: streamLog.name, region: kinesisRegion, credentials: kinesisCredentials },
      });
      const info = demo;
      const stopping = new AbortController();
      const historyDays = options.demoHistoryDays ?? demoHistoryDays;
      // The demo's gateway: the edge agent with simulated meters (demo-gateway.ts), reading from `from` on its first
      // start. Loaded only here: a stack without it does not load the agent's modules (its SQLite binding, meter maps).
      const startGateway = async (from: number) => {
        const { runDemoGateway } = await import("./demo-gateway");
        if (!stopping.signal.aborted) cleanup.push(runDemoGateway(info, { dataDir, from, log }));
      };
      if (historyDays === 0) {
        // No history (tests that count runs or readings, `--demo-history 0`): no loader, no imports, no closes of its own.
        historyLoaded();
        if (options.demoTraffic) {
          const live = Math.floor(startedAt / (intervalSeconds * 1000)) * intervalSeconds * 1000;
          await startGateway(live - (options.demoCatchUpDays ?? 0) * 86_400_000);
        }
      } else {
        // In the background: /health answers now, the console fills newest month first, the gateway follows the history.
        const history = loadHistory(info, {
          dataDir,
          days: historyDays,
          timeZone: demoTimeZone,
          log,
          signal: stopping.signal,
          onRecent: (end) => {
            if (options.demoTraffic && !stopping.signal.aborted)
              void startGateway(end.getTime()).catch((error: Error) => log(`demo gateway: ${error.message}`));
          },
        });
        Health.register("demoHistory", async () => ({ ok: true, detail: history.progress() }));
        const loading = history.done
          .then(() => {
            if (!stopping.signal.aborted) log(`demo history: ${JSON.stringify(history.progress())}`);
          })
          .catch((error: Error) => log(`demo history: ${error.message} (a restart resumes it)`))
          .finally(historyLoaded);
        cleanup.push(async () => {
          stopping.abort();
          await loading;
        });
      }
    } else historyLoaded();
    return { apiUrl, kinesisEndpoint, demo, poller, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

function registerHealth(parts: { database: Database.Handle; streamLog: DurableLog; poller: Poller; lake: LocalLake; kinesisEndpoint: string }): void {
  Health.clear();
  Health.register("database", async () => {
    await parts.database.db.execute(sql`select 1`);
    return { ok: true, detail: { kind: parts.database.kind, location: parts.database.location } };
  });
  Health.register("lake", async () => ({ ok: true, detail: parts.lake.describe() }));
  Health.register("files", Health.unreadableFilesCheck);
  Health.register("consumer", async () => {
    // Failing with records waiting is unhealthy; being busy is not (the stream check judges the backlog's age).
    const failing = parts.poller.shards().filter((shard) => shard.lastError && shard.behind > 0);
    return { ok: failing.length === 0, detail: { endpoint: parts.kinesisEndpoint, ...parts.streamLog.stats(), failing: failing.length } };
  });
  Health.registerPipeline({
    backlog: async () =>
      parts.poller.shards().map((shard) => ({ shardId: shard.shardId, behind: shard.behind, oldestAgeMs: shard.iteratorAgeMs, lastError: shard.lastError })),
  });
}

/** Serves the Hono app; the request goes to the app loaded now, so a dev reload takes effect at once. */
async function listen(handlers: ReturnType<typeof handlerLoader>, site: ConsoleSite, port: number, hostname: string): Promise<ServerType> {
  return new Promise((resolveServer, reject) => {
    const fetch = async (request: Request) => (await site.serve(request)) ?? (await handlers.current()).app.fetch(request);
    const server = serve({ fetch, port, hostname }, () => resolveServer(server));
    server.once("error", reject);
  });
}

const functionsDir = fileURLToPath(new URL("../../../functions/src/", import.meta.url));
const coreDir = fileURLToPath(new URL("../../../core/src/", import.meta.url));

/**
 * Loads the consumer handler and the API app. In dev mode they are loaded through tsx's
 * namespaced import, and loaded again when a file under core/ or functions/ changes, so the next
 * batch or request runs the new code — the local counterpart of `sst dev`'s live Lambda.
 */
function handlerLoader(dev: boolean, log: (line: string) => void) {
  let loaded: Promise<Handlers> | undefined;
  const watchers: { close(): void }[] = [];
  let generation = 0;
  const load = async (): Promise<Handlers> => {
    if (!dev) {
      const [consumer, api] = await Promise.all([import("@wattflow/functions/ingest/consumer"), import("@wattflow/functions/api/app")]);
      return { consumer: consumer.handler, app: api.app };
    }
    // A fresh tsx namespace loads a fresh module graph, dependencies included; state that must
    // survive (database, stream, lake) lives on globalThis (core/src/util/global.ts).
    const { register } = await import("tsx/esm/api");
    const loader = register({ namespace: `dev-${++generation}` });
    const parent = import.meta.url;
    const consumer = (await loader.import(pathToFileURL(join(functionsDir, "ingest/consumer.ts")).href, parent)) as { handler: KinesisHandler };
    const api = (await loader.import(pathToFileURL(join(functionsDir, "api/app.ts")).href, parent)) as { app: Handlers["app"] };
    return { consumer: consumer.handler, app: api.app };
  };
  if (dev) {
    for (const dir of [functionsDir, coreDir]) {
      watchers.push(
        watchTree(dir, (file) => {
          if (!file.endsWith(".ts")) return;
          loaded = undefined;
          log(`dev: ${file} changed; handlers reload on next use`);
        }),
      );
    }
  }
  return {
    current(): Promise<Handlers> {
      loaded ??= load().catch((error: Error) => {
        loaded = undefined;
        throw error;
      });
      return loaded;
    },
    async close() {
      for (const watcher of watchers) watcher.close();
    },
  };
}

/**
 * Watches every folder under `root` (not each file: editors save by replacing the file, which a
 * per-file watch loses), adding folders created later.
 */
function watchTree(root: string, onChange: (file: string) => void): { close(): void } {
  const watchers = new Map<string, FSWatcher>();
  const add = (dir: string) => {
    if (watchers.has(dir)) return;
    try {
      watchers.set(
        dir,
        watch(dir, (_event, name) => {
          if (!name) return;
          const path = join(dir, String(name));
          if (statSync(path, { throwIfNoEntry: false })?.isDirectory()) add(path);
          onChange(relative(root, path));
        }),
      );
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
      return;
    }
    for (const entry of readdirSync(dir, { withFileTypes: true })) if (entry.isDirectory()) add(join(dir, entry.name));
  };
  add(root);
  return {
    close() {
      for (const watcher of watchers.values()) watcher.close();
    },
  };
}
