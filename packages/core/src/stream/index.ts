/**
 * The readings stream: Kinesis Data Streams on AWS, the durable embedded log locally.
 * Producers (the ingest API) only put; consumers are driven by the event source mapping.
 */

import { UnavailableError } from "../util/error";
import { portSlot } from "../util/port";

export * as Stream from "./index";

export type PutEntry = { partitionKey: string; data: Uint8Array };

export type PutResult = { ok: true; shardId: string; sequenceNumber: string } | { ok: false; errorCode: string; errorMessage: string };

export interface Port {
  /** Puts up to 500 records; returns one result per entry, in order (partial failure like PutRecords). */
  put(entries: PutEntry[]): Promise<PutResult[]>;
  describe(): { kind: "kinesis" | "local"; name: string };
}

/** The stream cannot take records right now (network, throttling, disk); the caller should retry later. */
export class StreamUnavailableError extends UnavailableError {
  readonly code = "stream.unavailable";
  override readonly name = "StreamUnavailableError";
}

const slot = portSlot<Port>("wattflow.stream", () => new StreamUnavailableError("no stream: the runtime or the local stack provides one"));

/**
 * This process's stream (util/port.ts): `provide` sets it (the Lambda runtime: Kinesis; the local stack: the embedded
 * log; tests: theirs), `use` returns it and throws StreamUnavailableError when none was provided.
 */
export const { provide, provideLazily, provided, use } = slot;
