/**
 * The schemas of typed-in plant figures and names with their bounds (Config.plantLimits), so every door (API, CLI,
 * console) refuses a slip the same way, naming the field.
 */
import { z } from "zod";
import { plantLimits } from "../config";

/**
 * A positive number of `field` up to `max` (kW, a ratio…), refused with the field's name and the bound.
 * @example positive("contractedDemandKw", plantLimits.maxKw).safeParse(1e308) → "contractedDemandKw is at most 1000000"
 */
export function positive(field: string, max: number) {
  return z
    .number({ error: `${field} is a number` })
    .positive(`${field} must be positive`)
    .max(max, `${field} is at most ${max}`);
}

/** A required name of `field` (a factory, meter, line or gateway): trimmed, 1 to `plantLimits.nameChars` characters. */
export function name(field = "name") {
  return z
    .string({ error: `${field} is required` })
    .trim()
    .min(1, `${field} is required`)
    .max(plantLimits.nameChars, `${field} must be at most ${plantLimits.nameChars} characters`);
}
