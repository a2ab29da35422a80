/**
 * The Kinesis API subset a gateway and tools use (JSON 1.1 protocol), answered from the durable log,
 * so `@aws-sdk/client-kinesis` works unchanged against the local stack.
 * Operations: PutRecords, PutRecord, DescribeStreamSummary, DescribeStream, ListShards, ListStreams,
 * GetShardIterator, GetRecords. Requests must be SigV4-signed with the configured credentials, and
 * are refused with the errors Kinesis gives (UnrecognizedClientException for an unknown access key,
 * InvalidSignatureException for a wrong secret or a stale date); shard iterators are opaque and
 * HMAC-sealed, so a forged one is an InvalidArgumentException and an old one ExpiredIteratorException.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { createServer as createHttp2Server, type Http2ServerRequest, type Http2ServerResponse } from "node:http2";
import { type AddressInfo, createServer as createNetServer, type Server as NetServer, type Socket } from "node:net";
import { SignatureV4 } from "@smithy/signature-v4";
import { kinesis as limits } from "@wattflow/core/config";
import type { DurableLog, Position } from "./log";

export type KinesisEndpointOptions = {
  log: DurableLog;
  region: string;
  accountId: string;
  accessKeyId: string;
  secretAccessKey: string;
  retentionHours: number;
};

class KinesisApiError extends Error {
  constructor(
    readonly type: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
    this.name = "KinesisApiError";
  }
}

const maxBodyBytes = 8 * 1024 * 1024;

/** The SDK's SHA-256 (and HMAC) interface over node:crypto, for the signer. */
class Sha256 {
  private readonly hash;
  constructor(secret?: string | ArrayBuffer | ArrayBufferView) {
    this.hash = secret === undefined ? createHash("sha256") : createHmac("sha256", bytesOf(secret));
  }
  update(data: string | ArrayBuffer | ArrayBufferView): void {
    this.hash.update(bytesOf(data));
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.hash.digest());
  }
}

/** The bytes of a view exactly (its own offset and length, not its whole underlying buffer). */
function bytesOf(data: string | ArrayBuffer | ArrayBufferView): string | Buffer {
  if (typeof data === "string") return data;
  return ArrayBuffer.isView(data) ? Buffer.from(data.buffer, data.byteOffset, data.byteLength) : Buffer.from(data);
}

export class KinesisEndpoint {
  private server?: NetServer;
  private readonly sockets = new Set<Socket>();
  /** Seals shard iterators; new per process, like an iterator that does not survive a Kinesis restart. */
  private readonly iteratorKey = randomBytes(32);

  constructor(private readonly options: KinesisEndpointOptions) {}

  get streamArn(): string {
    return `arn:aws:kinesis:${this.options.region}:${this.options.accountId}:stream/${this.options.log.name}`;
  }

  async listen(port: number, host = "127.0.0.1"): Promise<string> {
    const handler = (request: IncomingMessage | Http2ServerRequest, response: ServerResponse | Http2ServerResponse) =>
      void this.serve(request as IncomingMessage, response as ServerResponse);
    const http1 = createServer(handler);
    const http2 = createHttp2Server(handler);
    // @aws-sdk/client-kinesis speaks HTTP/2 by default (prior knowledge on http://), gateways HTTP/1.1:
    // a connection opening with the HTTP/2 preface ("PRI * HTTP/2.0") goes to the HTTP/2 server.
    this.server = createNetServer((socket) => {
      this.sockets.add(socket);
      socket.on("close", () => this.sockets.delete(socket));
      socket.once("data", (chunk: Buffer) => {
        socket.pause();
        socket.unshift(chunk);
        (chunk.subarray(0, 3).toString("latin1") === "PRI" ? http2 : http1).emit("connection", socket);
        process.nextTick(() => socket.resume());
      });
    });
    await new Promise<void>((resolve, reject) => {
      this.server?.once("error", reject);
      this.server?.listen(port, host, () => resolve());
    });
    const address = this.server.address() as AddressInfo;
    return `http://${host}:${address.port}`;
  }

  async close(): Promise<void> {
    const server = this.server;
    if (!server) return;
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private async serve(request: IncomingMessage, response: ServerResponse): Promise<void> {
    try {
      if (request.method === "GET" && request.url === "/healthcheck") return send(response, 200, { ok: true });
      if (request.method !== "POST") throw new KinesisApiError("UnknownOperationException", "Kinesis requests are POST /", 404);
      const target = String(request.headers["x-amz-target"] ?? "");
      const [service, operation] = target.split(".");
      if (service !== "Kinesis_20131202" || !operation) throw new KinesisApiError("UnknownOperationException", `unknown X-Amz-Target "${target}"`);
      const raw = await readBody(request);
      await this.authorize(request, raw);
      send(response, 200, await this.dispatch(operation, parseJson(raw)));
    } catch (error) {
      if (error instanceof KinesisApiError) {
        response.setHeader("x-amzn-ErrorType", error.type);
        return send(response, error.status, { __type: error.type, message: error.message });
      }
      console.error("kinesis endpoint error:", error);
      send(response, 500, { __type: "InternalFailure", message: (error as Error).message });
    }
  }

  /**
   * Verifies the request's SigV4 signature the way Kinesis does: the signer recomputes it with the
   * configured secret over the headers the client signed and the exact body bytes.
   */
  private async authorize(request: IncomingMessage, body: Buffer): Promise<void> {
    const authorization = String(request.headers.authorization ?? "");
    const parts =
      /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, ?SignedHeaders=([a-z0-9;:-]+), ?Signature=([0-9a-f]{64})$/.exec(
        authorization,
      );
    if (!parts || parts[1] !== this.options.accessKeyId) {
      throw new KinesisApiError("UnrecognizedClientException", "The security token included in the request is invalid.");
    }
    const [, accessKeyId, , region, service, signedHeaders, signature] = parts as unknown as string[];
    const amzDate = String(request.headers["x-amz-date"] ?? "");
    const signedAt = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(amzDate);
    if (!signedAt)
      throw new KinesisApiError("IncompleteSignatureException", "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.");
    const signingDate = new Date(`${signedAt[1]}-${signedAt[2]}-${signedAt[3]}T${signedAt[4]}:${signedAt[5]}:${signedAt[6]}Z`);
    if (Math.abs(Date.now() - signingDate.getTime()) > signatureSkewMs) {
      throw new KinesisApiError("InvalidSignatureException", `Signature expired: ${amzDate} is now earlier or later than the allowed 5 minutes.`);
    }
    const headers: Record<string, string> = {};
    for (const name of String(signedHeaders).split(";")) {
      // Over HTTP/2 the SDK signs the host as the :authority pseudo-header, which Node keeps among the headers.
      const value = request.headers[name];
      headers[name] = Array.isArray(value) ? value.join(",") : String(value ?? "");
    }
    // The signer trusts a payload hash header: put the body's real hash there, so a changed body fails.
    if ("x-amz-content-sha256" in headers) headers["x-amz-content-sha256"] = createHash("sha256").update(body).digest("hex");
    const url = new URL(request.url ?? "/", "http://placeholder");
    const signer = new SignatureV4({
      applyChecksum: false,
      credentials: { accessKeyId: String(accessKeyId), secretAccessKey: this.options.secretAccessKey },
      region: String(region),
      service: String(service),
      sha256: Sha256,
    });
    const signed = await signer.sign(
      {
        method: request.method ?? "POST",
        protocol: "http:",
        hostname: headers.host ?? headers[":authority"] ?? "",
        path: url.pathname,
        query: Object.fromEntries(url.searchParams),
        headers,
        body,
      },
      { signingDate },
    );
    const expected = /Signature=([0-9a-f]{64})/.exec(String(signed.headers.authorization ?? ""))?.[1] ?? "";
    if (expected.length !== 64 || !timingSafeEqual(Buffer.from(expected), Buffer.from(String(signature)))) {
      throw new KinesisApiError(
        "InvalidSignatureException",
        "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.",
      );
    }
  }

  private async dispatch(operation: string, body: Record<string, unknown>): Promise<unknown> {
    switch (operation) {
      case "PutRecords":
        return this.putRecords(body);
      case "PutRecord":
        return this.putRecord(body);
      case "DescribeStreamSummary":
        this.requireStream(body);
        return { StreamDescriptionSummary: this.summary() };
      case "DescribeStream":
        this.requireStream(body);
        return { StreamDescription: { ...this.summary(), Shards: this.shards(), HasMoreShards: false } };
      case "ListShards":
        if (!body.NextToken) this.requireStream(body);
        return { Shards: this.shards() };
      case "ListStreams":
        return { StreamNames: [this.options.log.name], HasMoreStreams: false, StreamSummaries: [] };
      case "GetShardIterator":
        return this.getShardIterator(body);
      case "GetRecords":
        return this.getRecords(body);
      case "CreateStream":
        if (body.StreamName === this.options.log.name) throw new KinesisApiError("ResourceInUseException", `Stream ${this.options.log.name} already exists`);
        throw new KinesisApiError("LimitExceededException", "the local stack serves one stream");
      default:
        throw new KinesisApiError("UnknownOperationException", `operation ${operation} is not supported by the local stream`);
    }
  }

  private requireStream(body: Record<string, unknown>): void {
    const name = typeof body.StreamName === "string" ? body.StreamName : typeof body.StreamARN === "string" ? body.StreamARN.split("/").pop() : undefined;
    if (name !== this.options.log.name) {
      throw new KinesisApiError("ResourceNotFoundException", `Stream ${String(name)} under account ${this.options.accountId} not found.`);
    }
  }

  private summary() {
    return {
      StreamName: this.options.log.name,
      StreamARN: this.streamArn,
      StreamStatus: "ACTIVE",
      StreamModeDetails: { StreamMode: "PROVISIONED" },
      RetentionPeriodHours: this.options.retentionHours,
      StreamCreationTimestamp: this.options.log.createdAt.getTime() / 1000,
      EnhancedMonitoring: [{ ShardLevelMetrics: [] }],
      EncryptionType: "NONE",
      OpenShardCount: this.options.log.shardIds.length,
      ConsumerCount: 0,
    };
  }

  private shards() {
    return this.options.log.shardIds.map((shardId) => {
      const range = this.options.log.hashKeyRange(shardId);
      return {
        ShardId: shardId,
        HashKeyRange: { StartingHashKey: range.start, EndingHashKey: range.end },
        SequenceNumberRange: { StartingSequenceNumber: this.options.log.trimHorizon(shardId).segment },
      };
    });
  }

  private async putRecords(body: Record<string, unknown>) {
    this.requireStream(body);
    const records = body.Records;
    if (!Array.isArray(records) || records.length === 0) throw new KinesisApiError("ValidationException", "Records must hold 1 to 500 records");
    if (records.length > limits.maxRecordsPerPut) {
      throw new KinesisApiError(
        "ValidationException",
        `1 validation error detected: Value at 'records' failed to satisfy constraint: Member must have length less than or equal to ${limits.maxRecordsPerPut}`,
      );
    }
    const entries = records.map((record, index) => toEntry(record, `records.${index + 1}`));
    const total = entries.reduce((sum, entry) => sum + entry.data.length + Buffer.byteLength(entry.partitionKey), 0);
    if (total > limits.maxPutBytes) throw new KinesisApiError("InvalidArgumentException", `Records size exceeds 5 MB limit (${total} bytes)`);
    const results = await this.options.log.append(entries);
    return {
      FailedRecordCount: 0,
      Records: results.map((result) => ({ SequenceNumber: result.sequenceNumber, ShardId: result.shardId })),
      EncryptionType: "NONE",
    };
  }

  private async putRecord(body: Record<string, unknown>) {
    this.requireStream(body);
    const [result] = await this.options.log.append([toEntry(body, "record")]);
    return { SequenceNumber: result?.sequenceNumber, ShardId: result?.shardId, EncryptionType: "NONE" };
  }

  private async getShardIterator(body: Record<string, unknown>) {
    this.requireStream(body);
    const shardId = String(body.ShardId ?? "");
    if (!this.options.log.shardIds.includes(shardId))
      throw new KinesisApiError("ResourceNotFoundException", `Shard ${shardId} in stream ${this.options.log.name} not found`);
    let position: Position;
    switch (body.ShardIteratorType) {
      case "TRIM_HORIZON":
        position = this.options.log.trimHorizon(shardId);
        break;
      case "LATEST":
        position = this.options.log.latest(shardId);
        break;
      case "AT_SEQUENCE_NUMBER":
      case "AFTER_SEQUENCE_NUMBER": {
        const sequenceNumber = String(body.StartingSequenceNumber ?? "");
        if (!/^\d+$/.test(sequenceNumber)) throw new KinesisApiError("InvalidArgumentException", "StartingSequenceNumber must be a sequence number");
        position = await this.options.log.positionOf(shardId, sequenceNumber, body.ShardIteratorType === "AFTER_SEQUENCE_NUMBER");
        break;
      }
      default:
        throw new KinesisApiError("InvalidArgumentException", `ShardIteratorType ${String(body.ShardIteratorType)} is not supported locally`);
    }
    return { ShardIterator: this.encodeIterator(shardId, position) };
  }

  /** `base64url([shardId, segment, offset, issuedMs]).hmac`: opaque to clients, and only this endpoint can make one. */
  private encodeIterator(shardId: string, position: Position, now = Date.now()): string {
    const payload = Buffer.from(JSON.stringify([shardId, position.segment, position.offset, now])).toString("base64url");
    return `${payload}.${createHmac("sha256", this.iteratorKey).update(payload).digest("base64url")}`;
  }

  private decodeIterator(iterator: unknown): { shardId: string; position: Position } {
    const invalid = () => new KinesisApiError("InvalidArgumentException", `Invalid ShardIterator: ${String(iterator).slice(0, 64)}`);
    if (typeof iterator !== "string" || iterator.length > 2048) throw invalid();
    const [payload = "", mac = ""] = iterator.split(".");
    const expected = createHmac("sha256", this.iteratorKey).update(payload).digest();
    const given = Buffer.from(mac, "base64url");
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw invalid();
    // Sealed by this endpoint: the content is what encodeIterator wrote.
    const [shardId, segment, offset, issuedMs] = JSON.parse(Buffer.from(payload, "base64url").toString("utf8")) as [string, string, number, number];
    const ageMs = Date.now() - issuedMs;
    if (ageMs > iteratorLifetimeMs) {
      throw new KinesisApiError(
        "ExpiredIteratorException",
        `Iterator expired. The iterator was created at time ${new Date(issuedMs).toUTCString()} while right now it is ${new Date().toUTCString()} which is further in the future than the tolerated delay of ${iteratorLifetimeMs} milliseconds.`,
      );
    }
    return { shardId, position: { segment, offset } };
  }

  private async getRecords(body: Record<string, unknown>) {
    const { shardId, position } = this.decodeIterator(body.ShardIterator);
    const limit = body.Limit ?? 10_000;
    // Kinesis takes 1 to 10,000; anything else (0, a negative, text) read nothing here, silently.
    if (typeof limit !== "number" || !Number.isInteger(limit) || limit < 1 || limit > 10_000)
      throw new KinesisApiError(
        "ValidationException",
        `1 validation error detected: Value '${String(limit).slice(0, 40)}' at 'limit' failed to satisfy constraint: Member must have value between 1 and 10000`,
      );
    const { records, next } = await this.options.log.read(shardId, position, limit);
    const latest = this.options.log.latest(shardId);
    const caughtUp = next.segment === latest.segment && next.offset === latest.offset;
    const lastArrival = records[records.length - 1]?.arrivalMs;
    return {
      Records: records.map((record) => ({
        SequenceNumber: record.sequenceNumber,
        ApproximateArrivalTimestamp: record.arrivalMs / 1000,
        Data: record.data.toString("base64"),
        PartitionKey: record.partitionKey,
      })),
      NextShardIterator: this.encodeIterator(shardId, next),
      MillisBehindLatest: caughtUp || lastArrival === undefined ? 0 : Math.max(0, Date.now() - lastArrival),
    };
  }
}

/** An iterator is valid this long after it was issued, as on Kinesis. */
const iteratorLifetimeMs = 5 * 60_000;
/** A signed request's X-Amz-Date may differ from the server's clock by this much, as on AWS. */
const signatureSkewMs = 5 * 60_000;

function toEntry(record: unknown, path: string) {
  const value = (record ?? {}) as Record<string, unknown>;
  const partitionKey = value.PartitionKey;
  if (typeof partitionKey !== "string" || partitionKey.length < 1 || partitionKey.length > limits.maxPartitionKeyLength) {
    throw new KinesisApiError("ValidationException", `${path}.partitionKey must be 1 to ${limits.maxPartitionKeyLength} characters`);
  }
  if (typeof value.Data !== "string") throw new KinesisApiError("ValidationException", `${path}.data is required`);
  const data = Buffer.from(value.Data, "base64");
  if (data.length > limits.maxRecordBytes) throw new KinesisApiError("ValidationException", `${path}.data is larger than 1 MiB`);
  const explicitHashKey = typeof value.ExplicitHashKey === "string" ? value.ExplicitHashKey : undefined;
  if (explicitHashKey !== undefined && !/^\d{1,39}$/.test(explicitHashKey))
    throw new KinesisApiError("ValidationException", `${path}.explicitHashKey must be a decimal number`);
  // 39 digits reach past 2^128 - 1; such a key was put on the last shard instead of refused.
  if (explicitHashKey !== undefined && BigInt(explicitHashKey) >= 2n ** 128n)
    throw new KinesisApiError(
      "InvalidArgumentException",
      `Invalid ExplicitHashKey. ExplicitHashKey must be in the range: [0, 2^128-1]. Specified value was ${explicitHashKey}`,
    );
  return { partitionKey, data, explicitHashKey };
}

async function readBody(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > maxBodyBytes) throw new KinesisApiError("InvalidArgumentException", "request body is too large", 413);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

function parseJson(body: Buffer): Record<string, unknown> {
  const text = body.toString("utf8");
  if (text.length === 0) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new KinesisApiError("SerializationException", `request body is not a JSON object: ${(error as Error).message}`);
  }
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed))
    throw new KinesisApiError("SerializationException", "request body is not a JSON object");
  return parsed as Record<string, unknown>;
}

function send(response: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(status, { "content-type": "application/x-amz-json-1.1", "content-length": Buffer.byteLength(text) });
  response.end(text);
}
