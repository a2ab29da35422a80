/**
 * The data lake: Firehose → S3 Parquet on AWS, Parquet files under .wattflow/lake/ locally, both
 * partitioned by the reading's date (`dt=YYYY-MM-DD`, UTC) with the factory as a column.
 * Append-only: a reading costed again is written again with a later computedAt, and the lake's
 * views keep the latest copy per key (meter id + interval start).
 */

import { UnavailableError } from "../util/error";
import { portSlot } from "../util/port";

export * as Lake from "./index";

/** One costed reading as the lake stores it (the Glue table's columns). */
export type Row = {
  meterId: string;
  factoryId: string;
  deviceId: string;
  intervalStart: Date;
  intervalSeconds: number;
  kwh: number;
  kvarh: number | null;
  kwAvg: number | null;
  kwMax: number | null;
  pf: number | null;
  voltage: number | null;
  current: number | null;
  touPeriod: string | null;
  tariffId: string | null;
  unitPrice: string | null;
  cost: string | null;
  /** Priced with estimated (unpublished) prices. */
  estimated: boolean;
  gap: boolean;
  /** Data quality: `measured`, or `estimated` (spread from a longer reading until measured); absent = measured. */
  quality?: "measured" | "estimated";
  computedAt: Date | null;
  source: "kinesis" | "http" | "bulk";
  receivedAt: Date;
};

export interface Port {
  /** Resolves once every row is durably in the lake (or throws; then none is marked delivered). */
  put(rows: Row[]): Promise<void>;
  describe(): { kind: "firehose" | "local"; location: string };
}

export class LakeError extends UnavailableError {
  readonly code = "lake.unavailable";
  override readonly name = "LakeError";
}

/** The partition a reading belongs to: its interval start's UTC date. */
export function partitionOf(intervalStart: Date): string {
  return intervalStart.toISOString().slice(0, 10);
}

/** The JSON record Firehose receives; the Glue table and the local Parquet files share these names. */
export function toRecord(row: Row) {
  return {
    meter_id: row.meterId,
    factory_id: row.factoryId,
    device_id: row.deviceId,
    interval_start: row.intervalStart.toISOString(),
    interval_seconds: row.intervalSeconds,
    kwh: row.kwh,
    kvarh: row.kvarh,
    kw_avg: row.kwAvg,
    kw_max: row.kwMax,
    pf: row.pf,
    voltage: row.voltage,
    current: row.current,
    tou_period: row.touPeriod,
    tariff_id: row.tariffId,
    unit_price: row.unitPrice,
    cost: row.cost,
    estimated: row.estimated,
    gap: row.gap,
    quality: row.quality ?? "measured",
    computed_at: row.computedAt?.toISOString() ?? null,
    source: row.source,
    received_at: row.receivedAt.toISOString(),
    dt: partitionOf(row.intervalStart),
  };
}

const slot = portSlot<Port>("wattflow.lake", () => new LakeError("no lake: the runtime or the local stack provides one"));

/** Sets this process's lake (the Lambda runtime: Firehose; the local stack: Parquet files; tests: theirs). */
export const provide = slot.provide;
export const provideLazily = slot.provideLazily;
export const provided = slot.provided;
/** The process's lake; throws LakeError when none was provided. */
export const use = slot.use;
