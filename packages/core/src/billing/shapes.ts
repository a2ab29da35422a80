/**
 * The shapes of a bill and of what it is computed from (the bill's schema, types, and the bill's input error): the engine
 * (./index.ts), the request reader (./request.ts) and the allocation (./allocation.ts) share them from here.
 */
import { z } from "zod";
import type { Tariff } from "../tariff";
import { PathError } from "../util/error";
import { Name } from "./lines";

export class BillError extends PathError {
  readonly code = "bill.invalid";
  override readonly name = "BillError";
}

/**
 * One line of the bill, in CFE's order: "fixed", "energy-<period>", "distribution", "capacity", "low-voltage",
 * "power-factor", "subtotal", "iva", "dap", "total". `name` is CFE's Spanish wording with English beside it;
 * amounts in the tariff's currency (MXN), quantities in `unit` (kWh, kW, month, MXN for a percentage line).
 */
export const Line = z.object({ code: z.string(), name: Name, quantity: z.string(), unit: z.string(), unitPrice: z.string(), amount: z.string() });
export type Line = z.infer<typeof Line>;

/** A computed bill: money as exact decimal strings in the tariff's currency (MXN). */
export const Bill = z.object({
  /** Every line, the summing ones (subtotal, IVA, total) included. */
  lines: z.array(Line),
  /** Supply lines (with the low-voltage surcharge), before the power-factor adjustment and tax. */
  subtotal: z.string(),
  /** Percent, 2 decimals; null when no reactive energy was measured. */
  powerFactor: z.string().nullable(),
  /** Negative for a bonus. */
  pfAdjustment: z.string(),
  /** IVA on the subtotal after the power factor. */
  iva: z.string(),
  /** Municipal street lighting, added after IVA and untaxed ("0.00" when none). */
  dap: z.string(),
  total: z.string(),
  /** Priced with the latest prices because the billing month's were not published yet. */
  estimated: z.boolean(),
  /** kWh of the energy lines that was estimated (spread from longer readings), not measured; "0" when all was measured. */
  estimatedKwh: z.string(),
  /** The month's maximum demand, kW over the tariff's demand window (what later bills' ratchets look back at); null on a flat bill. */
  peakDemandKw: z.string().nullable(),
});
export type Bill = z.infer<typeof Bill>;

/**
 * One 5-minute slot or a longer reading; `start` is the interval start. A longer reading is spread flat
 * over its slots (Grid.slots) and, like a slot of `quality: "estimated"`, counts as energy but never as
 * demand, unless it says `quality: "measured"` (a sum of measured slots, e.g. a 15-minute window).
 * `kwhWithKvarh`: for a reading that sums meters of which only some measure kVArh, the kWh of those
 * (power factor pairs kVArh with it alone, Figures.powerFactor); else the reading's kWh pairs with its kVArh.
 */
export type Reading = {
  start: Date;
  seconds: number;
  kwh: number;
  kvarh?: number | null;
  kwhWithKvarh?: number;
  quality?: "measured" | "estimated";
};

/**
 * Usage already summed: kWh per energy period, kVArh, and maximum demand overall and per demand period.
 * `kwhWithKvarh`: the kWh measured together with `kvarh` (default: every kWh).
 */
export type Aggregates = { kwh: Record<string, number>; kvarh?: number; kwhWithKvarh?: number; demandKw: { max: number } & Record<string, number> };

/** What the factory's supply contract says that the bill depends on. */
export type Contract = {
  /** Where the supply is: CFE collects that municipality's DAP (billing/dap.ts). */
  state?: string | null;
  municipality?: string | null;
  /** Supply voltage: medium (1–35 kV) or high (above 35 kV). */
  supplyVoltage?: "medium" | "high" | null;
  /** Contracted demand, kW. */
  contractedDemandKw?: number | null;
};

export type Input = {
  definition: Exclude<Tariff.Definition, { kind: "flat" }>;
  contract?: Contract;
  /** The factory's IANA zone (CFE plans default to their schedule zone's clock). */
  timeZone?: string;
  /** Local dates, end exclusive. */
  period: { start: string; end: string };
  usage: { readings: readonly Reading[] } | Aggregates;
  /**
   * The maximum demand (kW) of earlier bills, by bill month (YYYY-MM), for the tariff's demand ratchets
   * (`DemandCharge.ratchets`); months not given count as no demand. The monthly close takes them from stored bills.
   */
  priorPeaks?: readonly PriorPeak[];
};

/** One earlier bill's maximum demand: its month (YYYY-MM) and kW. */
export type PriorPeak = { month: string; kw: number };
