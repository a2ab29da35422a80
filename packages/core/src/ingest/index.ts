/**
 * Ingestion, one processing path: gateways put readings on the stream (directly, or through
 * POST /v1/ingest → `submit`), and the stream consumer (`consume`) validates, stores them on the
 * 5-minute grid (ingest/slots.ts), prices each slot and forwards the slots to the lake.
 * This file is the consumer and the bulk store; the HTTP path (`submit.ts`), refused records (`refused.ts`) and
 * delivery to the lake (`delivery.ts`) live beside it, all members of `Ingest`.
 */
import { Cost } from "../cost";
import { Device } from "../device";
import { Gateway } from "../device/gateway";
import { Meter } from "../meter";
import { Quarantine } from "../quarantine";
import { Reading } from "../reading";
import { Grid } from "../reading/grid";
import { Tariff } from "../tariff";
import { TariffStore } from "../tariff/store";
import { jsonPath, type Problem, VisibleError } from "../util/error";
import { deliverOrKeep, deliverRows } from "./delivery";
import { attributed, type Claim, claimedIdentity, quarantineEntry, type Refusal, type StreamInput } from "./refused";
import { Slots } from "./slots";

export { sweepUndelivered } from "./delivery";
export * as Ingest from "./index";
export { giveUp, type StreamInput } from "./refused";
export { Envelope, Rejected, SubmitResult, submit } from "./submit";

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

/** A record that failed validation: not JSON at all, or JSON whose envelope or reading its problems name. */
function invalid(problems: readonly Problem[]): Refusal {
  const notJson = problems.some((problem) => problem.path === Reading.notJsonPath);
  return { reason: "invalid record", code: notJson ? "record.not_json" : "record.invalid", params: {} };
}

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
    else refusedRecords.push({ entry: quarantineEntry(input, invalid(result.problems), result.problems), claim: claimedIdentity(input.data) });
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
      const why: Refusal = owner
        ? { reason: "meter not read by this device", code: "meter.not_on_device", params: claim }
        : { reason: "unknown meter", code: "meter.unknown", params: { meterId: reading.meterId } };
      refusedRecords.push({ entry: quarantineEntry(input, why, [{ path: "reading.meterId", message }]), claim });
      continue;
    }
    // Kinesis credentials do not say which device wrote a record: its signature does.
    const unsigned = await Gateway.verifyRecord(input.data, record.deviceId);
    if (unsigned) {
      const why: Refusal = { reason: "signature not valid for this device", code: "record.signature_invalid", params: { deviceId: record.deviceId } };
      refusedRecords.push({ entry: quarantineEntry(input, why, [{ path: "sig", message: unsigned }]), claim });
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
      entry: quarantineEntry(
        input,
        {
          reason: "conflicts with stored slots",
          code: "reading.conflict",
          params: { meterId: candidate.reading.meterId, start: new Date(candidate.reading.start).toISOString() },
        },
        [{ path: "reading", message: outcome.message }],
      ),
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
      ...Slots.figuresOf(reading),
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
 * `rollups: "deferred"` (a loader of a whole range, e.g. the demo's history a month at a time) skips the per-call
 * rollup update of the new slots; the caller must then run Rollup.rebuild over the range it stored, once.
 * @throws VisibleError("input", "ingest.bulk_invalid") naming the first bad reading's path (`readings.N.field`)
 *   or a meter the device does not read; nothing of the batch is stored then.
 */
export async function storeBulk(
  deviceId: string,
  readings: readonly unknown[],
  now = new Date(),
  options: { rollups?: "now" | "deferred" } = {},
): Promise<BulkResult> {
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
  const { rows, outcomes, deliveredFirst } = await Slots.storeDeliveredFirst(
    candidates,
    now,
    async (fresh) => {
      await deliverRows(fresh);
    },
    options.rollups,
  );
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
