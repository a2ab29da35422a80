import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { Testing } from "@wattflow/core/testing";
import Database from "better-sqlite3";
import { afterEach, describe, expect, it } from "vitest";
import { Outbox } from "../src/outbox";

const meterId = (index: number) => `mtr_${String(index).padStart(26, "0")}`;
const reading = (index: number, startMs: number) => ({ meterId: meterId(index), start: new Date(startMs).toISOString(), seconds: 300, kwh: 1 + index });
const t0 = Date.parse("2026-01-05T00:00:00Z");
const limits = { maxBytes: 1 << 30, warnBytes: 1 << 29 };

let dirs: { remove(): void }[] = [];
afterEach(() => {
  for (const dir of dirs) dir.remove();
  dirs = [];
});
function tempDir(): string {
  const dir = Testing.temporaryDir("wattflow-edge-");
  dirs.push(dir);
  return dir.path;
}

describe("outbox", () => {
  it("keeps committed readings and meter state across a reopen, and ignores a reading committed twice", () => {
    const dir = tempDir();
    const outbox = Outbox.open(dir, limits);
    expect(outbox.commit([reading(1, t0), reading(2, t0)], [{ meterId: meterId(1), endMs: t0 + 300_000 }])).toBe(2);
    expect(outbox.commit([reading(1, t0)], [])).toBe(0);
    outbox.close();

    const again = Outbox.open(dir, limits);
    expect(again.pendingCount()).toBe(2);
    expect(again.latestEnd()).toBe(t0 + 300_000);
    expect(again.db.pragma("journal_mode", { simple: true })).toBe("wal");
    expect(again.db.pragma("synchronous", { simple: true })).toBe(2);
    again.close();
  });

  it("upgrades a schema-1 outbox in place: unsent readings and counters kept, held reads committed with them from then on", () => {
    // Prepare: an outbox as the previous agent left it (schema 1: no held column), one unsent reading and a counter.
    const dir = tempDir();
    const old = new Database(Outbox.path(dir));
    old.exec(`
      create table reading (id integer primary key, meter_id text not null, start_ms integer not null, body text not null, created_ms integer not null,
        state integer not null default 0, reason text, unique (meter_id, start_ms));
      create index reading_queue on reading (state, start_ms, id);
      create table meter_state (meter_id text primary key, end_ms integer not null, snapshot text);
      create table route (name text primary key, last_success_ms integer, last_error_ms integer, last_error text);
      create table event (id integer primary key, at_ms integer not null, meter_id text not null, kind text not null, detail text not null);
      create table meta (key text primary key, value text not null);
    `);
    const anchor = { at: t0, kwh: 8000, kw: 60 };
    old.prepare("insert into reading (meter_id, start_ms, body, created_ms) values (?, ?, ?, ?)").run(meterId(1), t0, JSON.stringify(reading(1, t0)), t0);
    old.prepare("insert into meter_state values (?, ?, ?)").run(meterId(1), t0, JSON.stringify(anchor));
    old.pragma("user_version = 1");
    old.close();

    // Act: the status reads it before the agent upgrades it; the agent opens it and holds a read.
    const before = Outbox.open(dir, { ...limits, readonly: true });
    const unupgraded = before.meterStates().get(meterId(1));
    before.close();
    const outbox = Outbox.open(dir, limits);
    const held = { sinceMs: t0 + 300_000, cause: "zero" as const, reads: 1, run: [{ at: t0 + 300_000, kwh: 0, kw: 0 }] };
    outbox.commit([], [{ meterId: meterId(1), endMs: t0 + 300_000, snapshot: anchor, held }]);
    outbox.close();
    const reopened = Outbox.open(dir, { ...limits, readonly: true });

    // Assess
    expect(unupgraded).toEqual({ meterId: meterId(1), endMs: t0, snapshot: anchor, held: undefined });
    expect(reopened.pendingCount()).toBe(1);
    expect(reopened.meterStates().get(meterId(1))).toEqual({ meterId: meterId(1), endMs: t0 + 300_000, snapshot: anchor, held });
    expect(reopened.status().held).toEqual([
      { meterId: meterId(1), since: new Date(t0 + 300_000).toISOString(), cause: "zero", reads: 1, lastGood: new Date(t0).toISOString() },
    ]);
    reopened.close();
  });

  it("hands out fresh readings before the backlog, and no more backlog than the limit", () => {
    const outbox = Outbox.open(tempDir(), limits);
    const old = Array.from({ length: 10 }, (_, slot) => reading(1, t0 + slot * 300_000));
    const fresh = reading(2, t0 + 100 * 300_000);
    outbox.commit([...old, fresh], []);

    const batch = outbox.next({ limit: 500, freshFromMs: t0 + 99 * 300_000, backlogLimit: 3 });
    expect(batch.fresh).toBe(1);
    expect(batch.rows.map((row) => row.startMs)).toEqual([fresh, ...old.slice(0, 3)].map((item) => Date.parse(item.start)));
    outbox.close();
  });

  it("deletes acknowledged readings and keeps rejected ones with their reason, out of the queue", () => {
    const outbox = Outbox.open(tempDir(), limits);
    outbox.commit([reading(1, t0), reading(2, t0), reading(3, t0)], []);
    const { rows } = outbox.next({ limit: 500, freshFromMs: 0, backlogLimit: 500 });
    outbox.ack([rows[0]?.id ?? -1]);
    outbox.reject([{ id: rows[1]?.id ?? -1, reason: "readings.1.meterId: meter is not read by this device" }]);

    expect(outbox.pendingCount()).toBe(1);
    expect(outbox.status().rejected).toBe(1);
    expect(outbox.rejected()).toEqual([{ meterId: meterId(2), start: new Date(t0).toISOString(), reason: expect.stringContaining("not read by this device") }]);
    expect(outbox.next({ limit: 500, freshFromMs: 0, backlogLimit: 500 }).rows.map((row) => row.meterId)).toEqual([meterId(3)]);
    outbox.close();
  });

  it("counts only pages in use, so the space of acknowledged readings is free again", () => {
    const outbox = Outbox.open(tempDir(), limits);
    const readings = Array.from({ length: 5000 }, (_, index) => reading(index % 200, t0 + Math.floor(index / 200) * 300_000));
    outbox.commit(readings, []);
    const full = outbox.usedBytes();
    outbox.ack(outbox.next({ limit: 5000, freshFromMs: 0, backlogLimit: 5000 }).rows.map((row) => row.id));
    expect(outbox.usedBytes()).toBeLessThan(full / 4);
    outbox.close();
  });

  it("loses no committed reading and needs no repair when killed with SIGKILL mid-commit, 12 times over", async () => {
    const dir = tempDir();
    const script = fileURLToPath(new URL("./fixtures/append.ts", import.meta.url));
    let reported = 0;
    for (let kill = 0; kill < 12; kill++) {
      const child = spawn(process.execPath, ["--import", "tsx", script, dir, "200"], { stdio: ["ignore", "pipe", "inherit"] });
      let buffered = "";
      child.stdout.on("data", (chunk: Buffer) => {
        buffered += chunk.toString();
        const lines = buffered.split("\n");
        buffered = lines.pop() ?? "";
        for (const line of lines) reported = Math.max(reported, Number(line));
      });
      // Wait for the first commit of this life, then kill at a random moment among the next commits.
      const before = reported;
      while (reported === before) await new Promise((resolve) => setTimeout(resolve, 5));
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 60));
      child.kill("SIGKILL");
      await new Promise((resolve) => child.once("exit", resolve));

      const outbox = Outbox.open(dir, limits);
      expect(outbox.db.pragma("integrity_check", { simple: true })).toBe("ok");
      const latest = outbox.latestEnd() ?? 0;
      // Everything the child saw committed is there; a commit it did not live to report may be there too, whole.
      expect(latest).toBeGreaterThanOrEqual(reported);
      const intervals = (latest - Date.parse("2026-01-01T00:00:00Z")) / 300_000;
      expect(outbox.pendingCount()).toBe(intervals * 200);
      outbox.close();
    }
  });
});
