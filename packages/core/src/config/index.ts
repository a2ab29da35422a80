/**
 * Every number the pipeline depends on, with the reason it has that value.
 * Change a limit here, never inline.
 */
export * as Config from "./index";

/** Readings are 5-minute intervals aligned to the clock (DESIGN.md, flow 1). */
export const intervalSeconds = 300;

/** Longest interval a gateway may report: a gap it bridged after an outage (issue 4) is one longer interval. 45 days covers a full outage of a billing month. */
export const maxIntervalSeconds = 45 * 24 * 3600;

/** Kinesis PutRecords takes at most 500 records; one ingest POST maps onto one PutRecords call. */
export const ingestMaxReadings = 500;

/** Kinesis PutRecords limits (edge-and-kinesis.md). */
export const kinesis = {
  maxRecordsPerPut: 500,
  maxRecordBytes: 1024 * 1024,
  maxPutBytes: 5 * 1024 * 1024,
  maxPartitionKeyLength: 256,
} as const;

/** A reading stamped later than now plus this is a gateway clock error, not a reading. */
export const maxClockSkewSeconds = 10 * 60;

/** Seconds a gateway should wait before retrying when the stream cannot take a batch (503 Retry-After). */
export const retryAfterSeconds = 5;

/** The largest kWh one 5-minute reading may carry: a 100 MW circuit for 5 minutes is 8,333 kWh. Anything above is a counter glitch. */
export const maxKwhPer5Minutes = 10_000;

/**
 * Local event source mapping, set like the production subscription (stacks/stream.ts):
 * a batch as large as PutRecords so one gateway batch is one invocation; a short window so
 * a lone reading is costed within a second; retries bounded so a poison batch cannot stall a shard
 * for long before it is archived to quarantine.
 */
export const consumer = {
  batchSize: 500,
  maximumBatchingWindowMs: 200,
  maximumRetryAttempts: 5,
  maximumRecordAgeSeconds: 7 * 24 * 3600,
  bisectBatchOnFunctionError: true,
  /** First retry delay; doubles each attempt up to retryMaxDelayMs. */
  retryBaseDelayMs: 200,
  retryMaxDelayMs: 10_000,
} as const;

/** The local stream keeps shards like Kinesis: 4 lets 4 consumers run in parallel on a 2-core machine without starving the API. */
export const localStream = {
  name: "readings",
  shardCount: 4,
  /** A segment file is rolled at this size so retention can delete whole files. */
  segmentBytes: 64 * 1024 * 1024,
  /** Local retention of consumed records, as the production stream's (stacks/stream.ts). */
  retentionHours: 7 * 24,
} as const;

/** Meters, factories and tariffs change rarely; the consumer caches them this long. */
export const lookupCacheMs = 30_000;

/** Stored readings not yet written to the lake are swept this often (crash between the two writes). */
export const deliverySweepMs = 30_000;

/**
 * Two values for the same energy that differ by at most this many kWh (1 Wh) are the same reading:
 * counters are read to the Wh, and float sums of a span's slots drift by far less.
 */
export const gridToleranceKwh = 0.001;

/** Power factor outside [-1, 1] cannot be; below this magnitude it is a wiring or CT-polarity fault worth a flag. */
export const minPlausiblePowerFactor = 0.2;

/**
 * A meter reading 0 kWh for this many measured slots in a row (2 hours) while another meter of its
 * factory uses energy is flagged `flat_zero`: longer than a line's usual stop, the sign of a stuck
 * meter or an open CT. A flag, not a refusal: the zeros may be true.
 */
export const flatZeroSlots = 24;

/** Longest span listed whole by GET /v1/meters/:id/gaps (a query spans at most this many days). */
export const gapsMaxDays = 92;
