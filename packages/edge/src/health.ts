/**
 * The gateway's clock and disk health (issue 18, item 7), kept where a full disk cannot stop it from
 * being written: `dataDir/health.json`, a file of exactly 4 KiB made while there is room and then
 * always rewritten in place (no new blocks needed), fsynced. It holds the last trusted instant (a
 * later boot compares against it, trust.ts), and the states `edge status` and the heartbeat show:
 * `clock: trusted|untrusted, source, offsetSeconds, untrustedSince` and `disk: ok|full, freeBytes, since`.
 * A torn or unreadable file reads as "nothing known" (the clock then waits for NTP or the cloud).
 */
import { readFileSync, statfsSync } from "node:fs";
import { type FileHandle, open } from "node:fs/promises";
import { join } from "node:path";
import type { ClockHealth, LastTrusted } from "./trust";

/** The disk's state: `full` from the first write refused for lack of space until a write succeeds again. */
export type DiskHealth = {
  state: "ok" | "full";
  /** Bytes free to the agent on the outbox's filesystem at the last look (null when it cannot be asked). */
  freeBytes: number | null;
  /** When the disk was first found full (the gateway's clock, UTC ISO; null when ok). */
  since: string | null;
  /** Readings held in memory because they could not be written (bounded: agent.ts maxPendingReadings). */
  pendingReadings: number;
  /** The refusal, e.g. "SQLITE_FULL: database or disk is full" (null when ok). */
  error: string | null;
};

export type HealthFile = { clock: ClockHealth | null; lastTrusted: LastTrusted | null; disk: DiskHealth | null; writtenAt: string };

/** The file's fixed size: one page, written in place. */
export const healthFileBytes = 4096;

export function healthPath(dataDir: string): string {
  return join(dataDir, "health.json");
}

/** Errors that mean "no space left" (SQLite maps ENOSPC to SQLITE_FULL; a WAL index that cannot grow is SQLITE_IOERR_SHMSIZE). */
export function isDiskFull(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === "SQLITE_FULL" || code === "SQLITE_IOERR_SHMSIZE" || code === "ENOSPC" || code === "EDQUOT";
}

/** Bytes free to an unprivileged writer on the filesystem holding `path`, or null when it cannot be asked. */
export function freeBytes(path: string): number | null {
  try {
    const stats = statfsSync(path);
    return stats.bavail * stats.bsize;
  } catch (error) {
    if (error instanceof Error) return null;
    throw error;
  }
}

/** Reads the health file (for `edge status` and the agent's start); undefined when absent, torn or unreadable. */
export function readHealth(dataDir: string): HealthFile | undefined {
  let text: string;
  try {
    text = readFileSync(healthPath(dataDir), "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
  try {
    return JSON.parse(text.trim()) as HealthFile;
  } catch (error) {
    // Torn by a power cut mid-write: nothing is known, which is the safe answer for the clock.
    if (error instanceof SyntaxError) return undefined;
    throw error;
  }
}

/**
 * Writes the health file in place, one write after another, off the event loop (an fsync must not
 * delay a meter read). A disk too full to make the file at all keeps the state in memory and tries again next time.
 */
export class HealthWriter {
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly dataDir: string) {}

  /** Writes `health` after any write still going; resolves false when the disk had no room to make the file yet. */
  write(health: HealthFile): Promise<boolean> {
    const next = this.queue.then(() => this.writeNow(health));
    this.queue = next.catch(() => undefined);
    return next;
  }

  /** Resolves once every write asked for so far is done. */
  async settled(): Promise<void> {
    await this.queue;
  }

  private async writeNow(health: HealthFile): Promise<boolean> {
    const path = healthPath(this.dataDir);
    let text = JSON.stringify(health);
    if (Buffer.byteLength(text) > healthFileBytes) {
      const clock = health.clock ? { ...health.clock, reason: health.clock.reason.slice(0, 200) } : null;
      const disk = health.disk ? { ...health.disk, error: health.disk.error?.slice(0, 200) ?? null } : null;
      text = JSON.stringify({ ...health, clock, disk });
    }
    const page = Buffer.alloc(healthFileBytes, " ");
    page.write(text, 0, "utf8");
    let file: FileHandle;
    try {
      // r+ rewrites the file's own blocks; only the first write ever needs room.
      file = await open(path, "r+");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
      try {
        file = await open(path, "w", 0o644);
      } catch (again) {
        if (isDiskFull(again)) return false;
        throw again;
      }
    }
    try {
      await file.write(page, 0, healthFileBytes, 0);
      await file.sync();
      return true;
    } catch (error) {
      if (isDiskFull(error)) return false;
      throw error;
    } finally {
      await file.close();
    }
  }
}

/** Readings kept in memory while the disk refuses them: 10,000 is 50 boundaries of 200 meters (~5 MB of the agent's 64 MB heap); beyond, the meters fall back to their last written counters and the span arrives as one gap interval each. */
export const maxPendingReadings = 10_000;

/** Tracks whether the outbox's filesystem takes writes (the disk half of the health file). */
export class DiskWatch {
  private state: DiskHealth = { state: "ok", freeBytes: null, since: null, pendingReadings: 0, error: null };

  /** @param now the gateway's wall clock (ms), for `since` */
  constructor(
    private readonly dataDir: string,
    private readonly now: () => number,
  ) {}

  /** A write was refused for lack of space; `pendingReadings` are held in memory meanwhile. Returns true when the disk was ok until now. */
  refused(error: unknown, pendingReadings: number): boolean {
    const first = this.state.state === "ok";
    const message = error instanceof Error ? `${(error as { code?: string }).code ?? error.name}: ${error.message}` : String(error);
    this.state = {
      state: "full",
      freeBytes: null,
      since: this.state.since ?? new Date(this.now()).toISOString(),
      pendingReadings,
      error: message.slice(0, 300),
    };
    return first;
  }

  /** A write went through. Returns true when the disk was full until now. */
  written(): boolean {
    const was = this.state.state === "full";
    this.state = { state: "ok", freeBytes: null, since: null, pendingReadings: 0, error: null };
    return was;
  }

  health(): DiskHealth {
    return { ...this.state, freeBytes: freeBytes(this.dataDir) };
  }
}
