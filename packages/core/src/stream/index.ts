/**
 * The readings stream: Kinesis Data Streams on AWS, the durable embedded log locally.
 * Producers (the ingest API) only put; consumers are driven by the event source mapping.
 */
import { processState } from "../util/global";

export * as Stream from "./index";

export type PutEntry = { partitionKey: string; data: Uint8Array };

export type PutResult = { ok: true; shardId: string; sequenceNumber: string } | { ok: false; errorCode: string; errorMessage: string };

export interface Port {
  /** Puts up to 500 records; returns one result per entry, in order (partial failure like PutRecords). */
  put(entries: PutEntry[]): Promise<PutResult[]>;
  describe(): { kind: "kinesis" | "local"; name: string };
}

/** The stream cannot take records right now (network, throttling, disk); the caller should retry later. */
export class StreamUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "StreamUnavailableError";
  }
}

const state = processState("wattflow.stream", (): { port?: Port } => ({}));

export function provide(port: Port | undefined): void {
  state.port = port;
}

/** The process's stream; in a Lambda, Kinesis named by READINGS_STREAM_NAME, created on first use. */
export async function use(): Promise<Port> {
  if (state.port) return state.port;
  const name = process.env.READINGS_STREAM_NAME;
  if (!name) throw new StreamUnavailableError("no stream: none provided and READINGS_STREAM_NAME is not set");
  const { KinesisStream } = await import("./aws");
  state.port = new KinesisStream({ streamName: name });
  return state.port;
}
