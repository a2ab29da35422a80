/**
 * The municipal street-lighting charge (DAP, derecho de alumbrado público) that CFE collects on its bill for
 * many municipalities (pure data). Each municipality sets it in its own Ley de Ingresos / Ley de Hacienda,
 * yearly: a percentage of the bill's energy amount (before IVA), sometimes with a monthly cap, or a fixed
 * amount a month. CFE adds it after IVA and does not tax it. A factory's tariff may override it
 * (`streetLighting`), which is the way to enter a municipality missing here or a newer year's figure.
 */
import { z } from "zod";
import { normalize } from "../location";

export * as Dap from "./dap";

const decimal = z.string().regex(/^\d+(\.\d+)?$/, 'a decimal string such as "10" or "1073.00"');

/** A percentage of the energy amount (optionally capped at `cap` MXN a month), or a fixed `amount` MXN a month. */
export const Rule = z
  .object({ percent: decimal.optional(), cap: decimal.optional(), amount: decimal.optional() })
  .refine((rule) => (rule.percent === undefined) !== (rule.amount === undefined), "give a percent (with an optional cap) or an amount")
  .refine((rule) => rule.cap === undefined || rule.percent !== undefined, "a cap goes with a percent");
export type Rule = z.infer<typeof Rule>;

export type Entry = { state: string; municipality: string; rule: Rule; year: number; source: string; note?: string };

const colima = "Leyes de Hacienda of Colima's ten municipalities, as summarized at http://aersanav.blogspot.com/2011_11_06_archive.html";
const puebla = "Leyes de Ingresos municipales of Puebla for 2024, as reported at https://elciudadano.com/?p=845841";

/**
 * The bundled municipalities. Few, and dated: check each against the municipality's current law before
 * relying on it, and override per factory where it differs.
 */
export const entries: readonly Entry[] = [
  { state: "Colima", municipality: "Colima", rule: { percent: "10" }, year: 2011, source: colima },
  { state: "Colima", municipality: "Manzanillo", rule: { percent: "10" }, year: 2011, source: colima },
  { state: "Colima", municipality: "Tecomán", rule: { percent: "10" }, year: 2011, source: colima },
  { state: "Colima", municipality: "Villa de Álvarez", rule: { percent: "10" }, year: 2011, source: colima },
  {
    state: "Puebla",
    municipality: "Atlixco",
    rule: { amount: "71.64" },
    year: 2024,
    source: puebla,
    note: "monthly amount before the law's consumption-based stimulus",
  },
  {
    state: "Puebla",
    municipality: "Amozoc",
    rule: { amount: "62.67" },
    year: 2024,
    source: puebla,
    note: "monthly amount before the law's consumption-based stimulus",
  },
];

/** The bundled DAP of a municipality, if there is one (names compare without case or accents: "Tecoman" finds "Tecomán"). */
export function find(state: string, municipality: string): Entry | undefined {
  return entries.find((entry) => normalize(entry.state) === normalize(state) && normalize(entry.municipality) === normalize(municipality));
}
