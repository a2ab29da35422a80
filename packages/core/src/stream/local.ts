import type { Port, PutEntry, PutResult } from "./index";
import { StreamUnavailableError } from "./index";
import type { DurableLog } from "./log";

/** The stream port over the embedded durable log: an entry is acknowledged once it is fsynced. */
export class LocalStream implements Port {
  constructor(private readonly log: DurableLog) {}

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
