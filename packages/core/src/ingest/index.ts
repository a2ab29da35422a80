/**
 * Ingestion, one processing path: gateways put readings on the stream (directly, or through
 * POST /v1/ingest → `submit`), and the stream consumer (`consume`) validates, stores new keys,
 * prices and forwards them to the lake.
 */
import { and, isNull, lt, sql } from "drizzle-orm";
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
import { readingTable } from "../reading/reading.sql";
import { Stream } from "../stream";
import { Tariff } from "../tariff";
import { TariffStore } from "../tariff/store";
import { TimeSeries } from "../timeseries";
import { jsonPath, type Problem, VisibleError } from "../util/error";

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
    const key = Reading.key(reading);
    if (seen.has(key)) {
      duplicates++;
      return false;
    }
    seen.add(key);
    return true;
  });

  const stored = await storedKeys(owned.map((item) => item.reading));
  const fresh = owned.filter((item) => !stored.has(Reading.key(item.reading)));
  duplicates += owned.length - fresh.length;

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

/** Keys (meter id + interval start) already stored, among `readings`. */
async function storedKeys(readings: readonly Reading.Input[]): Promise<Set<string>> {
  if (readings.length === 0) return new Set();
  const rows = await Database.use()
    .select({ meterId: readingTable.meterId, intervalStart: readingTable.intervalStart })
    .from(readingTable)
    .where(keyFilter(readings.map((reading) => ({ meterId: reading.meterId, start: new Date(reading.start) }))));
  return new Set(rows.map((row) => Reading.key({ meterId: row.meterId, start: row.intervalStart.toISOString() })));
}

function keyFilter(keys: readonly { meterId: string; start: Date }[]) {
  const meterIds = keys.map((key) => key.meterId);
  const starts = keys.map((key) => key.start.toISOString());
  const first = Math.min(...keys.map((key) => key.start.getTime()));
  const last = Math.max(...keys.map((key) => key.start.getTime()));
  // The range lets Postgres prune monthly partitions; the unnest pairs are the exact keys.
  return and(
    sql`${readingTable.intervalStart} between ${new Date(first).toISOString()}::timestamptz and ${new Date(last).toISOString()}::timestamptz`,
    sql`(${readingTable.meterId}, ${readingTable.intervalStart}) in (select * from unnest(${sql.param(meterIds)}::text[], ${sql.param(starts)}::timestamptz[]))`,
  );
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
  const rows: NewReading[] = [];
  const devices = new Set<string>();
  const keys = new Set<string>();
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
    const key = Reading.key(reading);
    if (keys.has(key)) continue;
    keys.add(key);
    devices.add(record.deviceId);
    const start = new Date(reading.start);
    const version = Tariff.inForce(tariffs.get(owner.factoryId) ?? [], start);
    // A reading with no tariff in force is still stored (energy is never dropped); the cost recompute prices it later.
    const priced = version ? Cost.price({ kwh: reading.kwh, start }, version, { timeZone: owner.timeZone }) : undefined;
    rows.push({
      meterId: reading.meterId,
      intervalStart: start,
      intervalSeconds: reading.seconds,
      factoryId: owner.factoryId,
      deviceId: record.deviceId,
      kwh: reading.kwh,
      kvarh: reading.kvarh ?? null,
      kwAvg: reading.kwAvg ?? null,
      kwMax: reading.kwMax ?? null,
      pf: reading.pf ?? null,
      voltage: reading.voltage ?? null,
      current: reading.current ?? null,
      touPeriod: priced?.period ?? null,
      tariffId: priced?.tariffId ?? null,
      unitPrice: priced?.unitPrice ?? null,
      cost: priced?.cost ?? null,
      estimated: priced?.estimated ?? false,
      gap: reading.gap ?? false,
      computedAt: priced ? now : null,
      source: record.via,
      receivedAt: record.receivedAt ? new Date(record.receivedAt) : new Date(input.arrivalMs),
    });
  }

  const inserted = await insertNew(rows);
  const quarantine = await attributed(refusedRecords);
  const quarantinedTo = await Quarantine.keep(quarantine, now);
  await Device.touch(
    [...devices].filter((id) => decoded.some((item) => item.record.deviceId === id && item.record.via === "kinesis")),
    now,
  );
  const counts = { stored: inserted.length, duplicates: rows.length - inserted.length, quarantined: quarantine.length, quarantinedTo };
  // New rows go straight to the lake; a key that was already stored is forwarded only if it never
  // reached the lake (the crash between the two writes), which costs a query only when there are duplicates.
  const insertedKeys = new Set(inserted.map((row) => Reading.key({ meterId: row.meterId, start: row.intervalStart.toISOString() })));
  const duplicates = rows.filter((row) => !insertedKeys.has(Reading.key({ meterId: row.meterId, start: row.intervalStart.toISOString() })));
  const fresh = await deliverOrKeep(inserted);
  const again = await deliverOrKeep(duplicates.map((row) => ({ meterId: row.meterId, start: row.intervalStart })));
  return { ...counts, forwarded: fresh.forwarded + again.forwarded, undelivered: fresh.undelivered + again.undelivered };
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
    const stored = await storedKeys(readings.filter((reading) => reading !== undefined));
    lost = records.filter((_, index) => {
      const reading = readings[index];
      return !reading || !stored.has(Reading.key(reading));
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

type StoredReading = typeof readingTable.$inferSelect;
type NewReading = typeof readingTable.$inferInsert & { intervalStart: Date; receivedAt: Date };

/**
 * Inserts the readings whose key is new and returns them as stored. One statement over column
 * arrays (unnest) instead of a VALUES list: 21 parameters whatever the batch size, which keeps a
 * 500-reading batch cheap to build and to parse.
 */
async function insertNew(rows: readonly NewReading[]): Promise<StoredReading[]> {
  if (rows.length === 0) return [];
  const column = <T>(pick: (row: NewReading) => T) => sql.param(rows.map(pick));
  const result = await Database.use().execute(sql`
    insert into reading (meter_id, interval_start, interval_seconds, factory_id, device_id, kwh, kvarh, kw_avg, kw_max, pf, voltage, "current",
      tou_period, tariff_id, unit_price, cost, estimated, gap, computed_at, source, received_at)
    select * from unnest(
      ${column((row) => row.meterId)}::text[], ${column((row) => row.intervalStart.toISOString())}::timestamptz[],
      ${column((row) => row.intervalSeconds)}::int[], ${column((row) => row.factoryId)}::text[], ${column((row) => row.deviceId)}::text[],
      ${column((row) => row.kwh)}::float8[], ${column((row) => row.kvarh ?? null)}::float8[], ${column((row) => row.kwAvg ?? null)}::float8[],
      ${column((row) => row.kwMax ?? null)}::float8[], ${column((row) => row.pf ?? null)}::float8[], ${column((row) => row.voltage ?? null)}::float8[],
      ${column((row) => row.current ?? null)}::float8[], ${column((row) => row.touPeriod ?? null)}::text[], ${column((row) => row.tariffId ?? null)}::text[],
      ${column((row) => row.unitPrice ?? null)}::numeric[], ${column((row) => row.cost ?? null)}::numeric[], ${column((row) => row.estimated ?? false)}::bool[],
      ${column((row) => row.gap ?? false)}::bool[], ${column((row) => row.computedAt?.toISOString() ?? null)}::timestamptz[],
      ${column((row) => row.source)}::text[], ${column((row) => row.receivedAt.toISOString())}::timestamptz[])
    on conflict do nothing
    returning *`);
  return (result as unknown as { rows: Record<string, unknown>[] }).rows.map(fromRow);
}

const instantOf = (value: unknown) => (value === null || value === undefined ? null : value instanceof Date ? value : new Date(String(value)));
const numberOf = (value: unknown) => (value === null || value === undefined ? null : Number(value));
const textOf = (value: unknown) => (value === null || value === undefined ? null : String(value));

/** A raw `reading` row (snake_case, driver types) as Drizzle's select type. */
function fromRow(row: Record<string, unknown>): StoredReading {
  return {
    meterId: String(row.meter_id),
    intervalStart: instantOf(row.interval_start) as Date,
    intervalSeconds: Number(row.interval_seconds),
    factoryId: String(row.factory_id),
    deviceId: String(row.device_id),
    kwh: Number(row.kwh),
    kvarh: numberOf(row.kvarh),
    kwAvg: numberOf(row.kw_avg),
    kwMax: numberOf(row.kw_max),
    pf: numberOf(row.pf),
    voltage: numberOf(row.voltage),
    current: numberOf(row.current),
    touPeriod: textOf(row.tou_period),
    tariffId: textOf(row.tariff_id),
    unitPrice: textOf(row.unit_price),
    cost: textOf(row.cost),
    estimated: Boolean(row.estimated),
    gap: Boolean(row.gap),
    computedAt: instantOf(row.computed_at),
    source: row.source as StoredReading["source"],
    receivedAt: instantOf(row.received_at) as Date,
    storedAt: instantOf(row.stored_at) as Date,
    lakeDeliveredAt: instantOf(row.lake_delivered_at),
  };
}

/** The stored-but-undelivered readings among `keys`. */
function undeliveredAmong(keys: readonly { meterId: string; start: Date }[]): Promise<StoredReading[]> {
  return Database.use()
    .select()
    .from(readingTable)
    .where(and(keyFilter(keys), isNull(readingTable.lakeDeliveredAt)));
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
