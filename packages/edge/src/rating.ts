/**
 * The most a metered circuit can draw (pure): the spike limit of a counter meter. A counter delta
 * above it is held as suspect (counter.ts), never turned into a reading.
 *
 * Formula: P = phases × V_LN × I × PF with PF ≤ 1, i.e. P ≤ phases × V_LN × I (a balanced three-phase
 * circuit's √3 × V_LL × I is the same power, V_LL = √3 × V_LN; IEC 60050-131 / any power-systems text).
 * V_LN is the nominal voltage × IEC 60038's +10 % supply tolerance; I is the rated CT primary current
 * (`ct` × rated secondary) × 1.2 over-range (IEC 61869-2), or a direct-connected meter's Imax.
 */
import { meterRating } from "@wattflow/core/config";
import type { Meter } from "./config";
import type { MeterClass } from "./meter/registers";

/** Where a meter's limit came from: its config (`maxKw`), its CTs (`ct`), or its model's class. */
export type RatingSource = "maxKw" | "ct" | "class";

export type Rating = { meterId: string; maxKw: number; source: RatingSource; basis: string };

const kw = (value: number) => Math.round(value * 10) / 10;

/**
 * The meter's limit in kW, and how it was found: a configured `maxKw`; else from `ct` (× `ctSecondaryA`,
 * default 5 A), `nominalV` (default the class's nominal × `vt`) and `phases`; else the class default
 * (Imax of a direct-connected meter, or the default kW of a CT-only meter). Never a fleet-wide default.
 *
 * @example rating({ id, driver: "sdm630", host, ct: 40, nominalV: 127 }, mapOf("sdm630").meterClass).maxKw // 3 × 139.7 V × 240 A = 100.6 kW
 */
export function rating(meter: Meter, meterClass: MeterClass): Rating {
  if (meter.maxKw !== undefined) return { meterId: meter.id, maxKw: meter.maxKw, source: "maxKw", basis: "configured maxKw" };
  const phases = meter.phases ?? meterClass.phases;
  const nominalV = meter.nominalV ?? meterClass.voltsLN * (meter.vt ?? 1);
  const volts = nominalV * meterRating.voltageTolerance;
  if (meter.ct !== undefined) {
    const secondary = meter.ctSecondaryA ?? meterRating.ctSecondaryA;
    const amps = meter.ct * secondary * meterRating.ctOverrange;
    return {
      meterId: meter.id,
      maxKw: kw((phases * volts * amps) / 1000),
      source: "ct",
      basis: `${phases} phase(s) × ${kw(volts)} V (${nominalV} V L-N + 10 %) × ${kw(amps)} A (CT ${meter.ct} × ${secondary} A × ${meterRating.ctOverrange})`,
    };
  }
  if (meterClass.maxAmps !== undefined) {
    return {
      meterId: meter.id,
      maxKw: kw((phases * volts * meterClass.maxAmps) / 1000),
      source: "class",
      basis: `class default: ${phases} phase(s) × ${kw(volts)} V × ${meterClass.maxAmps} A (${meterClass.source}); set maxKw, or ct if it reads through CTs`,
    };
  }
  return {
    meterId: meter.id,
    maxKw: meterClass.defaultKw,
    source: "class",
    basis: `class default (${meterClass.source}); set maxKw or ct`,
  };
}
