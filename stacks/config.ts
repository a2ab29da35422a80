/**
 * One typed configuration per stage: every size, retention and alarm threshold the infrastructure
 * uses, with its reason. Plain data (no SST globals), so the tests import it and check the rules
 * that tie the numbers together (packages/core/test/stage-config.test.ts).
 */
import { Config as Core } from "@wattflow/core/config";

export type StreamCapacity = { mode: "ON_DEMAND" } | { mode: "PROVISIONED"; shards: number };

export type TimeSeries =
  /** No InfluxDB: dashboards read from the lake (the local port's fallback). */
  | { kind: "none" }
  /** An InfluxDB outside AWS (InfluxDB Cloud, self-hosted): URL and token as secrets. */
  | { kind: "external" }
  /** Amazon Timestream for InfluxDB in the stage's VPC. */
  | { kind: "timestream"; instanceType: string; storageGb: number; multiAz: boolean };

export type StageConfig = {
  stage: string;
  /** Production is retained and protected (sst.config.ts) and sized for hundreds of factories. */
  production: boolean;
  stream: {
    capacity: StreamCapacity;
    /** Hours Kinesis keeps records; the drainer reads failed batches back within this window. */
    retentionHours: number;
  };
  /** The consumer's event source mapping (stacks/stream.ts); the local poller mirrors it (core Config.consumer). */
  consumer: {
    batchSize: number;
    batchingWindowSeconds: number;
    parallelizationFactor: number;
    maximumRetryAttempts: number;
    /** A batch older than this goes to the on-failure destination; must leave the drainer time within retention. */
    maximumRecordAgeSeconds: number;
    bisectBatchOnFunctionError: boolean;
    memoryMb: number;
    timeoutSeconds: number;
  };
  drainer: {
    /** Deliveries of one failure message before it goes to the dead-letter queue (and the alarm fires). */
    maxReceiveCount: number;
    timeoutSeconds: number;
  };
  api: { memoryMb: number; timeoutSeconds: number };
  lake: {
    /** Firehose buffer; with dynamic partitioning and Parquet conversion the minimum size is 64 MiB. */
    bufferingSizeMb: number;
    bufferingIntervalSeconds: number;
    /** Parquet objects move to Infrequent Access after this many days (Athena rescans recent months most). */
    infrequentAccessAfterDays: number;
    /** Firehose error output is kept this long for investigation. */
    errorRetentionDays: number;
    /** Athena query results are disposable. */
    athenaResultsRetentionDays: number;
    /** Athena stops a query that would scan more than this (cost guard per query). */
    athenaBytesScannedCutoff: number;
  };
  database: {
    minAcu: number;
    maxAcu: number;
    /** Scale to zero after this idle time; undefined keeps at least minAcu running (production). */
    pauseAfter?: `${number} minutes`;
    /** Months of readings kept in Postgres; older ones live in the lake only. Must exceed the 13 months partitions are kept back. */
    readingRetentionMonths: number;
    /** NAT for the VPC: "managed" is highly available, "ec2" costs a few dollars a month. */
    nat: "managed" | "ec2";
    /** RDS Proxy in front of Aurora: pools the connections of many concurrent Lambdas (each opens up to 10). */
    proxy: boolean;
  };
  timeseries: TimeSeries;
  workflows: {
    /** IANA zones the factories are in: the monthly close runs at 02:00 on the 1st in each. */
    closeTimeZones: string[];
  };
  monitoring: {
    /** Consumer falling behind: age of the oldest record not yet processed. */
    iteratorAgeAlarmMs: number;
    /** API 5xx responses in 5 minutes before the alarm fires. */
    apiErrorsPer5Minutes: number;
  };
  /** CloudWatch Logs retention of every function. */
  logRetention: "1 week" | "1 month" | "3 months" | "1 year";
};

const hour = 3600;
const day = 24 * hour;

/** Mexico's zones (the first customers' country); add a zone before a factory in it goes live. */
const mexicoTimeZones = ["America/Mexico_City", "America/Monterrey", "America/Chihuahua", "America/Hermosillo", "America/Tijuana", "America/Cancun"];

const base: Omit<StageConfig, "stage" | "production"> = {
  stream: { capacity: { mode: "ON_DEMAND" }, retentionHours: 7 * 24 },
  consumer: {
    // Mirrors the local poller, so a batch behaves the same on both runtimes.
    batchSize: Core.consumer.batchSize,
    batchingWindowSeconds: 1,
    parallelizationFactor: 1,
    maximumRetryAttempts: Core.consumer.maximumRetryAttempts,
    // One day: the drainer then has six days of retention left to read the batch back.
    maximumRecordAgeSeconds: day,
    bisectBatchOnFunctionError: Core.consumer.bisectBatchOnFunctionError,
    memoryMb: 1024,
    timeoutSeconds: 60,
  },
  drainer: { maxReceiveCount: 5, timeoutSeconds: 300 },
  api: { memoryMb: 1024, timeoutSeconds: 29 },
  lake: {
    bufferingSizeMb: 64,
    bufferingIntervalSeconds: 60,
    infrequentAccessAfterDays: 90,
    errorRetentionDays: 30,
    athenaResultsRetentionDays: 7,
    athenaBytesScannedCutoff: 10 * 1024 ** 3,
  },
  database: { minAcu: 0, maxAcu: 4, pauseAfter: "5 minutes", readingRetentionMonths: 14, nat: "ec2", proxy: false },
  timeseries: { kind: "none" },
  workflows: { closeTimeZones: ["America/Mexico_City"] },
  monitoring: { iteratorAgeAlarmMs: 5 * 60 * 1000, apiErrorsPer5Minutes: 10 },
  logRetention: "1 week",
};

const production: Omit<StageConfig, "stage"> = {
  ...base,
  production: true,
  consumer: {
    ...base.consumer,
    // 1,000 factories send ~670 readings/s: two concurrent batches per shard keep up after outages.
    parallelizationFactor: 2,
  },
  lake: {
    ...base.lake,
    // Bigger, fewer Parquet files: 128 MiB or 15 minutes, whichever comes first.
    bufferingSizeMb: 128,
    bufferingIntervalSeconds: 900,
    athenaBytesScannedCutoff: 100 * 1024 ** 3,
  },
  // Always on (no pause): the consumer writes every few seconds. 16 ACU absorbs post-outage bursts.
  // 14 months of raw readings is ~9 TB at 1,000 factories (docs/deploy.md); older ones are in the lake.
  database: { minAcu: 1, maxAcu: 16, readingRetentionMonths: 14, nat: "managed", proxy: true },
  timeseries: { kind: "timestream", instanceType: "db.influx.large", storageGb: 400, multiAz: true },
  workflows: { closeTimeZones: mexicoTimeZones },
  monitoring: { iteratorAgeAlarmMs: 60 * 1000, apiErrorsPer5Minutes: 5 },
  logRetention: "3 months",
};

const staging: Omit<StageConfig, "stage"> = {
  ...base,
  production: false,
  stream: { capacity: { mode: "PROVISIONED", shards: 1 }, retentionHours: 7 * 24 },
  database: { ...base.database, maxAcu: 8 },
  timeseries: { kind: "external" },
  workflows: { closeTimeZones: mexicoTimeZones },
  logRetention: "1 month",
};

/** Named stages; any other stage name (a developer's, a pull request's) gets the development shape. */
export const stages = { production, staging } as const;

/**
 * The configuration of `stage`.
 * @example configFor($app.stage).database.maxAcu
 */
export function configFor(stage: string): StageConfig {
  const known = stage in stages ? stages[stage as keyof typeof stages] : undefined;
  return { stage, ...(known ?? { ...base, production: false }) };
}

/** Rules the numbers must keep; the tests run them for every named stage, deploys for the one deployed. */
export function problems(config: StageConfig): string[] {
  const found: string[] = [];
  const { stream, consumer, lake, database } = config;
  if (stream.retentionHours < 7 * 24) found.push("stream retention must be at least 7 days");
  if (consumer.maximumRecordAgeSeconds + 2 * day > stream.retentionHours * hour) {
    found.push("the drainer needs at least 2 days of stream retention after a batch is given up");
  }
  if (consumer.batchSize < 1 || consumer.batchSize > 10_000) found.push("Kinesis batch size must be 1 to 10,000");
  if (consumer.parallelizationFactor < 1 || consumer.parallelizationFactor > 10) found.push("parallelization factor must be 1 to 10");
  if (consumer.maximumRetryAttempts < 0 || consumer.maximumRetryAttempts > 10_000) found.push("maximum retry attempts must be 0 to 10,000");
  if (consumer.maximumRecordAgeSeconds < 60 || consumer.maximumRecordAgeSeconds > 604_800) found.push("maximum record age must be 60 s to 7 days");
  if (consumer.timeoutSeconds > 900) found.push("a Lambda runs at most 900 s");
  if (lake.bufferingSizeMb < 64 || lake.bufferingSizeMb > 128) found.push("Firehose with Parquet conversion buffers 64 to 128 MiB");
  if (lake.bufferingIntervalSeconds < 0 || lake.bufferingIntervalSeconds > 900) found.push("Firehose buffers at most 900 s");
  if (database.minAcu > database.maxAcu) found.push("min ACU above max ACU");
  if (database.maxAcu > 256) found.push("Aurora Serverless v2 scales to at most 256 ACU");
  if (database.minAcu === 0 && !database.pauseAfter) found.push("0 ACU needs pauseAfter (scale to zero)");
  if (config.production && database.minAcu === 0) found.push("production must not pause: the consumer writes all the time");
  if (database.readingRetentionMonths < 14) found.push("reading retention must exceed the 13 months of partitions kept back");
  if (config.workflows.closeTimeZones.length === 0) found.push("the monthly close needs at least one time zone");
  return found;
}
