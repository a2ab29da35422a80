/** What a counter meter's driver gives the agent (shared by the Modbus and simulated counter drivers). */
import type { CounterSpec, Snapshot } from "../interval";
import type { Rating } from "../rating";

export type CounterDriver = {
  kind: "counter";
  spec: CounterSpec;
  /** The spike limit in `spec.maxKw` and where it came from (shown by `wattflow edge status`). */
  rating: Rating;
  /** Reads that confirm a reset or a meter swap (counter.ts). */
  confirmReads: number;
  read(): Promise<Omit<Snapshot, "at">>;
  close(): Promise<void>;
};
