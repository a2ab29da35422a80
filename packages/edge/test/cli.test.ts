/** `wattflow edge status|install|run` as a user runs them. */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Testing } from "@wattflow/core/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { wattflow } from "../../cli/test/support";
import { HealthWriter } from "../src/health";
import { Outbox } from "../src/outbox";

const meterId = "mtr_01m8gprxkjet4h0yhbyzdqm8wv";
const config = (dataDir: string, extra: Record<string, unknown> = {}) => ({
  deviceId: "dev_01m8gprxke1yxb4ma1nchzqhd8",
  token: "wfd_test",
  api: { url: "http://127.0.0.1:9" },
  dataDir,
  meters: [{ id: meterId, driver: "sim", seed: 1 }],
  ...extra,
});

describe("wattflow edge", () => {
  let dir: { path: string; remove(): void };
  beforeAll(() => {
    dir = Testing.temporaryDir("wattflow-edge-cli-");
  });
  afterAll(() => dir.remove());

  it("status --json reports backlog, oldest unsent, last success per route, rejected and clock offset from the outbox", () => {
    const dataDir = join(dir.path, "status");
    const outbox = Outbox.open(dataDir, { maxBytes: 1 << 30, warnBytes: 1 << 29 });
    const start = Date.parse("2026-01-05T00:00:00Z");
    outbox.commit(
      [0, 1, 2].map((slot) => ({ meterId, start: new Date(start + slot * 300_000).toISOString(), seconds: 300, kwh: 1 })),
      [{ meterId, endMs: start + 900_000 }],
      [],
      Date.now() - 90_000,
    );
    const [first] = outbox.next({ limit: 1, freshFromMs: 0, backlogLimit: 1 }).rows;
    outbox.reject([{ id: first?.id ?? -1, reason: "readings.0.kwh: kwh must not be negative" }]);
    outbox.route("http", { ok: true, atMs: Date.parse("2026-01-05T00:20:00Z") });
    outbox.setMeta("clock_offset_ms", "-250");
    outbox.close();

    const result = wattflow(["edge", "status", "--data", dataDir, "--json"]);
    expect(result.status, result.stderr).toBe(0);
    const status = JSON.parse(result.stdout) as Record<string, unknown>;
    expect(status).toMatchObject({
      backlog: 2,
      oldestUnsentStart: "2026-01-05T00:05:00.000Z",
      lastSuccess: { kinesis: null, http: "2026-01-05T00:20:00.000Z" },
      rejected: 1,
      clockOffsetMs: -250,
      newestCommittedEnd: "2026-01-05T00:15:00.000Z",
    });
    expect(status.oldestUnsentSeconds).toBeGreaterThanOrEqual(89);

    const text = wattflow(["edge", "status", "--data", dataDir]);
    expect(text.stdout).toMatch(/backlog\s+2 reading/);
    expect(text.stdout).toMatch(/kwh must not be negative/);
  });

  it("status shows the clock untrusted since its last trusted instant and the disk full with what is held in memory", async () => {
    // Prepare: what the agent writes on a board that booted without its clock, on a full disk.
    const dataDir = join(dir.path, "health");
    Outbox.open(dataDir, { maxBytes: 1 << 30, warnBytes: 1 << 29 }).close();
    await new HealthWriter(dataDir).write({
      clock: {
        state: "untrusted",
        source: null,
        offsetSeconds: null,
        untrustedSince: "2026-01-05T00:15:00.000Z",
        reason: "a new boot: waiting for NTP or the cloud's time",
      },
      lastTrusted: { wallMs: Date.parse("2026-01-05T00:15:00Z"), monotonicMs: 1000, bootId: "b" },
      disk: { state: "full", freeBytes: 0, since: "2026-01-05T00:20:00.000Z", pendingReadings: 7, error: "SQLITE_FULL: database or disk is full" },
      writtenAt: "2026-01-05T00:21:00.000Z",
    });

    // Act
    const json = wattflow(["edge", "status", "--data", dataDir, "--json"]);
    const text = wattflow(["edge", "status", "--data", dataDir]);

    // Assess: both states as written; free bytes asked now (the temporary folder's filesystem has room).
    expect(json.status, json.stderr).toBe(0);
    const status = JSON.parse(json.stdout) as { clock: Record<string, unknown>; disk: Record<string, unknown> };
    expect(status.clock).toMatchObject({ state: "untrusted", source: null, untrustedSince: "2026-01-05T00:15:00.000Z" });
    expect(status.disk).toMatchObject({ state: "full", since: "2026-01-05T00:20:00.000Z", pendingReadings: 7 });
    expect(status.disk.freeBytes).toBeGreaterThan(0);
    expect(text.stdout).toMatch(/clock\s+UNTRUSTED since 2026-01-05T00:15:00.000Z: a new boot/);
    expect(text.stdout).toMatch(/disk\s+FULL since 2026-01-05T00:20:00.000Z \(SQLITE_FULL: database or disk is full\): 7 reading\(s\) held in memory/);
  });

  it("status shows each counter meter's rating and where it came from, the meters held, and their glitch events", () => {
    // Prepare: what the agent commits for a meter with no rating configured whose counter read 0 and is held.
    const dataDir = join(dir.path, "held");
    const outbox = Outbox.open(dataDir, { maxBytes: 1 << 30, warnBytes: 1 << 29 });
    const t0 = Date.parse("2026-01-05T00:00:00Z");
    outbox.setMeta(
      "ratings",
      JSON.stringify([{ meterId, maxKw: 75.9, source: "class", basis: "class default: 3 phase(s) × 253 V × 100 A (Eastron SDM630-Modbus datasheet)" }]),
    );
    const held = { sinceMs: t0 + 300_000, cause: "zero" as const, reads: 1, run: [{ at: t0 + 300_000, kwh: 0, kw: 0 }] };
    outbox.commit(
      [],
      [{ meterId, endMs: t0 + 300_000, snapshot: { at: t0, kwh: 8000, kw: 60 }, held }],
      [{ meterId, atMs: t0 + 300_000, kind: "held", detail: "counter went from 8000 to 0 kWh in 300 s; held" }],
    );
    outbox.close();

    // Act
    const json = wattflow(["edge", "status", "--data", dataDir, "--json"]);
    const text = wattflow(["edge", "status", "--data", dataDir]);

    // Assess
    expect(json.status, json.stderr).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({
      ratings: [{ meterId, maxKw: 75.9, source: "class" }],
      held: [{ meterId, since: "2026-01-05T00:05:00.000Z", cause: "zero", reads: 1, lastGood: "2026-01-05T00:00:00.000Z" }],
    });
    expect(text.stdout).toMatch(new RegExp(`rating\\s+${meterId} 75.9 kW \\(CLASS DEFAULT, not configured\\): class default: 3 phase`));
    expect(text.stdout).toMatch(
      new RegExp(`held\\s+${meterId} 1 read\\(s\\) since 2026-01-05T00:05:00.000Z \\(zero\\); last good read 2026-01-05T00:00:00.000Z`),
    );
    expect(text.stdout).toMatch(/event\s+2026-01-05T00:05:00.000Z \S+ held: counter went from 8000 to 0 kWh/);
  });

  it("status names the folder when there is no outbox in it", () => {
    const result = wattflow(["edge", "status", "--data", join(dir.path, "nothing")]);
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/no outbox in .*nothing/);
  });

  it("install writes a systemd unit that restarts the agent on failure and keeps the outbox outside the code", () => {
    const configPath = join(dir.path, "gateway.json");
    writeFileSync(configPath, JSON.stringify(config("./state")));
    const result = wattflow(["edge", "install", "--config", configPath, "--unit-dir", join(dir.path, "units"), "--user", "wattflow"]);
    expect(result.status, result.stderr).toBe(0);
    const unit = readFileSync(join(dir.path, "units", "wattflow-edge.service"), "utf8");
    expect(unit).toMatch(new RegExp(`^ExecStart=\\S+node \\S+wattflow-edge\\.mjs run --config ${configPath}$`, "m"));
    expect(unit).toMatch(/^Environment="NODE_OPTIONS=--max-old-space-size=64 --max-semi-space-size=1"$/m);
    expect(unit).toMatch(/^Restart=on-failure$/m);
    expect(unit).toMatch(/^User=wattflow$/m);
    expect(unit).toContain(`ReadWritePaths=${join(dir.path, "state")}`);
    expect(unit).toMatch(/^WantedBy=multi-user.target$/m);
  });

  it("install refuses a config with a simulated clock", () => {
    const configPath = join(dir.path, "simulated.json");
    writeFileSync(configPath, JSON.stringify(config("./state", { clock: { start: "2026-01-01T00:00:00Z", speed: 60 } })));
    const result = wattflow(["edge", "install", "--config", configPath, "--unit-dir", join(dir.path, "units")]);
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/real clock/);
  });

  it("run exits 2 and names every problem of a bad config", () => {
    const configPath = join(dir.path, "bad.json");
    writeFileSync(configPath, JSON.stringify({ ...config("./state"), deviceId: "gateway-1", meters: [{ id: meterId, driver: "em24" }] }));
    const result = wattflow(["edge", "run", "--config", configPath]);
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/deviceId: deviceId must look like dev_/);
    expect(result.stderr).toMatch(/meters\.0\.host: a em24 meter needs bus and unitId, or host/);
  });
});
