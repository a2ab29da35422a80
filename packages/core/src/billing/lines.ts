/**
 * Names of bill lines as CFE prints them (Spanish) with English beside them (pure). A line is stored by
 * its code; its name is derived from the code (and, for the power factor, the sign of its amount), so
 * bills closed before names existed read the same.
 */
export type Name = { es: string; en: string };

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
