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
  /** Where the quarantined records went: the table, or the raw archive when the table refused them. */
  quarantinedTo: "quarantine" | "archive" | "none";
  forwarded: number;
  /**
   * Readings stored in this batch (or earlier) that could not reach the lake or the series: they
   * stay undelivered in Postgres and the sweeper forwards them. Never reported as record failures:
   * a stored reading retried by the stream would end in quarantine as if it were lost.
   */
  undelivered: number;
};

/**
 * The consumer's work for one batch. Bad records go to quarantine (or, if quarantine refuses them,
 * the raw archive) and never block the others; a database failure throws, and the event source
 * mapping retries the batch, which is safe: inserts skip stored keys, and whatever is stored but
 * not yet in the lake is forwarded. A lake or series outage does not fail the batch (see `undelivered`).
 */
export async function consume(records: readonly StreamInput[], now = new Date()): Promise<ConsumeResult> {
  /** Records to quarantine, with what they claim to be; tied to organizations after the loop, in one query. */
  const refusedRecords: { entry: Quarantine.Entry; claim: Claim }[] = [];
  const decoded: { input: StreamInput; record: Reading.StreamRecord }[] = [];
  for (const input of records) {
    const result = Reading.decodeRecord(input.data, now);
    if (result.ok) decoded.push({ input, record: result.value });
    else refusedRecords.push({ entry: quarantineEntry(input, "invalid record", result.problems), claim: claimedIdentity(input.data) });
  }
  const owners = await Meter.owners(decoded.map((item) => item.record.reading.meterId));
  const tariffs = await TariffStore.versions([...new Set([...owners.values()].map((owner) => owner.factoryId))]);
  const candidates: Slots.Candidate[] = [];
  const inputOfCandidate: StreamInput[] = [];
  const devices = new Set<string>();
  for (const { input, record } of decoded) {
    const reading = record.reading;
    const owner = owners.get(reading.meterId);
    const claim = { deviceId: record.deviceId, meterId: reading.meterId };
    if (!owner || owner.deviceId !== record.deviceId) {
      const message = owner ? `device ${record.deviceId} does not read meter ${reading.meterId}` : `meter ${reading.meterId} is not registered`;
      refusedRecords.push({
        entry: quarantineEntry(input, owner ? "meter not read by this device" : "unknown meter", [{ path: "reading.meterId", message }]),
        claim,
      });
      continue;
    }
    // Kinesis credentials do not say which device wrote a record: its signature does.
    const unsigned = await Gateway.verifyRecord(input.data, record.deviceId);
    if (unsigned) {
      refusedRecords.push({ entry: quarantineEntry(input, "signature not valid for this device", [{ path: "sig", message: unsigned }]), claim });
      continue;
    }
    devices.add(record.deviceId);
    inputOfCandidate.push(input);
    candidates.push(
      candidateOf(reading, owner, tariffs.get(owner.factoryId) ?? [], {
        deviceId: record.deviceId,
        source: record.via,
        receivedAt: record.receivedAt ? new Date(record.receivedAt) : new Date(input.arrivalMs),
      }),
    );
  }

  const { rows: inserted, outcomes } = await Slots.store(candidates, now);
  outcomes.forEach((outcome, index) => {
    if (outcome.kind !== "conflict") return;
    const input = inputOfCandidate[index] as StreamInput;
    const candidate = candidates[index] as Slots.Candidate;
    refusedRecords.push({
      entry: quarantineEntry(input, "conflicts with stored slots", [{ path: "reading", message: outcome.message }]),
      claim: { deviceId: candidate.base.deviceId, meterId: candidate.reading.meterId },
    });
  });
  const quarantine = await attributed(refusedRecords);
  const quarantinedTo = await Quarantine.keep(quarantine, now);
  await Device.touch(
    [...devices].filter((id) => decoded.some((item) => item.record.deviceId === id && item.record.via === "kinesis")),
    now,
  );
  const counted = (kind: Slots.Outcome["kind"]) => outcomes.filter((outcome) => outcome.kind === kind).length;
  const counts = { stored: counted("stored"), duplicates: counted("duplicate"), quarantined: quarantine.length, quarantinedTo };
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
  const fresh = await deliverOrKeep(inserted);
  const again = await deliverOrKeep(duplicates);
  return { ...counts, forwarded: fresh.forwarded + again.forwarded, undelivered: fresh.undelivered + again.undelivered };
}

/** A validated reading of an owned meter as the grid stores it, priced slot by slot with the factory's tariff versions. */
function candidateOf(
  reading: Reading.Input,
  owner: Meter.Owner,
  tariffsOfFactory: readonly Tariff.Version[],
  origin: { deviceId: string; source: Slots.StoredReading["source"]; receivedAt: Date },
): Slots.Candidate {
  return {
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
      deviceId: origin.deviceId,
      kvarh: reading.kvarh ?? null,
      kwAvg: reading.kwAvg ?? null,
      kwMax: reading.kwMax ?? null,
      pf: reading.pf ?? null,
      voltage: reading.voltage ?? null,
      current: reading.current ?? null,
      gap: reading.gap ?? false,
      source: origin.source,
      receivedAt: origin.receivedAt,
    },
  };
}

export type BulkResult = { stored: number; duplicates: number; conflicts: number; forwarded: number; undelivered: number };

/**
 * Stores a large batch of one device's readings without the stream: the server-side path for history
 * the platform itself holds (the local stack's demo year, ~680,000 readings), where one HTTP post or
 * stream record per 500 readings would take many minutes. Each reading is validated (Reading.validate, as
 * POST /v1/ingest does), must be of a meter the device reads, and goes through the consumer's own
 * grid store: stored once on the 5-minute grid (a repeat is a duplicate, a contradiction a conflict) and
 * priced per slot with the factory's tariff. Readings into empty slots are delivered to the lake and the
 * series first and inserted marked delivered (`Slots.storeDeliveredFirst`: one write per row instead of
 * insert-then-mark); the rest go through `Slots.store` and the consumer's delivery (the function the sweeper
 * uses). What the lake cannot take stays undelivered for the sweeper. Delivering each batch at once keeps
 * the `undelivered` health check true during a long load. The caller must be the only writer of the
 * batch's slots while it runs (see storeDeliveredFirst).
 * Rows say `source: "bulk"`. Call it with a few thousand readings at a time: each call is one insert.
 * @throws VisibleError("input", "ingest.bulk_invalid") naming the first bad reading's path (`readings.N.field`)
 *   or a meter the device does not read; nothing of the batch is stored then.
 */
export async function storeBulk(deviceId: string, readings: readonly unknown[], now = new Date()): Promise<BulkResult> {
  const valid: Reading.Input[] = [];
  readings.forEach((input, index) => {
    const result = Reading.validate(input, now, ["readings", index]);
    if (!result.ok) throw new VisibleError("input", "ingest.bulk_invalid", "A reading of the bulk batch is not valid", result.problems);
    valid.push(result.value);
  });
  const owners = await Meter.owners([...new Set(valid.map((reading) => reading.meterId))]);
  const tariffs = await TariffStore.versions([...new Set([...owners.values()].map((owner) => owner.factoryId))]);
  const candidates = valid.map((reading, index) => {
    const owner = owners.get(reading.meterId);
    if (!owner || owner.deviceId !== deviceId)
      throw new VisibleError("input", "ingest.bulk_invalid", "A reading of the bulk batch is not valid", [
        { path: jsonPath(["readings", index, "meterId"]), message: `meter ${reading.meterId} is not read by device ${deviceId}` },
      ]);
    return candidateOf(reading, owner, tariffs.get(owner.factoryId) ?? [], { deviceId, source: "bulk", receivedAt: now });
  });
  const { rows, outcomes, deliveredFirst } = await Slots.storeDeliveredFirst(candidates, now, async (fresh) => {
    await deliverRows(fresh);
  });
  const delivery = await deliverOrKeep(rows);
  const counted = (kind: Slots.Outcome["kind"]) => outcomes.filter((outcome) => outcome.kind === kind).length;
  return {
    stored: counted("stored"),
    duplicates: counted("duplicate"),
    conflicts: counted("conflict"),
    forwarded: deliveredFirst + delivery.forwarded,
    undelivered: delivery.undelivered,
  };
}

/**
 * Forwards stored readings (rows, or keys to look up among the undelivered); when the lake or the
 * series cannot take them they stay undelivered in Postgres for the sweeper, and this says how many.
 */
async function deliverOrKeep(items: StoredReading[] | { meterId: string; start: Date }[]): Promise<{ forwarded: number; undelivered: number }> {
  if (items.length === 0) return { forwarded: 0, undelivered: 0 };
  const rows = "start" in (items[0] as object) ? await undeliveredAmong(items as { meterId: string; start: Date }[]) : (items as StoredReading[]);
  try {
    return { forwarded: await deliver(rows), undelivered: 0 };
  } catch (error) {
    if (!(error instanceof Lake.LakeError) && !(error instanceof TimeSeries.TimeSeriesError)) throw error;
    console.error(`delivery failed; ${rows.length} stored reading(s) stay undelivered for the sweeper: ${error.message}`);
    return { forwarded: 0, undelivered: rows.length };
  }
}

/** What a record that failed validation says it is, read leniently, to tie its quarantine row to an organization. */
type Claim = { deviceId?: string; meterId?: string };

function claimedIdentity(data: Uint8Array): Claim {
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(data).toString("utf8"));
  } catch (error) {
    if (error instanceof SyntaxError) return {};
    throw error;
  }
  const record = (json ?? {}) as { deviceId?: unknown; reading?: { meterId?: unknown } };
  const id = (value: unknown, prefix: string) => (typeof value === "string" && value.startsWith(prefix) && value.length <= 64 ? value : undefined);
  return { deviceId: id(record.deviceId, "dev_"), meterId: id(record.reading?.meterId, "mtr_") };
}

/**
 * The organization a quarantined record belongs to: the writing device's when the device is known,
 * else the meter's; null when neither is known (only a platform operator sees those).
 */
function attribute(claim: Claim, owners: Map<string, Meter.Owner>, deviceOrganizations: Map<string, string>) {
  const deviceOrganization = claim.deviceId ? deviceOrganizations.get(claim.deviceId) : undefined;
  const meterOwner = claim.meterId ? owners.get(claim.meterId) : undefined;
  return {
    organizationId: deviceOrganization ?? meterOwner?.organizationId ?? null,
    deviceId: claim.deviceId ?? null,
    meterId: claim.meterId ?? null,
  };
}

/** Entries with their organization, device and meter: two lookups for the whole batch, none when nothing is refused. */
async function attributed(refused: readonly { entry: Quarantine.Entry; claim: Claim }[]): Promise<Quarantine.Entry[]> {
  if (refused.length === 0) return [];
  const owners = await Meter.owners(refused.flatMap(({ claim }) => (claim.meterId ? [claim.meterId] : [])));
  const deviceOrganizations = await Device.organizations(refused.flatMap(({ claim }) => (claim.deviceId ? [claim.deviceId] : [])));
  return refused.map(({ entry, claim }) => ({ ...entry, ...attribute(claim, owners, deviceOrganizations) }));
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

/**
 * Records whose retries ran out (the local poller's on-failure action; the AWS drainer): those whose
 * reading is already stored are not quarantined (they are not lost: the sweeper forwards them if
 * they are undelivered); the rest are kept by `Quarantine.keep`, tied to their organization when
 * their device or meter is known. Returns how many were stored already and how many were kept.
 */
export async function giveUp(
  records: readonly StreamInput[],
  failure: { source: Quarantine.Entry["source"]; reason: string; errors: Problem[] },
  now = new Date(),
): Promise<{ alreadyStored: number; kept: number }> {
  const readings = records.map((input) => {
    const result = Reading.decodeRecord(input.data, now);
    return result.ok ? result.value.reading : undefined;
  });
  let lost = [...records];
  try {
    // A reading is stored when its first slot is (a longer reading's other slots were written with it).
    const stored = await Slots.storedSlots(readings.filter((reading) => reading !== undefined));
    lost = records.filter((_, index) => {
      const reading = readings[index];
      return !reading || !stored.has(`${reading.meterId}@${Date.parse(reading.start)}`);
    });
  } catch (error) {
    // The database is unreachable: keep every record (Quarantine.keep then falls back to the raw archive).
    console.error(`cannot tell which given-up records are stored; keeping all ${records.length}: ${(error as Error).message}`);
  }
  const refused = lost.map((input) => ({
    entry: { ...quarantineEntry(input, failure.reason, failure.errors), source: failure.source },
    claim: claimedIdentity(input.data),
  }));
  // Unattributed rather than not kept when the database cannot say whose they are.
  const entries = await attributed(refused).catch((error: Error) => {
    console.error(`cannot tie ${refused.length} given-up record(s) to their organization: ${error.message}`);
    return refused.map(({ entry }) => entry);
  });
  await Quarantine.keep(entries, now);
  return { alreadyStored: records.length - lost.length, kept: lost.length };
}

type StoredReading = Slots.StoredReading;

/** The stored-but-undelivered readings among `keys`. */
function undeliveredAmong(keys: readonly { meterId: string; start: Date }[]): Promise<StoredReading[]> {
  return Database.use()
    .select()
    .from(readingTable)
    .where(and(keyFilter(keys), isNull(readingTable.lakeDeliveredAt)));
}

/** Puts rows in the lake, then the series; idempotent (the lake keeps the latest copy, the series one point per meter and interval). */
async function deliverRows(rows: readonly StoredReading[]): Promise<void> {
  const lake = await Lake.use();
  await lake.put(rows.map((row) => ({ ...row, computedAt: row.computedAt ?? null })));
  // Hot series next, where they have a store of their own (InfluxDB): idempotent (one point per meter and
  // interval), so a retried batch re-sends safely. The lake and Postgres adapters read what is stored already.
  const series = await TimeSeries.use();
  if (series.write) await series.write(rows.map((row) => ({ ...row, computedAt: row.computedAt ?? null })));
}

async function deliver(rows: StoredReading[]): Promise<number> {
  if (rows.length === 0) return 0;
  await deliverRows(rows);
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
