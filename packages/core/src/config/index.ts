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

/**
 * How old and how far ahead a reading's instant (and a customer file's date) may be when it arrives.
 * Past: the longest backlog a gateway outbox can deliver. The outbox is capped at 1 GiB at ~335 bytes
 * a reading (edge/src/config.ts `defaultMaxBytes`): 55 days of 200 meters, but decades of a gateway
 * with a few meters, so the cap alone does not bound it in time; 5 years bounds it and covers an
 * ISO 50001 baseline year backfilled later (a 2023 baseline in 2027). Future: the clock skew allowed.
 * The lake's partition projection (Athena) and the local lake's view take their range from this too
 * (`Instant.lakeRange`), so every accepted reading is visible to analytics.
 */
export const readingWindow = { pastYears: 5, futureSeconds: maxClockSkewSeconds } as const;

/**
 * Instants any query or stored value may name: from the Unix epoch (no meter data is older; Postgres
 * refuses year 0000) to the last instant Flux and InfluxDB hold (int64 nanoseconds since 1970).
 */
export const instantBounds = { from: "1970-01-01T00:00:00Z", to: "2262-04-11T23:47:16Z" } as const;

/**
 * Customer files. fileBytes: 1 M production rows in CSV are ~35 MB, so 100 MiB leaves room.
 * XLSX files are ZIPs whose parts inflate many times over (a 419 KB file inflated to 400 MB): they are
 * refused before inflating when the central directory declares more than `xlsxInflatedBytes` in all
 * (100,000 rows of 4 cells measured 18.4 MB of sheet XML, so 1 M rows are ~184 MB) or a sheet's
 * dimension spans more than `xlsxRows` rows (Excel's own limit per sheet).
 */
export const importLimits = {
  fileBytes: 100 * 1024 * 1024,
  xlsxInflatedBytes: 256 * 1024 * 1024,
  xlsxRows: 1_048_576,
  /** Parsing yields to the event loop at least this often (ms), so /health answers during a large import. */
  yieldEveryMs: 20,
} as const;

/**
 * Request body limits per route, in bytes, refused with 413 while the body streams in.
 * - ingest: 500 readings (`ingestMaxReadings`) of at most 1 KiB each. The largest reading the schema
 *   takes (every field, 24-character numbers, a 9-digit fraction on start) is 336 bytes as compact
 *   JSON and 535 pretty-printed with 4 spaces (functions/test/limits-api.test.ts measures it), so
 *   1 KiB is twice the pretty-printed size.
 * - json: every other JSON route (sign-in, setup, alert rules, replay ids); the largest is a URDB rate
 *   (~30 KB for a tiered TOU rate with demand charges), so 256 KiB is 8 times that.
 * - import: one request of files, each up to `importLimits.fileBytes`, plus the multipart headers.
 */
export const bodyLimits = {
  ingestBytesPerReading: 1024,
  // 500 readings of 1 KiB, and 1 KiB for the envelope.
  ingestBytes: ingestMaxReadings * 1024 + 1024,
  jsonBytes: 256 * 1024,
  importBytes: importLimits.fileBytes + 64 * 1024,
} as const;

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
 * CFE GDMTH/GDMTO billing rules that are numbers (CFE's GDMTH tariff page §7.1–7.3, citing CRE Acuerdo A/158/2024).
 * `demandRounding`: "Cualquier fracción de kilowatt de demanda medida se tomará como kilowatt completo" — measured
 * demand rounds up. The text gives no rounding for the computed Q / (24 · d · FC) figure, yet the bill prints whole kW;
 * the only kW rounding rule in the tariff (also used for contracted demand) is "any fraction is a whole kW", so the
 * computed figure rounds up too. Change `computedDemandRounding` to "nearest" if a published bill shows otherwise.
 */
export const cfeBilling = {
  measuredDemandRounding: "up",
  computedDemandRounding: "up",
  /**
   * Which month's published prices bill a period that spans two calendar months (28 Feb – 31 Mar): "end", the
   * month of its last day — the month the bill is issued for and the one CFE's tariff page is consulted by
   * ("cuotas aplicables en el mes de …"). No CFE or CRE text saying so was found (nor one prorating by days):
   * unconfirmed; "start" is the other choice.
   */
  periodPriceMonth: "end" as "end" | "start",
  /**
   * The longest billing period a bill is computed for, days. CFE bills GDMTH/GDMTO monthly between two meter
   * readings (28–35 days in practice); 62 leaves room for a reading taken a month late. A longer period would be
   * billed with one month's fixed charge and load-factor cap: a wrong input, refused at period.end.
   */
  maxPeriodDays: 62,
  /**
   * The power-factor threshold a tariff or bill request may set, percent. Tariffs use 80–97 %; a value under 50
   * is a fraction typed for a percent (0.95 for 95), which would turn every bill's surcharge into the maximum bonus.
   */
  powerFactorThresholdMin: 50,
  /**
   * A closed bill whose readings cover less than this share of its period (readings stored ÷ the basis meters'
   * 5-minute slots) says so on the bill, the PDF and the console: CFE's meter counts the whole period, ours only
   * what arrived, so such a bill is short of CFE's by the energy and demand of the missing part. 0.98 lets a day's
   * outage of a month (3 %) be flagged, and a few missed readings not.
   */
  billCoverageWarning: 0.98,
} as const;

/**
 * The power-factor threshold (percent) of CFE's bonus/surcharge formulas, effective-dated by bill month and
 * decided by the supply contract. 90 is the tariff text's. Since the January 2024 bills CFE has used 95 for
 * high-voltage supply and for medium-voltage supply with 1 MW or more contracted, citing the grid code
 * (Código de Red); the legal basis is disputed in the press, hence data, overridable per factory
 * (`powerFactorThreshold` on the tariff). A 97 % step from April 2026 is unconfirmed and not listed.
 * A rule applies from its month when all its conditions hold; the latest applicable `from` wins.
 */
export const powerFactorThresholds: readonly {
  from: string;
  threshold: number;
  supplyVoltage?: "medium" | "high";
  contractedDemandKwAtLeast?: number;
}[] = [
  { from: "1900-01", threshold: 90 },
  { from: "2024-01", threshold: 95, supplyVoltage: "high" },
  { from: "2024-01", threshold: 95, supplyVoltage: "medium", contractedDemandKwAtLeast: 1000 },
];

/**
 * Gateway counter validation (packages/edge/src/counter.ts, issue 12). A meter that answers 0 or a
 * smaller total for a read or two (it was rebooting, a Modbus gateway answered for it) must not
 * become a reading; a counter really reset or a meter really swapped must be believed in the end.
 */
export const counterValidation = {
  /**
   * Consecutive reads, each continuing the one before and moving from the new base, that confirm a
   * reset or a meter swap; a counter back on its old line before that was a glitch. 3 reads (15 minutes)
   * outlast a meter's reboot (seconds to a couple of minutes) and keep a real reset's hold short.
   */
  confirmReads: 3,
  /** Allowance over a meter's rating for counter rounding (EM24 counts 0.1 kWh: 1.2 kW over 5 minutes). */
  roundingShare: 0.01,
} as const;

/**
 * Upper bounds of what a person types about a plant, so a slip (1e308, a pasted paragraph) is refused with the
 * field's name instead of turning a bill into Infinity or a PDF into pages of one name. Generous by design: the
 * largest CFE supplies (DIT, 220–400 kV) are a few hundred MW; CT ratios reach 50,000/5 and VT ratios 400 kV/110 V.
 */
export const plantLimits = {
  /** kW: contracted demand, a meter's rating. */
  maxKw: 1_000_000,
  /** A current or voltage transformer's ratio (dimensionless). */
  maxTransformerRatio: 100_000,
  /** A meter's multiplier (CT × VT, or a pulse weight). */
  maxMultiplier: 100_000_000,
  /** Characters of a factory's, meter's, line's or gateway's name (printed on the bill PDF and the console). */
  nameChars: 200,
} as const;

/**
 * The most a metered circuit can draw, from its current transformers and voltage (packages/edge/src/rating.ts):
 * P = phases × V_LN × I × PF, PF ≤ 1 (three-phase √3 × V_LL × I is the same with V_LL = √3 × V_LN).
 */
export const meterRating = {
  /** IEC 61869-2: a CT keeps its accuracy up to 120 % of rated primary current, and meters take 1.2 × In. */
  ctOverrange: 1.2,
  /** IEC 60038: supply voltage stays within ±10 % of nominal. */
  voltageTolerance: 1.1,
  /** Rated CT secondary when not configured: 5 A, the larger of IEC 61869-2's two (1 A, 5 A), so the limit errs high. */
  ctSecondaryA: 5,
} as const;

/**
 * Modbus buses at the gateway (packages/edge/src/meter/bus.ts, issue 18). One request at a time per
 * bus; a meter that does not answer costs its bus at most (2 × retries + 1) × timeoutMs per cycle (each
 * retry waits a timeout for a late answer to pass first), and then only timeoutMs while it stays silent,
 * so 32 meters with a few dead ones still read in seconds of a 300 s slot.
 */
export const modbusBus = {
  /** A meter at 9,600 baud answers a 2-register read in ~25 ms of line time plus its own turnaround (Eastron and Carlo Gavazzi give ≤ 100 ms); 500 ms waits out a slow one without letting a dead one hold the bus. */
  timeoutMs: 500,
  /** One more try after a timeout or CRC error: RS-485 noise spoils a single frame now and then, rarely two in a row. */
  retries: 1,
  /** Modbus over Serial Line V1.02 §2.5.1.1: frames are separated by ≥ 3.5 character times of silence… */
  interFrameChars: 3.5,
  /** …and above 19,200 baud by a fixed 1.75 ms. */
  minInterFrameMs: 1.75,
  /** A TCP gateway (Modbus TCP or RTU over TCP) answers through its own serial line: the same timeout and retry. */
  connectTimeoutMs: 3_000,
} as const;

/**
 * A lake query that meets an unreadable Parquet file sets it aside and runs again; after this many
 * in one query the lake is not torn but broken (a disk gone read-only, the wrong folder), and the
 * error is raised instead of emptying the lake file by file.
 */
export const lakeUnreadableFilesPerQuery = 20;

/** A webhook gets this long to answer; a slow receiver must not hold up the evaluation of other rules. */
export const webhookTimeoutMs = 10_000;
/** Most readings the sweeper forwards per run: one lake file and one series write of this size take a few seconds, well inside a run. */
export const deliverySweepLimit = 5000;

/** How often the undelivered-readings sweeper runs on AWS (stacks/stream.ts): as often as locally, within a minute of a lake outage ending. */
export const deliverySweepSchedule = "rate(1 minute)";

/**
 * Quarantine keeps a record's bytes whole but its reason and problems as text people read: capped,
 * so a 1 MB garbage record quoted by a parser's message cannot make a 1 MB reason.
 */
export const quarantineTextLimits = {
  reasonChars: 500,
  messageChars: 1000,
  pathChars: 200,
  /** A record with more problems than this keeps the first ones and says how many more. */
  errors: 50,
} as const;

/**
 * Bytes of each record's payload that `GET /v1/quarantine` shows. A record holds up to 1 MiB and the list
 * up to 1,000 records, while a Lambda answer holds 6 MB: whole payloads made the list unanswerable after
 * six 1 MiB records (and a 1.4 GB answer locally). 2 KiB (2.7 KB in base64) is enough to tell what a
 * record is; replay sends the whole bytes from the table.
 */
export const quarantineListPayloadBytes = 2048;

/**
 * When `/health` says degraded. Readings are 5-minute intervals: a backlog older than a minute or an
 * undelivered reading older than two sweeps means the pipeline is not keeping up; more quarantined
 * records in an hour than one large gateway sends in an interval (200 meters) means a cause to fix.
 */
export const health = {
  /** Oldest record not yet handled on any shard (Lambda's IteratorAge). */
  streamMaxAgeMs: 60_000,
  /** Oldest reading stored but not yet in the lake and the series: two sweeps of deliverySweepMs. */
  undeliveredMaxAgeSeconds: 2 * (deliverySweepMs / 1000) + 60,
  /** Records quarantined in the last hour. */
  quarantinedPerHour: 200,
  /** Records kept in the raw archive because quarantine could not take them: any is worth a look. */
  rawArchived: 0,
  /** Each check must answer within this, so one hung component cannot hang the report. */
  checkTimeoutMs: 2000,
} as const;

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

/**
 * How many bill months a URDB `demandratchetpercentage` looks back over: URDB gives only the percentage, and a
 * ratchet commonly runs over "the preceding eleven months" (a ratchet year with the current month); a URDB
 * `lookbackpercent` without `lookbackrange` looks back one more (12). Unconfirmed per utility: a tariff that
 * says otherwise is entered with its own `ratchets`.
 */
export const urdbRatchetLookbackMonths = 11;

/**
 * `wattflow cost`: readings parsed, priced (Cost.priceColumns) and written per batch. Large enough that the
 * per-batch calendar and price lookups vanish against the per-reading work, small enough to stream (≈ 10 MB).
 */
export const costCliBatchReadings = 65_536;

/**
 * The longest demand-ratchet lookback a tariff may set (bill months), and so how far back the monthly close reads
 * stored bills' peaks: ratchets seen in URDB and utility tariffs run 11–12 months; 36 leaves room for multi-year ones.
 */
export const ratchetMaxLookbackMonths = 36;

/**
 * CSV exports (`Export.readingsCsv`): readings are read in keyset pages of `pageRows` (meter, slot) and written
 * as they come, so a year of 200 meters (21 M rows, ~2.5 GB of CSV) never sits in memory; 5,000 rows (~600 KB of
 * CSV) keeps a page's query short and the stream's buffer small. `maxDays`: as the usage route (400 days, a year
 * and a billing month around it).
 */
export const exportLimits = { pageRows: 5000, maxDays: 400 } as const;
