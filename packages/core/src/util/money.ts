/**
 * Money as it is read from JSON (pure): a decimal string ("197.77") or a JSON number (197.77), the
 * number taken through its shortest decimal text (`String(n)`, so 197.77 stays exactly 197.77 and
 * 1e-7 becomes "0.0000001"). Every price, amount and tariff file reads money through these schemas.
 */
import Decimal from "decimal.js";
import { z } from "zod";

/** The exact decimal text of a JSON number (its shortest round-trip text, never binary noise); other values pass through. */
export function decimalText(value: unknown): unknown {
  return typeof value === "number" && Number.isFinite(value) ? new Decimal(String(value)).toFixed() : value;
}

/**
 * A money schema: a number or a decimal string in, a plain decimal string out (no exponent).
 * @example Money.of({ what: "the fixed price" }).parse(197.77) → "197.77"
 * @throws (on parse) a zod issue saying what is wrong and giving an example.
 */
export function of(options: { what?: string; signed?: boolean; example?: string } = {}) {
  const what = options.what ?? (options.signed ? "an amount" : "a price");
  const example = options.example ?? (options.signed ? '"-0.0150" or 2.1534' : '"1.5573" or 1.5573');
  const shape = options.signed ? /^-?\d+(\.\d+)?$/ : /^\d+(\.\d+)?$/;
  const message = `${what} must be a ${options.signed ? "" : "non-negative "}decimal number or string such as ${example}`;
  const required = `${what} is required, as a decimal number or string such as ${example}`;
  return z.preprocess(decimalText, z.string({ error: (issue) => (issue.input === undefined ? required : message) }).regex(shape, message));
}

/** A non-negative price or amount. */
export const Unsigned = of();
/** An amount that may be negative (credits, adjustments). */
export const Signed = of({ signed: true });

export * as Money from "./money";
