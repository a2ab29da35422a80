/**
 * The reading as gateways send it, and the record that carries it on the stream.
 * Pure: no I/O, so the gateway and the console validate with the same rules.
 */
import { z } from "zod";
import { intervalSeconds, maxIntervalSeconds, maxKwhPer5Minutes, readingWindow } from "../config";
import { jsonPath, type Problem } from "../util/error";
import { Instant } from "../util/instant";

export * as Reading from "./index";

const nonNegative = (what: string) =>
  z
    .number({ error: `${what} must be a number` })
    .finite()
    .min(0, `${what} must not be negative`);

/** One meter's interval, stamped by its start (UTC, on the 5-minute grid). */
export const Input = z
  .object({
    meterId: z.string({ error: "meterId is required" }).regex(/^mtr_[0-9a-z]{26}$/, "meterId must look like mtr_…"),
    // A real UTC time (2026-04-31 and T24:00 refused, never rolled over); its window is checked in `validate`.
    start: z.string({ error: "start is required (ISO 8601 UTC)" }).superRefine((value, ctx) => {
      const parsed = Instant.parse(value, { zone: { kind: "utc" } });
      if (!parsed.ok) ctx.addIssue({ code: "custom", message: `start ${parsed.message}` });
      else if (parsed.value % (intervalSeconds * 1000) !== 0) ctx.addIssue({ code: "custom", message: "start must be on the 5-minute grid (:00, :05, …)" });
    }),
    seconds: z
      .number({ error: "seconds is required" })
      .int("seconds must be a whole number")
      .min(intervalSeconds, `seconds must be at least ${intervalSeconds}`)
      .max(maxIntervalSeconds, `seconds must be at most ${maxIntervalSeconds}`)
      .refine((value) => value % intervalSeconds === 0, `seconds must be a multiple of ${intervalSeconds}`),
    kwh: nonNegative("kwh"),
    kvarh: z.number().finite().optional(),
    kwAvg: nonNegative("kwAvg").optional(),
    kwMax: nonNegative("kwMax").optional(),
    pf: z.number().finite().min(-1, "pf must be between -1 and 1").max(1, "pf must be between -1 and 1").optional(),
    voltage: nonNegative("voltage").optional(),
    current: nonNegative("current").optional(),
    /** The gateway bridged a gap (outage, full disk) with one longer interval. */
    gap: z.boolean().optional(),
  })
  .superRefine((reading, ctx) => {
    const limit = (maxKwhPer5Minutes * reading.seconds) / intervalSeconds;
    if (reading.kwh > limit)
      ctx.addIssue({ code: "custom", path: ["kwh"], message: `kwh ${reading.kwh} is more than any circuit can use in ${reading.seconds} s (limit ${limit})` });
    if (reading.kwMax !== undefined && reading.kwAvg !== undefined && reading.kwMax < reading.kwAvg)
      ctx.addIssue({ code: "custom", path: ["kwMax"], message: "kwMax must not be below kwAvg" });
  });
export type Input = z.infer<typeof Input>;

/** What travels on the stream: one reading per record, partition key = meter id. */
export const StreamRecord = z.object({
  v: z.literal(1, { error: "v must be 1" }),
  deviceId: z.string({ error: "deviceId is required" }).regex(/^dev_[0-9a-z]{26}$/, "deviceId must look like dev_…"),
  /** Which route the reading took from the gateway: straight to Kinesis or through POST /v1/ingest. */
  via: z.enum(["kinesis", "http"], { error: "via must be kinesis or http" }),
  /** When the cloud first received it (the API for the http route, the stream's arrival time otherwise). */
  // The one instant parser: a year Postgres cannot hold (0000) is an invalid record, not a failing batch.
  receivedAt: Instant.schema("receivedAt", { kind: "utc" }).optional(),
  reading: z.unknown(),
  /** Who wrote the record: the device's Ed25519 signature (via kinesis) or the API's (via http); see device/signature.ts. */
  sig: z.string().optional(),
});
export type StreamRecord = Omit<z.infer<typeof StreamRecord>, "reading"> & { reading: Input };

export type Validation<T> = { ok: true; value: T } | { ok: false; problems: Problem[] };

/** Validates one reading; `now` is passed in so this stays pure. Paths are prefixed (`readings.3.kwh`). */
export function validate(input: unknown, now: Date, prefix: ReadonlyArray<PropertyKey> = []): Validation<Input> {
  const parsed = Input.safeParse(input);
  if (!parsed.success) {
    return { ok: false, problems: parsed.error.issues.map((issue) => ({ path: jsonPath(issue.path, prefix), message: issue.message })) };
  }
  const window = Instant.readingsWindow(now);
  const startMs = Date.parse(parsed.data.start);
  const endMs = startMs + parsed.data.seconds * 1000;
  const problem =
    startMs < window.fromMs
      ? `start ${parsed.data.start} is more than ${readingWindow.pastYears} years old (the oldest a gateway's backlog can hold); the earliest accepted is ${Instant.format(window.fromMs)}`
      : endMs > window.toMs
        ? `interval ${parsed.data.start} (+${parsed.data.seconds} s) ends in the future; is the gateway clock right?`
        : undefined;
  if (problem) return { ok: false, problems: [{ path: jsonPath(["start"], prefix), message: problem }] };
  return { ok: true, value: parsed.data };
}

/** The path of the one problem of a record whose bytes are not UTF-8 JSON (quarantine codes it `record.not_json`). */
export const notJsonPath = "(record)";

/** Decodes and validates a stream record's bytes. */
export function decodeRecord(data: Uint8Array, now: Date): Validation<StreamRecord> {
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(data));
  } catch (error) {
    return { ok: false, problems: [{ path: notJsonPath, message: `not UTF-8 JSON: ${(error as Error).message}` }] };
  }
  const envelope = StreamRecord.safeParse(json);
  if (!envelope.success) {
    return { ok: false, problems: envelope.error.issues.map((issue) => ({ path: jsonPath(issue.path), message: issue.message })) };
  }
  const reading = validate(envelope.data.reading, now, ["reading"]);
  if (!reading.ok) return reading;
  return { ok: true, value: { ...envelope.data, reading: reading.value } };
}

export function encodeRecord(record: StreamRecord): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(record));
}

/** The key that makes delivery exactly-once: one reading per meter and interval start. */
export function key(reading: Pick<Input, "meterId" | "start">): string {
  return `${reading.meterId}@${new Date(reading.start).toISOString()}`;
}
