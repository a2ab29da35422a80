/** Stream records the consumer refuses or gives up on: kept in quarantine, tied to the organization they claim. */
import { Device } from "../device";
import { Meter } from "../meter";
import { Quarantine } from "../quarantine";
import { Reading } from "../reading";
import type { Problem } from "../util/error";
import { Slots } from "./slots";

/** One stream record as the consumer gets it. */
export type StreamInput = {
  data: Uint8Array;
  sequenceNumber: string;
  partitionKey: string;
  shardId?: string;
  arrivalMs: number;
};

/** What a record that failed validation says it is, read leniently, to tie its quarantine row to an organization. */
export type Claim = { deviceId?: string; meterId?: string };

export function claimedIdentity(data: Uint8Array): Claim {
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
export async function attributed(refused: readonly { entry: Quarantine.Entry; claim: Claim }[]): Promise<Quarantine.Entry[]> {
  if (refused.length === 0) return [];
  const owners = await Meter.owners(refused.flatMap(({ claim }) => (claim.meterId ? [claim.meterId] : [])));
  const deviceOrganizations = await Device.organizations(refused.flatMap(({ claim }) => (claim.deviceId ? [claim.deviceId] : [])));
  return refused.map(({ entry, claim }) => ({ ...entry, ...attribute(claim, owners, deviceOrganizations) }));
}

/** Why a record is refused: the English reason API clients read, and its code and parameters for the console to word. */
export type Refusal = { reason: string; code: Quarantine.Code; params: Quarantine.Params };

export function quarantineEntry(input: StreamInput, why: Refusal, errors: Problem[]): Quarantine.Entry {
  return {
    source: "consumer",
    ...why,
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
  failure: Refusal & { source: Quarantine.Entry["source"]; errors: Problem[] },
  now = new Date(),
): Promise<{ alreadyStored: number; kept: number }> {
  const { source, errors, ...why } = failure;
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
    entry: { ...quarantineEntry(input, why, errors), source },
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
