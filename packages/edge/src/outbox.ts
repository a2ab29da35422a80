/**
 * The gateway's outbox: every reading is committed here (SQLite, WAL, synchronous FULL: the commit
 * is on disk before the call returns) before anything is sent, and deleted only once the cloud
 * acknowledged it. The meters' last committed boundary and counters live in the same transaction as
 * their readings, so a kill -9 or a power cut at any instant leaves either both or neither, and SQLite's
 * own recovery (WAL checksums) is the only repair ever needed.
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { Reading } from "@wattflow/core/reading";
import Database from "better-sqlite3";
import type { ConfigState } from "./cloud-config";
import type { Held } from "./counter";
import type { Snapshot } from "./interval";
import type { BusStats } from "./meter/bus";
import type { MeterHealth } from "./meter-health";
import type { Rating } from "./rating";

export type Row = { id: number; meterId: string; startMs: number; body: string };
/** A meter's committed state: the last boundary read and, for a counter meter, its last good read and the reads held since (counter.ts). */
export type MeterState = { meterId: string; endMs: number; snapshot?: Snapshot; held?: Held };
export type Route = "kinesis" | "http";
export type MeterEvent = { meterId: string; atMs: number; kind: string; detail: string };

export type Status = {
  backlog: number;
  oldestUnsentSeconds: number | null;
  oldestUnsentStart: string | null;
  newestCommittedEnd: string | null;
  lastSuccess: { kinesis: string | null; http: string | null };
  lastError: { kinesis: string | null; http: string | null };
  rejected: number;
  clockOffsetMs: number | null;
  diskBytes: number;
  diskCapBytes: number;
  diskWarnBytes: number;
  events: number;
  lastEvents: MeterEvent[];
  /** Counter meters' spike limits and where each came from (written by the agent at start). */
  ratings: Rating[];
  /** Each Modbus bus's requests and failures since the agent started (written by the agent after each cycle). */
  buses: BusStats[];
  /** Each counter meter's last good read and consecutive failures (health.ts). */
  meters: MeterHealth[];
  /** The configuration the agent runs and the last one it refused (cloud-config.ts); null before an agent ran. */
  config: ConfigState | null;
  /** Counter meters whose reads are held as suspect right now. */
  held: { meterId: string; since: string; cause: Held["cause"]; reads: number; lastGood: string }[];
};

const schemaVersion = 2;
/** Events kept for status; older ones are dropped (the cloud sees their effect in the readings). */
const keptEvents = 1000;

export class OutboxError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "OutboxError";
  }
}

export class Outbox {
  private constructor(
    readonly db: Database.Database,
    readonly path: string,
    readonly maxBytes: number,
    readonly warnBytes: number,
  ) {}

  static path(dataDir: string): string {
    return join(dataDir, "outbox.db");
  }

  /** Opens (creating or upgrading) the outbox in `dataDir`. */
  static open(dataDir: string, options: { maxBytes: number; warnBytes: number; readonly?: boolean }): Outbox {
    const path = Outbox.path(dataDir);
    if (!options.readonly) mkdirSync(dataDir, { recursive: true });
    let db: Database.Database;
    try {
      db = new Database(path, { readonly: options.readonly ?? false, fileMustExist: options.readonly ?? false });
    } catch (error) {
      throw new OutboxError(`cannot open the outbox ${path}: ${(error as Error).message}`, { cause: error });
    }
    if (!options.readonly) {
      db.pragma("journal_mode = WAL");
      db.pragma("synchronous = FULL");
      // Keep the WAL from growing without bound between checkpoints.
      db.pragma("journal_size_limit = 67108864");
      migrate(db);
    }
    db.pragma("busy_timeout = 5000");
    return new Outbox(db, path, options.maxBytes, options.warnBytes);
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  /** Bytes the outbox holds (pages in use, free pages excluded: they are reused before the file grows). */
  usedBytes(): number {
    const pageSize = this.db.pragma("page_size", { simple: true }) as number;
    const pages = this.db.pragma("page_count", { simple: true }) as number;
    const free = this.db.pragma("freelist_count", { simple: true }) as number;
    return (pages - free) * pageSize;
  }

  full(): boolean {
    return this.usedBytes() >= this.maxBytes;
  }

  private statements = new Map<string, Database.Statement>();
  private statement(sql: string): Database.Statement {
    let found = this.statements.get(sql);
    if (!found) {
      found = this.db.prepare(sql);
      this.statements.set(sql, found);
    }
    return found;
  }

  /**
   * Commits readings, the meters' new state and any meter events in one transaction (one fsync).
   * A reading already in the outbox (same meter and start) is kept as it was.
   */
  commit(readings: readonly Reading.Input[], states: readonly MeterState[], events: readonly MeterEvent[] = [], nowMs = Date.now()): number {
    const insert = this.statement("insert or ignore into reading (meter_id, start_ms, body, created_ms) values (?, ?, ?, ?)");
    const state = this.statement(
      "insert into meter_state (meter_id, end_ms, snapshot, held) values (?, ?, ?, ?) on conflict (meter_id) do update set end_ms = excluded.end_ms, snapshot = excluded.snapshot, held = excluded.held",
    );
    const event = this.statement("insert into event (at_ms, meter_id, kind, detail) values (?, ?, ?, ?)");
    let inserted = 0;
    this.db.transaction(() => {
      for (const reading of readings) inserted += insert.run(reading.meterId, Date.parse(reading.start), JSON.stringify(reading), nowMs).changes;
      for (const item of states)
        state.run(item.meterId, item.endMs, item.snapshot ? JSON.stringify(item.snapshot) : null, item.held ? JSON.stringify(item.held) : null);
      for (const item of events) event.run(item.atMs, item.meterId, item.kind, item.detail);
      if (events.length > 0) this.statement(`delete from event where id <= (select max(id) from event) - ${keptEvents}`).run();
    })();
    return inserted;
  }

  meterStates(): Map<string, MeterState> {
    // A status read of an outbox not yet upgraded by its agent (readonly: no migration) has no held column.
    const held = (this.db.pragma("user_version", { simple: true }) as number) >= 2 ? "held" : "null as held";
    const rows = this.statement(`select meter_id, end_ms, snapshot, ${held} from meter_state`).all() as {
      meter_id: string;
      end_ms: number;
      snapshot: string | null;
      held: string | null;
    }[];
    return new Map(
      rows.map((row) => [
        row.meter_id,
        {
          meterId: row.meter_id,
          endMs: row.end_ms,
          snapshot: row.snapshot ? (JSON.parse(row.snapshot) as Snapshot) : undefined,
          held: row.held ? (JSON.parse(row.held) as Held) : undefined,
        },
      ]),
    );
  }

  /** The latest boundary any meter has been read up to (the simulated clock resumes here). */
  latestEnd(): number | undefined {
    const row = this.statement("select max(end_ms) as end from meter_state").get() as { end: number | null };
    return row.end ?? undefined;
  }

  /**
   * The next readings to send: those starting at or after `freshFromMs` first (oldest first), then
   * at most `backlogLimit` older ones, oldest first; never the ids in `exclude` (in flight).
   */
  next(options: { limit: number; freshFromMs: number; backlogLimit: number; exclude?: ReadonlySet<number> }): { rows: Row[]; fresh: number } {
    const exclude = options.exclude ?? new Set<number>();
    const take = (sql: string, bound: number, limit: number): Row[] => {
      if (limit <= 0) return [];
      const rows = this.statement(sql).all(bound, limit + exclude.size) as { id: number; meter_id: string; start_ms: number; body: string }[];
      return rows
        .filter((row) => !exclude.has(row.id))
        .slice(0, limit)
        .map((row) => ({ id: row.id, meterId: row.meter_id, startMs: row.start_ms, body: row.body }));
    };
    const fresh = take(
      "select id, meter_id, start_ms, body from reading where state = 0 and start_ms >= ? order by start_ms, id limit ?",
      options.freshFromMs,
      options.limit,
    );
    const backlog = take(
      "select id, meter_id, start_ms, body from reading where state = 0 and start_ms < ? order by start_ms, id limit ?",
      options.freshFromMs,
      Math.min(options.limit - fresh.length, Math.floor(options.backlogLimit)),
    );
    return { rows: [...fresh, ...backlog], fresh: fresh.length };
  }

  /** Whether older (backlog) readings are waiting. */
  hasBacklog(freshFromMs: number): boolean {
    return this.statement("select 1 from reading where state = 0 and start_ms < ? limit 1").get(freshFromMs) !== undefined;
  }

  /** The cloud has them: delete them (one transaction). */
  ack(ids: readonly number[]): void {
    if (ids.length === 0) return;
    const remove = this.statement("delete from reading where id = ?");
    this.db.transaction(() => {
      for (const id of ids) remove.run(id);
    })();
  }

  /** The cloud refused them for good: keep them, marked rejected with the reason. */
  reject(items: readonly { id: number; reason: string }[]): void {
    if (items.length === 0) return;
    const mark = this.statement("update reading set state = 1, reason = ? where id = ?");
    this.db.transaction(() => {
      for (const item of items) mark.run(item.reason.slice(0, 2000), item.id);
    })();
  }

  pendingCount(): number {
    return (this.statement("select count(*) as n from reading where state = 0").get() as { n: number }).n;
  }

  route(route: Route, outcome: { ok: true; atMs: number } | { ok: false; atMs: number; error: string }): void {
    if (outcome.ok) {
      this.statement("insert into route (name, last_success_ms) values (?, ?) on conflict (name) do update set last_success_ms = excluded.last_success_ms").run(
        route,
        outcome.atMs,
      );
    } else {
      this.statement(
        "insert into route (name, last_error_ms, last_error) values (?, ?, ?) on conflict (name) do update set last_error_ms = excluded.last_error_ms, last_error = excluded.last_error",
      ).run(route, outcome.atMs, outcome.error.slice(0, 500));
    }
  }

  setMeta(key: string, value: string): void {
    this.setMetas({ [key]: value });
  }

  /** Sets several meta values in one transaction (one fsync). */
  setMetas(values: Record<string, string>): void {
    const statement = this.statement("insert into meta (key, value) values (?, ?) on conflict (key) do update set value = excluded.value");
    this.db.transaction(() => {
      for (const [key, value] of Object.entries(values)) statement.run(key, value);
    })();
  }

  meta(key: string): string | undefined {
    return (this.statement("select value from meta where key = ?").get(key) as { value: string } | undefined)?.value;
  }

  rejected(limit = 20): { meterId: string; start: string; reason: string }[] {
    const rows = this.statement("select meter_id, start_ms, reason from reading where state = 1 order by start_ms limit ?").all(limit) as {
      meter_id: string;
      start_ms: number;
      reason: string;
    }[];
    return rows.map((row) => ({ meterId: row.meter_id, start: new Date(row.start_ms).toISOString(), reason: row.reason }));
  }

  status(nowMs = Date.now()): Status {
    const counts = this.statement(
      "select sum(state = 0) as pending, sum(state = 1) as rejected, min(case when state = 0 then created_ms end) as oldest_created, min(case when state = 0 then start_ms end) as oldest_start from reading",
    ).get() as {
      pending: number | null;
      rejected: number | null;
      oldest_created: number | null;
      oldest_start: number | null;
    };
    const routes = this.statement("select name, last_success_ms, last_error_ms, last_error from route").all() as {
      name: Route;
      last_success_ms: number | null;
      last_error_ms: number | null;
      last_error: string | null;
    }[];
    const route = (name: Route) => routes.find((row) => row.name === name);
    const iso = (ms: number | null | undefined) => (ms === null || ms === undefined ? null : new Date(ms).toISOString());
    const offset = this.meta("clock_offset_ms");
    const latest = this.latestEnd();
    const events = this.statement("select at_ms, meter_id, kind, detail from event order by id desc limit 5").all() as {
      at_ms: number;
      meter_id: string;
      kind: string;
      detail: string;
    }[];
    return {
      backlog: counts.pending ?? 0,
      oldestUnsentSeconds: counts.oldest_created === null ? null : Math.max(0, Math.round((nowMs - counts.oldest_created) / 1000)),
      oldestUnsentStart: iso(counts.oldest_start),
      newestCommittedEnd: iso(latest),
      lastSuccess: { kinesis: iso(route("kinesis")?.last_success_ms), http: iso(route("http")?.last_success_ms) },
      lastError: {
        kinesis: route("kinesis")?.last_error ? `${iso(route("kinesis")?.last_error_ms)} ${route("kinesis")?.last_error}` : null,
        http: route("http")?.last_error ? `${iso(route("http")?.last_error_ms)} ${route("http")?.last_error}` : null,
      },
      rejected: counts.rejected ?? 0,
      clockOffsetMs: offset === undefined ? null : Number(offset),
      diskBytes: this.usedBytes(),
      diskCapBytes: this.maxBytes,
      diskWarnBytes: this.warnBytes,
      events: (this.statement("select count(*) as n from event").get() as { n: number }).n,
      lastEvents: events.map((row) => ({ atMs: row.at_ms, meterId: row.meter_id, kind: row.kind, detail: row.detail })),
      ratings: JSON.parse(this.meta("ratings") ?? "[]") as Rating[],
      buses: JSON.parse(this.meta("buses") ?? "[]") as BusStats[],
      meters: JSON.parse(this.meta("meters") ?? "[]") as MeterHealth[],
      config: JSON.parse(this.meta("config") ?? "null") as ConfigState | null,
      held: [...this.meterStates().values()].flatMap((state) =>
        state.held && state.snapshot
          ? [
              {
                meterId: state.meterId,
                since: iso(state.held.sinceMs) ?? "",
                cause: state.held.cause,
                reads: state.held.reads,
                lastGood: iso(state.snapshot.at) ?? "",
              },
            ]
          : [],
      ),
    };
  }
}

/** Creates the schema, or upgrades it in place (an upgraded agent keeps its outbox): each step takes one version to the next. */
function migrate(db: Database.Database): void {
  const version = db.pragma("user_version", { simple: true }) as number;
  if (version > schemaVersion) throw new OutboxError(`the outbox was written by a newer agent (schema ${version} > ${schemaVersion}); upgrade the agent`);
  if (version === schemaVersion) return;
  db.transaction(() => {
    if (version < 1) {
      db.exec(`
        create table if not exists reading (
          id integer primary key,
          meter_id text not null,
          start_ms integer not null,
          body text not null,
          created_ms integer not null,
          state integer not null default 0,
          reason text,
          unique (meter_id, start_ms)
        );
        create index if not exists reading_queue on reading (state, start_ms, id);
        create table if not exists meter_state (meter_id text primary key, end_ms integer not null, snapshot text);
        create table if not exists route (name text primary key, last_success_ms integer, last_error_ms integer, last_error text);
        create table if not exists event (id integer primary key, at_ms integer not null, meter_id text not null, kind text not null, detail text not null);
        create table if not exists meta (key text primary key, value text not null);
      `);
    }
    // 2: a counter meter's reads held as suspect (counter.ts), committed with its last good read.
    if (version < 2) db.exec("alter table meter_state add column held text");
    db.pragma(`user_version = ${schemaVersion}`);
  })();
}
