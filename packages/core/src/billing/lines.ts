/**
 * Names of bill lines as CFE prints them (Spanish) with English beside them (pure). A line is stored by
 * its code; its name is derived from the code (and, for the power factor, the sign of its amount), so
 * bills closed before names existed read the same.
 */
import { z } from "zod";

/** A line's name: CFE's Spanish wording and English beside it. */
export const Name = z.object({ es: z.string(), en: z.string() });
export type Name = z.infer<typeof Name>;

const names: Record<string, Name> = {
  fixed: { es: "Cargo fijo", en: "Fixed charge" },
  "energy-base": { es: "Energía base", en: "Base energy" },
  "energy-intermedia": { es: "Energía intermedia", en: "Intermediate energy" },
  "energy-punta": { es: "Energía punta", en: "Peak energy" },
  energy: { es: "Energía", en: "Energy" },
  // GDMTO's one energy period.
  "energy-energia": { es: "Energía", en: "Energy" },
  distribution: { es: "Distribución", en: "Distribution" },
  capacity: { es: "Capacidad", en: "Capacity" },
  "low-voltage": { es: "Cargo 2 % por medición en baja tensión", en: "2 % low-voltage metering surcharge" },
  minimum: { es: "Mínimo mensual", en: "Monthly minimum" },
  subtotal: { es: "Subtotal", en: "Subtotal" },
  iva: { es: "IVA", en: "VAT (IVA)" },
  dap: { es: "DAP", en: "Municipal street lighting (DAP)" },
  total: { es: "Total", en: "Total" },
};

/** Codes of the lines that sum others up rather than charge (they are not charges a utility bill import adds). */
export const summaryCodes = ["subtotal", "iva", "total"] as const;

/**
 * The printed name of a line code; the power-factor line is a bonus when its amount is negative.
 * Unknown codes (a general tariff's own charges, a utility's imported codes) are their own name.
 * @example lineName("power-factor", "-4670.35") → { es: "Bonificación por factor de potencia", en: "Power factor bonus" }
 */
export function lineName(code: string, amount?: string): Name {
  if (code === "power-factor")
    return amount?.trim().startsWith("-")
      ? { es: "Bonificación por factor de potencia", en: "Power factor bonus" }
      : { es: "Cargo por factor de potencia", en: "Power factor surcharge" };
  const tier = /^(.*)-tier(\d+)$/.exec(code);
  if (tier) {
    const base = lineName(tier[1] as string);
    return { es: `${base.es} (bloque ${tier[2]})`, en: `${base.en} (tier ${tier[2]})` };
  }
  return names[code] ?? { es: code, en: code };
}

/** Lower case ASCII words joined by "-": "Energía Intermedia" and "ENERGIA  INTERMEDIA" → "energia-intermedia". */
function slug(text: string): string {
  return text
    .normalize("NFD")
    .replace(/\p{M}/gu, "")
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "");
}

/**
 * Slugs of the names a utility bill prints for our lines, beyond each line's own code and Spanish name, in the
 * shorter or longer forms CFE's GDMTH/GDMTO bills use (shared reference cfe-gdmth.md: "Suministro" is the fixed
 * supply charge, "Bonificación/Cargo por factor de potencia", the "2 %" low-voltage surcharge, "Derecho de
 * alumbrado público" for DAP).
 */
const printedAliases: Record<string, string> = {
  suministro: "fixed",
  "bonificacion-por-factor-de-potencia": "power-factor",
  "cargo-por-factor-de-potencia": "power-factor",
  "bonificacion-cargo-por-factor-de-potencia": "power-factor",
  "factor-de-potencia": "power-factor",
  "2-baja-tension": "low-voltage",
  "cargo-2-baja-tension": "low-voltage",
  "2-por-medicion-en-baja-tension": "low-voltage",
  "baja-tension": "low-voltage",
  "derecho-de-alumbrado-publico": "dap",
  "alumbrado-publico": "dap",
  "total-a-pagar": "total",
  // The tax as bills print it: "IVA 16%", "I.V.A.", "I.V.A. 16 %", "Impuesto al valor agregado".
  "iva-16": "iva",
  "i-v-a": "iva",
  "i-v-a-16": "iva",
  "impuesto-al-valor-agregado": "iva",
};

const byName: ReadonlyMap<string, string> = new Map([
  ...Object.entries(names)
    // "Energía" is GDMTO's (and GDBT's, PDBT's) one energy period on a CFE bill; a flat tariff's "energy" keeps its code.
    .filter(([code]) => code !== "energy")
    .map(([code, name]): [string, string] => [slug(name.es), code]),
  ...Object.entries(printedAliases),
  // Our own codes last: a code always names itself.
  ...[...Object.keys(names), "power-factor"].map((code): [string, string] => [code, code]),
]);

/**
 * Our line code for a line as a utility bill names it: our code, CFE's printed Spanish name or an ASCII slug of it,
 * case, accents, spaces and dashes aside; a tier suffix is kept. Undefined when it is none of our lines (a utility's
 * own charge), which the caller keeps as given.
 * @example lineCode("Energía Intermedia") → "energy-intermedia"; lineCode("cargo-fijo") → "fixed";
 *   lineCode("Bonificación por factor de potencia") → "power-factor"; lineCode("2% baja tensión") → "low-voltage";
 *   lineCode("Cargo por reconexión") → undefined
 */
export function lineCode(given: string): string | undefined {
  const key = slug(given);
  const found = byName.get(key);
  if (found) return found;
  const tier = /^(.*)-tier-?(\d+)$/.exec(key);
  const base = tier ? byName.get(tier[1] as string) : undefined;
  return base && tier ? `${base}-tier${tier[2]}` : undefined;
}
