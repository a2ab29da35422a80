/**
 * Money arithmetic as CFE's bill does it (pure: no zod, no I/O, so the console bundles it too): amounts are exact
 * decimals, a charge is its quantity × unit price rounded once to the cent (half away from zero), and a sum adds
 * charges already rounded. The bill engine (billing/index.ts), `wattflow cost --summary` and the console use these
 * functions, so a figure the console prints is the figure the bill prints.
 */
import Decimal from "decimal.js";

export * as Cents from "./cents";

/** An amount as the API and the bill tables carry it: a decimal string ("197.77"), a Decimal or a JSON number. */
export type Amount = Decimal.Value;

function exact(value: Amount, what: string): Decimal {
  try {
    const decimal = new Decimal(value);
    if (decimal.isFinite()) return decimal;
  } catch (error) {
    if (!(error instanceof Error) || !error.message.includes("DecimalError")) throw error;
  }
  throw new RangeError(`${what} must be a finite decimal number such as "197.77", got ${JSON.stringify(String(value))}`);
}

/**
 * `value` rounded to the cent as the bill rounds each line (ROUND_HALF_UP: half away from zero).
 * @example Cents.round("23.70865") → Decimal 23.71 · Cents.round("-0.005") → Decimal -0.01
 * @throws RangeError when `value` is not a finite decimal.
 */
export function round(value: Amount): Decimal {
  return exact(value, "an amount").toDecimalPlaces(2, Decimal.ROUND_HALF_UP);
}

/** `value` rounded to the cent as text with two decimals. @example Cents.text("4.6719") → "4.67" */
export function text(value: Amount): string {
  return round(value).toFixed(2);
}

/**
 * A charge as a bill line computes it: `quantity` × `unitPrice`, exact, then rounded once to the cent.
 * @example Cents.charge("13.734567", "1.7262") → Decimal 23.71 (13.734567 × 1.7262 = 23.70865…)
 */
export function charge(quantity: Amount, unitPrice: Amount): Decimal {
  return round(exact(quantity, "a quantity").times(exact(unitPrice, "a unit price")));
}

/**
 * The exact sum of amounts already in cents (the bill's subtotal and total add rounded lines), as text with two
 * decimals; an empty list is "0.00". @example Cents.sum(["0.01", "0.01"]) → "0.02"
 */
export function sum(amounts: Iterable<Amount>): string {
  let total = new Decimal(0);
  for (const amount of amounts) total = total.plus(exact(amount, "an amount"));
  return round(total).toFixed(2);
}

/**
 * `a` − `b` to the cent, exact (our bill's figure against the utility's): text with two decimals.
 * @example Cents.difference("1234.56", "1234.55") → "0.01" (where 1234.56 − 1234.55 in floats is 0.009999…)
 */
export function difference(a: Amount, b: Amount): string {
  return round(exact(a, "an amount").minus(exact(b, "an amount"))).toFixed(2);
}
