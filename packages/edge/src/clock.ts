/**
 * The agent's clock: the real one, or a simulated one that starts at a given instant and runs
 * `speed` times faster than real time (tests, benchmarks, replaying a day in minutes).
 *
 * A clock has two faces: the board's wall clock (`now`, which a board without a battery-backed clock
 * gets wrong until NTP syncs, and which steps when it is corrected) and a monotonic clock that never
 * steps (`monotonic`, comparable only within one boot, `bootId`). trust.ts decides from both, and from
 * NTP and the cloud, whether the wall clock may stamp readings.
 */
import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";

export type Clock = {
  /** The board's wall clock, ms since the epoch (UTC); wrong until trust.ts says otherwise. */
  now(): number;
  /** Milliseconds that never step (CLOCK_MONOTONIC on the real clock); compare two only when `bootId` is the same. */
  monotonic(): number;
  /** The wall and monotonic clocks read at one instant (on a fast simulated clock two separate reads can be seconds apart). */
  sample(): { wallMs: number; monotonicMs: number };
  /** Identifies the boot the monotonic clock counts from (Linux: /proc/sys/kernel/random/boot_id). */
  bootId: string;
  /** Resolves when the wall clock reaches `ms` (waking at least every `maxWaitMs` of clock time to look again), or at once when `signal` aborts. */
  sleepUntil(ms: number, signal: AbortSignal): Promise<void>;
  /** Sleeps `ms` of this clock's time (real ms divided by the speed on a simulated clock). */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
  simulated: boolean;
  /** Clock ms per real ms (1 for the real clock; at most this on a virtual one, which waits for its timers). */
  speed: number;
  /** When the clock started (ms): a new agent's first interval starts at the boundary at or after it. */
  origin: number;
  /** A cloud answer's instant (real UTC ms) in this clock's frame: identity on the real clock, the simulated instant on a simulated one. */
  fromServer(serverMs: number): number;
  /** Simulated clocks only: the board's NTP state as the faults script it (trust.ts reads it as its sync source). */
  ntpSynchronized?(): boolean;
};

/** A wait is cut into slices of at most this much clock time, so a stepped wall clock is noticed within one slice. */
export const maxWaitMs = 10_000;

function linuxBootId(): string {
  try {
    return readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim();
  } catch (error) {
    // Not Linux (a developer's machine): one id per process, so continuity is never carried across restarts.
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
    return `process-${randomUUID()}`;
  }
}

export function real(): Clock {
  const now = () => Date.now();
  // process.hrtime is CLOCK_MONOTONIC: the same origin for every process of one boot.
  const monotonic = () => Number(process.hrtime.bigint() / 1_000_000n);
  return {
    now,
    monotonic,
    sample: () => ({ wallMs: now(), monotonicMs: monotonic() }),
    bootId: linuxBootId(),
    sleepUntil: (ms, signal) => sleep(Math.min(ms - now(), maxWaitMs), signal),
    sleep: (ms, signal) => sleep(ms, signal),
    simulated: false,
    speed: 1,
    origin: Date.now(),
    fromServer: (serverMs) => serverMs,
  };
}

/**
 * A wall-clock fault on a simulated board, from `afterSeconds` of simulated time after the clock
 * started: the wall clock reads the true instant plus `offsetMs` (−start: booted at 1970; −2 h: booted
 * at its last shutdown time; ±1 h: set wrong), and NTP reports `ntpSynchronized`.
 */
export type WallFault = { afterSeconds: number; offsetMs: number; ntpSynchronized: boolean };

/**
 * A simulated clock from `startMs` at `speed`. Its true instant drives the simulated meters; its wall
 * clock follows `faults` (none: always right, NTP synchronized). Each simulated agent life is a boot.
 */
export function simulated(startMs: number, speed: number, realNow = Date.now, faults: readonly WallFault[] = []): Clock {
  const realStart = realNow();
  return board(startMs, speed, faults, {
    truth: () => startMs + (realNow() - realStart) * speed,
    sleep: (ms, signal) => sleep(ms / speed, signal),
    fromServer: (serverMs) => startMs + (serverMs - realStart) * speed,
  });
}

/**
 * A simulated clock from `startMs` on virtual time: its true instant moves only when its `sleep` or
 * `sleepUntil` ends, by exactly the time asked for, after that time divided by `speed` in real ms. The
 * agent's read loop is what waits on it, so a read planned for an instant happens at that instant and a
 * fault scripted for an instant is seen there, however late a busy machine runs the timers: a run
 * repeats exactly (tests, replays). Everything else (uploads, heartbeats) runs on real time and reads
 * the clock as it stands; a cloud answer counts as given at the clock's current true instant. Wall
 * clock and NTP follow `faults` as on `simulated`.
 *
 * @example virtual(Date.parse("2026-01-01T00:00:00Z"), 600) // a 5-minute slot takes at least 0.5 s
 */
export function virtual(startMs: number, speed: number, faults: readonly WallFault[] = []): Clock {
  let at = startMs;
  const wait = async (ms: number, signal?: AbortSignal) => {
    if (ms <= 0 || signal?.aborted) return;
    const until = at + ms;
    await sleep(ms / speed, signal);
    // Moved in the same turn the waiter resumes in: nothing else runs between the new instant and the waiter's next look.
    if (!signal?.aborted) at = Math.max(at, until);
  };
  return board(startMs, speed, faults, { truth: () => at, sleep: wait, fromServer: () => at });
}

/** A simulated board: its wall clock and NTP state as `faults` script them at each true instant `time.truth()`. */
function board(
  startMs: number,
  speed: number,
  faults: readonly WallFault[],
  time: { truth(): number; sleep(ms: number, signal?: AbortSignal): Promise<void>; fromServer(serverMs: number): number },
): Clock {
  const faultAt = (at: number) => {
    const elapsed = at - startMs;
    let found: WallFault | undefined;
    for (const item of faults) if (item.afterSeconds * 1000 <= elapsed && (!found || item.afterSeconds >= found.afterSeconds)) found = item;
    return found;
  };
  const wallAt = (at: number) => at + (faultAt(at)?.offsetMs ?? 0);
  const now = () => wallAt(time.truth());
  return {
    now,
    monotonic: () => time.truth() - startMs,
    sample: () => {
      const at = time.truth();
      return { wallMs: wallAt(at), monotonicMs: at - startMs };
    },
    bootId: `simulated-${randomUUID()}`,
    sleepUntil: (ms, signal) => time.sleep(Math.min(ms - now(), maxWaitMs), signal),
    sleep: time.sleep,
    simulated: true,
    speed,
    origin: startMs,
    fromServer: time.fromServer,
    ntpSynchronized: () => faultAt(time.truth())?.ntpSynchronized ?? true,
  };
}

/** The true instant of a simulated clock (what its meters follow), whatever its wall clock reads. */
export function truthOf(clock: Clock): number {
  return clock.simulated ? clock.origin + clock.monotonic() : clock.now();
}

/** Real-time sleep that ends early when the signal aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (ms <= 0 || signal?.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    }
    signal?.addEventListener("abort", done, { once: true });
  });
}
