/**
 * One definition of each figure a factory's month is judged by — power factor, 15-minute demand,
 * load factor, energy per unit, punta share, CO2e — shared by the KPI module, the console, the alert
 * rules, the billing inputs, the Athena/DuckDB views (`sql`) and the Flux one-call queries (`flux`).
 * Pure: no I/O, so the gateway, the browser and stacks/ can import it.
 */
import { z } from "zod";
import { round } from "../util/number";

export * as Figures from "./figures";

/**
 * Power factor from energy measured together: kWh ÷ √(kWh² + kVArh²), rounded once to `digits` decimals (4; the
 * alerts' messages show 3, rounded from the exact ratio, not from the 4-decimal figure).
 * `kwh` is the active energy of the readings that also carry kVArh — a meter without a reactive
 * register has no say in PF (counting its kWh would treat it as PF 1.0 and inflate the figure).
 * Null when nothing measured kVArh or there was no active energy.
 * Rule: CFE's power factor clause (energy-weighted PF over the billing period), as Bill.compute applies it.
 * @example powerFactor({ kwh: 100, kvarh: 75 }) → 0.8
 */
export function powerFactor(energy: { kwh: number; kvarh: number | null }, digits = 4): number | null {
  if (energy.kvarh === null || !(energy.kwh > 0)) return null;
  return round(energy.kwh / Math.hypot(energy.kwh, energy.kvarh), digits);
}

/** One meter's energy over a period: all its kWh, the kWh of its readings that carry kVArh, and that kVArh (null: none measured). */
export type MeterEnergy = { meterId: string; kwh: number; kwhWithKvarh: number; kvarh: number | null };

export type PowerFactorOf = {
  value: number | null;
  /** kWh and kVArh the value was computed from. */
  kwh: number;
  kvarh: number | null;
  /** Meters whose kWh and kVArh were used. */
  meters: string[];
  /** Meters with energy but no kVArh: left out of the figure. */
  leftOut: string[];
  /** The billing meter when it measured both (then it alone decides the figure, as on the utility's bill). */
  billingMeter: string | null;
};

/**
 * Power factor over meters: the billing meter alone when it measures both kWh and kVArh, else every
 * meter that measures both; meters without a reactive register are named in `leftOut`.
 * @example powerFactorOf([{ meterId: "A", kwh: 100, kwhWithKvarh: 100, kvarh: 75 }, { meterId: "B", kwh: 100, kwhWithKvarh: 0, kvarh: null }]) → { value: 0.8, meters: ["A"], leftOut: ["B"], … }
 */
export function powerFactorOf(meters: readonly MeterEnergy[], options: { billingMeterId?: string | null } = {}): PowerFactorOf {
  const byMeter = new Map<string, { kwh: number; kwhWithKvarh: number; kvarh: number | null }>();
  for (const meter of meters) {
    const found = byMeter.get(meter.meterId) ?? { kwh: 0, kwhWithKvarh: 0, kvarh: null };
    found.kwh += meter.kwh;
    found.kwhWithKvarh += meter.kwhWithKvarh;
    if (meter.kvarh !== null) found.kvarh = (found.kvarh ?? 0) + meter.kvarh;
    byMeter.set(meter.meterId, found);
  }
  const both = [...byMeter.entries()].filter(([, meter]) => meter.kvarh !== null && meter.kwhWithKvarh > 0);
  const leftOut = [...byMeter.entries()].filter(([, meter]) => meter.kvarh === null && meter.kwh > 0).map(([id]) => id);
  const billing = both.find(([id]) => id === options.billingMeterId);
  const used = billing ? [billing] : both;
  const kwh = used.reduce((sum, [, meter]) => sum + meter.kwhWithKvarh, 0);
  const kvarh = used.length > 0 ? used.reduce((sum, [, meter]) => sum + (meter.kvarh ?? 0), 0) : null;
  return {
    value: powerFactor({ kwh, kvarh }),
    kwh: round(kwh, 3),
    kvarh: kvarh === null ? null : round(kvarh, 3),
    meters: used.map(([id]) => id).sort(),
    leftOut: leftOut.sort(),
    billingMeter: billing ? billing[0] : null,
  };
}

/** Minutes in a demand window: CFE bills the highest aligned 15-minute average. */
export const demandWindowMinutes = 15;

/**
 * Demand (kW) of a 15-minute window from its energy: kWh × 60 / 15.
 * @example demandKw(30) → 120
 */
export function demandKw(windowKwh: number): number {
  return (windowKwh * 60) / demandWindowMinutes;
}

/**
 * The measured kWh of a window: its energy less what estimated slots (a gap spread over its slots) put in it.
 * Demand comes from this alone: an estimate never sets a peak (issue 12).
 * @example measuredKwh({ kwh: 30, estimatedKwh: 10 }) → 20
 */
export function measuredKwh(window: { kwh: number; estimatedKwh?: number }): number {
  return window.kwh - (window.estimatedKwh ?? 0);
}

/**
 * Load factor: average demand over the hours with data ÷ peak 15-minute demand (0–1, 4 decimals).
 * Hours without readings are left out rather than counted as zero load, so a month with gaps is
 * not understated; the coverage (`Coverage.windows`) says how many hours that was.
 * @example loadFactor({ kwh: 1940, hoursWithData: 48, peakKw: 120 }) → 0.3368
 */
export function loadFactor(input: { kwh: number; hoursWithData: number; peakKw: number | null }): number | null {
  if (!input.peakKw || !(input.hoursWithData > 0)) return null;
  return round(input.kwh / input.hoursWithData / input.peakKw, 4);
}

/** Share of the energy in punta (0–1, 4 decimals); null without energy. */
export function puntaShare(input: { puntaKwh: number; kwh: number }): number | null {
  return input.kwh > 0 ? round(input.puntaKwh / input.kwh, 4) : null;
}

/** One meter's energy on one local day (YYYY-MM-DD). */
export type MeterDayEnergy = { meterId: string; day: string; kwh: number };
/** Units a line made on a local day (one row per shift is fine: they add up). */
export type ProductionDay = { line: string; day: string; units: number };

export const LinePerUnit = z.object({
  line: z.string(),
  /** Local days with production rows for the line. */
  days: z.array(z.string()),
  units: z.number(),
  kwh: z.number(),
  /** Null when the line made 0 units: its kWh is idle consumption. */
  kwhPerUnit: z.number().nullable(),
});
export type LinePerUnit = z.infer<typeof LinePerUnit>;

export const EnergyPerUnit = z.object({
  lines: z.array(LinePerUnit),
  /** Lines with production rows and units > 0, together. */
  units: z.number(),
  kwh: z.number(),
  kwhPerUnit: z.number().nullable(),
  /** Energy of lines with production rows whose units were 0 on those days: kept and reported, not dropped (ISO 50006). */
  idle: z.object({ kwh: z.number(), lines: z.array(z.string()) }),
  /** Energy per unit with the idle consumption in the numerator (the baseline ISO 50006 keeps). */
  kwhPerUnitWithIdle: z.number().nullable(),
});
export type EnergyPerUnit = z.infer<typeof EnergyPerUnit>;

/**
 * Energy per unit produced (EnPI, ISO 50001/50006): per line, the kWh of its meters on the local days
 * that have production rows for it, over the units. Days without production rows are not part of the
 * EnPI; a line whose rows say 0 units keeps its kWh as idle consumption.
 * @example energyPerUnit({ production: [{ line: "A", day: "2026-11-27", units: 1000 }], meterDays, lineOf }) → { lines: [{ line: "A", kwhPerUnit: … }], … }
 */
export function energyPerUnit(input: {
  production: readonly ProductionDay[];
  meterDays: readonly MeterDayEnergy[];
  lineOf: ReadonlyMap<string, string>;
}): EnergyPerUnit {
  const produced = new Map<string, Map<string, number>>();
  for (const row of input.production) {
    const days = produced.get(row.line) ?? new Map<string, number>();
    days.set(row.day, (days.get(row.day) ?? 0) + row.units);
    produced.set(row.line, days);
  }
  const kwhOf = new Map<string, number>();
  for (const day of input.meterDays) {
    const line = input.lineOf.get(day.meterId);
    if (line === undefined || !produced.get(line)?.has(day.day)) continue;
    kwhOf.set(line, (kwhOf.get(line) ?? 0) + day.kwh);
  }
  const lines = [...produced.entries()]
    .map(([line, days]): LinePerUnit => {
      const units = [...days.values()].reduce((sum, value) => sum + value, 0);
      const kwh = kwhOf.get(line) ?? 0;
      return { line, days: [...days.keys()].sort(), units, kwh: round(kwh, 3), kwhPerUnit: units > 0 ? round(kwh / units, 6) : null };
    })
    .sort((a, b) => a.line.localeCompare(b.line));
  const producing = lines.filter((line) => line.units > 0);
  const idleLines = lines.filter((line) => line.units === 0);
  const units = producing.reduce((sum, line) => sum + line.units, 0);
  const kwh = producing.reduce((sum, line) => sum + (kwhOf.get(line.line) ?? 0), 0);
  const idle = idleLines.reduce((sum, line) => sum + (kwhOf.get(line.line) ?? 0), 0);
  return {
    lines,
    units,
    kwh: round(kwh, 3),
    kwhPerUnit: units > 0 ? round(kwh / units, 6) : null,
    idle: { kwh: round(idle, 3), lines: idleLines.map((line) => line.line) },
    kwhPerUnitWithIdle: units > 0 ? round((kwh + idle) / units, 6) : null,
  };
}

/** SQL (Athena/Trino and DuckDB alike) for the same figures over aggregated columns. */
export const sql = {
  /** Arguments are SQL expressions of the sums (parenthesized here, so any expression will do); null when nothing measured kVArh. */
  powerFactor: (kwhWithKvarh: string, kvarh: string) =>
    `CASE WHEN (${kvarh}) IS NOT NULL AND (${kwhWithKvarh}) > 0 THEN (${kwhWithKvarh}) / sqrt(power(${kwhWithKvarh}, 2) + power(${kvarh}, 2)) END`,
  /** Per reading: its kWh when it carries kVArh, else nothing (sum it for `powerFactor`'s first argument). */
  kwhWithKvarh: (kwh: string, kvarh: string) => `CASE WHEN (${kvarh}) IS NOT NULL THEN (${kwh}) END`,
  demandKw: (windowKwh: string) => `(${windowKwh}) * ${60 / demandWindowMinutes}`,
  loadFactor: (kwh: string, hoursWithData: string, peakKw: string) =>
    `CASE WHEN (${peakKw}) > 0 AND (${hoursWithData}) > 0 THEN (${kwh}) / (${hoursWithData}) / (${peakKw}) END`,
  puntaShare: (puntaKwh: string, kwh: string) => `CASE WHEN (${kwh}) > 0 THEN (${puntaKwh}) / (${kwh}) END`,
} as const;

/** Flux for the same figures over pivoted rows (`r.kwh`, `r.kvarh`); imports `math`. */
export const flux = {
  powerFactor: "r.kwh / math.sqrt(x: r.kwh * r.kwh + r.kvarh * r.kvarh)",
  demandFactor: 60 / demandWindowMinutes,
  /** A pivoted row's measured kWh (`measuredKwh`): its kWh less its estimated kWh, 0 when the point has no `estimated_kwh` field. */
  measuredKwh: 'r["kwh"] - (if exists r["estimated_kwh"] then r["estimated_kwh"] else 0.0)',
} as const;
