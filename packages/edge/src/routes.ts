/**
 * The uploader's two routes to the cloud: Kinesis PutRecords (≤ 500 records / 5 MiB, partition key = meter id,
 * signed records) and POST /v1/ingest with the device token. Each acknowledges and rejects rows in the outbox;
 * a route down as a whole throws RouteDown and the readings stay.
 */
import type { KeyObject } from "node:crypto";
import { type KinesisClient, PutRecordsCommand, type PutRecordsCommandOutput, type PutRecordsRequestEntry } from "@aws-sdk/client-kinesis";
import { Signature } from "@wattflow/core/device/signature";
import { Reading } from "@wattflow/core/reading";
import { sleep } from "./clock";
import { type Config, upload } from "./config";
import type { Outbox, Row } from "./outbox";

/** A route failed as a whole: the readings stay in the outbox. */
export class RouteDown extends Error {
  constructor(
    message: string,
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = "RouteDown";
  }
}

/** What a route needs from the uploader: its settings, the outbox, the Kinesis client and the API, and where to note success. */
export type Route = {
  config: Config;
  outbox: Outbox;
  privateKey: KeyObject;
  log(line: string): void;
  kinesis(): KinesisClient;
  fetchApi(method: string, path: string, body: unknown): Promise<Response>;
  succeeded(route: "kinesis" | "http"): void;
};

/** Readings sent, acknowledged by the cloud and rejected for good, of one batch. */
export type Sent = { sent: number; acked: number; rejected: number };

/** Validates and signs; readings the cloud would refuse for good are rejected here with the reason. */
function prepare(rows: readonly Row[]): { entries: { row: Row; reading: Reading.Input }[]; rejected: { id: number; reason: string }[] } {
  const entries: { row: Row; reading: Reading.Input }[] = [];
  const rejected: { id: number; reason: string }[] = [];
  const now = new Date();
  for (const row of rows) {
    const result = Reading.validate(JSON.parse(row.body), now);
    if (result.ok) entries.push({ row, reading: result.value });
    else rejected.push({ id: row.id, reason: result.problems.map((problem) => `${problem.path}: ${problem.message}`).join("; ") });
  }
  return { entries, rejected };
}

/**
 * Sends rows by Kinesis PutRecords, signed with the device key: only the failed entries are resent, up to
 * `upload.partialRetries` times; what is still refused stays queued. Readings the cloud would refuse for good are
 * rejected in the outbox first.
 * @throws RouteDown when the call fails as a whole (network, timeout, credentials, throttling of the call).
 */
export async function sendKinesis(route: Route, rows: readonly Row[]): Promise<Sent> {
  const { config, outbox, privateKey } = route;
  const stream = config.kinesis?.stream ?? "";
  const { entries, rejected } = prepare(rows);
  outbox.reject(rejected);
  let pending = entries.map(({ row, reading }) => {
    const record: Record<string, unknown> = { v: 1, deviceId: config.deviceId, via: "kinesis", reading };
    const data = Reading.encodeRecord({ ...(record as Reading.StreamRecord), sig: Signature.signDevice(record, privateKey) });
    return { id: row.id, entry: { Data: data, PartitionKey: row.meterId } satisfies PutRecordsRequestEntry };
  });
  pending = capBytes(pending);
  let acked = 0;
  for (let attempt = 0; pending.length > 0; attempt++) {
    let response: PutRecordsCommandOutput;
    try {
      response = await route.kinesis().send(new PutRecordsCommand({ StreamName: stream, Records: pending.map((item) => item.entry) }), {
        abortSignal: AbortSignal.timeout(upload.requestTimeoutMs),
      });
    } catch (error) {
      // Network, timeout, credentials, throttling of the whole call: the route is down for now.
      const name = (error as Error).name;
      throw new RouteDown(`${name}: ${(error as Error).message}`.slice(0, 300));
    }
    const done: number[] = [];
    const failed: typeof pending = [];
    let lastError = "";
    pending.forEach((item, index) => {
      const result = response.Records?.[index];
      if (result && !result.ErrorCode) done.push(item.id);
      else {
        failed.push(item);
        lastError = `${result?.ErrorCode ?? "missing result"}: ${result?.ErrorMessage ?? ""}`;
      }
    });
    outbox.ack(done);
    acked += done.length;
    route.succeeded("kinesis");
    pending = failed;
    if (pending.length === 0) break;
    if (attempt >= upload.partialRetries) {
      // Still refused: they stay in the outbox and come back in a later batch.
      route.log(`upload: Kinesis refused ${pending.length} record(s) ${attempt + 1} times (${lastError}); they stay queued`);
      break;
    }
    await sleep(Math.random() * Math.min(upload.maxBackoffMs, upload.baseBackoffMs * 2 ** attempt));
  }
  return { sent: entries.length, acked, rejected: rejected.length };
}

/**
 * Sends rows by POST /v1/ingest with the device token: acknowledged rows leave the outbox, refused ones are
 * rejected with the API's reasons.
 * @throws RouteDown when the API cannot be reached or answers other than 200 (503: with its Retry-After in ms).
 */
export async function sendHttp(route: Route, rows: readonly Row[]): Promise<Sent> {
  const { outbox } = route;
  const readings = rows.map((row) => JSON.parse(row.body) as unknown);
  let response: Response;
  try {
    response = await route.fetchApi("POST", "/v1/ingest", { readings });
  } catch (error) {
    throw new RouteDown(`POST /v1/ingest: ${(error as Error).message}`);
  }
  if (response.status === 503) {
    const seconds = Number(response.headers.get("retry-after") ?? "5");
    await response.body?.cancel();
    throw new RouteDown("POST /v1/ingest answered 503", (Number.isFinite(seconds) ? seconds : 5) * 1000);
  }
  const text = await response.text();
  if (response.status !== 200) throw new RouteDown(`POST /v1/ingest answered ${response.status}: ${text.slice(0, 200)}`);
  const body = JSON.parse(text) as { accepted: number; duplicates: number; rejected: { index: number; errors: { path: string; message: string }[] }[] };
  const rejected = body.rejected.map((item) => ({
    id: (rows[item.index] as Row).id,
    reason: item.errors.map((error) => `${error.path}: ${error.message}`).join("; "),
  }));
  const rejectedIds = new Set(rejected.map((item) => item.id));
  outbox.reject(rejected);
  const acked = rows.filter((row) => !rejectedIds.has(row.id)).map((row) => row.id);
  outbox.ack(acked);
  route.succeeded("http");
  return { sent: rows.length, acked: acked.length, rejected: rejected.length };
}

/** Keeps a PutRecords request within 5 MiB (data + partition keys); the rest waits for the next call. */
function capBytes<T extends { entry: PutRecordsRequestEntry }>(items: T[]): T[] {
  let total = 0;
  const kept: T[] = [];
  for (const item of items) {
    total += (item.entry.Data?.length ?? 0) + Buffer.byteLength(item.entry.PartitionKey ?? "");
    if (total > upload.maxBytes) break;
    kept.push(item);
  }
  return kept;
}
