/**
 * Ingestion, one processing path: gateways put readings on the stream (directly, or through
 * POST /v1/ingest → `submit`), and the stream consumer (`consume`) validates, stores them on the
 * 5-minute grid (ingest/slots.ts), prices each slot and forwards the slots to the lake.
 */
import { and, isNull, lt } from "drizzle-orm";
import { z } from "zod";
import { ingestMaxReadings, retryAfterSeconds } from "../config";
import { Cost } from "../cost";
import { Database } from "../database";
import { Device, type Identity } from "../device";
import { Gateway } from "../device/gateway";
import { Signature } from "../device/signature";
import { Lake } from "../lake";
import { Meter } from "../meter";
import { Quarantine } from "../quarantine";
import { Reading } from "../reading";
import { Grid } from "../reading/grid";
import { readingTable } from "../reading/reading.sql";
import { Stream } from "../stream";
import { Tariff } from "../tariff";
import { TariffStore } from "../tariff/store";
import { TimeSeries } from "../timeseries";
import { jsonPath, type Problem, VisibleError } from "../util/error";
import { keyFilter, Slots } from "./slots";

export * as Ingest from "./index";

export const Envelope = z.object({
  readings: z
    .array(z.unknown(), { error: "readings must be an array" })
    .min(1, "readings must hold at least one reading")
    .max(ingestMaxReadings, `readings must hold at most ${ingestMaxReadings} readings per request`),
});

export type Rejected = { index: number; errors: Problem[] };
export type SubmitResult = { accepted: number; duplicates: number; rejected: Rejected[] };

/**
 * Validates a gateway's batch and puts its valid, new readings on the stream.
 * Throws VisibleError("input") for a malformed envelope and ("unavailable") when the stream cannot
 * take the batch now; the gateway keeps the batch and retries, and the consumer dedups.
 */
export async function submit(device: Identity, body: unknown, now = new Date()): Promise<SubmitResult> {
  const envelope = Envelope.safeParse(body);
  if (!envelope.success) {
    throw new VisibleError(
      "input",
      "ingest.invalid_envelope",
      "The request body must be { readings: [...] } with 1 to 500 readings",
      envelope.error.issues.map((issue) => ({ path: jsonPath(issue.path), message: issue.message })),
    );
  }
  const rejected: Rejected[] = [];
  const valid: { index: number; reading: Reading.Input }[] = [];
  envelope.data.readings.forEach((input, index) => {
    const result = Reading.validate(input, now, ["readings", index]);
    if (result.ok) valid.push({ index, reading: result.value });
    else rejected.push({ index, errors: result.problems });
  });

  const owners = await Meter.owners(valid.map((item) => item.reading.meterId));
  const seen = new Set<string>();
  let duplicates = 0;
  const owned = valid.filter(({ index, reading }) => {
    const owner = owners.get(reading.meterId);
    if (!owner || owner.deviceId !== device.id) {
      // Unknown and foreign meters get the same answer: a device must not learn which ids exist.
      rejected.push({ index, errors: [{ path: jsonPath(["readings", index, "meterId"]), message: `meter ${reading.meterId} is not read by this device` }] });
      return false;
    }
    // Only an identical repeat is a duplicate here: another interval or value for the same start is settled on the grid.
    const key = `${Reading.key(reading)}+${reading.seconds}s=${reading.kwh}`;
    if (seen.has(key)) {
      duplicates++;
      return false;
    }
    seen.add(key);
    return true;
  });

  // Settled against the stored grid as the consumer will: new slots go on, identical re-deliveries are
  // duplicates, and a reading that contradicts measured slots is refused here with its reason.
  const outcomes = await Slots.check(owned.map((item) => item.reading));
  const fresh = owned.filter(({ index }, position) => {
    const outcome = outcomes[position] as Slots.Outcome;
    if (outcome.kind === "duplicate") duplicates++;
    if (outcome.kind === "conflict") rejected.push({ index, errors: [{ path: jsonPath(["readings", index]), message: outcome.message }] });
    return outcome.kind === "stored";
  });

  if (fresh.length > 0) {
    const receivedAt = now.toISOString();
    const secret = await Gateway.recordSecret();
    await putAll(
      fresh.map(({ reading }) => {
        // Signed by the API: the consumer takes "via http" only with this signature (device/signature.ts).
        const record: Reading.StreamRecord = { v: 1, deviceId: device.id, via: "http", receivedAt, reading };
        return { partitionKey: reading.meterId, data: Reading.encodeRecord({ ...record, sig: Signature.signServer(record, secret) }) };
      }),
    );
  }
  await Device.touch([device.id], now);
  rejected.sort((a, b) => a.index - b.index);
  return { accepted: fresh.length, duplicates, rejected };
}

/** Puts records, resending only failed entries a few times; a batch the stream still refuses is a 503. */
async function putAll(entries: Stream.PutEntry[]): Promise<void> {
  const stream = await Stream.use();
  let pending = entries;
  for (let attempt = 1; pending.length > 0; attempt++) {
    let results: Stream.PutResult[];
    try {
      results = await stream.put(pending);
    } catch (error) {
      if (error instanceof Stream.StreamUnavailableError) {
        throw new VisibleError("unavailable", "ingest.stream_unavailable", "The stream cannot take readings right now; retry later", [], retryAfterSeconds);
      }
      throw error;
    }
    pending = pending.filter((_, index) => !results[index]?.ok);
    if (pending.length > 0 && attempt >= 3) {
      throw new VisibleError(
        "unavailable",
        "ingest.stream_throttled",
        `The stream refused ${pending.length} of the readings; retry later`,
        [],
        retryAfterSeconds,
      );
    }
    if (pending.length > 0) await new Promise((resolve) => setTimeout(resolve, 50 * 2 ** attempt));
  }
}

/** One stream record as the consumer gets it. */
export type StreamInput = {
  data: Uint8Array;
  sequenceNumber: string;
  partitionKey: string;
  shardId?: string;
  arrivalMs: number;
};

export type ConsumeResult = {
  stored: number;
  duplicates: number;
  quarantined: number;
  forwarded: number;
  /** Records stored but not forwarded because the lake failed: report them as batch item failures. */
  retry: string[];
};

/**
 * The consumer's work for one batch. Bad records go to quarantine and never block the others; an
 * infrastructure failure (database, lake) throws, and the event source mapping retries the batch,
 * which is safe: inserts skip stored keys, and whatever is stored but not yet in the lake is forwarded.
 */
export async function consume(records: readonly StreamInput[], now = new Date()): Promise<ConsumeResult> {
  const quarantine: Quarantine.Entry[] = [];
  const decoded: { input: StreamInput; record: Reading.StreamRecord }[] = [];
  for (const input of records) {
    const result = Reading.decodeRecord(input.data, now);
    if (result.ok) decoded.push({ input, record: result.value });
    else quarantine.push(quarantineEntry(input, "invalid record", result.problems));
  }

  const owners = await Meter.owners(decoded.map((item) => item.record.reading.meterId));
  const tariffs = await TariffStore.versions([...new Set([...owners.values()].map((owner) => owner.factoryId))]);
  const candidates: Slots.Candidate[] = [];
  const inputOfCandidate: StreamInput[] = [];
  const sequenceOfRow: string[] = [];
  const devices = new Set<string>();
  for (const { input, record } of decoded) {
    const reading = record.reading;
    const owner = owners.get(reading.meterId);
    if (!owner || owner.deviceId !== record.deviceId) {
      const message = owner ? `device ${record.deviceId} does not read meter ${reading.meterId}` : `meter ${reading.meterId} is not registered`;
      quarantine.push({
        ...quarantineEntry(input, owner ? "meter not read by this device" : "unknown meter", [{ path: "reading.meterId", message }]),
        organizationId: owner?.organizationId ?? null,
        deviceId: record.deviceId,
      });
      continue;
    }
    // Kinesis credentials do not say which device wrote a record: its signature does.
    const unsigned = await Gateway.verifyRecord(input.data, record.deviceId);
    if (unsigned) {
      quarantine.push({
        ...quarantineEntry(input, "signature not valid for this device", [{ path: "sig", message: unsigned }]),
        organizationId: owner.organizationId,
        deviceId: record.deviceId,
      });
      continue;
    }
    devices.add(record.deviceId);
    const tariffsOfFactory = tariffs.get(owner.factoryId) ?? [];
    sequenceOfRow.push(input.sequenceNumber);
    inputOfCandidate.push(input);
    candidates.push({
      reading,
      maxKw: owner.maxKw,
      // Each slot is priced by its own start: a span crossing a period, day, month or tariff version lands in each.
      // A slot with no tariff in force is still stored (energy is never dropped); the cost recompute prices it later.
      price: (start, kwh) => {
        const version = Tariff.inForce(tariffsOfFactory, start);
        return version ? Cost.price({ kwh, start }, version, { timeZone: owner.timeZone }) : undefined;
      },
      base: {
        meterId: reading.meterId,
        intervalSeconds: reading.seconds,
        factoryId: owner.factoryId,
        deviceId: record.deviceId,
        kvarh: reading.kvarh ?? null,
        kwAvg: reading.kwAvg ?? null,
        kwMax: reading.kwMax ?? null,
        pf: reading.pf ?? null,
        voltage: reading.voltage ?? null,
        current: reading.current ?? null,
        gap: reading.gap ?? false,
        source: record.via,
        receivedAt: record.receivedAt ? new Date(record.receivedAt) : new Date(input.arrivalMs),
      },
    });
  }

  const { rows: inserted, outcomes } = await Slots.store(candidates, now);
  outcomes.forEach((outcome, index) => {
    if (outcome.kind !== "conflict") return;
    const input = inputOfCandidate[index] as StreamInput;
    const candidate = candidates[index] as Slots.Candidate;
    quarantine.push({
      ...quarantineEntry(input, "conflicts with stored slots", [{ path: "reading", message: outcome.message }]),
      deviceId: candidate.base.deviceId,
    });
  });
  await Quarantine.add(quarantine);
  await Device.touch(
    [...devices].filter((id) => decoded.some((item) => item.record.deviceId === id && item.record.via === "kinesis")),
    now,
  );
  const counted = (kind: Slots.Outcome["kind"]) => outcomes.filter((outcome) => outcome.kind === kind).length;
  const counts = { stored: counted("stored"), duplicates: counted("duplicate"), quarantined: quarantine.length };
  try {
    // New and re-spread slots go straight to the lake; a duplicate's slots are forwarded only if they never
    // reached the lake (the crash between the two writes), which costs a query only when there are duplicates.
    const duplicates = candidates
      .filter((_, index) => outcomes[index]?.kind === "duplicate")
      .flatMap(({ reading }) =>
        Grid.slots({ start: new Date(reading.start), seconds: reading.seconds, kwh: reading.kwh }).map((slot) => ({
          meterId: reading.meterId,
          start: slot.start,
        })),
      );
    const forwarded = (await deliver(inserted)) + (await forward(duplicates));
    return { ...counts, forwarded, retry: [] };
  } catch (error) {
    // Stored but not in the lake: a retry of these records finds them stored and forwards them.
    if (!(error instanceof Lake.LakeError)) throw error;
    console.error(`lake write failed; ${candidates.length} reading(s) will be retried: ${error.message}`);
    return { ...counts, forwarded: 0, retry: sequenceOfRow };
  }
}

function quarantineEntry(input: StreamInput, reason: string, errors: Problem[]): Quarantine.Entry {
  return {
    source: "consumer",
    reason,
    errors,
    data: input.data,
    partitionKey: input.partitionKey,
    shardId: input.shardId ?? null,
    sequenceNumber: input.sequenceNumber,
  };
}

type StoredReading = Slots.StoredReading;

/** Writes the stored-but-undelivered readings among `keys` to the lake, then marks them delivered. */
async function forward(keys: readonly { meterId: string; start: Date }[]): Promise<number> {
  if (keys.length === 0) return 0;
  const rows = await Database.use()
    .select()
    .from(readingTable)
    .where(and(keyFilter(keys), isNull(readingTable.lakeDeliveredAt)));
  return deliver(rows);
}

async function deliver(rows: StoredReading[]): Promise<number> {
  if (rows.length === 0) return 0;
  const lake = await Lake.use();
  await lake.put(rows.map((row) => ({ ...row, computedAt: row.computedAt ?? null })));
  // Hot series next: idempotent (one point per meter and interval), so a retried batch re-sends safely.
  await (await TimeSeries.use()).write(rows.map((row) => ({ ...row, computedAt: row.computedAt ?? null })));
  await Database.use()
    .update(readingTable)
    .set({ lakeDeliveredAt: new Date() })
    .where(and(keyFilter(rows.map((row) => ({ meterId: row.meterId, start: row.intervalStart }))), isNull(readingTable.lakeDeliveredAt)));
  return rows.length;
}

/**
 * Forwards readings stored more than `olderThanMs` ago that never reached the lake (a crash between
 * the insert and the lake write whose batch was not retried). Returns how many it forwarded.
 */
export async function sweepUndelivered(options: { olderThanMs: number; limit: number }, now = new Date()): Promise<number> {
  const rows = await Database.use()
    .select()
    .from(readingTable)
    .where(and(isNull(readingTable.lakeDeliveredAt), lt(readingTable.storedAt, new Date(now.getTime() - options.olderThanMs))))
    .limit(options.limit);
  return deliver(rows);
}
