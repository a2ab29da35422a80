/**
 * `value` to `digits` decimal places (Math.round: halves toward +∞), for figures people read — kWh, kW, power
 * factor, shares. Never for money: money is decimal and rounded where the utility rounds (util/money.ts).
 * @example round(0.79166, 4) → 0.7917
 */
export function round(value: number, digits: number): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

/**
 * A uniform number in [0, 1) from integer keys, the same on every run and machine (mulberry32's output mix over the
 * keys folded together; each key is truncated to a 32-bit integer), for simulated and demo data that must replay
 * exactly: the gateway's simulated meters (edge `meter/simulator.ts`) and the local demo year (`stack/demo-year.ts`).
 * Not for anything secret. @example stableUniform(1) → 0.14975742693059146
 */
export function stableUniform(...keys: number[]): number {
  let state = 0x9e3779b9;
  for (const key of keys) state = Math.imul(state ^ (key | 0), 0x85ebca6b) ^ (state >>> 13);
  state = (state + 0x6d2b79f5) | 0;
  let mixed = Math.imul(state ^ (state >>> 15), 1 | state);
  mixed = (mixed + Math.imul(mixed ^ (mixed >>> 7), 61 | mixed)) ^ mixed;
  return ((mixed ^ (mixed >>> 14)) >>> 0) / 4294967296;
}
