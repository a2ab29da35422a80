/**
 * `value` to `digits` decimal places (Math.round: halves toward +∞), for figures people read — kWh, kW, power
 * factor, shares. Never for money: money is decimal and rounded where the utility rounds (util/money.ts).
 * @example round(0.79166, 4) → 0.7917
 */
export function round(value: number, digits: number): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}
