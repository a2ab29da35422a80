/**
 * The gateway agent: reads every meter at each 5-minute boundary, commits the readings to the
 * outbox, and uploads them (uploader.ts). Restarted at any instant it resumes from the outbox: the
 * meters' last committed boundary and counters are there, and unsent readings are sent again (the
 * cloud dedups by meter + interval start).
 */
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { intervalSeconds } from "@wattflow/core/config";
import { Signature } from "@wattflow/core/device/signature";
import type { Reading } from "@wattflow/core/reading";
import { acquirePidLock, PidLockedError, takeOverPidLock } from "@wattflow/core/util/files";
import { type Clock, real, simulated, sleep, truthOf, virtual } from "./clock";
import { CloudConfigSync, type ConfigState } from "./cloud-config";
import { type Config, defaultMaxBytes, type Meter, warnShare } from "./config";
import * as Counter from "./counter";
import { type DiskHealth, DiskWatch, HealthWriter, isDiskFull, maxPendingReadings, readHealth } from "./health";
import { continues, floorToGrid, type Snapshot } from "./interval";
import * as Keys from "./keys";
import { Buses } from "./meter/bus";
import { create as createDriver, type Driver } from "./meter/driver";
import { ReadHealth } from "./meter-health";
import { type MeterEvent, type MeterState, Outbox } from "./outbox";
import { type ClockHealth, fileSource, type SyncSource, simulatedSource, systemdSource, TimeTrust } from "./trust";
import { Uploader } from "./uploader";

const step = intervalSeconds * 1000;
/** Readings of the last intervals are fresh: they go before any backlog. */
const freshIntervals = 2;
/** At most this many boundaries (3 hours) go into one commit when the agent catches up. */
export const catchUpBoundaries = 36;
/** Default backlog drain rate: well above what one gateway's fresh readings need, below what a shard takes in a burst. */
export const defaultBacklogPerSecond = 5_000;
export const defaultHeartbeatMs = 60_000;

export class AgentError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "AgentError";
  }
}

export type RunOptions = {
  log?: (line: string) => void;
  signal?: AbortSignal;
  /** Called with the agent's clock once it is made: a test's simulated meter answers for the instant that clock stands at. */
  onClock?: (clock: Clock) => void;
};

export function outboxLimits(config: Pick<Config, "outbox">): { maxBytes: number; warnBytes: number } {
  const maxBytes = config.outbox?.maxBytes ?? defaultMaxBytes;
  return { maxBytes, warnBytes: config.outbox?.warnBytes ?? Math.floor(maxBytes * warnShare) };
}

/** Runs until `signal` aborts, or with `until` until every interval before it is read and acknowledged. Returns the exit code. */
export async function run(config: Config, options: RunOptions = {}): Promise<number> {
  const log = options.log ?? ((line: string) => console.error(line));
  const releaseLock = await lock(config.dataDir, options.signal, log);
  // A full disk at start is waited out here, never a crash loop.
  const outbox = await whileDiskFull(() => Outbox.open(config.dataDir, outboxLimits(config)), options.signal, log);
  // Buses are the local file's (serial paths belong to the site); the meters may come from the cloud (cloud-config.ts).
  const buses = new Buses(config.buses);
  // A simulated counter meter follows the clock's true time; the clock is made last, right before the agent says it started.
  let clock: Clock | undefined;
  const truth = () => {
    if (!clock) throw new AgentError("a meter was read before the clock was made");
    return truthOf(clock);
  };
  const counterOrigin = config.clock ? Date.parse(config.clock.start) : 0;
  const sim = { truth, originMs: counterOrigin };
  const drivers = new Map<string, Driver>();
  const stop = new AbortController();
  const onAbort = () => stop.abort();
  options.signal?.addEventListener("abort", onAbort, { once: true });
  try {
    const key = Keys.loadOrCreate(config.dataDir);
    const states = outbox.meterStates();
    const sync = new CloudConfigSync({
      local: config,
      fetch: (path, headers) => uploader.fetchApi("GET", path, undefined, headers),
      // What `edge status` shows of the cloud config; on a full disk it is shown again with the next state that fits.
      report: (state) => {
        try {
          outbox.setMeta("config", JSON.stringify(state));
        } catch (error) {
          if (!isDiskFull(error)) throw error;
          log(`edge: disk full, the cloud config's state is not written yet: ${(error as Error).message}`);
        }
      },
      log,
    });
    const meters = new Meters(drivers, buses, outbox, states, sim);
    meters.apply(sync.current.meters, undefined);
    const health = new ReadHealth();
    const healthFile = new HealthWriter(config.dataDir);
    const persisted = readHealth(config.dataDir)?.lastTrusted ?? undefined;
    const wall = makeClock(config, outbox);
    clock = wall;
    options.onClock?.(wall);
    const disk = new DiskWatch(config.dataDir, () => wall.now());
    let trust: TimeTrust | undefined;
    const saveHealth = () => {
      if (!trust) return;
      healthFile
        .write({ clock: trust.health(), lastTrusted: trust.lastTrusted() ?? null, disk: disk.health(), writtenAt: new Date(wall.now()).toISOString() })
        .catch((error: unknown) => log(`edge: cannot write ${config.dataDir}/health.json: ${(error as Error).message}`));
    };
    trust = new TimeTrust(wall, syncSource(config, wall), {
      persisted,
      toleranceSeconds: config.time?.toleranceSeconds,
      onChange: (health) => {
        log(
          health.state === "trusted"
            ? `edge: clock trusted (${health.reason}); readings are stamped again, each meter's energy since its last reading arrives as one gap interval`
            : `edge: clock UNTRUSTED (${health.reason}): counters are still read, no reading is stamped until NTP or the cloud confirms the time`,
        );
        saveHealth();
      },
    });
    const time = trust;
    // What `edge status` shows for each counter meter's spike limit (the outbox is all it reads).
    writeOrHold(disk, () =>
      outbox.setMeta("ratings", JSON.stringify([...drivers.values()].flatMap((driver) => (driver.kind === "counter" ? [driver.rating] : [])))),
    );
    let latestBoundary = outbox.latestEnd() ?? ceilToGrid(wall.origin);
    let busStats = { buses: "", meters: "" };
    const uploader = new Uploader({
      config,
      outbox,
      privateKey: Signature.privateKey(key.privateKeyPem),
      publicKey: key.publicKey,
      freshFrom: () => latestBoundary - freshIntervals * step,
      backlogPerSecond: config.uploadLimits?.backlogPerSecond ?? defaultBacklogPerSecond,
      log,
      now: () => wall.now(),
      onServerTime: (answer) => time.cloudAnswer(answer),
      onDiskFull: (error) => disk.refused(error, disk.health().pendingReadings),
    });
    log(
      `edge: device ${config.deviceId}, ${config.meters.length} meter(s), outbox ${outbox.path} (${outbox.pendingCount()} unsent), clock ${wall.simulated ? `simulated ×${config.clock?.speed} from ${new Date(wall.origin).toISOString()}${config.clock?.virtual ? " on virtual time" : ""}` : "real"}`,
    );
    saveHealth();

    const until = config.until ? floorToGrid(Date.parse(config.until)) : undefined;
    const uploading = uploader.run(stop.signal);
    const syncing = sync.run(stop.signal);
    const beating = heartbeat(config, outbox, uploader, stop.signal, log, () => ({ clock: time.health(), disk: disk.health() }));
    const reading = readLoop({
      config,
      outbox,
      drivers,
      clock: wall,
      trust: time,
      disk,
      saveHealth,
      states,
      until,
      signal: stop.signal,
      log,
      buses,
      health,
      beforeCycle: (boundary) => {
        // A cloud config checked since the last cycle takes effect here, between two cycles.
        const next = sync.take();
        if (next) health.retain(meters.apply(next.meters, boundary));
      },
      onCycle: () => {
        buses.endCycle();
        // Both in one transaction: one fsync a cycle for what `edge status` shows.
        const stats = { buses: JSON.stringify(buses.stats()), meters: JSON.stringify(health.list()) };
        if ((stats.buses !== busStats.buses || stats.meters !== busStats.meters) && writeOrHold(disk, () => outbox.setMetas(stats))) busStats = stats;
      },
      onCommit: (boundary) => {
        latestBoundary = Math.max(latestBoundary, boundary);
        uploader.wake();
      },
    });

    if (until !== undefined) {
      await reading;
      while (!stop.signal.aborted && outbox.pendingCount() > 0) await sleep(100, stop.signal);
      if (!stop.signal.aborted) {
        const status = outbox.status();
        log(
          `edge: every interval before ${new Date(until).toISOString()} is read and acknowledged${status.rejected > 0 ? ` (${status.rejected} rejected by the cloud, kept locally)` : ""}`,
        );
      }
      stop.abort();
    } else {
      await reading;
    }
    await Promise.all([uploading, beating, syncing]);
    await healthFile.settled();
    uploader.close();
    return 0;
  } finally {
    options.signal?.removeEventListener("abort", onAbort);
    stop.abort();
    await Promise.all([...drivers.values()].map((driver) => driver.close()));
    await buses.close();
    outbox.close();
    releaseLock();
  }
}

function makeClock(config: Config, outbox: Outbox): Clock {
  if (!config.clock) return real();
  // A restarted simulated agent resumes where its outbox ends, not at the configured start.
  const start = Math.max(Date.parse(config.clock.start), outbox.latestEnd() ?? Number.NEGATIVE_INFINITY);
  const faults = config.clock.faults ?? [];
  return config.clock.virtual ? virtual(start, config.clock.speed, faults) : simulated(start, config.clock.speed, Date.now, faults);
}

/** The NTP sync source the config names (default: systemd on the real clock, the faults on a simulated one). */
function syncSource(config: Config, clock: Clock): SyncSource | undefined {
  const ntp = config.time?.ntp ?? (clock.simulated ? "simulated" : "systemd");
  if (ntp === "none") return undefined;
  if (ntp === "systemd") return systemdSource();
  if (ntp === "simulated") return simulatedSource(clock);
  return fileSource(ntp.file);
}

/** Runs a write to the outbox; a full disk is noted (and the write skipped) instead of stopping the agent. Returns whether it was written. */
function writeOrHold(disk: DiskWatch, write: () => void): boolean {
  try {
    write();
    return true;
  } catch (error) {
    if (!isDiskFull(error)) throw error;
    disk.refused(error, disk.health().pendingReadings);
    return false;
  }
}

/** Calls `open` until it does not fail for lack of space (logging once), so a full disk at start never crash-loops the service. */
async function whileDiskFull<T>(open: () => T, signal: AbortSignal | undefined, log: (line: string) => void): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return open();
    } catch (error) {
      const cause = error instanceof Error && error.cause !== undefined ? error.cause : error;
      if (!isDiskFull(cause) || signal?.aborted) throw error;
      if (attempt === 0) log(`edge: DISK FULL at start (${(error as Error).message}); trying again every 5 s`);
      await sleep(5_000, signal);
    }
  }
}

function ceilToGrid(ms: number): number {
  return Math.ceil(ms / step) * step;
}

/**
 * The drivers of the configured meters, changed in place when a new meter list applies: a meter added gets its
 * driver (an interval meter starts at the boundary about to be read; a counter meter takes its baseline at its
 * first read), a removed one is closed, a changed one gets a new driver and keeps its counter state (a different
 * counter is then a reset or swap the counter rules confirm, never energy made up).
 */
class Meters {
  private readonly settings = new Map<string, string>();

  constructor(
    private readonly drivers: Map<string, Driver>,
    private readonly buses: Buses,
    private readonly outbox: Outbox,
    private readonly states: Map<string, MeterState>,
    private readonly sim: { truth(): number; originMs: number },
  ) {}

  /** Applies `meters` before reading `boundary` (undefined at start); returns the ids now configured. */
  apply(meters: readonly Meter[], boundary: number | undefined): string[] {
    const wanted = new Map(meters.map((meter) => [meter.id, meter]));
    for (const [meterId, driver] of this.drivers) {
      const meter = wanted.get(meterId);
      if (meter && JSON.stringify(meter) === this.settings.get(meterId)) continue;
      this.drivers.delete(meterId);
      this.settings.delete(meterId);
      void driver.close();
    }
    const starting: MeterState[] = [];
    for (const meter of meters) {
      if (this.drivers.has(meter.id)) continue;
      const driver = createDriver(meter, this.buses, this.sim);
      this.drivers.set(meter.id, driver);
      this.settings.set(meter.id, JSON.stringify(meter));
      if (boundary !== undefined && driver.kind === "interval" && !this.states.has(meter.id)) starting.push({ meterId: meter.id, endMs: boundary });
    }
    if (starting.length > 0) {
      this.outbox.commit([], starting);
      for (const state of starting) this.states.set(state.meterId, state);
    }
    // What `edge status` shows for each counter meter's spike limit (the outbox is all it reads).
    this.outbox.setMeta("ratings", JSON.stringify([...this.drivers.values()].flatMap((driver) => (driver.kind === "counter" ? [driver.rating] : []))));
    return [...wanted.keys()];
  }
}

type ReadLoop = {
  config: Config;
  outbox: Outbox;
  drivers: Map<string, Driver>;
  clock: Clock;
  /** Whether the wall clock may stamp readings (trust.ts). */
  trust: TimeTrust;
  disk: DiskWatch;
  /** Writes the health file (clock and disk state, last trusted instant). */
  saveHealth(): void;
  states: Map<string, MeterState>;
  until: number | undefined;
  signal: AbortSignal;
  log(line: string): void;
  buses: Buses;
  health: ReadHealth;
  /** Before each cycle's reads (a new meter list applies here). */
  beforeCycle(boundary: number): void;
  /** After each boundary's reads: the buses' counts go where `edge status` reads them. */
  onCycle(): void;
  onCommit(boundary: number): void;
};

/** What was read but could not be written (the disk was full): written with the next commit that goes through. */
type Pending = { readings: Reading.Input[]; states: Map<string, MeterState>; events: MeterEvent[] };

async function readLoop(loop: ReadLoop): Promise<void> {
  const { outbox, drivers, clock, trust, disk, states, signal, log } = loop;
  // What the outbox holds; `states` runs ahead of it by what is pending in memory.
  const committed = new Map(states);
  let pending: Pending = { readings: [], states: new Map(), events: [] };
  let fullLoggedAt = Number.NEGATIVE_INFINITY;
  /** Commits a group with whatever is pending; on a full disk keeps it in memory (bounded) or falls back to the last written counters. */
  const save = (readings: Reading.Input[], changed: Map<string, MeterState>, events: MeterEvent[]): boolean => {
    const batch: Pending = {
      readings: [...pending.readings, ...readings],
      states: new Map([...pending.states, ...changed]),
      events: [...pending.events, ...events],
    };
    try {
      outbox.commit(batch.readings, [...batch.states.values()], batch.events);
    } catch (error) {
      if (!isDiskFull(error)) throw error;
      if (batch.readings.length <= maxPendingReadings) {
        pending = batch;
        for (const state of changed.values()) states.set(state.meterId, state);
      } else {
        // Memory is bounded too: back to the written counters; each meter's energy since then arrives as one gap interval.
        pending = { readings: [], states: new Map(), events: [] };
        states.clear();
        for (const [meterId, state] of committed) states.set(meterId, state);
      }
      const first = disk.refused(error, pending.readings.length);
      if (first || Date.now() - fullLoggedAt > 60_000) {
        fullLoggedAt = Date.now();
        log(
          `edge: DISK FULL (${(error as Error).message}): ${pending.readings.length} reading(s) held in memory (at most ${maxPendingReadings}), counters kept; retrying at each boundary`,
        );
        loop.saveHealth();
      }
      return false;
    }
    for (const state of batch.states.values()) {
      committed.set(state.meterId, state);
      states.set(state.meterId, state);
    }
    pending = { readings: [], states: new Map(), events: [] };
    if (disk.written()) {
      log("edge: disk takes writes again; readings held in memory are written");
      loop.saveHealth();
    }
    return true;
  };

  let boundary: number | undefined;
  let untrustedSince: number | undefined;
  let warnedAt = 0;
  let fullWarnedAt = 0;
  let fullSince: number | undefined;
  let savedAt = Number.NEGATIVE_INFINITY;
  const failing = new Set<string>();

  let epoch = trust.epoch;
  /** The clock is trusted and has not stepped since the boundary was planned. */
  const steady = () => trust.check() && trust.epoch === epoch;

  while (!signal.aborted) {
    if (!steady()) {
      untrustedSince ??= clock.monotonic();
      if (!trust.check()) await whileUntrusted(loop);
      epoch = trust.epoch;
      continue;
    }
    if (boundary === undefined) {
      // Interval meters start at the first boundary; counter meters take their baseline there. On the real clock that
      // is the first boundary after the time became trusted (the board may have booted at 1970).
      const first = ceilToGrid(clock.simulated ? clock.origin : clock.now());
      const starting: MeterState[] = [];
      for (const [meterId, driver] of drivers) {
        if (driver.kind === "interval" && !states.has(meterId)) starting.push({ meterId, endMs: first });
      }
      if (starting.length > 0) save([], new Map(starting.map((state) => [state.meterId, state])), []);
      const ends = [...states.values()].map((state) => state.endMs);
      boundary = ends.length > 0 ? Math.max(...ends) + step : first;
    }
    if (untrustedSince !== undefined) {
      // Back from an untrusted span or a step: the next read is at a boundary of the trusted clock, so the gap up to it holds exactly its energy.
      boundary = Math.max(boundary, ceilToGrid(clock.now()));
      untrustedSince = undefined;
    }
    if (loop.until !== undefined && boundary > loop.until) {
      const until = loop.until;
      // A counter cannot be read in the past: once the clock is beyond `until` its last reading stands.
      const behind = [...drivers].filter(([meterId, driver]) => driver.kind === "interval" && (committed.get(meterId)?.endMs ?? 0) < until);
      if (behind.length === 0 && pending.states.size === 0) return;
      // Not read or written up to `until` (the outbox or the disk was full): try that boundary again shortly.
      boundary = behind.length > 0 ? until : boundary;
      if (pending.states.size > 0) save([], new Map(), []);
      await sleep(250, signal);
      if (behind.length === 0) continue;
    }
    while (!signal.aborted && steady() && clock.now() < boundary) await clock.sleepUntil(boundary, signal);
    if (signal.aborted) return;
    loop.beforeCycle(boundary);
    if (!steady()) continue;
    const latest = floorToGrid(clock.now());
    // Boundaries already due (after a pause, or on a fast simulated clock) are read together and committed in one transaction.
    const last = Math.min(Math.max(boundary, latest), boundary + (catchUpBoundaries - 1) * step, loop.until ?? Number.POSITIVE_INFINITY);
    const work = new Map(states);
    const readings: Reading.Input[] = [];
    const changed = new Map<string, MeterState>();
    const events: MeterEvent[] = [];
    for (let at = boundary; at <= last && !signal.aborted; at += step) {
      await collect({ boundary: at, latest, drivers, work, readings, changed, events, failing, signal, log, buses: loop.buses, health: loop.health });
    }
    // The clock stepped while the meters were read: nothing of this group is stamped; the span comes back as a gap.
    if (!steady()) continue;
    loop.onCycle();
    const used = outbox.usedBytes();
    if (used >= outbox.maxBytes) {
      // At the cap nothing is committed and no energy lost: the meters keep their last counters and the gap becomes one longer interval.
      fullSince ??= boundary;
      if (Date.now() - fullWarnedAt > 60_000) {
        fullWarnedAt = Date.now();
        log(
          `edge: OUTBOX FULL (${mb(used)} of ${mb(outbox.maxBytes)} MB): readings since ${new Date(fullSince).toISOString()} are not committed; they will arrive as one gap interval per meter once the backlog drains`,
        );
      }
    } else {
      if (used >= outbox.warnBytes && Date.now() - warnedAt > 60_000) {
        warnedAt = Date.now();
        log(`edge: WARNING outbox at ${mb(used)} of ${mb(outbox.maxBytes)} MB (${outbox.pendingCount()} unsent): the cloud has not taken readings for a while`);
      }
      if (fullSince !== undefined) {
        log(`edge: outbox has room again; gaps since ${new Date(fullSince).toISOString()} committed as gap intervals`);
        fullSince = undefined;
      }
      if ((changed.size > 0 || events.length > 0 || pending.states.size > 0) && save(readings, changed, events)) loop.onCommit(last);
    }
    // The last trusted instant, for the next boot to compare against (a page written in place: at most once a minute of real time).
    if (Date.now() - savedAt > 60_000) {
      savedAt = Date.now();
      loop.saveHealth();
    }
    boundary = last + step;
  }
}

/**
 * While the clock is untrusted: every counter meter is still read once per interval of the monotonic
 * clock (a meter that stops answering is logged), nothing is stamped or committed. Returns once the
 * clock is trusted again or the agent stops.
 */
async function whileUntrusted(loop: ReadLoop): Promise<void> {
  const { drivers, clock, trust, signal, log } = loop;
  let readAt = Number.NEGATIVE_INFINITY;
  const silent = new Set<string>();
  while (!signal.aborted && !trust.check()) {
    if (clock.monotonic() - readAt >= step) {
      readAt = clock.monotonic();
      for (const [meterId, driver] of drivers) {
        if (driver.kind !== "counter") continue;
        try {
          await driver.read();
          silent.delete(meterId);
        } catch (error) {
          if (!silent.has(meterId)) log(`edge: ${(error as Error).message} (clock untrusted: no reading is stamped anyway)`);
          silent.add(meterId);
        }
      }
    }
    // A second of clock time between looks, but never a busy loop on a fast simulated clock (20 real ms at least).
    // Waited on the clock itself, so a virtual clock moves while its trust is awaited.
    await clock.sleep(Math.max(1000, 20 * clock.speed), signal);
  }
}

type Collect = {
  boundary: number;
  latest: number;
  drivers: Map<string, Driver>;
  /** The meters' state as this group goes (committed to `states` only with the readings). */
  work: Map<string, MeterState>;
  readings: Reading.Input[];
  changed: Map<string, MeterState>;
  events: MeterEvent[];
  failing: Set<string>;
  signal: AbortSignal;
  log(line: string): void;
  buses: Buses;
  health: ReadHealth;
};

/** Reads every meter at one boundary into the group's readings, state changes and events. */
async function collect(group: Collect): Promise<void> {
  const { boundary, latest, work, readings, changed, events, failing, signal, log, health } = group;
  const advance = (state: MeterState) => {
    work.set(state.meterId, state);
    changed.set(state.meterId, state);
  };
  // Every counter meter is asked at once: each bus takes one request at a time, separate buses and TCP meters read side by side.
  const reads = new Map<string, Promise<Omit<Snapshot, "at">>>();
  if (boundary >= latest) group.buses.beginCycle();
  if (boundary >= latest)
    for (const [meterId, driver] of group.drivers)
      if (driver.kind === "counter") {
        const read = driver.read();
        read.catch(() => undefined);
        reads.set(meterId, read);
      }
  for (const [meterId, driver] of group.drivers) {
    const state = work.get(meterId);
    if (driver.kind === "interval") {
      if (state && state.endMs < boundary) {
        readings.push(...driver.interval(state.endMs, (boundary - state.endMs) / 1000));
        advance({ meterId, endMs: boundary });
      }
      continue;
    }
    // A counter can only be read now: past boundaries are covered by one gap interval from the last one read.
    if (boundary < latest) continue;
    let snapshot: Snapshot;
    try {
      snapshot = { ...(await (reads.get(meterId) ?? driver.read())), at: boundary };
      health.ok(meterId, boundary);
      if (failing.delete(meterId)) events.push({ meterId, atMs: boundary, kind: "read_recovered", detail: "meter answers again" });
    } catch (error) {
      health.failed(meterId);
      if (!failing.has(meterId)) {
        failing.add(meterId);
        events.push({ meterId, atMs: boundary, kind: "read_failed", detail: (error as Error).message.slice(0, 300) });
        log(`edge: ${(error as Error).message}; its energy will be in one gap interval once it answers`);
      }
      continue;
    }
    const counter = state?.snapshot ? { anchor: state.snapshot, held: state.held } : undefined;
    if (counter && !continues(counter.anchor, snapshot, driver.spec)) {
      // One more look before holding the read: meters answer a momentary zero now and then.
      await sleep(200, signal);
      try {
        const again = { ...(await driver.read()), at: boundary };
        if (continues(counter.anchor, again, driver.spec)) snapshot = again;
      } catch (error) {
        log(`edge: re-read of ${meterId} failed: ${(error as Error).message}`);
      }
    }
    const step = Counter.advance(meterId, counter, snapshot, driver.spec, driver.confirmReads);
    for (const event of step.events) {
      events.push({ meterId, ...event });
      if (event.kind !== "baseline") log(`edge: meter ${meterId} ${event.kind}: ${event.detail}`);
    }
    readings.push(...step.readings);
    advance({ meterId, endMs: boundary, snapshot: step.state.anchor, held: step.state.held });
  }
}

const mb = (bytes: number) => Math.round(bytes / 1024 / 102.4) / 10;

async function heartbeat(
  config: Config,
  outbox: Outbox,
  uploader: Uploader,
  signal: AbortSignal,
  log: (line: string) => void,
  health: () => { clock: ClockHealth; disk: DiskHealth },
): Promise<void> {
  const period = config.uploadLimits?.heartbeatMs ?? defaultHeartbeatMs;
  let failing = false;
  while (!signal.aborted) {
    const status = outbox.status();
    try {
      const { response, sentWallMs, receivedWallMs } = await uploader.fetchApiTimed("POST", "/v1/devices/heartbeat", {
        backlog: status.backlog,
        oldestUnsentSeconds: status.oldestUnsentSeconds,
        lastSuccess: status.lastSuccess,
        rejected: status.rejected,
        clockOffsetMs: status.clockOffsetMs,
        diskBytes: status.diskBytes,
        diskCapBytes: status.diskCapBytes,
        meterEvents: status.lastEvents.map((event) => ({
          meterId: event.meterId,
          at: new Date(event.atMs).toISOString(),
          kind: event.kind,
          detail: event.detail.slice(0, 500),
        })),
        heldMeters: status.held.map((held) => held.meterId),
        buses: status.buses.slice(0, 64).map((bus) => ({ ...bus, lastError: bus.lastError?.slice(0, 500) })),
        meters: status.meters.slice(0, 1000),
        ...(status.config ? { config: heartbeatConfig(status.config) } : {}),
        ...health(),
      });
      if (!response.ok) {
        await response.body?.cancel();
        throw new Error(`answered ${response.status}`);
      }
      // The answer's serverTime (ms) tells trusted time more finely than its Date header.
      const answer = (await response.json().catch((error: unknown) => {
        // An answer without a JSON body (an older API) only lacks the finer time.
        if (error instanceof SyntaxError) return {};
        throw error;
      })) as { serverTime?: unknown };
      const serverMs = typeof answer.serverTime === "string" ? Date.parse(answer.serverTime) : Number.NaN;
      if (Number.isFinite(serverMs)) uploader.serverTime({ serverMs, resolutionMs: 1, sentWallMs, receivedWallMs });
      if (failing) log("edge: heartbeat delivered again");
      failing = false;
    } catch (error) {
      if (!failing) log(`edge: heartbeat not delivered (${(error as Error).message}); will keep trying`);
      failing = true;
    }
    await sleep(period, signal);
  }
}

/** The config state within the heartbeat's bounds (core Gateway.Heartbeat): a refusal's problems and texts cut to size, never dropped whole. */
function heartbeatConfig(state: ConfigState): ConfigState {
  const refused = state.refused && {
    ...state.refused,
    version: state.refused.version.slice(0, 128),
    problems: state.refused.problems.slice(0, 50).map((problem) => ({ path: problem.path.slice(0, 200), message: problem.message.slice(0, 500) })),
  };
  return { ...state, version: state.version?.slice(0, 128) ?? null, lastError: state.lastError?.slice(0, 500) ?? null, refused };
}

/**
 * One agent per data folder; a lock left by a killed agent (its process gone) is taken over. On a full
 * disk a stale lock is taken over in place (its own block is rewritten), and with no lock file to
 * reuse the agent waits for room instead of exiting (systemd would only restart it into the same wall).
 */
async function lock(dataDir: string, signal: AbortSignal | undefined, log: (line: string) => void): Promise<() => void> {
  mkdirSync(dataDir, { recursive: true });
  try {
    return await lockFile(join(dataDir, "agent.pid"), signal, log);
  } catch (error) {
    if (error instanceof PidLockedError) throw new AgentError(`another agent (pid ${error.pid}) runs on ${dataDir}; stop it first`);
    throw error;
  }
}

async function lockFile(path: string, signal: AbortSignal | undefined, log: (line: string) => void): Promise<() => void> {
  for (let attempt = 0; ; attempt++) {
    try {
      return acquirePidLock(path);
    } catch (error) {
      if (!isDiskFull(error) || signal?.aborted) throw error;
      if (existsSync(path)) return takeOverPidLock(path);
      if (attempt === 0) log(`edge: DISK FULL: cannot write the lock ${path}; waiting for room (trying every 5 s)`);
      await sleep(5_000, signal);
    }
  }
}
