/**
 * A simulated factory meter (pure): the value for an interval is a function of the seed, the meter
 * and the interval's start alone, so a restarted gateway re-reads exactly what it read before.
 * Shifts run 06:00–22:00 local on weekdays and mornings on Saturdays; nights and Sundays idle;
 * motor loads run at a power factor between 0.80 and 0.95.
 */
import { round, stableUniform as unit } from "@wattflow/core/util/number";

export type SimulatedInterval = {
  kwh: number;
  kvarh: number;
  kwAvg: number;
  kwMax: number;
  pf: number;
  voltage: number;
  current: number;
};

export type SimulatedMeter = {
  seed: number;
  /** Rated load of the circuit in kW. */
  ratedKw: number;
  /** Hours to add to UTC for the factory's local clock (fixed offset keeps this pure and cheap). */
  utcOffsetHours: number;
};

/** The fraction of rated load the circuit draws at a local time. */
function loadFactor(local: Date): number {
  const day = local.getUTCDay();
  const hour = local.getUTCHours() + local.getUTCMinutes() / 60;
  if (day === 0) return 0.06;
  if (day === 6) return hour >= 6 && hour < 14 ? 0.55 : 0.06;
  if (hour >= 6 && hour < 22) return hour >= 13 && hour < 14 ? 0.45 : 0.85;
  return 0.08;
}

export function read(meter: SimulatedMeter, start: Date, seconds: number): SimulatedInterval {
  const startSeconds = Math.floor(start.getTime() / 1000);
  const local = new Date(start.getTime() + meter.utcOffsetHours * 3_600_000);
  const noise = unit(meter.seed, startSeconds, 1);
  const kwAvg = meter.ratedKw * loadFactor(local) * (0.9 + 0.2 * noise);
  const pf = 0.8 + 0.15 * unit(meter.seed, Math.floor(startSeconds / 3600), 2);
  const hours = seconds / 3600;
  const kwh = kwAvg * hours;
  const kvarh = kwh * Math.tan(Math.acos(pf));
  const voltage = 480 * (0.98 + 0.04 * unit(meter.seed, startSeconds, 3));
  return {
    kwh: round(kwh, 4),
    kvarh: round(kvarh, 4),
    kwAvg: round(kwAvg, 3),
    kwMax: round(kwAvg * (1.05 + 0.15 * unit(meter.seed, startSeconds, 4)), 3),
    pf: round(pf, 3),
    voltage: round(voltage, 1),
    current: round((kwAvg * 1000) / (Math.sqrt(3) * voltage * pf), 1),
  };
}
