/**
 * The gateway's configuration from the cloud (`GET /v1/devices/self/config`): the meters configured in the
 * console or API for this gateway, merged with the local file, checked with the same schema as the file
 * (config.ts `Config`), and applied by the agent between two read cycles without a restart. A config that
 * fails the check is refused and reported (`edge status`, heartbeat) with each problem by path; the gateway
 * keeps its last good one, which is kept on disk (`dataDir/cloud-config.json`, written whole or not at all)
 * so a restart without network runs the last good cloud config.
 *
 * The merge rule: everything but `meters` comes from the local file (device, token, API, Kinesis, dataDir,
 * `buses` — serial paths and line settings belong to the site —, clock, outbox, limits). The cloud's meter
 * list is the list: a meter added in the cloud is read from the next cycle, one removed is no longer read.
 * Each field a cloud meter leaves unset is taken from the file's meter with the same id (a sim `seed`,
 * `ctSecondaryA`, `nominalV`, `phases`, `confirmReads`, or a `driver`/`bus` the cloud does not have yet).
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { readJsonState, writeFileAtomicSync } from "@wattflow/core/util/files";
import { z } from "zod";
import { sleep } from "./clock";
import { Config, type Meter } from "./config";
import { MapFileError } from "./meter/registers";

/** Default period between two fetches: one read slot (a meter added in the console is read within ~2 slots). */
export const defaultIntervalMs = 300_000;

/** A meter as the cloud hands it out (core `Meter.GatewayMeter`): connection fields are optional, unknown ones are ignored. */
const CloudMeter = z.object({
  id: z.string(),
  driver: z.string().optional(),
  bus: z.string().optional(),
  unitId: z.number().optional(),
  host: z.string().optional(),
  port: z.number().optional(),
  ct: z.number().optional(),
  vt: z.number().optional(),
  maxKw: z.number().optional(),
});

/** The body of `GET /v1/devices/self/config` (core `Gateway.Config`). */
export const CloudConfig = z.object({ deviceId: z.string(), version: z.string().min(1), meters: z.array(CloudMeter) });
export type CloudConfig = z.infer<typeof CloudConfig>;

export type Problem = { path: string; message: string };

/** What `edge status` and the heartbeat show about the configuration the agent runs. */
export type ConfigState = {
  /** `cloud`: the meters are the cloud's (merged with the file); `file`: only the local file (no good cloud config yet, or disabled). */
  source: "file" | "cloud";
  /** The cloud version running (null with `file`). */
  version: string | null;
  appliedAt: string | null;
  /** When the cloud last answered (200 or 304). */
  checkedAt: string | null;
  /** Why the last fetch failed (network, HTTP status, not a config), null once it answers again. */
  lastError: string | null;
  /** The last config refused, with every validation problem by path (null once a later one is applied). */
  refused: { version: string; at: string; problems: Problem[] } | null;
};

/** Where the last good cloud config is kept. */
export const statePath = (dataDir: string) => join(dataDir, "cloud-config.json");

type Saved = { etag: string | null; config: CloudConfig; appliedAt: string };

/**
 * The local file's config with the cloud's meters (the rule in this module's header), checked with `Config`.
 * Problems name the cloud's meters by their index in its list (`meters.3.bus`) and id. Never throws for bad
 * input: a map file that cannot be read is a problem at `meters`.
 */
export function merge(
  local: Config,
  cloud: CloudConfig,
): { config: Config; problems?: undefined; pending: string[] } | { config?: undefined; problems: Problem[]; pending?: undefined } {
  if (cloud.deviceId !== local.deviceId)
    return { problems: [{ path: "deviceId", message: `the cloud's config is for ${cloud.deviceId}, this gateway is ${local.deviceId}` }] };
  // An empty list is the cloud not knowing this gateway's meters yet, never an order to stop reading them.
  if (cloud.meters.length === 0) return { problems: [{ path: "meters", message: "meters must list at least one meter" }] };
  const byId = new Map(local.meters.map((meter) => [meter.id, meter]));
  const meters = cloud.meters.map((meter) => {
    const fromFile: Partial<Meter> = byId.get(meter.id) ?? {};
    const fromCloud = Object.fromEntries(Object.entries(meter).filter(([, value]) => value !== undefined));
    // A meter the cloud places on a bus is not also on the file's host, and the other way round.
    const place = meter.bus !== undefined ? { host: undefined, port: undefined } : meter.host !== undefined ? { bus: undefined } : {};
    return { ...fromFile, ...place, ...fromCloud };
  });
  // A meter with no model anywhere (added in the console before anyone said how it is read) is pending: left out
  // and named, so it never blocks the meters that are ready; it is read once the cloud or the file gives its model.
  const problems: Problem[] = [];
  const checked: number[] = [];
  const pending: string[] = [];
  meters.forEach((meter, index) => {
    if (meter.driver === undefined) pending.push(String(meter.id));
    else checked.push(index);
  });
  let parsed: ReturnType<typeof Config.safeParse>;
  try {
    parsed = Config.safeParse({ ...local, meters: checked.map((index) => meters[index]) });
  } catch (error) {
    if (error instanceof MapFileError) return { problems: [{ path: "meters", message: error.message }] };
    throw error;
  }
  if (parsed.success && problems.length === 0) return { config: { ...parsed.data, dataDir: local.dataDir }, pending };
  for (const issue of parsed.error?.issues ?? []) {
    const [head, position, ...tail] = issue.path;
    // Paths name the meter by its place in the cloud's list.
    const index = head === "meters" && typeof position === "number" ? checked[position] : undefined;
    if (index === undefined) {
      // "meters must list at least one meter" stands for every meter, with or without a model.
      if (problems.length === 0 || head !== "meters") problems.push({ path: issue.path.join(".") || "(root)", message: issue.message });
      continue;
    }
    problems.push({ path: ["meters", index, ...tail].join("."), message: `${cloud.meters[index]?.id}: ${issue.message}` });
  }
  return { problems };
}

export type Fetcher = (path: string, headers: Record<string, string>) => Promise<Response>;

export type SyncOptions = {
  /** The local file's config, as loaded. */
  local: Config;
  fetch: Fetcher;
  /** Stores the state where `edge status` and the heartbeat read it. */
  report(state: ConfigState): void;
  log(line: string): void;
};

/**
 * Keeps the gateway's config in step with the cloud. `current` is the config to run now (the last good cloud
 * config from disk when it still checks out against the file, else the file); `run` fetches at start and every
 * `cloudConfig.intervalMs`; a config that checks out becomes `pending` until the agent `take`s it between cycles.
 */
export class CloudConfigSync {
  current: Config;
  private etag: string | null = null;
  private next: Config | undefined;
  private state: ConfigState;
  private reported = "";

  constructor(private readonly options: SyncOptions) {
    const { local } = options;
    this.current = local;
    this.state = { source: "file", version: null, appliedAt: null, checkedAt: null, lastError: null, refused: null };
    const saved = this.enabled ? readJsonState<Saved>(statePath(local.dataDir)) : undefined;
    const config = saved ? CloudConfig.safeParse(saved.config) : undefined;
    if (saved && config?.success) {
      const merged = merge(local, config.data);
      if (merged.config) {
        this.current = merged.config;
        this.etag = saved.etag;
        this.state = { ...this.state, source: "cloud", version: config.data.version, appliedAt: saved.appliedAt };
        options.log(
          `edge: running the last good cloud config (version ${config.data.version}, ${merged.config.meters.length} meter(s)) until the cloud answers`,
        );
      } else {
        // The file changed under it (a bus renamed or removed): the saved cloud config no longer fits; the file runs.
        this.refuse(config.data.version, merged.problems);
      }
    }
    this.publish();
  }

  /** Hands the state to `report` when it changed (each report is a write on the gateway's disk). */
  private publish(): void {
    const text = JSON.stringify(this.state);
    if (text === this.reported) return;
    this.reported = text;
    this.options.report(this.state);
  }

  get enabled(): boolean {
    return this.options.local.cloudConfig?.enabled ?? true;
  }

  /** A config checked and ready to apply, once (the agent applies it before its next read cycle). */
  take(): Config | undefined {
    const next = this.next;
    this.next = undefined;
    return next;
  }

  /** Fetches now and then every interval until `signal` aborts. */
  async run(signal: AbortSignal): Promise<void> {
    if (!this.enabled) return;
    const period = this.options.local.cloudConfig?.intervalMs ?? defaultIntervalMs;
    while (!signal.aborted) {
      await this.check();
      await sleep(period, signal);
    }
  }

  /** One fetch: 304 keeps what runs; 200 with a config that checks out is saved and made pending; anything else is reported. */
  async check(): Promise<void> {
    const { local, log } = this.options;
    let response: Response;
    try {
      response = await this.options.fetch("/v1/devices/self/config", this.etag ? { "if-none-match": this.etag } : {});
    } catch (error) {
      return this.failed(`GET /v1/devices/self/config: ${(error as Error).message}`);
    }
    const now = new Date().toISOString();
    if (response.status === 304) {
      await response.body?.cancel();
      this.state = { ...this.state, checkedAt: now, lastError: null };
      return this.publish();
    }
    const text = await response.text();
    if (response.status !== 200) return this.failed(`GET /v1/devices/self/config answered ${response.status}: ${text.slice(0, 200)}`);
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch (error) {
      return this.failed(`GET /v1/devices/self/config: the answer is not JSON (${(error as Error).message})`);
    }
    const cloud = CloudConfig.safeParse(body);
    if (!cloud.success) {
      const problems = cloud.error.issues.map((issue) => `${issue.path.join(".") || "(root)"}: ${issue.message}`).join("; ");
      return this.failed(`GET /v1/devices/self/config: the answer is not a gateway config (${problems})`.slice(0, 500));
    }
    this.state = { ...this.state, checkedAt: now, lastError: null };
    const etag = response.headers.get("etag");
    if (cloud.data.version === this.state.version && this.state.source === "cloud") {
      this.etag = etag;
      return this.publish();
    }
    const merged = merge(local, cloud.data);
    if (!merged.config) {
      // Asked again next time (no ETag kept for it): the cloud may be fixed, or the file.
      this.refuse(cloud.data.version, merged.problems);
      return this.publish();
    }
    mkdirSync(local.dataDir, { recursive: true });
    writeFileAtomicSync(statePath(local.dataDir), JSON.stringify({ etag, config: cloud.data, appliedAt: now } satisfies Saved));
    this.etag = etag;
    this.next = merged.config;
    this.current = merged.config;
    this.state = { ...this.state, source: "cloud", version: cloud.data.version, appliedAt: now, refused: null };
    const waiting = merged.pending.length > 0 ? `; not read until their model (driver) is set: ${merged.pending.join(", ")}` : "";
    log(`edge: cloud config version ${cloud.data.version} accepted: ${merged.config.meters.length} meter(s); applied before the next read cycle${waiting}`);
    this.publish();
  }

  private refuse(version: string, problems: Problem[]): void {
    const kept = this.state.source === "cloud" ? `keeping cloud version ${this.state.version}` : "keeping the local file's meters";
    this.options.log(
      `edge: CLOUD CONFIG REFUSED (version ${version}), ${kept}: ${problems.map((problem) => `${problem.path}: ${problem.message}`).join("; ")}`,
    );
    this.state = { ...this.state, refused: { version, at: new Date().toISOString(), problems: problems.slice(0, 50) } };
  }

  private failed(message: string): void {
    if (this.state.lastError === null)
      this.options.log(`edge: ${message}; running ${this.state.source === "cloud" ? `cloud version ${this.state.version}` : "the local file"}`);
    this.state = { ...this.state, lastError: message.slice(0, 500) };
    this.publish();
  }
}
