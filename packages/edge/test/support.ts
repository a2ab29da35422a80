/** Test support for the gateway: a switchable TCP proxy (a route going down), the agent as a child process, its config. */
import { type ChildProcessWithoutNullStreams, execFileSync, spawn } from "node:child_process";
import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync, writeSync } from "node:fs";
import { connect, createServer, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Demo } from "../../cli/test/support";
import { bin } from "../../cli/test/support";
import type { Config } from "../src/config";
import { read as simulate } from "../src/meter/simulator";

export { startStack } from "../../cli/test/support";

/** A TCP proxy on a fixed port in front of `target`; `down()` refuses connections and cuts open ones, like a dead link. */
export class Link {
  private server?: Server;
  private sockets = new Set<Socket>();
  port = 0;

  constructor(private readonly target: { host: string; port: number }) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async up(): Promise<void> {
    if (this.server) return;
    const server = createServer((client) => {
      const upstream = connect(this.target.port, this.target.host);
      for (const socket of [client, upstream]) {
        this.sockets.add(socket);
        socket.on("close", () => this.sockets.delete(socket));
        socket.on("error", () => {
          client.destroy();
          upstream.destroy();
        });
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(this.port, "127.0.0.1", () => resolve());
    });
    this.port = (server.address() as { port: number }).port;
    this.server = server;
  }

  async down(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

export function targetOf(url: string): { host: string; port: number } {
  const parsed = new URL(url);
  return { host: parsed.hostname, port: Number(parsed.port) };
}

/** The gateway config for the demo device and its meters (simulated, seeds 1…n). */
export function writeConfig(
  dir: string,
  demo: Demo,
  options: { apiUrl: string; kinesisEndpoint: string; start: number; until: number; speed: number; extra?: Partial<Config> },
): string {
  const config = {
    deviceId: demo.deviceId,
    token: demo.deviceToken,
    api: { url: options.apiUrl },
    kinesis: { ...demo.kinesis, endpoint: options.kinesisEndpoint },
    dataDir: join(dir, "edge"),
    meters: demo.meterIds.map((id, index) => ({ id, driver: "sim", seed: index + 1 })),
    clock: { start: new Date(options.start).toISOString(), speed: options.speed },
    until: new Date(options.until).toISOString(),
    ...options.extra,
  };
  const path = join(dir, "edge.json");
  writeFileSync(path, JSON.stringify(config, null, 2));
  return path;
}

/** The value the simulated meter `index` reads for an interval: what Postgres must hold. */
export function expectedKwh(index: number, startMs: number): number {
  return simulate({ seed: index + 1, ratedKw: 200, utcOffsetHours: 0 }, new Date(startMs), 300).kwh;
}

export type Agent = { child: ChildProcessWithoutNullStreams; ready: Promise<void>; exit: Promise<number | null>; output(): string };

const edgeBin = fileURLToPath(new URL("../bin/wattflow-edge.mjs", import.meta.url));

/** Starts `wattflow edge run --config FILE` (or the gateway's own `wattflow-edge run`); `ready` resolves once it logged its start line. */
export function startAgent(configPath: string, entry: "cli" | "edge" = "cli"): Agent {
  const args = entry === "cli" ? [bin, "edge", "run", "--config", configPath] : [edgeBin, "run", "--config", configPath];
  const child = spawn(process.execPath, args, { env: { ...process.env } });
  let output = "";
  let markReady: () => void = () => {};
  const ready = new Promise<void>((resolve) => {
    markReady = resolve;
  });
  const collect = (chunk: Buffer) => {
    output += chunk.toString();
    if (output.includes("edge: device")) markReady();
    if (output.length > 200_000) output = output.slice(-100_000);
  };
  child.stdout.on("data", collect);
  child.stderr.on("data", collect);
  const exit = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  void exit.then(() => markReady());
  return { child, ready, exit, output: () => output };
}

/** A small real filesystem (tmpfs) for disk-full tests; mounting one needs root. */
export type SmallDisk = {
  path: string;
  /** Writes a filler file until the filesystem refuses (ENOSPC): nothing else fits afterwards. Returns the bytes it took. */
  fill(): number;
  /** Deletes the filler: room again. */
  free(): void;
  unmount(): void;
};

/** Why a tmpfs cannot be mounted here (not root, no mount), or undefined when it can. */
export function smallDiskUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return "mounting a tmpfs needs root";
  const probe = mkdtempSync(join(tmpdir(), "wattflow-tmpfs-probe-"));
  try {
    execFileSync("mount", ["-t", "tmpfs", "-o", "size=64k", "tmpfs", probe], { stdio: "pipe" });
    execFileSync("umount", [probe], { stdio: "pipe" });
    return undefined;
  } catch (error) {
    return `mount -t tmpfs failed: ${(error as Error).message.split("\n")[0]}`;
  } finally {
    rmSync(probe, { recursive: true, force: true });
  }
}

/** Mounts a tmpfs of `bytes` on a new folder. */
export function smallDisk(bytes: number): SmallDisk {
  const path = mkdtempSync(join(tmpdir(), "wattflow-small-disk-"));
  execFileSync("mount", ["-t", "tmpfs", "-o", `size=${bytes},mode=0755`, "tmpfs", path], { stdio: "pipe" });
  const filler = join(path, "filler");
  return {
    path,
    fill() {
      const fd = openSync(filler, "a");
      const chunk = Buffer.alloc(4096, 1);
      let written = 0;
      try {
        for (;;) written += writeSync(fd, chunk);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "ENOSPC") throw error;
      } finally {
        closeSync(fd);
      }
      return written;
    },
    free() {
      rmSync(filler, { force: true });
    },
    unmount() {
      execFileSync("umount", ["-l", path], { stdio: "pipe" });
      rmSync(path, { recursive: true, force: true });
    },
  };
}
