/**
 * Sends the outbox to the cloud: Kinesis PutRecords (≤ 500 records / 5 MiB, partition key = meter
 * id, only failed entries resent, exponential backoff with full jitter), and POST /v1/ingest with the
 * device token when Kinesis cannot be reached (network errors, timeouts, credential failures),
 * honouring 503 + Retry-After, probing Kinesis again later. Fresh readings go first; the backlog
 * follows oldest first at a bounded rate. A reading is deleted only after the cloud acknowledged it.
 * The routes themselves are in routes.ts, the API calls with the device token in cloud-api.ts.
 */
import type { KeyObject } from "node:crypto";
import { KinesisClient } from "@aws-sdk/client-kinesis";
import { NodeHttpHandler } from "@smithy/node-http-handler";
import { sleep } from "./clock";
import { type CloudApi, fetchApiTimed } from "./cloud-api";
import { type Config, upload } from "./config";
import { isDiskFull } from "./health";
import type { Outbox, Row } from "./outbox";
import { type Route, RouteDown, sendHttp, sendKinesis } from "./routes";
import type { CloudAnswer } from "./trust";

export type UploaderOptions = {
  config: Config;
  outbox: Outbox;
  privateKey: KeyObject;
  publicKey: string;
  /** Readings starting at or after this (ms) are fresh and never wait behind the backlog. */
  freshFrom(): number;
  backlogPerSecond: number;
  log(line: string): void;
  /** The gateway's wall clock (ms) that cloud answers are compared with (default Date.now). */
  now?(): number;
  /** Each API answer's time, for trusted time (trust.ts). */
  onServerTime?(answer: CloudAnswer): void;
  /** A write the uploader could not make for lack of space (the readings stay and are sent again). */
  onDiskFull?(error: unknown): void;
};

export type StepResult = { sent: number; acked: number; rejected: number; route?: "kinesis" | "http"; waitMs: number };

export class Uploader {
  private client?: KinesisClient;
  private kinesisDownUntil = 0;
  private failures = 0;
  private tokens: number;
  private refilledAt = Date.now();
  private enrolledKey: string | undefined;
  private enrollAfter = 0;
  private idle = new Set<AbortController>();
  /** Readings being sent by a worker: never handed to another one. */
  private inFlight = new Set<number>();
  private enrolling?: Promise<boolean>;
  /** This process enrolled its key (the outbox only remembers an earlier enrollment). */
  private confirmed = false;
  private routeSavedAt = { kinesis: 0, http: 0 };
  private readonly api: CloudApi;
  private readonly route: Route;

  constructor(private readonly options: UploaderOptions) {
    this.tokens = Math.max(options.backlogPerSecond, upload.maxRecords);
    this.enrolledKey = options.outbox.meta("enrolled_key");
    this.api = { ...options, offsetSavedAt: 0 };
    this.route = {
      ...options,
      kinesis: () => this.kinesis(),
      fetchApi: (method, path, body) => this.fetchApi(method, path, body),
      succeeded: (route) => this.succeeded(route),
    };
  }

  /** The reader committed something: stop idling. */
  wake(): void {
    for (const idle of this.idle) idle.abort();
  }

  get enrolled(): boolean {
    return this.enrolledKey === this.options.publicKey;
  }

  /**
   * Sends batches until `signal` aborts, `upload.concurrency` at a time: a PutRecords or POST waits
   * mostly on the other side's disk, so two in flight roughly double a drain.
   */
  async run(signal: AbortSignal): Promise<void> {
    await Promise.all(Array.from({ length: upload.concurrency }, () => this.worker(signal)));
  }

  private async worker(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      let result: StepResult;
      try {
        result = await this.step();
      } catch (error) {
        if (isDiskFull(error)) this.options.onDiskFull?.(error);
        this.options.log(`upload: ${(error as Error).message}`);
        result = { sent: 0, acked: 0, rejected: 0, waitMs: this.backoff() };
      }
      if (result.waitMs > 0) {
        const idle = new AbortController();
        const onAbort = () => idle.abort();
        signal.addEventListener("abort", onAbort, { once: true });
        this.idle.add(idle);
        await sleep(result.waitMs, idle.signal);
        this.idle.delete(idle);
        signal.removeEventListener("abort", onAbort);
      }
    }
  }

  /** Selects one batch and sends it by the best route available. */
  async step(): Promise<StepResult> {
    const { outbox, config } = this.options;
    // Enrolled once per process even when the outbox says it was: the cloud may have lost or replaced the key.
    if (config.kinesis && !this.confirmed && !this.enrolling && Date.now() >= this.enrollAfter) {
      this.enrolling = this.enroll().finally(() => {
        this.enrolling = undefined;
      });
    }
    // Never enrolled: Kinesis records would be quarantined, so wait for the answer (HTTP is used meanwhile if it fails).
    if (this.enrolling && !this.enrolled) await this.enrolling;
    this.refill();
    const freshFrom = this.options.freshFrom();
    const { rows, fresh } = outbox.next({ limit: upload.maxRecords, freshFromMs: freshFrom, backlogLimit: this.tokens, exclude: this.inFlight });
    if (rows.length === 0) {
      // Nothing fresh; a backlog that waits for tokens comes back when the bucket has some.
      const waiting = this.tokens < 1 && outbox.hasBacklog(freshFrom);
      return { sent: 0, acked: 0, rejected: 0, waitMs: waiting ? Math.ceil(((1 - this.tokens) / this.options.backlogPerSecond) * 1000) : 1000 };
    }
    this.tokens -= rows.length - fresh;
    for (const row of rows) this.inFlight.add(row.id);
    try {
      return await this.send(rows, fresh);
    } finally {
      for (const row of rows) this.inFlight.delete(row.id);
    }
  }

  private async send(rows: Row[], fresh: number): Promise<StepResult> {
    const { outbox, config } = this.options;
    if (config.kinesis && this.enrolled && Date.now() >= this.kinesisDownUntil) {
      const kinesis = await this.sendBy("kinesis", rows);
      if (!(kinesis instanceof RouteDown)) return kinesis;
      this.kinesisDownUntil = Date.now() + upload.probeKinesisMs;
      this.options.log(`upload: Kinesis unreachable (${kinesis.message}); using POST /v1/ingest, trying Kinesis again in ${upload.probeKinesisMs / 1000} s`);
    }
    const http = await this.sendBy("http", rows);
    if (!(http instanceof RouteDown)) return http;
    // Give the tokens back: nothing left the gateway.
    this.tokens += rows.length - fresh;
    const waitMs = http.retryAfterMs ?? this.backoff();
    this.options.log(`upload: no route to the cloud (${http.message}); ${outbox.pendingCount()} reading(s) kept, retrying in ${Math.round(waitMs)} ms`);
    return { sent: 0, acked: 0, rejected: 0, waitMs };
  }

  /** Sends `rows` by one route: its result, or the RouteDown that says it is unreachable (noted in the outbox); any other error is thrown. */
  private async sendBy(route: "kinesis" | "http", rows: Row[]): Promise<StepResult | RouteDown> {
    try {
      const result = await (route === "kinesis" ? sendKinesis : sendHttp)(this.route, rows);
      this.failures = 0;
      return { ...result, route, waitMs: 0 };
    } catch (error) {
      if (!(error instanceof RouteDown)) throw error;
      this.options.outbox.route(route, { ok: false, atMs: Date.now(), error: error.message });
      return error;
    }
  }

  close(): void {
    this.client?.destroy();
    this.client = undefined;
  }

  /** Notes a route's success, at most once a second (each note is a disk write). */
  private succeeded(route: "kinesis" | "http"): void {
    const now = Date.now();
    if (now - this.routeSavedAt[route] < 1000) return;
    this.routeSavedAt[route] = now;
    this.options.outbox.route(route, { ok: true, atMs: now });
  }

  /** Full-jitter exponential backoff: a random wait up to base·2^failures, capped. */
  private backoff(): number {
    this.failures++;
    return Math.random() * Math.min(upload.maxBackoffMs, upload.baseBackoffMs * 2 ** this.failures);
  }

  private refill(): void {
    const now = Date.now();
    const capacity = Math.max(this.options.backlogPerSecond, upload.maxRecords);
    this.tokens = Math.min(capacity, this.tokens + ((now - this.refilledAt) / 1000) * this.options.backlogPerSecond);
    this.refilledAt = now;
  }

  /** Enrolls the public key that signs Kinesis records; until that succeeds, readings go by HTTP. */
  async enroll(): Promise<boolean> {
    const { config, outbox, publicKey } = this.options;
    try {
      const response = await this.fetchApi("PUT", "/v1/devices/self/key", { publicKey });
      if (!response.ok) throw new Error(`PUT /v1/devices/self/key answered ${response.status}: ${(await response.text()).slice(0, 200)}`);
      if (this.enrolledKey !== publicKey) outbox.setMeta("enrolled_key", publicKey);
      this.enrolledKey = publicKey;
      this.confirmed = true;
      this.options.log(`upload: device key enrolled for ${config.deviceId}; Kinesis route enabled`);
      return true;
    } catch (error) {
      this.enrollAfter = Date.now() + upload.probeKinesisMs;
      const meanwhile = this.enrolled ? "Kinesis keeps the key enrolled earlier" : "using HTTP meanwhile";
      this.options.log(`upload: cannot enroll the device key yet (${(error as Error).message}); ${meanwhile}`);
      return false;
    }
  }

  private kinesis(): KinesisClient {
    const settings = this.options.config.kinesis;
    if (!settings) throw new Error("no kinesis configured");
    this.client ??= new KinesisClient({
      region: settings.region,
      endpoint: settings.endpoint,
      // Without explicit credentials the SDK's default chain applies (on a gateway: the IoT credentials provider profile).
      credentials: settings.credentials,
      // Our own retries decide the route; the SDK's would only delay the fallback.
      maxAttempts: 1,
      requestHandler: new NodeHttpHandler({ connectionTimeout: upload.connectTimeoutMs, requestTimeout: upload.requestTimeoutMs }),
    });
    return this.client;
  }

  /** An API answer's own time (a field finer than its Date header), for trusted time. */
  serverTime(answer: CloudAnswer): void {
    this.options.onServerTime?.(answer);
  }

  /** Calls the API with the device token (and `headers`, e.g. If-None-Match); notes the clock offset from the Date header. */
  async fetchApi(method: string, path: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
    return (await this.fetchApiTimed(method, path, body, headers)).response;
  }

  /**
   * `fetchApi`, also returning the wall clock when the request left and when the answer came (for an
   * answer that carries its own `serverTime`, finer than the Date header's second).
   */
  fetchApiTimed(
    method: string,
    path: string,
    body: unknown,
    headers: Record<string, string> = {},
  ): Promise<{ response: Response; sentWallMs: number; receivedWallMs: number }> {
    return fetchApiTimed(this.api, method, path, body, headers);
  }
}
