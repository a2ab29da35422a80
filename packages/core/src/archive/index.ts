/**
 * The raw archive: where a record goes when even quarantine cannot take it (the database is down,
 * or refuses the row), so the stream can move on without losing it. A folder under the data dir
 * locally (./local.ts), an S3 bucket on AWS (./aws.ts). The sweeper puts archived records back into
 * quarantine once the database takes them (Quarantine.restoreArchived).
 */
import { processState } from "../util/global";

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

export class ArchiveError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "ArchiveError";
  }
}

const state = processState("wattflow.archive", (): { store?: Store } => ({}));

export function provide(store: Store | undefined): void {
  state.store = store;
}

/** The process's archive: the one provided (local stack), else the bucket named by WATTFLOW_ARCHIVE_BUCKET (Lambda). */
export async function use(): Promise<Store> {
  if (state.store) return state.store;
  const bucket = process.env.WATTFLOW_ARCHIVE_BUCKET;
  if (!bucket) throw new ArchiveError("no raw archive: none provided and WATTFLOW_ARCHIVE_BUCKET is not set");
  const { S3Archive } = await import("./aws");
  state.store = new S3Archive(bucket);
  return state.store;
}

/** Sortable by time, unique per process: `2026-11-30T08-15-00.123Z-<random>.json`. */
export function objectName(now = new Date()): string {
  return `${now.toISOString().replaceAll(":", "-")}-${Math.random().toString(36).slice(2, 12)}.json`;
}

export function checkName(name: string): string {
  if (!/^[0-9A-Za-z][0-9A-Za-z.-]*\.json$/.test(name)) throw new ArchiveError(`invalid archive object name ${name}`);
  return name;
}
