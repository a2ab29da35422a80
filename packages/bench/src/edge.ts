/**
 * `npm run bench:edge`: the gateway's figures. Appends a 3-day backlog of 200 meters (172,800
 * readings) to a fresh outbox, one 5-minute boundary per transaction as the agent commits them; then
 * drains it with the real agent (`wattflow-edge run`, a child process) into a local stack running in
 * this process, once through Kinesis and once through POST /v1/ingest, sampling the agent's peak RSS.
 * Then one read cycle of 32 SDM630 meters on one 9,600-baud 8N1 Modbus RTU bus (a socat virtual pair, a
 * slave answering unit ids 1…32 and pacing each answer at the line's speed, since a pty does not; the agent's own
 * bus and driver code and the shipped SDM630 map) beside the wire time of the same bytes, the yardstick.
 * Last line with --json: { appendPerSecond, drainPerSecond: { kinesis, http }, peakRssMb, rtuCycle }.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { CliError } from "@wattflow/cli/client";
import type { Command } from "commander";
import { benchCommand, numberOption, printFigures } from "./command";

const edgeBin = fileURLToPath(new URL("../../edge/bin/wattflow-edge.mjs", import.meta.url));
const step = 300_000;

type Route = "kinesis" | "http";

export function registerBenchEdge(bench: Command): void {
  benchCommand(bench, "edge", "gateway outbox append rate, drain of a 3-day backlog of 200 meters through each route, peak RSS")
    .option("--meters <n>", "meters", numberOption("--meters"), 200)
    .option("--days <n>", "days of backlog", numberOption("--days"), 3)
    .option("--rtu-only", "only the Modbus RTU cycle of 32 meters at 9,600 baud")
    .action(async (options: { meters: number; days: number; json?: boolean; rtuOnly?: boolean }) => {
      const drain = options.rtuOnly ? {} : await benchEdge({ meters: options.meters, days: options.days, log: console.error });
      printFigures({ ...drain, rtuCycle: await rtuCycle({ log: console.error }) }, options.json);
    });
}

export async function benchEdge(options: { meters: number; days: number; log: (line: string) => void }) {
  const { startStack } = await import("@wattflow/local/stack/index");
  const { Meter } = await import("@wattflow/core/meter");
  const { Outbox } = await import("@wattflow/edge/outbox");
  const { read: simulate } = await import("@wattflow/edge/meter/simulator");
  const { catchUpBoundaries } = await import("@wattflow/edge/agent");

  const dir = mkdtempSync(join(tmpdir(), "wattflow-bench-edge-"));
  // No demo history: the bench measures the gateway alone.
  const stack = await startStack({ dataDir: join(dir, "stack"), port: 0, kinesisPort: 0, demo: true, demoTraffic: false, demoHistoryDays: 0, dev: false });
  try {
    const demo = stack.demo;
    if (!demo) throw new CliError("the bench stack has no demo organization");
    const meterIds: string[] = [];
    for (let index = 0; index < options.meters; index++) {
      const meter = await Meter.create({
        organizationId: demo.organizationId,
        factoryId: demo.factoryId,
        deviceId: demo.deviceId,
        name: `Bench ${index}`,
        line: `Line ${index % 12}`,
      });
      meterIds.push(meter.id);
    }
    const intervals = (options.days * 86_400_000) / step;
    const total = intervals * meterIds.length;
    options.log(`bench: stack up at ${stack.apiUrl}; ${meterIds.length} meters, ${intervals} intervals each = ${total} readings per route`);

    // Two separate spans in the past, so the second route's readings are new to the cloud too.
    const origin = Math.floor((Date.now() - 2 * options.days * 86_400_000 - 86_400_000) / step) * step;
    const spans: Record<Route, number> = { kinesis: origin, http: origin + intervals * step };

    /**
     * Fills a fresh outbox the way the agent commits: `perCommit` boundaries (every meter) per
     * transaction — 1 in steady state, up to 36 when it catches up after a pause.
     */
    const fill = (dataDir: string, from: number, perCommit: number) => {
      const outbox = Outbox.open(dataDir, { maxBytes: 1 << 30, warnBytes: 1 << 29 });
      let appendMs = 0;
      for (let slot = 0; slot < intervals; slot += perCommit) {
        const readings = [];
        const last = Math.min(intervals, slot + perCommit);
        for (let index = slot; index < last; index++) {
          const start = from + index * step;
          readings.push(
            ...meterIds.map((meterId, meter) => ({
              meterId,
              start: new Date(start).toISOString(),
              seconds: 300,
              ...simulate({ seed: meter + 1, ratedKw: 200, utcOffsetHours: 0 }, new Date(start), 300),
            })),
          );
        }
        const began = performance.now();
        outbox.commit(
          readings,
          meterIds.map((meterId) => ({ meterId, endMs: from + last * step })),
        );
        appendMs += performance.now() - began;
      }
      outbox.close();
      return Math.round(total / (appendMs / 1000));
    };

    const results = {} as Record<Route, { drainSeconds: number; storedSeconds: number; peakRssMb: number; appendPerSecond: number }>;
    for (const route of ["kinesis", "http"] as Route[]) {
      const dataDir = join(dir, `edge-${route}`);
      const from = spans[route];
      const perCommit = route === "kinesis" ? 1 : catchUpBoundaries;
      const appendPerSecond = fill(dataDir, from, perCommit);
      options.log(
        `bench: outbox append ${total} readings, ${perCommit} boundar${perCommit === 1 ? "y" : "ies"} (${perCommit * meterIds.length} readings) per transaction → ${appendPerSecond}/s`,
      );

      const end = from + intervals * step;
      const drained = await drain({ dir, name: route, dataDir, end, meterIds, demo, apiUrl: stack.apiUrl, kinesis: route === "kinesis" });
      const { seconds: drainSeconds, readyAt, peakRssKb } = drained;
      options.log(
        `bench: ${route}: agent drained ${total} readings in ${drainSeconds.toFixed(1)} s → ${Math.round(total / drainSeconds)}/s, peak RSS ${Math.round(peakRssKb / 1024)} MB`,
      );

      const storedSeconds = await waitStored(stack.apiUrl, demo.apiToken, demo.factoryId, from, end, total, readyAt);
      options.log(
        `bench: ${route}: all ${total} stored in Postgres ${storedSeconds.toFixed(1)} s after the drain began → ${Math.round(total / storedSeconds)}/s end to end`,
      );
      results[route] = { drainSeconds, storedSeconds, peakRssMb: Math.round(peakRssKb / 1024), appendPerSecond };
    }
    // The agent alone: the same backlog to an ingest endpoint that answers at once, to show where the limit is.
    const sink = createServer((request, response) => {
      request.resume();
      request.on("end", () => {
        response.writeHead(200, { "content-type": "application/json" });
        response.end(request.url === "/v1/ingest" ? JSON.stringify({ accepted: 500, duplicates: 0, rejected: [] }) : "{}");
      });
    });
    await new Promise<void>((resolve) => sink.listen(0, "127.0.0.1", resolve));
    try {
      const dataDir = join(dir, "edge-sink");
      fill(dataDir, origin, catchUpBoundaries);
      const alone = await drain({
        dir,
        name: "sink",
        dataDir,
        end: origin + intervals * step,
        meterIds,
        demo,
        apiUrl: `http://127.0.0.1:${(sink.address() as AddressInfo).port}`,
        kinesis: false,
      });
      options.log(
        `bench: the agent alone (POST to a sink that answers at once): ${total} readings in ${alone.seconds.toFixed(1)} s → ${Math.round(total / alone.seconds)}/s, peak RSS ${Math.round(alone.peakRssKb / 1024)} MB`,
      );
    } finally {
      sink.close();
    }
    options.log(
      `bench: appendPerSecond is the agent's bulk commit (${catchUpBoundaries} boundaries per transaction, as when it catches up); one boundary per transaction: ${results.kinesis.appendPerSecond}/s (one fsync each)`,
    );
    return {
      appendPerSecond: results.http.appendPerSecond,
      drainPerSecond: { kinesis: Math.round(total / results.kinesis.drainSeconds), http: Math.round(total / results.http.drainSeconds) },
      peakRssMb: Math.max(results.kinesis.peakRssMb, results.http.peakRssMb),
    };
  } finally {
    await stack.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

type Drain = {
  dir: string;
  name: string;
  dataDir: string;
  end: number;
  meterIds: string[];
  demo: { deviceId: string; deviceToken: string; kinesis: unknown };
  apiUrl: string;
  kinesis: boolean;
};

/** Runs the real agent on a filled outbox until it exits 0 (everything acknowledged); its drain time and peak RSS. */
async function drain(options: Drain): Promise<{ seconds: number; readyAt: number; peakRssKb: number }> {
  const configPath = join(options.dir, `edge-${options.name}.json`);
  writeFileSync(
    configPath,
    JSON.stringify({
      deviceId: options.demo.deviceId,
      token: options.demo.deviceToken,
      api: { url: options.apiUrl },
      ...(options.kinesis ? { kinesis: options.demo.kinesis } : {}),
      dataDir: options.dataDir,
      meters: options.meterIds.map((id, index) => ({ id, driver: "sim", seed: index + 1 })),
      // Already read up to `end`: the agent only drains, then exits 0 once the cloud has every reading.
      clock: { start: new Date(options.end).toISOString(), speed: 1 },
      until: new Date(options.end).toISOString(),
    }),
  );
  const { runtimeEnvironment } = await import("@wattflow/edge/service");
  const began = Date.now();
  // Run as the service unit runs it (its heap and malloc settings).
  const agent = spawn(process.execPath, [edgeBin, "run", "--config", configPath], {
    stdio: ["ignore", "ignore", "pipe"],
    env: { ...process.env, ...runtimeEnvironment },
  });
  let output = "";
  agent.stderr?.on("data", (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-20_000);
  });
  let peakRssKb = 0;
  const sampler = setInterval(() => {
    peakRssKb = Math.max(peakRssKb, highWaterKb(agent));
  }, 100);
  const code = await new Promise<number | null>((resolve) => agent.once("exit", (exit) => resolve(exit)));
  clearInterval(sampler);
  if (code !== 0) throw new CliError(`the agent exited ${code} draining via ${options.name}:\n${output.slice(-2000)}`);
  const readyAt = Date.parse(/^\[([^\]]+)\] edge: device/m.exec(output)?.[1] ?? new Date(began).toISOString());
  return { seconds: (Date.now() - readyAt) / 1000, readyAt, peakRssKb };
}

/** The child's peak resident set (VmHWM), in KiB; 0 once it is gone. */
function highWaterKb(child: ChildProcess): number {
  try {
    const status = readFileSync(`/proc/${child.pid}/status`, "utf8");
    return Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return 0;
    throw error;
  }
}

async function waitStored(apiUrl: string, token: string, factoryId: string, from: number, to: number, total: number, since: number): Promise<number> {
  const query = `from=${new Date(from).toISOString()}&to=${new Date(to).toISOString()}&bucket=1d`;
  for (;;) {
    const response = await fetch(`${apiUrl}/v1/factories/${factoryId}/usage?${query}`, { headers: { authorization: `Bearer ${token}` } });
    if (!response.ok) throw new CliError(`usage answered ${response.status}: ${await response.text()}`);
    const usage = (await response.json()) as { totals: { readings: number } };
    if (usage.totals.readings >= total) return (Date.now() - since) / 1000;
    if (Date.now() - since > 900_000) throw new CliError(`only ${usage.totals.readings} of ${total} readings stored after 15 minutes`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** What one read cycle of many meters on one RTU bus takes, beside the time its bytes need on the wire. */
export type RtuCycle =
  | {
      meters: number;
      baudRate: number;
      model: string;
      requests: number;
      /** Request and answer bytes of one cycle (address, function, data, CRC). */
      bytes: number;
      /** bytes × 11 bits / baud rate (a Modbus RTU character is 11 bits: start, 8 data, parity or a second stop, stop), ms. */
      wireMs: number;
      /** Median and slowest of the measured cycles, ms: from the boundary's first request to the last answer. */
      cycleMs: number;
      cycleMsMax: number;
      cycles: number;
      /** cycleMs / wireMs: what the bus code, the ptys and the inter-frame silences add to the bytes themselves. */
      overheadRatio: number;
      /** cycleMs as a share of the 5-minute slot. */
      slotShare: number;
    }
  | { skipped: string };

/**
 * One read cycle of `meters` SDM630s (unit ids 1…meters) on one 9,600-baud 8N1 RTU bus, `cycles` times: a socat pty
 * pair, the simulated slave (edge meter/rtu-slave.ts, answering after the request's and answer's time on a real 8N1 line:
 * a pty itself moves bytes at memory speed) on one end, the agent's Buses and drivers on the other, as the
 * agent asks them at a boundary (every meter at once, one request at a time on the bus). Without socat it says so and
 * returns `{ skipped }`.
 */
export async function rtuCycle(options: { log: (line: string) => void; meters?: number; cycles?: number }): Promise<RtuCycle> {
  const meters = options.meters ?? 32;
  const cycles = options.cycles ?? 5;
  if (spawnSync("socat", ["-V"], { stdio: "ignore" }).status !== 0) {
    const skipped = "socat is not installed (apt-get install socat): no virtual serial line, no RTU cycle figure";
    options.log(`bench: ${skipped}`);
    return { skipped };
  }
  const { RtuSlave, imageOf, virtualLine } = await import("@wattflow/edge/meter/rtu-slave");
  const { Buses } = await import("@wattflow/edge/meter/bus");
  const { create } = await import("@wattflow/edge/meter/driver");
  const { mapOf } = await import("@wattflow/edge/meter/maps");
  const { wordsOf } = await import("@wattflow/edge/meter/registers");
  const model = "sdm630";
  const baudRate = 9600;
  const map = mapOf(model);
  const dir = mkdtempSync(join(tmpdir(), "wattflow-bench-rtu-"));
  const line = await virtualLine(dir);
  const slave = new RtuSlave();
  const buses = new Buses({ line1: { path: line.master, baudRate, parity: "none", dataBits: 8, stopBits: 1 } });
  try {
    await slave.open(line.slave, baudRate);
    // The ptys do not pace bytes at the baud rate: the slave does, at 8N1's 10 bits a character (start, 8 data, stop).
    slave.charMs = (10 * 1000) / baudRate;
    const image = imageOf(model, { kwh: 123_456.7, kvarh: 45_678.9, kw: 87.65, voltage: 230.4, current: 126.5, pf: 0.87 });
    for (let unitId = 1; unitId <= meters; unitId++) slave.units.set(unitId, { registers: (_table, address) => image.get(address) ?? 0, table: map.function });
    const drivers = Array.from({ length: meters }, (_, index) => {
      const driver = create({ id: `mtr_bench${String(index).padStart(21, "0")}`, driver: model, bus: "line1", unitId: index + 1 }, buses);
      if (driver.kind !== "counter") throw new CliError("an SDM630 is a counter meter");
      return driver;
    });
    // Every field the map reads is one request: 8 bytes out (unit, function, address, count, CRC), 5 + 2 × words back.
    const fields = (["energy", "reactive", "power", "voltage", "current", "powerFactor"] as const).flatMap((role) => {
      const field = map[role];
      return field ? [field] : [];
    });
    const bytesPerMeter = fields.reduce((sum, field) => sum + 8 + 5 + 2 * wordsOf(field.encoding), 0);
    const bytes = bytesPerMeter * meters;
    const wireMs = (bytes * 11 * 1000) / baudRate;
    const bus = buses.for({ bus: "line1" });
    const times: number[] = [];
    for (let cycle = 0; cycle < cycles; cycle++) {
      buses.beginCycle();
      await Promise.all(drivers.map((driver) => driver.read()));
      buses.endCycle();
      times.push(bus.stats().lastCycleMs ?? Number.NaN);
    }
    const sorted = [...times].sort((a, b) => a - b);
    const cycleMs = sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
    const figures = {
      meters,
      baudRate,
      model,
      requests: fields.length * meters,
      bytes,
      wireMs: Math.round(wireMs),
      cycleMs: Math.round(cycleMs),
      cycleMsMax: Math.round(sorted.at(-1) ?? Number.NaN),
      cycles,
      overheadRatio: Math.round((cycleMs / wireMs) * 100) / 100,
      slotShare: Math.round((cycleMs / step) * 10_000) / 10_000,
    };
    options.log(
      `bench: RTU cycle, ${meters} ${model} meters on one ${baudRate} 8N1 bus: ${figures.requests} requests, ${bytes} bytes; median ${figures.cycleMs} ms (slowest ${figures.cycleMsMax} ms of ${cycles}) against ${figures.wireMs} ms on the wire (× ${figures.overheadRatio}); ${(figures.slotShare * 100).toFixed(2)} % of the 5-minute slot`,
    );
    return figures;
  } finally {
    await buses.close();
    await slave.close();
    await line.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
