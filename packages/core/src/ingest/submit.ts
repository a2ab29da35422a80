/** POST /v1/ingest's path: a gateway's batch validated, settled against the grid and put on the stream, signed by the API. */
import { z } from "zod";
import { ingestMaxReadings, retryAfterSeconds } from "../config";
import { Device, type Identity } from "../device";
import { Gateway } from "../device/gateway";
import { Signature } from "../device/signature";
import { Meter } from "../meter";
import { Reading } from "../reading";
import { Stream } from "../stream";
import { jsonPath, VisibleError } from "../util/error";
import { Slots } from "./slots";

export const Envelope = z.object({
  readings: z
    .array(z.unknown(), { error: "readings must be an array" })
    .min(1, "readings must hold at least one reading")
    .max(ingestMaxReadings, `readings must hold at most ${ingestMaxReadings} readings per request`),
});

/** A reading refused: its index in the batch, and each problem by its JSON path within the reading. */
export const Rejected = z.object({ index: z.number(), errors: z.array(z.object({ path: z.string(), message: z.string() })) });
export type Rejected = z.infer<typeof Rejected>;
/** `POST /v1/ingest`'s answer: how many readings were put on the stream, how many were already there, and each refused one. */
export const SubmitResult = z.object({ accepted: z.number(), duplicates: z.number(), rejected: z.array(Rejected) });
export type SubmitResult = z.infer<typeof SubmitResult>;

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
