/**
 * Files the local stack writes and reads back: written whole or not at all (temporary file in the
 * same folder, fsync, rename, fsync the folder), and a reader that meets one it cannot read (a torn
 * write from an older version, a disk fault) sets it aside instead of failing, and says so in /health.
 */
import { randomBytes } from "node:crypto";
import { closeSync, fchmodSync, fsyncSync, linkSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeSync } from "node:fs";
import { open, rename, rm } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { WattflowError } from "./error";
import { processState } from "./global";

/** Who may read what is written: 0o644 for data, 0o600 for files holding secrets (demo.json). */
export type WriteOptions = { mode?: number };

const temporaryName = (path: string) => join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`);

/** Makes a directory entry (a new or renamed file) durable: without it a power cut could forget the rename. */
export async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, "r");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

function syncDirectorySync(dir: string): void {
  const fd = openSync(dir, "r");
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * Replaces `path` with `data` so that a crash at any moment leaves the old content or the new, never
 * a mix or an empty file: temporary file beside it, write, fsync, rename, fsync the folder.
 * @example await writeFileAtomic(join(dataDir, "demo.json"), JSON.stringify(info), { mode: 0o600 })
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array, options: WriteOptions = {}): Promise<void> {
  const temporary = temporaryName(path);
  const handle = await open(temporary, "w", options.mode ?? 0o644);
  try {
    await handle.writeFile(data);
    // The mode given to open is masked by the umask; a secret's file must not be left wider.
    if (options.mode !== undefined) await handle.chmod(options.mode);
    await handle.sync();
  } catch (error) {
    await handle.close();
    await rm(temporary, { force: true });
    throw error;
  }
  await handle.close();
  await rename(temporary, path);
  await syncDirectory(dirname(path));
}

/** writeFileAtomic for callers that cannot await (state saved from synchronous code). */
export function writeFileAtomicSync(path: string, data: string | Uint8Array, options: WriteOptions = {}): void {
  const temporary = temporaryName(path);
  const fd = openSync(temporary, "w", options.mode ?? 0o644);
  try {
    const bytes = typeof data === "string" ? Buffer.from(data) : data;
    for (let written = 0; written < bytes.length; ) written += writeSync(fd, bytes, written);
    if (options.mode !== undefined) fchmodSync(fd, options.mode);
    fsyncSync(fd);
  } catch (error) {
    closeSync(fd);
    rmSync(temporary, { force: true });
    throw error;
  }
  closeSync(fd);
  renameSync(temporary, path);
  syncDirectorySync(dirname(path));
}

/** A file a reader could not read and moved aside: where it was, where it is now, why, and when. */
export type Unreadable = { path: string; movedTo: string | null; reason: string; at: string };

const registry = processState("wattflow.unreadableFiles", () => ({ files: [] as Unreadable[] }));

/** The files set aside since this process started, oldest first (reported by GET /health). */
export function unreadableFiles(): Unreadable[] {
  return [...registry.files];
}

/** Forgets the files set aside (tests). */
export function clearUnreadableFiles(): void {
  registry.files.length = 0;
}

/**
 * Records that `path` cannot be read (`reason`, one line) and moves it into `into` (default: a
 * `.corrupt` folder beside it) so it is never read again; its name gets the time, so nothing is
 * overwritten. If the move itself fails the file stays where it was and the record says so (null).
 */
export function setAside(path: string, reason: string, into = join(dirname(path), ".corrupt")): Unreadable {
  const at = new Date().toISOString();
  let movedTo: string | null = join(into, `${at.replace(/[:.]/g, "")}-${basename(path)}`);
  let why = reason.split("\n")[0]?.slice(0, 300) ?? "";
  try {
    mkdirSync(into, { recursive: true });
    renameSync(path, movedTo);
  } catch (error) {
    // The registry still names the file; it stays where it was, and health says it could not be moved.
    movedTo = null;
    why += `; could not move it aside: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`;
  }
  const entry: Unreadable = { path, movedTo, reason: why, at };
  // A file that could not be moved is met again by every read: listed once, with the latest time.
  const index = registry.files.findIndex((file) => file.path === path && file.movedTo === null);
  if (index >= 0) registry.files.splice(index, 1);
  registry.files.push(entry);
  return entry;
}

/**
 * Reads JSON state written by writeFileAtomic: the parsed value, or undefined when the file is
 * missing; a file that does not parse (torn by an older version, a disk fault) is set aside and
 * read as missing, so a start never fails on it.
 * @example const checkpoint = readJsonState<Checkpoint>(path) ?? { position: start }
 */
export function readJsonState<T>(path: string): T | undefined {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
  try {
    return JSON.parse(text) as T;
  } catch (error) {
    setAside(path, `not valid JSON (${text.length} bytes): ${(error as Error).message}`);
    return undefined;
  }
}

/** Another live process holds the pid lock. */
export class PidLockedError extends WattflowError {
  readonly kind = "conflict" as const;
  readonly code = "lock.held";
  constructor(
    readonly path: string,
    readonly pid: number,
  ) {
    super(`${path} is held by a running process (pid ${pid})`);
    this.name = "PidLockedError";
  }
  override get problems() {
    return [{ path: this.path, message: this.message }];
  }
}

/** The pid in lock file `path` when a live process other than this one holds it, else undefined. */
function holder(path: string): number | undefined {
  const pid = Number(readFileSync(path, "utf8").trim());
  return Number.isInteger(pid) && pid > 0 && pid !== process.pid && alive(pid) ? pid : undefined;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * Takes the lock file `path` for this process: the pid is written to a temporary file, fsynced and
 * hard-linked to `path` (which fails if it exists), so the lock is never seen empty or half written.
 * A lock whose process is gone (kill -9, power cut) or that holds no pid is taken over.
 * Returns the function that releases it. Throws PidLockedError when a live process holds it.
 * @example const release = acquirePidLock(join(dataDir, "stack.lock"))
 */
export function acquirePidLock(path: string): () => void {
  const temporary = temporaryName(path);
  writeFileAtomicSync(temporary, String(process.pid));
  try {
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        linkSync(temporary, path);
        syncDirectorySync(dirname(path));
        return () => rmSync(path, { force: true });
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
        const pid = holder(path);
        if (pid !== undefined) throw new PidLockedError(path, pid);
        rmSync(path, { force: true });
      }
    }
    throw new PidLockedError(path, Number.NaN);
  } finally {
    rmSync(temporary, { force: true });
  }
}

/**
 * Takes over the existing lock file `path` in place, for a full disk where `acquirePidLock` cannot write a new
 * one: this pid is written over the file's first bytes (padded, so no old digit is left) and fsynced.
 * Returns the function that releases it. Throws PidLockedError when a live process holds it.
 */
export function takeOverPidLock(path: string): () => void {
  const pid = holder(path);
  if (pid !== undefined) throw new PidLockedError(path, pid);
  const fd = openSync(path, "r+");
  try {
    writeSync(fd, String(process.pid).padEnd(16, " "), 0);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  return () => rmSync(path, { force: true });
}
