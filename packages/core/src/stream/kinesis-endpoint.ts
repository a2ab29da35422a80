/**
 * The Kinesis API subset a gateway and tools use (JSON 1.1 protocol), answered from the durable log,
 * so `@aws-sdk/client-kinesis` works unchanged against the local stack.
 * Operations: PutRecords, PutRecord, DescribeStreamSummary, DescribeStream, ListShards, ListStreams,
 * GetShardIterator, GetRecords. Requests must carry the configured access key id.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { kinesis as limits } from "../config";
import type { DurableLog, Position } from "./log";

export type KinesisEndpointOptions = {
  log: DurableLog;
  region: string;
  accountId: string;
  accessKeyId: string;
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

export class KinesisEndpoint {
  private server?: Server;

  constructor(private readonly options: KinesisEndpointOptions) {}

  get streamArn(): string {
    return `arn:aws:kinesis:${this.options.region}:${this.options.accountId}:stream/${this.options.log.name}`;
  }

  async listen(port: number, host = "127.0.0.1"): Promise<string> {
    this.server = createServer((request, response) => void this.serve(request, response));
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
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private async serve(request: IncomingMessage, response: ServerResponse): Promise<void> {
    try {
      if (request.method === "GET" && request.url === "/healthcheck") return send(response, 200, { ok: true });
      if (request.method !== "POST") throw new KinesisApiError("UnknownOperationException", "Kinesis requests are POST /", 404);
      const target = String(request.headers["x-amz-target"] ?? "");
      const [service, operation] = target.split(".");
      if (service !== "Kinesis_20131202" || !operation) throw new KinesisApiError("UnknownOperationException", `unknown X-Amz-Target "${target}"`);
      this.authorize(request);
      const body = await readJson(request);
      send(response, 200, await this.dispatch(operation, body));
    } catch (error) {
      if (error instanceof KinesisApiError) {
        response.setHeader("x-amzn-ErrorType", error.type);
        return send(response, error.status, { __type: error.type, message: error.message });
      }
      console.error("kinesis endpoint error:", error);
      send(response, 500, { __type: "InternalFailure", message: (error as Error).message });
    }
  }

  private authorize(request: IncomingMessage): void {
    const authorization = String(request.headers.authorization ?? "");
    const credential = /Credential=([^/]+)\//.exec(authorization)?.[1];
    if (credential !== this.options.accessKeyId) {
      throw new KinesisApiError("UnrecognizedClientException", "The security token included in the request is invalid (unknown access key id).");
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
    return { ShardIterator: encodeIterator(shardId, position) };
  }

  private async getRecords(body: Record<string, unknown>) {
    const { shardId, position } = decodeIterator(String(body.ShardIterator ?? ""));
    const limit = Math.min(Number(body.Limit ?? 10_000), 10_000);
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
      NextShardIterator: encodeIterator(shardId, next),
      MillisBehindLatest: caughtUp || lastArrival === undefined ? 0 : Math.max(0, Date.now() - lastArrival),
    };
  }
}

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
  return { partitionKey, data, explicitHashKey };
}

function encodeIterator(shardId: string, position: Position): string {
  return Buffer.from(JSON.stringify([shardId, position.segment, position.offset])).toString("base64url");
}

function decodeIterator(iterator: string): { shardId: string; position: Position } {
  try {
    const [shardId, segment, offset] = JSON.parse(Buffer.from(iterator, "base64url").toString("utf8")) as [string, string, number];
    if (typeof shardId !== "string" || typeof segment !== "string" || typeof offset !== "number") throw new Error("malformed");
    return { shardId, position: { segment, offset } };
  } catch {
    throw new KinesisApiError("InvalidArgumentException", "ShardIterator is not valid");
  }
}

async function readJson(request: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > maxBodyBytes) throw new KinesisApiError("InvalidArgumentException", "request body is too large", 413);
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString("utf8");
  if (text.length === 0) return {};
  try {
    const parsed = JSON.parse(text);
    if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) throw new Error("not an object");
    return parsed as Record<string, unknown>;
  } catch (error) {
    throw new KinesisApiError("SerializationException", `request body is not a JSON object: ${(error as Error).message}`);
  }
}

function send(response: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(status, { "content-type": "application/x-amz-json-1.1", "content-length": Buffer.byteLength(text) });
  response.end(text);
}
