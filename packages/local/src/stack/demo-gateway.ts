/**
 * The demo's gateway: the real edge agent (packages/edge, its own `wattflow-edge run --config FILE` entry) in a
 * child process of the stack, reading the demo meters as simulators (same seeds and rated kW as ever), keeping
 * its readings in its SQLite outbox under `<dataDir>/edge` and uploading them on the Kinesis route to the stack's
 * Kinesis endpoint, with POST /v1/ingest as its fallback, heartbeating like any gateway.
 * `wattflow edge status --data <dataDir>/edge` shows its outbox, routes and last uploads.
 *
 * A child process, not a module of the stack: a crash of the agent (an exception, its native SQLite module, its
 * memory) never takes the stack down; the stack starts it again after a pause, as systemd does on a gateway
 * (edge service.ts: `Restart=on-failure`). It stops with the stack (SIGTERM), and by itself when the stack dies (its IPC
 * channel closes).
 *
 * Its meters' cloud config is off: the simulator is the gateway's own test driver, which the cloud never hands out
 * (core `Meter.Connection` refuses "sim"). With it on, an edit of a demo meter in the console (a model, a bus) would
 * turn a simulated meter into a Modbus one with nothing to read; the demo's figures come from the file alone.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdirSync, renameSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { intervalSeconds } from "@wattflow/core/config";
import { Usage } from "@wattflow/core/usage";
import { readJsonState, writeFileAtomicSync } from "@wattflow/core/util/files";
import type { Config } from "@wattflow/edge/config";
import { Outbox } from "@wattflow/edge/outbox";
import { runtimeEnvironment } from "@wattflow/edge/service";
import { type DemoInfo, demoSimulators } from "./demo";

const edgeBin = fileURLToPath(new URL("../../../edge/bin/wattflow-edge.mjs", import.meta.url));
const step = intervalSeconds * 1000;

/** First pause before the agent is started again after it stopped on its own; doubles up to `maxRestartMs`. */
const restartMs = 5_000;
const maxRestartMs = 60_000;
/** A life at least this long counts as healthy: the next restart waits `restartMs` again. */
const healthyLifeMs = 60_000;
/** How long a stopping agent may take to finish its commit and in-flight uploads (the gateway's unit gives it 30 s). */
const stopGraceMs = 15_000;

/**
 * The demo gateway's backlog rate, readings a second (fresh ones always go first): its consumer, database and API
 * share one process and this machine, so a catch-up at the agent's default 5,000/s held /v1/overview up to 1.4 s at its
 * 90th percentile (0.6 s at this rate, measured on a loaded 2-core machine); the 3-day catch-up (5,184 readings) is then
 * stored in ~40 s, near the old simulated demo's pace (144 readings a second).
 */
const demoBacklogPerSecond = 200;
/** Its heartbeat period, ms: the devices page shows its route and clock offset within seconds of a start (a gateway's default, 60 s, shows "no route yet" for the first minute). */
const demoHeartbeatMs = 15_000;

/** The demo gateway's data folder (its outbox, device key, health file and config.json). */
export const demoGatewayDir = (dataDir: string) => join(dataDir, "edge");

/** The demo gateway's config file, rewritten at each start with the stack's endpoints (`wattflow-edge run --config <this>`). */
export const demoGatewayConfigPath = (dataDir: string) => join(demoGatewayDir(dataDir), "config.json");

/**
 * The NTP marker of the demo gateway (edge trust.ts `fileSource`), touched by the stack as it starts the agent: the
 * gateway runs on the machine the cloud runs on, so its clock is the cloud's. Without it the agent would wait for
 * the cloud's first answer and then read its catch-up as one gap interval, as a gateway whose clock was unknown must.
 */
export const demoGatewayClockMarker = (dataDir: string) => join(demoGatewayDir(dataDir), "clock-synchronized");

/**
 * The demo gateway's config (packages/edge config.ts): the demo device and its token, the stack's API and Kinesis
 * endpoint, the six simulated meters, the outbox in the config's own folder, the stack's clock as its time source,
 * cloud config off (module header).
 */
export function demoGatewayConfig(info: DemoInfo, dataDir: string): Config {
  return {
    deviceId: info.deviceId,
    token: info.deviceToken,
    api: { url: info.apiUrl },
    kinesis: { endpoint: info.kinesis.endpoint, stream: info.kinesis.stream, region: info.kinesis.region, credentials: info.kinesis.credentials },
    // Resolved against the config file's folder (edge config.ts `load`).
    dataDir: ".",
    meters: demoSimulators(info).map(({ meterId, seed, ratedKw, utcOffsetHours }) => ({ id: meterId, driver: "sim", seed, ratedKw, utcOffsetHours })),
    time: { ntp: { file: demoGatewayClockMarker(dataDir) } },
    uploadLimits: { backlogPerSecond: demoBacklogPerSecond, heartbeatMs: demoHeartbeatMs },
    cloudConfig: { enabled: false },
  };
}

/**
 * Writes the gateway's config (0600: it holds the device token and the Kinesis credentials) and, on its first
 * start, places each meter's first interval at `from` (ms, on the 5-minute grid) — after the newest stored
 * reading of the demo meters, so nothing is read twice: the agent then reads from there to now as a gateway
 * does after being off (one reading per slot), and live after that. A later start resumes from its outbox.
 * A folder left by another demo device (demo.json made again) is set aside, not mixed in.
 */
export async function prepareDemoGateway(info: DemoInfo, dataDir: string, from: number, log: (line: string) => void): Promise<string> {
  const dir = demoGatewayDir(dataDir);
  const path = demoGatewayConfigPath(dataDir);
  const previous = existsSync(path) ? readJsonState<Partial<Config>>(path) : undefined;
  if (previous?.deviceId && previous.deviceId !== info.deviceId) {
    const aside = join(dataDir, `edge-${previous.deviceId}`);
    renameSync(dir, aside);
    log(`demo gateway: the folder of an earlier demo device (${previous.deviceId}) moved to ${aside}`);
  }
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  writeFileAtomicSync(path, JSON.stringify(demoGatewayConfig(info, dataDir), null, 2), { mode: 0o600 });
  writeFileAtomicSync(demoGatewayClockMarker(dataDir), `${new Date().toISOString()}\n`);
  // The agent's own outbox limits do not matter here: only meter states are written.
  const outbox = Outbox.open(dir, { maxBytes: Number.MAX_SAFE_INTEGER, warnBytes: Number.MAX_SAFE_INTEGER });
  try {
    const states = outbox.meterStates();
    const fresh = info.meterIds.filter((meterId) => !states.has(meterId));
    if (fresh.length > 0) {
      const last = await Usage.lastReadingStart(fresh);
      const start = Math.max(Math.floor(from / step) * step, last ? last.getTime() + step : Number.NEGATIVE_INFINITY);
      outbox.commit(
        [],
        fresh.map((meterId) => ({ meterId, endMs: start })),
      );
      log(`demo gateway: ${fresh.length} meter(s) read from ${new Date(start).toISOString()}`);
    }
  } finally {
    outbox.close();
  }
  return path;
}

/**
 * Starts the demo gateway (module header) and keeps it running: prepared (`prepareDemoGateway`) and spawned, and
 * both again after a pause (5 s, doubling to 60 s while it keeps failing) whenever it stops on its own. Its log
 * lines go to `log`. The returned function stops it (SIGTERM, SIGKILL after 15 s) and waits until it has exited.
 */
export function runDemoGateway(info: DemoInfo, options: { dataDir: string; from: number; log: (line: string) => void }): () => Promise<void> {
  const { dataDir, log } = options;
  let stopping = false;
  let child: ChildProcess | undefined;
  let starting: Promise<void> = Promise.resolve();
  let exited: Promise<void> = Promise.resolve();
  let timer: NodeJS.Timeout | undefined;
  let pause = restartMs;

  const again = (reason: string, lifeMs: number) => {
    if (stopping) return;
    if (lifeMs >= healthyLifeMs) pause = restartMs;
    log(`demo gateway: ${reason}; starting it again in ${Math.round(pause / 1000)} s`);
    timer = setTimeout(() => {
      starting = start();
    }, pause);
    pause = Math.min(pause * 2, maxRestartMs);
  };

  const start = async () => {
    const began = Date.now();
    let config: string;
    try {
      config = await prepareDemoGateway(info, dataDir, options.from, log);
    } catch (error) {
      return again(`cannot be prepared (${(error as Error).message})`, 0);
    }
    if (stopping) return;
    const agent = spawn(process.execPath, [edgeBin, "run", "--config", config], {
      cwd: demoGatewayDir(dataDir),
      // Run as the gateway's service runs it (service.ts); the stack's own Node options are not the agent's.
      env: { ...process.env, ...runtimeEnvironment },
      // The IPC channel is how the agent knows the stack is gone (edge main.ts).
      stdio: ["ignore", "pipe", "pipe", "ipc"],
    });
    child = agent;
    for (const stream of [agent.stdout, agent.stderr]) {
      // The agent stamps its lines; the stack's log stamps them again.
      if (stream) createInterface({ input: stream }).on("line", (line) => log(`demo gateway: ${line.replace(/^\[[^\]]*\] /, "")}`));
    }
    exited = new Promise<void>((resolve) => {
      let done = false;
      const finish = (reason: string) => {
        if (done) return;
        done = true;
        child = undefined;
        resolve();
        again(reason, Date.now() - began);
      };
      agent.once("error", (error) => finish(`could not run (${error.message})`));
      agent.once("exit", (code, signal) => finish(signal ? `stopped by ${signal}` : `exited with code ${code}`));
    });
  };

  starting = start();
  return async () => {
    stopping = true;
    clearTimeout(timer);
    await starting;
    const agent = child;
    if (agent && agent.exitCode === null && agent.signalCode === null) {
      const kill = setTimeout(() => agent.kill("SIGKILL"), stopGraceMs);
      agent.kill("SIGTERM");
      await exited;
      clearTimeout(kill);
    }
  };
}
