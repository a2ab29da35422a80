/**
 * Trusted time (issue 18, item 7). A board without a battery-backed clock boots at 1970 or at its
 * last shutdown time until NTP syncs, and a clock can be stepped by an hour either way; a reading
 * stamped with such a time must never leave the gateway. The agent stamps readings only while this
 * says the wall clock is trusted:
 *
 * - trusted once the NTP sync source says synchronized (after any step the agent saw), or once the
 *   cloud's time (an API answer's `serverTime` or `Date`) agrees with the wall clock within the tolerance;
 * - untrusted at a new boot until one of those confirms it, when the wall clock reads before the last
 *   trusted instant, when the wall clock steps against the monotonic clock by more than the tolerance,
 *   and while the cloud's time disagrees by more than the tolerance;
 * - a restart within the same boot whose wall and monotonic clocks moved alike since the last trusted
 *   instant keeps the trust (continuity), so restarting the agent alone does not wait for NTP.
 *
 * While untrusted the agent keeps reading its counters and commits nothing; once trusted, each meter's
 * energy since its last committed read arrives as one gap interval (interval.ts), which the cloud
 * spreads over its slots.
 */
import { execFileSync } from "node:child_process";
import { statSync } from "node:fs";
import type { Clock } from "./clock";

/** Where the wall clock's trust came from. */
export type TrustSource = "ntp" | "cloud" | "continuity";

/** The clock's state as `edge status` and the heartbeat show it. */
export type ClockHealth = {
  state: "trusted" | "untrusted";
  /** What made it trusted (null while untrusted). */
  source: TrustSource | null;
  /** The cloud's time minus the wall clock at the last conclusive cloud answer, seconds (null before one). */
  offsetSeconds: number | null;
  /** The last instant the gateway knew the time before it lost trust (UTC ISO; null when trusted or never trusted). */
  untrustedSince: string | null;
  /** Why it is untrusted, or what confirmed it (one line). */
  reason: string;
};

/** The last instant the wall clock was trusted, with the monotonic clock and boot at that moment (persisted by health.ts). */
export type LastTrusted = { wallMs: number; monotonicMs: number; bootId: string };

/**
 * An NTP daemon's sync state. `synchronized(afterWallMs)` says whether the wall clock is synchronized,
 * by a sync made after `afterWallMs` when given (the agent saw the clock step then).
 */
export type SyncSource = { name: string; synchronized(afterWallMs: number | undefined): boolean };

/** Default tolerance: 30 s moves at most a tenth of a 5-minute slot's energy to its neighbour; NTP and the cloud agree to well under a second. */
export const defaultToleranceSeconds = 30;
/** An external sync source is asked at most this often (timedatectl costs a process). */
const syncPollMs = 10_000;

/**
 * systemd-timesyncd's marker `/run/systemd/timesync/synchronized` (touched at each sync; its mtime must be
 * after a step the agent saw), else `timedatectl show -p NTPSynchronized --value` (the kernel's sync flag,
 * cleared when the clock is set by hand). Neither present (no systemd): never synchronized, the cloud decides.
 */
export function systemdSource(marker = "/run/systemd/timesync/synchronized"): SyncSource {
  return {
    name: "systemd",
    synchronized(afterWallMs) {
      const touched = mtimeOf(marker);
      if (touched !== undefined && (afterWallMs === undefined || touched >= afterWallMs)) return true;
      try {
        return (
          execFileSync("timedatectl", ["show", "-p", "NTPSynchronized", "--value"], {
            encoding: "utf8",
            timeout: 2_000,
            stdio: ["ignore", "pipe", "ignore"],
          }).trim() === "yes"
        );
      } catch (error) {
        // No timedatectl, or no systemd answering it: nothing here can say the clock is synchronized.
        if (error instanceof Error) return false;
        throw error;
      }
    },
  };
}

/** A marker file whose presence (touched after any step) means synchronized, as another NTP daemon's hook may write. */
export function fileSource(path: string): SyncSource {
  return {
    name: `file ${path}`,
    synchronized(afterWallMs) {
      const touched = mtimeOf(path);
      return touched !== undefined && (afterWallMs === undefined || touched >= afterWallMs);
    },
  };
}

/** A simulated board's NTP state (clock.ts faults). */
export function simulatedSource(clock: Clock): SyncSource {
  return { name: "simulated", synchronized: () => clock.ntpSynchronized?.() ?? true };
}

function mtimeOf(path: string): number | undefined {
  try {
    return statSync(path).mtimeMs;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
}

/** A cloud answer: its time (real UTC ms) and resolution, and the wall clock when the request left and the answer came. */
export type CloudAnswer = { serverMs: number; resolutionMs: number; sentWallMs: number; receivedWallMs: number };

export class TimeTrust {
  private trusted = false;
  private source: TrustSource | null = null;
  private reason = "";
  private offsetSeconds: number | null = null;
  /** Wall minus monotonic at the last look: a change beyond the tolerance is a step. */
  private base: number;
  /** The wall clock just after the last step seen: an NTP sync must be later to count. */
  private steppedAt: number | undefined;
  private last: LastTrusted | undefined;
  private untrustedSince: number | null;
  private syncCheckedAt = Number.NEGATIVE_INFINITY;
  private cloudDisagrees = false;
  private steps = 0;
  private readonly toleranceMs: number;

  /**
   * @param persisted the last trusted instant of an earlier life (health.ts), if any
   * @param toleranceSeconds how far the wall clock may be from the cloud's time, and how far it may step, seconds
   * @param onChange called with the new state each time trust is gained or lost
   */
  constructor(
    private readonly clock: Clock,
    private readonly sync: SyncSource | undefined,
    options: { persisted?: LastTrusted; toleranceSeconds?: number; onChange?(health: ClockHealth): void } = {},
  ) {
    this.toleranceMs = (options.toleranceSeconds ?? defaultToleranceSeconds) * 1000;
    this.onChange = options.onChange;
    const { wallMs: wall, monotonicMs: mono } = clock.sample();
    this.base = wall - mono;
    const persisted = options.persisted;
    this.last = persisted;
    this.untrustedSince = persisted?.wallMs ?? null;
    if (persisted && wall < persisted.wallMs - this.toleranceMs) {
      this.reason = `the clock reads ${iso(wall)}, before the last trusted time ${iso(persisted.wallMs)}: waiting for NTP or the cloud's time`;
    } else if (persisted && persisted.bootId === clock.bootId && Math.abs(wall - persisted.wallMs - (mono - persisted.monotonicMs)) <= this.toleranceMs) {
      this.gain("continuity", `same boot, wall and monotonic clocks moved alike since ${iso(persisted.wallMs)}`);
    } else {
      this.reason = persisted ? "a new boot: waiting for NTP or the cloud's time" : "never trusted yet: waiting for NTP or the cloud's time";
    }
    this.check();
  }

  private readonly onChange?: (health: ClockHealth) => void;

  /**
   * Looks at the clocks and the sync source: true when readings may be stamped now. Call before
   * stamping and before committing; it is cheap (the sync source is asked at most every 10 s).
   */
  check(): boolean {
    const { wallMs: wall, monotonicMs: mono } = this.clock.sample();
    const base = wall - mono;
    const step = base - this.base;
    this.base = base;
    if (Math.abs(step) > this.toleranceMs) {
      this.steppedAt = wall;
      this.steps++;
      // A disagreement was about the clock before the step; the stepped clock needs its own confirmation.
      this.cloudDisagrees = false;
      this.lose(`the clock stepped ${step > 0 ? "forwards" : "backwards"} by ${Math.round(Math.abs(step) / 1000)} s`);
    }
    if (!this.trusted && this.sync && !this.cloudDisagrees) {
      const due = this.clock.simulated || mono - this.syncCheckedAt >= syncPollMs * this.clock.speed || this.syncCheckedAt > mono;
      if (due) {
        this.syncCheckedAt = mono;
        if (this.sync.synchronized(this.steppedAt)) this.gain("ntp", `NTP synchronized (${this.sync.name})`);
      }
    }
    if (this.trusted) this.last = { wallMs: wall, monotonicMs: mono, bootId: this.clock.bootId };
    return this.trusted;
  }

  /**
   * A cloud answer's time: agreement within the tolerance (after the answer's uncertainty: half the
   * round trip plus the resolution) makes the clock trusted; disagreement beyond it makes it untrusted
   * until the cloud agrees again; anything in between says nothing. A step of the wall clock since the
   * last look is taken first (it, not the cloud, is then why trust was lost), and an answer whose round
   * trip reads negative says nothing: the wall clock stepped back while the request was out, so its two
   * ends were read on different clocks. (A step back shorter than the round trip leaves it positive; the
   * request timeout, 10 s, keeps such a step within the tolerance.)
   */
  cloudAnswer(answer: CloudAnswer): void {
    this.check();
    if (answer.receivedWallMs < answer.sentWallMs) return;
    const server = this.clock.fromServer(answer.serverMs);
    const resolution = this.clock.fromServer(answer.serverMs + answer.resolutionMs) - server;
    const middle = (answer.sentWallMs + answer.receivedWallMs) / 2;
    const offset = server + resolution / 2 - middle;
    const uncertainty = (answer.receivedWallMs - answer.sentWallMs) / 2 + resolution / 2;
    if (Math.abs(offset) + uncertainty <= this.toleranceMs) {
      this.offsetSeconds = Math.round(offset / 100) / 10;
      this.cloudDisagrees = false;
      this.check();
      if (!this.trusted) this.gain("cloud", `the cloud's time agrees within ${Math.round(Math.abs(offset) / 1000)} s`);
    } else if (Math.abs(offset) - uncertainty > this.toleranceMs) {
      this.offsetSeconds = Math.round(offset / 1000);
      this.cloudDisagrees = true;
      this.lose(`the cloud's time differs from the clock by ${Math.round(offset / 1000)} s`);
    }
  }

  /**
   * Counts the wall clock's steps and losses of trust: a reader that planned its next boundary under
   * another epoch plans again, even when a sync right after a step kept the clock trusted.
   */
  get epoch(): number {
    return this.steps;
  }

  /** The last instant the wall clock was trusted (to persist: a later boot compares against it). */
  lastTrusted(): LastTrusted | undefined {
    return this.last;
  }

  health(): ClockHealth {
    return {
      state: this.trusted ? "trusted" : "untrusted",
      source: this.trusted ? this.source : null,
      offsetSeconds: this.offsetSeconds,
      untrustedSince: this.trusted || this.untrustedSince === null ? null : iso(this.untrustedSince),
      reason: this.reason,
    };
  }

  private gain(source: TrustSource, reason: string): void {
    this.trusted = true;
    this.source = source;
    this.reason = reason;
    this.untrustedSince = null;
    this.last = { ...this.clock.sample(), bootId: this.clock.bootId };
    this.onChange?.(this.health());
  }

  private lose(reason: string): void {
    const was = this.trusted;
    this.reason = reason;
    if (!was) return;
    this.steps++;
    this.trusted = false;
    this.source = null;
    this.untrustedSince = this.last?.wallMs ?? null;
    this.onChange?.(this.health());
  }
}

const iso = (ms: number) => {
  const date = new Date(ms);
  return Number.isNaN(date.getTime()) ? String(ms) : date.toISOString();
};
