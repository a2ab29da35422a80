/**
 * Configuration from the cloud: the merge rule (cloud meters, local buses), refusal with each problem by path,
 * and end to end against the real local stack: a meter added through the console API reaches a running gateway,
 * its readings arrive in the cloud, a bad config is refused while the last good one keeps running, and a restart
 * without network runs the last good cloud config from disk.
 */
import { once } from "node:events";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { Testing } from "@wattflow/core/testing";
import { ServerTCP } from "modbus-serial";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { call, eventually, type RunningStack, wattflow } from "../../cli/test/support";
import { run } from "../src/agent";
import type { Clock } from "../src/clock";
import { type CloudConfig, merge, statePath } from "../src/cloud-config";
import { Config } from "../src/config";
import { Outbox } from "../src/outbox";
import { imageOf } from "./rtu";
import { startStack } from "./support";

const deviceId = "dev_01m8gprxke1yxb4ma1nchzqhd8";
const meter = (n: number) => `mtr_01m8gprxkjet4h0yhbyzdqm8w${n}`;

const local = Config.parse({
  deviceId,
  token: "wfd_test",
  api: { url: "http://127.0.0.1:9" },
  dataDir: "/tmp/unused",
  buses: { line1: { path: "/dev/ttyUSB0", baudRate: 9600, parity: "none", dataBits: 8, stopBits: 1 } },
  meters: [
    { id: meter(0), driver: "sim", seed: 7 },
    { id: meter(1), driver: "sdm630", bus: "line1", unitId: 1, ctSecondaryA: 1 },
  ],
});

describe("merging the cloud's meters with the local file", () => {
  it("takes the cloud's meter list, fills what a cloud meter leaves out from the file's meter of the same id, and keeps the file's buses", () => {
    // Prepare: meter 0 is not configured in the cloud (the file says sim, seed 7); meter 1 moves to unit 5 with CT 40;
    // meter 2 is new; meter 9 of the file is not in the cloud list.
    const cloud: CloudConfig = {
      deviceId,
      version: "v2",
      meters: [
        { id: meter(0) },
        { id: meter(1), driver: "sdm630", bus: "line1", unitId: 5, ct: 40 },
        { id: meter(2), driver: "em24", bus: "line1", unitId: 6 },
      ],
    };

    // Act
    const merged = merge(local, cloud);

    // Assess
    expect(merged.problems).toBeUndefined();
    expect(merged.config?.buses).toEqual(local.buses);
    expect(merged.config?.meters).toEqual([
      { id: meter(0), driver: "sim", seed: 7 },
      { id: meter(1), driver: "sdm630", bus: "line1", unitId: 5, ct: 40, ctSecondaryA: 1 },
      { id: meter(2), driver: "em24", bus: "line1", unitId: 6 },
    ]);
  });

  it("a meter the cloud puts on a Modbus TCP host is no longer on the file's bus", () => {
    const merged = merge(local, { deviceId, version: "v3", meters: [{ id: meter(1), driver: "sdm630", host: "10.0.0.21", port: 502, unitId: 1 }] });
    expect(merged.config?.meters).toEqual([{ id: meter(1), driver: "sdm630", host: "10.0.0.21", port: 502, unitId: 1, ctSecondaryA: 1 }]);
  });

  it("refuses a config whose meter names a bus the gateway lacks or a model it has no map for, each by path and meter", () => {
    // Act
    const merged = merge(local, {
      deviceId,
      version: "v4",
      meters: [{ id: meter(1), driver: "sdm630", bus: "line9", unitId: 2 }, { id: meter(3), driver: "abb-b99", host: "10.0.0.5" }, { id: meter(4) }],
    });

    // Assess
    expect(merged.config).toBeUndefined();
    expect(merged.problems).toEqual(
      expect.arrayContaining([
        { path: "meters.0.bus", message: expect.stringMatching(new RegExp(`^${meter(1)}: no bus "line9" in buses \\(line1\\)`)) },
        { path: "meters.1.driver", message: expect.stringContaining(`${meter(3)}: no meter map "abb-b99"`) },
      ]),
    );
  });

  it("leaves a meter with no model anywhere pending (added in the console, not wired yet) and runs the others", () => {
    // Act: meter(4) has no driver in the cloud and is not in the file.
    const merged = merge(local, {
      deviceId,
      version: "v5",
      meters: [{ id: meter(1), driver: "sdm630", host: "10.0.0.21", port: 502, unitId: 1 }, { id: meter(4) }],
    });

    // Assess
    expect(merged.problems).toBeUndefined();
    expect(merged.config?.meters.map((entry) => entry.id)).toEqual([meter(1)]);
    expect(merged.pending).toEqual([meter(4)]);
  });

  it("lets a new gateway start with no meters in its file when the cloud lists them, and not when cloud config is off", () => {
    // Prepare
    const fresh = { ...local, meters: [] };

    // Act
    const cloudOn = Config.safeParse(fresh);
    const cloudOff = Config.safeParse({ ...fresh, cloudConfig: { enabled: false } });

    // Assess
    expect(cloudOn.success).toBe(true);
    expect(cloudOff.success).toBe(false);
    expect(cloudOff.error?.issues.map((issue) => issue.path.join("."))).toEqual(["meters"]);
  });

  it("refuses a config for another device and an empty meter list", () => {
    expect(merge(local, { deviceId: "dev_01m8gprxke1yxb4ma1nchzqhd9", version: "x", meters: [{ id: meter(0) }] }).problems?.[0]?.path).toBe("deviceId");
    expect(merge(local, { deviceId, version: "x", meters: [] }).problems).toEqual([{ path: "meters", message: "meters must list at least one meter" }]);
  });
});

describe("configuration from the cloud, end to end on the local stack", () => {
  let dir: { path: string; remove(): void };
  let stack: RunningStack;
  let modbus: ServerTCP;
  let modbusPort: number;
  // The agent's clock (virtual time: it stands at a boundary while the meters are read), once the agent made it.
  let clock: Clock | undefined;
  const step = 300_000;
  const speed = 100;
  // Ten days back: readings must lie in the past for the cloud to take them.
  const start = Math.floor((Date.now() - 10 * 86_400_000) / step) * step;
  // The SDM630 draws 30 kW: its counter moves 2.5 kWh a slot, read at the boundary the agent's clock stands at.
  const counter = () => {
    const boundary = clock ? (clock.now() - start) / step : 0;
    return imageOf("sdm630", { kwh: 1000 + 2.5 * boundary, kvarh: 0, kw: 30, voltage: 231, current: 43.3, pf: 1 });
  };

  beforeAll(async () => {
    dir = Testing.temporaryDir("wattflow-cloud-config-");
    modbusPort = await Testing.freePort();
    const read = (address: number, length: number) => {
      const image = counter();
      return Array.from({ length }, (_, offset) => image.get(address + offset) ?? 0);
    };
    modbus = new ServerTCP(
      { getMultipleInputRegisters: read, getInputRegister: (address: number) => read(address, 1)[0] ?? 0 },
      { host: "127.0.0.1", port: modbusPort, unitID: 255 },
    );
    await once(modbus, "initialized");
    stack = await startStack(join(dir.path, "stack"), ["--no-demo-traffic", "--demo-history", "0"]);
  }, 120_000);
  afterAll(async () => {
    await stack?.stop();
    await new Promise<void>((resolve) => (modbus ? modbus.close(() => resolve()) : resolve()));
    dir?.remove();
  });

  it("a meter added through the console reaches the running gateway and its readings arrive; a bad config is refused and the last good one runs on, also after a restart without network", {
    timeout: 240_000,
  }, async () => {
    // Prepare: the demo gateway with its demo meters (simulated) in its file, checking the cloud every second.
    const demo = stack.demo;
    const config = Config.parse({
      deviceId: demo.deviceId,
      token: demo.deviceToken,
      api: { url: stack.apiUrl },
      dataDir: join(dir.path, "edge"),
      buses: { line1: { path: "/dev/ttyUSB-not-here", baudRate: 9600, parity: "none", dataBits: 8, stopBits: 1 } },
      meters: demo.meterIds.map((id, index) => ({ id, driver: "sim", seed: index + 1 })),
      // Virtual time: each cycle reads its boundary at that instant however busy the machine. The cloud config is
      // checked (and the heartbeat sent) on real time, as on a gateway: the meter's first boundary is whichever comes next.
      clock: { start: new Date(start).toISOString(), speed, virtual: true },
      cloudConfig: { intervalMs: 1_000 },
      uploadLimits: { heartbeatMs: 500 },
    });
    const stop = new AbortController();
    const logs: string[] = [];
    const agent = run(config, {
      signal: stop.signal,
      log: (line) => {
        logs.push(line);
      },
      onClock: (made) => {
        clock = made;
      },
    });
    const status = () => {
      // The agent makes its clock (and the outbox) only once it has started: until then there is no status to read.
      if (!existsSync(join(config.dataDir, "outbox.db"))) return { config: undefined } as unknown as ReturnType<Outbox["status"]>;
      const outbox = Outbox.open(config.dataDir, { maxBytes: 1 << 30, warnBytes: 1 << 29, readonly: true });
      try {
        return outbox.status();
      } finally {
        outbox.close();
      }
    };
    const readingsOf = async (meterId: string) => {
      const range = `from=${new Date(start).toISOString()}&to=${new Date(start + 30 * 86_400_000).toISOString()}`;
      const answer = await call<{ readings: { start: string; seconds: number; kwh: number }[] }>(
        `${stack.apiUrl}/v1/meters/${meterId}/readings?${range}`,
        demo.adminToken,
      );
      return answer.body.readings;
    };

    try {
      // The cloud answered and the file's meters run (the demo meters have no model in the cloud: the file fills it in).
      const first = await eventually(async () => (status().config?.checkedAt ? status().config : undefined), 30_000);

      // Act 1: an admin adds an SDM630 on Modbus TCP through the console API.
      const added = await call<{ id: string }>(`${stack.apiUrl}/v1/factories/${demo.factoryId}/meters`, demo.adminToken, {
        method: "POST",
        body: { deviceId: demo.deviceId, name: "Compresor 3", line: "Aire", driver: "sdm630", host: "127.0.0.1", port: modbusPort, unitId: 1 },
      });
      expect(added.status).toBe(201);
      const cloud = await call<CloudConfig>(`${stack.apiUrl}/v1/devices/self/config`, demo.deviceToken);

      // Assess 1: the gateway runs the new version and the meter's readings (2.5 kWh a slot at 30 kW) are stored in the cloud.
      const readings = await eventually(async () => {
        const stored = await readingsOf(added.body.id);
        return stored.length >= 3 ? stored : undefined;
      }, 120_000);
      expect(first?.source).toBe("cloud");
      expect(status().config).toMatchObject({ source: "cloud", version: cloud.body.version, refused: null });
      expect(cloud.body.meters.find((item) => item.id === added.body.id)).toMatchObject({ driver: "sdm630", host: "127.0.0.1", port: modbusPort, unitId: 1 });
      // Each reading is the counter's move over its slot, read at its boundaries: 2.5 kWh per 5 minutes, one after the other.
      let cursor = Date.parse(readings[0]?.start ?? "");
      expect(cursor % step).toBe(0);
      for (const reading of readings) {
        expect(Date.parse(reading.start)).toBe(cursor);
        expect(Number(reading.kwh)).toBeCloseTo((2.5 * reading.seconds) / 300, 6);
        cursor += reading.seconds * 1000;
      }
      type Devices = { devices: { id: string; heartbeat: { config?: { version: string }; meters?: { meterId: string }[] } | null }[] };
      const heartbeat = await eventually(async () => {
        const listed = await call<Devices>(`${stack.apiUrl}/v1/devices`, demo.adminToken);
        const beat = listed.body.devices.find((device) => device.id === demo.deviceId)?.heartbeat;
        return beat?.config?.version === cloud.body.version && beat.meters?.some((item) => item.meterId === added.body.id) ? beat : undefined;
      }, 30_000);
      expect(heartbeat.config?.version).toBe(cloud.body.version);

      // Act 2: a meter on a bus this gateway does not have.
      const bad = await call<{ id: string }>(`${stack.apiUrl}/v1/factories/${demo.factoryId}/meters`, demo.adminToken, {
        method: "POST",
        body: { deviceId: demo.deviceId, name: "Horno", line: "Hornos", driver: "em24", bus: "line9", unitId: 3 },
      });
      const refused = await eventually(async () => status().config?.refused ?? undefined, 30_000);
      const before = (await readingsOf(added.body.id)).length;
      const after = await eventually(async () => {
        const stored = await readingsOf(added.body.id);
        return stored.length >= before + 2 ? stored : undefined;
      }, 60_000);

      // Assess 2: refused with the path and the problem; the last good version runs on (the SDM630 keeps sending) and stays on disk.
      expect(refused.problems).toContainEqual({
        path: expect.stringMatching(/^meters\.\d+\.bus$/),
        message: `${bad.body.id}: no bus "line9" in buses (line1)`,
      });
      expect(status().config).toMatchObject({ source: "cloud", version: cloud.body.version });
      expect(after.length).toBeGreaterThanOrEqual(before + 2);
      expect(JSON.parse(readFileSync(statePath(config.dataDir), "utf8")).config.version).toBe(cloud.body.version);
      expect(logs.some((line) => line.includes("CLOUD CONFIG REFUSED") && line.includes("line9"))).toBe(true);
      const shown = wattflow(["edge", "status", "--data", config.dataDir]);
      expect(shown.status, shown.stderr).toBe(0);
      expect(shown.stdout).toMatch(new RegExp(`config\\s+cloud version ${cloud.body.version} applied `));
      expect(shown.stdout).toMatch(
        new RegExp(`config REFUSED\\s+cloud version [0-9a-f]{32} at \\S+: meters\\.\\d+\\.bus: ${bad.body.id}: no bus "line9" in buses`),
      );
      expect(shown.stdout).toMatch(new RegExp(`meter\\s+${added.body.id}: last good read \\d{4}-`));
    } finally {
      stop.abort();
      await agent;
    }

    // Act 3: restart with no network to the cloud (a port nobody listens on).
    const sdm630 = (await call<CloudConfig>(`${stack.apiUrl}/v1/devices/self/config`, stack.demo.deviceToken)).body.meters.find(
      (item) => item.driver === "sdm630",
    );
    const goodBefore = status().meters.find((entry) => entry.meterId === sdm630?.id)?.lastGoodRead ?? "";
    const offline = { ...config, api: { url: `http://127.0.0.1:${await Testing.freePort()}` } };
    const stopOffline = new AbortController();
    const restartedAt = Date.now();
    clock = undefined;
    const again = run(offline, {
      signal: stopOffline.signal,
      log: () => {},
      // The restarted agent's clock resumes where its outbox ends.
      onClock: (made) => {
        clock = made;
      },
    });
    try {
      // Assess 3: the SDM630 from the cloud config is read again (a good read after the restart), and the cloud's error is reported.
      const health = await eventually(async () => {
        const item = status().meters.find((entry) => entry.meterId === sdm630?.id);
        return item?.lastGoodRead && item.lastGoodRead > goodBefore && status().config?.lastError ? item : undefined;
      }, 60_000);
      expect(health.consecutiveFailures).toBe(0);
      expect(status().config).toMatchObject({ source: "cloud", lastError: expect.stringContaining("/v1/devices/self/config") });
      expect(Date.now() - restartedAt).toBeLessThan(60_000);
    } finally {
      stopOffline.abort();
      await again;
    }
  });
});
