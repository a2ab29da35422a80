/**
 * The gateway's configuration file (`wattflow edge run --config FILE`) and every number the agent
 * depends on, with the reason it has that value.
 */
import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { z } from "zod";
import { models } from "./meter/maps";
import { MapFileError } from "./meter/registers";

/** Default outbox cap: a reading takes ~335 bytes with its indexes, so 30 days of 200 meters (1,728,000 readings) is ~580 MB; 1 GiB holds ~55 days. */
export const defaultMaxBytes = 1024 * 1024 * 1024;
/** Warn loudly from this share of the cap on: at 50 % (~28 days of 200 meters) it still has weeks before it must bridge a gap. */
export const warnShare = 0.5;

/** Upload: Kinesis takes ≤ 500 records and ≤ 5 MiB per PutRecords; the ingest API takes ≤ 500 readings per POST. */
export const upload = {
  maxRecords: 500,
  maxBytes: 5 * 1024 * 1024,
  /** First retry delay after a failure; doubles (with full jitter) to `maxBackoffMs`. */
  baseBackoffMs: 200,
  maxBackoffMs: 30_000,
  /** Failed entries of one PutRecords are resent this many times before the batch goes back to the queue. */
  partialRetries: 5,
  /** How long the agent stays on the HTTP route before it tries Kinesis again. */
  probeKinesisMs: 30_000,
  /** A Kinesis or HTTP call that takes longer is treated as the route being down. */
  requestTimeoutMs: 10_000,
  connectTimeoutMs: 3_000,
  /** Batches in flight at once: each call waits mostly on the far side's disk; more than 2 only queues there. */
  concurrency: 2,
} as const;

/** Per-request timeout, tries after the first, and silence between frames (defaults in modbusBus, @wattflow/core/config). */
const busTiming = {
  timeoutMs: z.number().int().min(10).max(60_000).optional(),
  retries: z.number().int().min(0).max(5).optional(),
  interFrameMs: z.number().min(0).max(1_000).optional(),
};

/** An RS-485 line through a serial port: Modbus RTU. */
export const SerialBus = z
  .object({
    path: z.string().min(1),
    baudRate: z.number().int().positive(),
    parity: z.enum(["none", "even", "odd"]),
    dataBits: z.union([z.literal(7), z.literal(8)]),
    stopBits: z.union([z.literal(1), z.literal(2)]),
    ...busTiming,
  })
  .strict();

/** A Modbus TCP gateway in front of a serial line; `rtuOverTcp` when it passes RTU frames through unchanged. */
export const TcpBus = z
  .object({ host: z.string().min(1), port: z.number().int().min(1).max(65535), rtuOverTcp: z.boolean().optional(), ...busTiming })
  .strict();

export const Meter = z.object({
  id: z.string().regex(/^mtr_[0-9a-z]{26}$/, "meters[].id must look like mtr_…"),
  /** "sim", or a meter model with a map file in packages/edge/maps/ (sdm630, em24, …). */
  driver: z.string().min(1),
  /** The named bus it hangs on (`buses`), with its `unitId`; or `host`/`port` for a meter of its own on Modbus TCP. */
  bus: z.string().optional(),
  /** sim: the seed that makes its values. */
  seed: z.number().int().optional(),
  /** sim: a counter meter whose energy register (stepping at each 5-minute boundary of the true time) the agent reads like a Modbus meter's, instead of intervals. */
  counter: z.boolean().optional(),
  /** sim: rated load in kW (default 200). */
  ratedKw: z.number().positive().optional(),
  /** sim: hours to add to UTC for the factory's local clock, so its shifts fall on local hours (default 0; Hermosillo −7). */
  utcOffsetHours: z.number().min(-12, "utcOffsetHours is −12…14").max(14, "utcOffsetHours is −12…14").optional(),
  host: z.string().optional(),
  port: z.number().int().min(1).max(65535).optional(),
  unitId: z.number().int().min(0).max(247).optional(),
  /** CT ratio: applies to current, power and energy. */
  ct: z.number().positive().optional(),
  /** VT ratio: applies to voltage, power and energy. */
  vt: z.number().positive().optional(),
  /** The most the circuit can draw (kW): a larger counter delta is held as suspect, never a reading. Without it the limit comes from `ct` or the model's class (rating.ts). */
  maxKw: z.number().positive().optional(),
  /** Rated CT secondary current, A (1 or 5; default 5): with `ct` gives the rated primary current. */
  ctSecondaryA: z.number().positive().optional(),
  /** Nominal line-to-neutral voltage of the circuit, V (e.g. 127 for 220/127 V; default the model's nominal × `vt`). */
  nominalV: z.number().positive().optional(),
  /** Phases of the circuit (default the model's: 3). */
  phases: z.union([z.literal(1), z.literal(3)]).optional(),
  /** Reads that confirm a counter reset or meter swap (default counterValidation.confirmReads in @wattflow/core/config). */
  confirmReads: z.number().int().min(2).max(288).optional(),
});
export type Meter = z.infer<typeof Meter>;

export const Config = z
  .object({
    deviceId: z.string().regex(/^dev_[0-9a-z]{26}$/, "deviceId must look like dev_…"),
    token: z.string().min(1, "token is required"),
    api: z.object({ url: z.string().url("api.url must be a URL") }),
    kinesis: z
      .object({
        endpoint: z.string().url().optional(),
        stream: z.string().min(1),
        region: z.string().min(1),
        credentials: z.object({ accessKeyId: z.string(), secretAccessKey: z.string(), sessionToken: z.string().optional() }).optional(),
      })
      .optional(),
    dataDir: z.string().min(1),
    /** Named Modbus buses: serial lines (`path`, `baudRate`, …) or TCP gateways (`host`, `port`). */
    buses: z.record(z.string().regex(/^[A-Za-z0-9_.-]+$/, "bus names are letters, digits, _ . -"), z.union([SerialBus, TcpBus])).optional(),
    /** May be empty on a gateway whose meters come from the cloud (a new one, enrolled before any meter is wired). */
    meters: z.array(Meter),
    clock: z
      .object({
        start: z.string().datetime({ offset: true }),
        speed: z.number().positive(),
        /**
         * Virtual time (clock.ts `virtual`): the clock moves only when the agent waits on it, so each read and each
         * fault lands on the simulated instant planned for it whatever the machine's load (tests, replays).
         */
        virtual: z.boolean().optional(),
        /** The simulated board's wall-clock faults (clock.ts WallFault): offset from the true time and NTP state from a simulated second on. */
        faults: z
          .array(z.object({ afterSeconds: z.number().min(0), offsetMs: z.number().int(), ntpSynchronized: z.boolean() }).strict())
          .max(100)
          .optional(),
      })
      .optional(),
    /**
     * Trusted time (trust.ts): the NTP sync source — "systemd" (default on the real clock), a marker file
     * `{ "file": PATH }`, "simulated" (default on a simulated clock: its faults) or "none" (the cloud's time only) —
     * and how far the clock may be from the cloud's time or step, seconds (default 30).
     */
    time: z
      .object({
        ntp: z.union([z.enum(["systemd", "simulated", "none"]), z.object({ file: z.string().min(1) }).strict()]).optional(),
        toleranceSeconds: z.number().positive().max(3600).optional(),
      })
      .strict()
      .optional(),
    until: z.string().datetime({ offset: true }).optional(),
    /** Outbox disk cap and warning level, in bytes. */
    outbox: z.object({ maxBytes: z.number().int().positive().optional(), warnBytes: z.number().int().positive().optional() }).optional(),
    /** Backlog readings per second at most (fresh readings always go first); heartbeat period in ms. */
    uploadLimits: z.object({ backlogPerSecond: z.number().positive().optional(), heartbeatMs: z.number().int().positive().optional() }).optional(),
    /** The meters from the cloud (GET /v1/devices/self/config, cloud-config.ts): on unless `enabled` is false; fetched every `intervalMs` (default 300,000). */
    cloudConfig: z
      .object({ enabled: z.boolean().optional(), intervalMs: z.number().int().min(1_000).max(86_400_000).optional() })
      .strict()
      .optional(),
  })
  .superRefine((config, ctx) => {
    if (config.meters.length === 0 && config.cloudConfig?.enabled === false)
      ctx.addIssue({ code: "custom", path: ["meters"], message: "meters must list at least one meter (or leave cloudConfig on so the cloud lists them)" });
    const known = models();
    const units = new Map<string, number>();
    config.meters.forEach((meter, index) => {
      const at = (key: string) => ["meters", index, key];
      if (meter.driver === "sim") return;
      if (!known.includes(meter.driver))
        ctx.addIssue({ code: "custom", path: at("driver"), message: `no meter map "${meter.driver}": use sim or one of ${known.join(", ")}` });
      if (meter.bus !== undefined && meter.host !== undefined)
        ctx.addIssue({ code: "custom", path: at("bus"), message: "give bus (with unitId) or host, not both" });
      else if (meter.bus === undefined && !meter.host)
        ctx.addIssue({ code: "custom", path: at("host"), message: `a ${meter.driver} meter needs bus and unitId, or host` });
      if (meter.bus === undefined) return;
      if (!config.buses?.[meter.bus])
        ctx.addIssue({ code: "custom", path: at("bus"), message: `no bus "${meter.bus}" in buses (${Object.keys(config.buses ?? {}).join(", ") || "none"})` });
      // Unit 0 is the broadcast address: nothing answers it.
      if (!meter.unitId) ctx.addIssue({ code: "custom", path: at("unitId"), message: "a meter on a bus needs its unitId (1…247)" });
      const key = `${meter.bus}#${meter.unitId}`;
      const other = units.get(key);
      if (other !== undefined)
        ctx.addIssue({ code: "custom", path: at("unitId"), message: `unit ${meter.unitId} on bus ${meter.bus} is also meters.${other}` });
      else units.set(key, index);
    });
    const ids = config.meters.map((meter) => meter.id);
    if (new Set(ids).size !== ids.length) ctx.addIssue({ code: "custom", path: ["meters"], message: "meter ids must be unique" });
  });
export type Config = z.infer<typeof Config>;

export class ConfigError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "ConfigError";
  }
}

/** Reads and checks a config file; `dataDir` is resolved against the file's folder. */
export function load(path: string): Config {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, "utf8"));
  } catch (error) {
    throw new ConfigError(`cannot read config ${path}: ${(error as Error).message}`, { cause: error });
  }
  let parsed: ReturnType<typeof Config.safeParse>;
  try {
    parsed = Config.safeParse(json);
  } catch (error) {
    // The meter maps are read while checking the meters' drivers: a broken map file stops the gateway with its name.
    if (error instanceof MapFileError) throw new ConfigError(`cannot check config ${path}: ${error.message}`, { cause: error });
    throw error;
  }
  if (!parsed.success) {
    throw new ConfigError(
      `config ${path} is not valid: ${parsed.error.issues.map((issue) => `${issue.path.join(".") || "(root)"}: ${issue.message}`).join("; ")}`,
    );
  }
  return { ...parsed.data, dataDir: resolve(dirname(resolve(path)), parsed.data.dataDir) };
}
