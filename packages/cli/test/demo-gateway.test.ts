/**
 * The demo's gateway is the real edge agent: `wattflow start` runs it as a child process with the demo meters on
 * the simulator, its outbox under `<data>/edge`, uploading on the Kinesis route. Seen through the public doors:
 * the API's stored readings (their `source`), `wattflow edge status`, the process table.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { Testing } from "@wattflow/core/testing";
import { read as simulate } from "@wattflow/edge/meter/simulator";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { call, eventually, type RunningStack, startStack, wattflow } from "./support";

type Reading = { meterId: string; start: string; seconds: number; kwh: number; quality: string; source: string };
type EdgeStatus = { backlog: number; lastSuccess: { kinesis: string | null; http: string | null }; newestCommittedEnd: string | null };

const step = 300_000;

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ESRCH") return false;
    throw error;
  }
};

describe("the demo gateway of `wattflow start`", () => {
  const data = Testing.temporaryDir();
  const edge = join(data.path, "edge");
  let stack: RunningStack;
  let spawnedAt: number;
  const agentPid = () => (existsSync(join(edge, "agent.pid")) ? Number(readFileSync(join(edge, "agent.pid"), "utf8").trim()) : undefined);
  const status = () => {
    const result = wattflow(["edge", "status", "--data", edge, "--json"]);
    expect(result.stderr).toBe("");
    return JSON.parse(result.stdout) as EdgeStatus;
  };
  const readings = async (meterId: string, from: number, to: number) =>
    (
      await call<{ readings: Reading[] }>(
        `${stack.apiUrl}/v1/meters/${meterId}/readings?from=${new Date(from).toISOString()}&to=${new Date(to).toISOString()}`,
        stack.demo.apiToken,
      )
    ).body.readings;

  // No bulk history: the gateway itself reads the three days before the start, through Kinesis.
  const gatewayCatchUp = ["--demo-history", "0", "--demo-catch-up", "3"];

  beforeAll(async () => {
    spawnedAt = Date.now();
    stack = await startStack(data.path, gatewayCatchUp);
  }, 120_000);
  afterAll(async () => {
    await stack?.stop("SIGKILL");
    data.remove();
  });

  it("reads the demo meters from three days back, one reading per slot, and they arrive through Kinesis with the simulator's values", {
    timeout: 120_000,
  }, async () => {
    // Prepare: where the gateway's meters start, as the stack says: the 5-minute boundary it started in, less the 3 days of --demo-catch-up.
    const line = await eventually(async () => /demo gateway: 6 meter\(s\) read from (\S+)/.exec(stack.output())?.[1], 30_000);
    const from = Date.parse(line);
    const spawnedSlot = Math.floor(spawnedAt / step) * step - 3 * 86_400_000;
    expect([spawnedSlot, spawnedSlot + step]).toContain(from);

    // Act: wait for the catch-up to be stored, up to the slot before the one the stack started in.
    const meterId = stack.demo.meterIds[0] as string;
    const until = from + 3 * 86_400_000;
    const stored = await eventually(async () => {
      const found = await readings(meterId, from - step, until);
      return found.length === 864 ? found : undefined;
    }, 90_000);

    // Assess: 3 days × 288 slots, each once, from `from` on, every one measured and put on the stream by the gateway.
    expect(stored[0]?.start).toBe(new Date(from).toISOString());
    expect(stored.every((reading, index) => Date.parse(reading.start) === from + index * step && reading.seconds === 300)).toBe(true);
    expect(new Set(stored.map((reading) => `${reading.source}/${reading.quality}`))).toEqual(new Set(["kinesis/measured"]));
    // Meter 1 of the demo is the injection line: simulator seed 1, 420 kW rated, Monterrey's UTC−6 (demo.ts demoSimulators).
    const sample = stored[100] as Reading;
    expect(sample.kwh).toBe(simulate({ seed: 1, ratedKw: 420, utcOffsetHours: -6 }, new Date(sample.start), 300).kwh);
  });

  it("drains its outbox on the Kinesis route, and `wattflow edge status` shows it", { timeout: 60_000 }, async () => {
    const drained = await eventually(async () => {
      const now = status();
      return now.backlog === 0 && now.lastSuccess.kinesis !== null ? now : undefined;
    }, 45_000);
    expect(drained.lastSuccess.http).toBeNull();
    // Read up to the boundary the stack started in, at least.
    expect(Date.parse(drained.newestCommittedEnd ?? "")).toBeGreaterThanOrEqual(Math.floor(spawnedAt / step) * step);
    const human = wattflow(["edge", "status", "--data", edge]);
    expect(human.stdout).toMatch(/^backlog {10}0 reading\(s\)$/m);
    expect(human.stdout).toMatch(/^last success {5}kinesis \d{4}-\d\d-\d\dT\S+ · http never$/m);
    expect(human.stdout).toMatch(/^config {11}local file only/m);
    // It heartbeats as a gateway: the devices page's figures come from it.
    const devices = await call<{ devices: { id: string; keyEnrolled: boolean; heartbeatAt: string | null }[] }>(
      `${stack.apiUrl}/v1/devices`,
      stack.demo.apiToken,
    );
    expect(devices.body.devices.find((device) => device.id === stack.demo.deviceId)).toMatchObject({ keyEnrolled: true, heartbeatAt: expect.any(String) });
  });

  it("is started again when it crashes, and the stack stays up", { timeout: 60_000 }, async () => {
    const first = agentPid() as number;
    expect(alive(first)).toBe(true);
    process.kill(first, "SIGKILL");
    const second = await eventually(async () => {
      const pid = agentPid();
      return pid !== undefined && pid !== first && alive(pid) ? pid : undefined;
    }, 45_000);
    expect((await fetch(`${stack.apiUrl}/health`)).status).toBe(200);
    expect(stack.output()).toContain("demo gateway: stopped by SIGKILL; starting it again in 5 s");
    expect(second).not.toBe(first);
  });

  it("does not outlive a stack killed with SIGKILL, and resumes from its outbox on the next start", { timeout: 150_000 }, async () => {
    const agent = agentPid() as number;
    await stack.stop("SIGKILL");
    await eventually(async () => (alive(agent) ? undefined : true), 20_000);

    stack = await startStack(data.path, gatewayCatchUp);
    const restarted = await eventually(async () => {
      const pid = agentPid();
      return pid !== undefined && pid !== agent && alive(pid) ? pid : undefined;
    }, 45_000);
    expect(restarted).toBeGreaterThan(0);
    await eventually(async () => (/demo gateway: edge: device dev_\w+, 6 meter\(s\)/.test(stack.output()) ? true : undefined), 30_000);
    // Its meters kept their place in the outbox: no new starting point was given.
    expect(stack.output()).not.toContain("meter(s) read from");
  });
});
