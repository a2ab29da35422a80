import type { Port, PutEntry, PutResult } from "./index";
import { StreamUnavailableError } from "./index";

/**
 * What the stream needs of a local durable log (the local twin's, @wattflow/local stream/log.ts): append entries,
 * resolving once they are on disk with the shard and sequence number each got.
 */
export interface AppendLog {
  readonly name: string;
  append(entries: PutEntry[]): Promise<{ shardId: string; sequenceNumber: string }[]>;
}

/** The stream port over the local twin's durable log: an entry is acknowledged once it is fsynced. */
export class LocalStream implements Port {
  constructor(private readonly log: AppendLog) {}

  describe() {
    return { kind: "local" as const, name: this.log.name };
  }

  async put(entries: PutEntry[]): Promise<PutResult[]> {
    try {
      const appended = await this.log.append(entries);
      return appended.map((result) => ({ ok: true as const, ...result }));
    } catch (error) {
      throw new StreamUnavailableError(`local stream cannot take records: ${(error as Error).message}`, { cause: error });
    }
  }
}
