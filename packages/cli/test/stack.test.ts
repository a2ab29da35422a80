import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Cost } from "@wattflow/core/cost";
import { Testing } from "@wattflow/core/testing";
import { demoTariff, demoTariffStart, demoTimeZone } from "@wattflow/local/stack/demo";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { call, type Demo, eventually, type RunningStack, startStack, wattflow } from "./support";

/** What the engine charges for `kwh` at `start` under the demo factory's tariff (CFE GDMTH, its local time). */
function demoCost(kwh: number, start: string): number {
  const now = new Date();
  const version = { id: "trf_demo", factoryId: "fac_demo", effectiveFrom: demoTariffStart(now), definition: demoTariff(now) };
  return Number(Cost.price({ kwh, start: new Date(start) }, version, { timeZone: demoTimeZone }).cost);
}

type Usage = { buckets: { start: string; kwh: number; cost: number; readings: number }[]; totals: { kwh: number; cost: number; readings: number } };
type Ingest = { accepted: number; duplicates: number; rejected: { index: number; errors: { path: string; message: string }[] }[] };

/** A day two years back: the demo gateway only writes the last few days, so these intervals are the test's own. */
const day = (offsetDays: number) => new Date(Date.UTC(new Date().getUTCFullYear() - 2, 2, 1 + offsetDays)).toISOString().slice(0, 10);

const ingest = (demo: Demo, readings: unknown[]) => call<Ingest>(`${demo.apiUrl}/v1/ingest`, demo.deviceToken, { method: "POST", body: { readings } });
const usage = (demo: Demo, from: string, to: string, bucket = "1d") =>
  call<Usage>(`${demo.apiUrl}/v1/factories/${demo.factoryId}/usage?from=${from}T00:00:00Z&to=${to}T00:00:00Z&bucket=${bucket}`, demo.apiToken);

describe("wattflow start: the local stack end to end", () => {
  const data = Testing.temporaryDir();
  let stack: RunningStack;
  beforeAll(async () => {
    stack = await startStack(data.path);
    console.log(`stack healthy ${stack.readyMs} ms after spawn`);
  });
  afterAll(async () => {
    await stack?.stop();
    data.remove();
  });

  it("reports every component healthy and writes demo.json with everything a client needs", async () => {
    // The public answer is the status alone; the figures are for an operator.
    const open = await call<{ status: string }>(`${stack.apiUrl}/health`, "");
    expect([open.status, open.body]).toEqual([200, { status: "ok" }]);
    const health = await call<{ status: string; components: Record<string, { ok: boolean }> }>(`${stack.apiUrl}/v1/health`, stack.demo.operatorToken);
    expect(health.status).toBe(200);
    expect(Object.keys(health.body.components).sort()).toEqual([
      "archive",
      "consumer",
      "database",
      "demoHistory",
      "files",
      "lake",
      "quarantine",
      "stream",
      "undelivered",
    ]);
    expect(Object.values(health.body.components).every((component) => component.ok)).toBe(true);
    expect(stack.demo).toMatchObject({
      apiUrl: stack.apiUrl,
      factoryId: expect.stringMatching(/^fac_/),
      deviceId: expect.stringMatching(/^dev_/),
      deviceToken: expect.any(String),
      apiToken: expect.any(String),
      adminToken: expect.any(String),
      operatorToken: expect.any(String),
      platformToken: expect.any(String),
      kinesis: {
        endpoint: expect.stringMatching(/^http:/),
        stream: "readings",
        region: "us-east-1",
        credentials: { accessKeyId: expect.any(String), secretAccessKey: expect.any(String) },
      },
    });
    expect(stack.demo.meterIds.length).toBe(stack.demo.lines.length);
  });

  it("shows a posted reading in the factory's usage with its cost, and stores it once when posted twice", async () => {
    const reading = { meterId: stack.demo.meterIds[0], start: `${day(0)}T12:00:00Z`, seconds: 300, kwh: 10 };
    const posted = Date.now();
    expect((await ingest(stack.demo, [reading])).body).toEqual({ accepted: 1, duplicates: 0, rejected: [] });
    const seen = await eventually(async () => {
      const { body } = await usage(stack.demo, day(0), day(1));
      return body.totals.readings === 1 ? body : undefined;
    }, 5000);
    console.log(`reading visible in usage ${Date.now() - posted} ms after POST`);
    expect(seen.totals.kwh).toBe(10);
    expect(seen.totals.cost).toBeCloseTo(demoCost(reading.kwh, reading.start), 6);
    expect(seen.totals.cost).toBeGreaterThan(0);

    expect((await ingest(stack.demo, [reading])).body).toEqual({ accepted: 0, duplicates: 1, rejected: [] });
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect((await usage(stack.demo, day(0), day(1))).body.totals.readings).toBe(1);
  });

  it("stores the good readings of a batch with one bad reading and returns the bad one's reason", async () => {
    const good = (minute: number) => ({ meterId: stack.demo.meterIds[1], start: `${day(2)}T10:${String(minute).padStart(2, "0")}:00Z`, seconds: 300, kwh: 1 });
    const { status, body } = await ingest(stack.demo, [good(0), good(5), { ...good(10), kwh: "lots" }, good(15)]);
    expect(status).toBe(200);
    expect(body.accepted).toBe(3);
    expect(body.rejected).toEqual([{ index: 2, errors: [{ path: "readings.2.kwh", message: "kwh must be a number" }] }]);
    await eventually(async () => ((await usage(stack.demo, day(2), day(3))).body.totals.readings === 3 ? true : undefined), 5000);
  });

  it("buckets usage by hour in the factory's local time", async () => {
    const meterId = stack.demo.meterIds[2];
    const readings = [0, 5, 10, 60].map((minute) => ({
      meterId,
      start: new Date(Date.parse(`${day(4)}T15:00:00Z`) + minute * 60_000).toISOString(),
      seconds: 300,
      kwh: 2,
    }));
    await ingest(stack.demo, readings);
    const body = await eventually(async () => {
      const { body } = await usage(stack.demo, day(4), day(5), "1h");
      return body.totals.readings === 4 ? body : undefined;
    }, 5000);
    expect(body.buckets.map((bucket) => [bucket.start, bucket.readings, bucket.kwh])).toEqual([
      [`${day(4)}T15:00:00.000Z`, 3, 6],
      [`${day(4)}T16:00:00.000Z`, 1, 2],
    ]);
  });

  it("lets the demo gateway's simulated readings show costs within a minute of start", async () => {
    const today = new Date();
    const from = new Date(today.getTime() - 4 * 86_400_000).toISOString().slice(0, 10);
    const to = new Date(today.getTime() + 86_400_000).toISOString().slice(0, 10);
    const body = await eventually(async () => {
      const { body } = await usage(stack.demo, from, to);
      return body.totals.cost > 0 ? body : undefined;
    }, 60_000);
    expect(body.totals.kwh).toBeGreaterThan(0);
  });

  it("refuses another organization's token and unknown factories", async () => {
    const unknown = await call<{ code: string }>(
      `${stack.apiUrl}/v1/factories/fac_01jnope0000000000000000000/usage?from=2025-01-01T00:00:00Z&to=2025-01-02T00:00:00Z`,
      stack.demo.apiToken,
    );
    expect(unknown.status).toBe(404);
    const noToken = await call(`${stack.apiUrl}/v1/factories`, "wfa_not-a-token");
    expect(noToken.status).toBe(401);
  });

  it("gives the demo apiToken read access only, as the README says; setup changes need adminToken", async () => {
    const factory = { name: "Planta Nueva", timeZone: "America/Monterrey", tariffCode: "flat" };
    const refused = await call<{ code: string }>(`${stack.apiUrl}/v1/factories`, stack.demo.apiToken, { method: "POST", body: factory });
    expect((await call(`${stack.apiUrl}/v1/factories`, stack.demo.apiToken)).status).toBe(200);
    expect([refused.status, refused.body.code]).toEqual([403, "auth.role_required"]);
    expect((await call(`${stack.apiUrl}/v1/factories`, stack.demo.adminToken, { method: "POST", body: factory })).status).toBe(201);
  });

  it("lists quarantined records and replays them through the pipeline with the CLI", async () => {
    const { KinesisClient, PutRecordsCommand } = await import("@aws-sdk/client-kinesis");
    const { NodeHttpHandler } = await import("@smithy/node-http-handler");
    const kinesis = new KinesisClient({
      endpoint: stack.demo.kinesis.endpoint,
      region: stack.demo.kinesis.region,
      credentials: stack.demo.kinesis.credentials,
      requestHandler: new NodeHttpHandler(),
    });
    await kinesis.send(new PutRecordsCommand({ StreamName: "readings", Records: [{ PartitionKey: "garbage", Data: Buffer.from("not json at all") }] }));
    kinesis.destroy();
    const env = { WATTFLOW_DATA: data.path };
    const listed = await eventually(async () => {
      const result = wattflow(["quarantine", "list", "--json"], env);
      const items = JSON.parse(result.stdout || "[]") as { id: string; reason: string; payload: string }[];
      return items.length > 0 ? items : undefined;
    }, 10_000);
    expect(listed[0]).toMatchObject({ reason: "invalid record", payload: "not json at all" });
    const human = wattflow(["quarantine", "list"], env);
    expect(human.stdout).toContain("invalid record — (record): not UTF-8 JSON");

    const replay = wattflow(["quarantine", "replay", listed[0]?.id as string], env);
    expect(replay.status).toBe(0);
    expect(replay.stdout).toContain("replayed 1 record(s)");
    // Still bad, so the pipeline quarantines it again under a new id; the old one is marked replayed.
    const after = await eventually(async () => {
      const items = JSON.parse(wattflow(["quarantine", "list", "--all", "--json"], env).stdout) as { id: string; replayedAt: string | null }[];
      return items.length >= 2 ? items : undefined;
    }, 10_000);
    expect(after.find((item) => item.id === listed[0]?.id)?.replayedAt).not.toBeNull();
  });

  it("refuses a second stack on the same data folder", async () => {
    const second = wattflow(["start", "--data", data.path, "--port", "0", "--kinesis-port", "0"]);
    expect(second.status).not.toBe(0);
    expect(second.stderr).toMatch(/in use by a running stack \(pid \d+\)/);
  });
});

describe("a stack killed with SIGKILL", () => {
  it("loses nothing it acknowledged, and restarts on the same data", async () => {
    const data = Testing.temporaryDir();
    // No demo history: the only writer is this test's poster.
    const quiet = ["--no-demo-traffic", "--demo-history", "0"];
    let stack = await startStack(data.path, quiet);
    const meterIds = stack.demo.meterIds;
    let acknowledged = 0;
    // Keep posting until the kill; count only what was answered 200.
    let stop = false;
    const poster = (async () => {
      for (let batch = 0; !stop; batch++) {
        const readings = meterIds.map((meterId) => ({
          meterId,
          start: new Date(Date.parse(`${day(10)}T00:00:00Z`) + batch * 300_000).toISOString(),
          seconds: 300,
          kwh: 1,
        }));
        const answer = await ingest(stack.demo, readings).catch(() => undefined);
        if (answer?.status === 200) acknowledged += answer.body.accepted;
        else break;
      }
    })();
    await new Promise((resolve) => setTimeout(resolve, 1500));
    await stack.stop("SIGKILL");
    stop = true;
    await poster;
    expect(acknowledged).toBeGreaterThan(0);

    stack = await startStack(data.path, quiet);
    const stored = await eventually(async () => {
      const { body } = await usage(stack.demo, day(9), day(40));
      return body.totals.readings >= acknowledged ? body.totals.readings : undefined;
    }, 30_000).catch(async () => (await usage(stack.demo, day(9), day(40))).body.totals.readings);
    console.log(`acknowledged before SIGKILL: ${acknowledged}; stored after restart: ${stored}`);
    expect(stored).toBeGreaterThanOrEqual(acknowledged);
    await stack.stop();
    data.remove();
  });
});

describe("a data folder made when the demo apiToken was an admin token", () => {
  it("keeps that token as adminToken and makes apiToken read-only on the next start", async () => {
    // Prepare: a demo.json as older versions wrote it: apiToken an admin token, no adminToken or platformToken.
    const data = Testing.temporaryDir();
    const quiet = ["--no-demo-traffic", "--demo-history", "0"];
    const first = await startStack(data.path, quiet);
    await first.stop();
    const path = join(data.path, "demo.json");
    const { adminToken, platformToken: _platform, ...older } = JSON.parse(readFileSync(path, "utf8")) as Demo;
    writeFileSync(path, JSON.stringify({ ...older, apiToken: adminToken }));

    // Act
    const stack = await startStack(data.path, quiet);
    try {
      const factory = { name: "Planta Nueva", timeZone: "America/Monterrey", tariffCode: "flat" };
      const create = (token: string) => call(`${stack.apiUrl}/v1/factories`, token, { method: "POST", body: factory });

      // Assess
      expect(stack.demo.adminToken).toBe(adminToken);
      expect((await create(stack.demo.apiToken)).status).toBe(403);
      expect((await create(stack.demo.adminToken)).status).toBe(201);
      expect(stack.demo.platformToken).toEqual(expect.any(String));
    } finally {
      await stack.stop();
      data.remove();
    }
  });
});

describe.runIf(process.env.DATABASE_URL)("the local stack on a real Postgres (DATABASE_URL)", () => {
  it("migrates a fresh database at start and serves readings from it", async () => {
    const { Client } = await import("pg");
    const server = process.env.DATABASE_URL as string;
    const name = `wattflow_stack_${process.pid}_${Date.now()}`;
    const admin = new Client({ connectionString: server });
    await admin.connect();
    await admin.query(`create database ${name}`);
    const url = new URL(server);
    url.pathname = `/${name}`;
    const data = Testing.temporaryDir();
    const stack = await startStack(data.path, ["--no-demo-traffic", "--demo-history", "0"], url.toString());
    try {
      const health = await call<{ components: { database: { detail: { kind: string } } } }>(`${stack.apiUrl}/v1/health`, stack.demo.operatorToken);
      expect(health.body.components.database.detail.kind).toBe("postgres");
      const reading = { meterId: stack.demo.meterIds[0], start: `${day(20)}T08:00:00Z`, seconds: 300, kwh: 4 };
      expect((await ingest(stack.demo, [reading])).body.accepted).toBe(1);
      const body = await eventually(async () => {
        const { body } = await usage(stack.demo, day(20), day(21));
        return body.totals.readings === 1 ? body : undefined;
      }, 5000);
      expect(body.totals.cost).toBeCloseTo(demoCost(reading.kwh, reading.start), 6);
      // The reading is in that database, not in a PGlite folder.
      const direct = new Client({ connectionString: url.toString() });
      await direct.connect();
      const stored = await direct.query("select count(*)::int as n from reading");
      await direct.end();
      expect(stored.rows[0].n).toBe(1);
    } finally {
      await stack.stop();
      data.remove();
      await admin.query(`drop database if exists ${name} with (force)`);
      await admin.end();
    }
  });
});
