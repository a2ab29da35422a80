/**
 * The raw archive: where a record goes when even quarantine cannot take it (the database is down,
 * or refuses the row), so the stream can move on without losing it. A folder under the data dir
 * locally (./local.ts), an S3 bucket on AWS (./aws.ts). The sweeper puts archived records back into
 * quarantine once the database takes them (Quarantine.restoreArchived).
 */

import { UnavailableError } from "../util/error";
import { portSlot } from "../util/port";

export * as RawArchive from "./index";

/** Objects by name; a name is made by `objectName`, never from outside input. */
export interface Store {
  put(name: string, body: Uint8Array): Promise<void>;
  /** Names of the objects kept, oldest first, at most `limit`. */
  list(limit: number): Promise<string[]>;
  get(name: string): Promise<Buffer>;
  remove(name: string): Promise<void>;
  describe(): { kind: "local" | "s3"; location: string };
}

export class ArchiveError extends UnavailableError {
  readonly code = "archive.unavailable";
  override readonly name = "ArchiveError";
}

const slot = portSlot<Store>("wattflow.archive", () => new ArchiveError("no raw archive: the runtime or the local stack provides one"));

/**
 * This process's raw archive (util/port.ts): `provide` sets it (the Lambda runtime: the S3 bucket; the local stack: a
 * folder; tests: theirs), `use` returns it and throws ArchiveError when none was provided.
 */
export const { provide, provideLazily, provided, use } = slot;

/** Sortable by time, unique per process: `2026-11-30T08-15-00.123Z-<random>.json`. */
export function objectName(now = new Date()): string {
  return `${now.toISOString().replaceAll(":", "-")}-${Math.random().toString(36).slice(2, 12)}.json`;
}

export function checkName(name: string): string {
  if (!/^[0-9A-Za-z][0-9A-Za-z.-]*\.json$/.test(name)) throw new ArchiveError(`invalid archive object name ${name}`);
  return name;
}
