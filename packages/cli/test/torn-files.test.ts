import { existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Testing } from "@wattflow/core/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { call, eventually, type RunningStack, startStack } from "./support";

type Health = { status: string; components: { files: { ok: boolean; detail: { unreadable: { path: string; movedTo: string | null; reason: string }[] } } } };

/** The files /v1/health names as unreadable (the details need an operator or admin token; the public /health gives the status alone). */
const unreadablePaths = async (stack: RunningStack) =>
  (await call<Health>(`${stack.apiUrl}/v1/health`, stack.demo.operatorToken)).body.components.files.detail.unreadable.map((file) => file.path);

describe("a torn Parquet file in the lake (the running stack)", () => {
  const data = Testing.temporaryDir();
  let stack: RunningStack;
  const year = new Date().getUTCFullYear() - 2;
  const month = `${year}-03`;
  beforeAll(async () => {
    stack = await startStack(data.path, ["--no-demo-traffic", "--demo-history", "0"]);
  });
  afterAll(async () => {
    await stack?.stop();
    data.remove();
  });

  it("writes demo.json readable by its owner only, in a folder only its owner can enter", () => {
    expect(statSync(join(data.path, "demo.json")).mode & 0o777).toBe(0o600);
    expect(statSync(data.path).mode & 0o777).toBe(0o700);
  });

  it("answers KPIs and alert evaluation 200 after a 0-byte Parquet file appears, moves it aside and names it in /health", async () => {
    // Prepare: three readings of 2 kWh on 2 March (midday UTC is morning in Monterrey), in the lake.
    const readings = [0, 5, 10].map((minute) => ({
      meterId: stack.demo.meterIds[0],
      start: `${month}-02T18:${String(minute).padStart(2, "0")}:00Z`,
      seconds: 300,
      kwh: 2,
    }));
    expect((await call(`${stack.apiUrl}/v1/ingest`, stack.demo.deviceToken, { method: "POST", body: { readings } })).status).toBe(200);
    const kpis = () => call<{ totals: { kwh: number } }>(`${stack.apiUrl}/v1/factories/${stack.demo.factoryId}/kpis?month=${month}`, stack.demo.apiToken);
    await eventually(async () => ((await kpis()).body.totals?.kwh === 6 ? true : undefined), 20_000);
    // A kill during a lake write, as an older version left it: a 0-byte file in the month's partition and in today's.
    const monthFile = join(data.path, "lake", "readings", `dt=${month}-02`, "part-torn.parquet");
    const todayFile = join(data.path, "lake", "readings", `dt=${new Date().toISOString().slice(0, 10)}`, "part-torn.parquet");
    for (const file of [monthFile, todayFile]) {
      mkdirSync(join(file, ".."), { recursive: true });
      writeFileSync(file, "");
    }

    // Act
    const answer = await kpis();
    const rule = await call(`${stack.apiUrl}/v1/alerts/rules`, stack.demo.adminToken, {
      method: "POST",
      body: { factoryId: stack.demo.factoryId, kind: "demand_near_peak", threshold: 0.95 },
    });
    const evaluated = await call(`${stack.apiUrl}/v1/alerts/evaluate`, stack.demo.adminToken, { method: "POST", body: { factoryId: stack.demo.factoryId } });

    // Assess: 3 × 2 kWh = 6 kWh, the torn file (no readings in it) changes nothing.
    expect(answer.status).toBe(200);
    expect(answer.body.totals.kwh).toBe(6);
    expect(rule.status).toBe(201);
    expect(evaluated.status).toBe(200);
    expect((await unreadablePaths(stack)).sort()).toEqual([monthFile, todayFile].sort());
    expect(existsSync(monthFile)).toBe(false);
    expect(readdirSync(join(data.path, "lake", "corrupt", `dt=${month}-02`))).toEqual([expect.stringMatching(/-part-torn\.parquet$/)]);
  });
});

describe("torn state files from an older version (the running stack)", () => {
  const data = Testing.temporaryDir();
  let stack: RunningStack;
  const workflows = join(data.path, "workflows");
  const tornState = join(workflows, "torn-run.json");
  const keptHistory = join(workflows, "kept-run.events.jsonl");
  const checkpoint = join(data.path, "stream", "readings", "checkpoints", "shardId-000000000000.checkpoint.json");
  const streamMeta = join(data.path, "stream", "readings", "stream.json");
  const demo = join(data.path, "demo.json");

  beforeAll(async () => {
    // Prepare: a data folder in use (database, stream, demo), stopped; then what an in-place
    // overwrite leaves after a power cut: JSON cut short, an empty file, a torn last line.
    await (await startStack(data.path, ["--no-demo-traffic", "--demo-history", "0"])).stop();
    mkdirSync(workflows, { recursive: true });
    mkdirSync(join(checkpoint, ".."), { recursive: true });
    writeFileSync(tornState, '{"executionArn":"arn:aws:states:us-east-1:000000000000:execution:wattflow-local-ImportFiles:torn-run","na');
    const kept = {
      executionArn: "arn:aws:states:us-east-1:000000000000:execution:wattflow-local-MonthlyClose:kept-run",
      name: "kept-run",
      stateMachineArn: "arn:aws:states:us-east-1:000000000000:stateMachine:wattflow-local-MonthlyClose",
      workflow: "MonthlyClose",
      status: "SUCCEEDED",
      startDate: "2026-01-01T08:00:00.000Z",
      stopDate: "2026-01-01T08:00:01.000Z",
      input: "{}",
      output: "{}",
    };
    writeFileSync(join(workflows, "kept-run.json"), JSON.stringify(kept));
    writeFileSync(keptHistory, `${JSON.stringify({ id: 1, timestamp: kept.startDate, type: "ExecutionStarted" })}\n{"id":2,"timest`);
    writeFileSync(checkpoint, "");
    writeFileSync(streamMeta, '{"name":"readi');
    writeFileSync(demo, '{"apiUrl":"http://127.0.0.1:3000","organizationId":"org_');
    // A lock file the killed process left empty: no pid in it, so it is taken over.
    writeFileSync(join(data.path, "stack.lock"), "");
    stack = await startStack(data.path, ["--no-demo-traffic", "--demo-history", "0"]);
  });
  afterAll(async () => {
    await stack?.stop();
    data.remove();
  });

  it("starts, sets each torn file aside and names it in /health", async () => {
    expect((await unreadablePaths(stack)).sort()).toEqual([checkpoint, demo, keptHistory, streamMeta, tornState].sort());
    // The demo is made again beside the old one (its tokens were only in the torn file): a fresh demo.json with working tokens.
    expect((await call(`${stack.apiUrl}/v1/factories`, stack.demo.apiToken)).status).toBe(200);
    expect(existsSync(tornState)).toBe(false);
    expect(readdirSync(join(workflows, ".corrupt")).length).toBe(2);
  });

  it("keeps what was readable: the intact run and its history up to the torn line", async () => {
    const runs = await call<{ executions: { name: string }[] }>(`${stack.apiUrl}/v1/runs`, stack.demo.apiToken);
    expect(runs.body.executions.map((execution) => execution.name)).toEqual(["kept-run"]);
    // A close with no organization in its input is the schedule's (every organization's): its history is the platform's.
    const history = await call<{ events: { id: number }[] }>(`${stack.apiUrl}/v1/runs/kept-run/history`, stack.demo.platformToken);
    expect(history.body.events.map((event) => event.id)).toEqual([1]);
  });

  it("consumes the stream again from the shard's oldest record: a reading posted now is stored", async () => {
    const reading = { meterId: stack.demo.meterIds[0], start: `${new Date().getUTCFullYear() - 2}-04-02T18:00:00Z`, seconds: 300, kwh: 3 };
    const meterIds = stack.demo.meterIds;
    expect((await call(`${stack.apiUrl}/v1/ingest`, stack.demo.deviceToken, { method: "POST", body: { readings: [reading] } })).status).toBe(200);
    const stored = await eventually(async () => {
      const { body } = await call<{ readings: unknown[] }>(
        `${stack.apiUrl}/v1/meters/${meterIds[0]}/readings?from=${reading.start}&to=${new Date(Date.parse(reading.start) + 300_000).toISOString()}`,
        stack.demo.apiToken,
      );
      return body.readings.length === 1 ? body.readings : undefined;
    }, 20_000);
    expect(stored).toHaveLength(1);
  });
});
