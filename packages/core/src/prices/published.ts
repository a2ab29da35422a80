/**
 * CFE's published monthly GDMTH/GDMTO prices per tariff division, shipped with the product as versioned data
 * with the source of every row, and the parser of CFE's published table ("Cargo", "Int. Horario",
 * "Unidades", "Valor" for one tariff, division and month). Pure.
 */
import { z } from "zod";
import type { PriceRow } from "../import/rows";
import { type Division, Location } from "../location";
import { WattflowError } from "../util/error";
import { Money } from "../util/money";

export * as Published from "./published";

/** Where a row's figures come from: the page, the municipality its form was consulted with, and when. */
export type Source = { url: string; consulted: string; captured: string; via: string };
export type Row = PriceRow & { source: Source };

/** Version of the bundled price data: bump it when rows are added or corrected. */
export const version = "2026-09-17";

const gdmthPage = "https://app.cfe.mx/Aplicaciones/CCFE/Tarifas/TarifasCRENegocio/Tarifas/GranDemandaMTH.aspx";
// Figures scraped from CFE's page by EnergiaHollman/tarifas-electricas-mx (MIT), data/tarifas.json at commit 02b7bcb7.
const via = "EnergiaHollman/tarifas-electricas-mx data/tarifas.json@02b7bcb7";

type Compact = [month: string, fixed: string, base: string, intermedia: string, punta: string, distribution: string, capacity: string, captured: string];

const gdmth = (division: string, consulted: string, rows: Compact[]): Row[] =>
  rows.map(([month, fixed, base, intermedia, punta, distribution, capacity, captured]) => ({
    tariff: "cfe-gdmth",
    division,
    month,
    fixed,
    distribution,
    capacity,
    energyBase: base,
    energyIntermedia: intermedia,
    energyPunta: punta,
    energy: null,
    source: { url: gdmthPage, consulted: consulted === "*" ? "ACONCHI, SONORA" : consulted, captured, via },
  }));

/** The bundled published prices (division names lower case, as price imports store them). */
export const rows: readonly Row[] = [
  ...gdmth("baja california", "PUERTO PENASCO, SONORA", [
    ["2026-01", "414.9", "0.6124", "0.951", "1.2837", "90.01", "357.99", "2026-09-17T23:14:32Z"],
    ["2026-02", "414.9", "0.6126", "0.9515", "1.2844", "90.01", "358.2", "2026-09-17T23:14:35Z"],
    ["2026-03", "414.9", "0.6129", "0.9519", "1.285", "90.01", "358.41", "2026-09-17T23:14:37Z"],
    ["2026-04", "414.9", "0.6129", "0.9519", "1.285", "90.01", "358.4", "2026-09-17T23:14:39Z"],
    ["2026-05", "414.9", "0.6087", "0.9443", "1.2741", "90.01", "354.82", "2026-09-17T23:14:42Z"],
    ["2026-06", "414.9", "0.6046", "0.9369", "1.2633", "90.01", "351.29", "2026-09-17T23:14:44Z"],
    ["2026-07", "414.9", "0.5964", "0.922", "1.242", "90.01", "344.26", "2026-09-17T23:14:46Z"],
    ["2026-08", "414.9", "0.5964", "0.922", "1.242", "90.01", "344.27", "2026-09-17T23:14:49Z"],
    ["2026-09", "414.9", "0.5964", "0.922", "1.242", "90.01", "344.27", "2026-09-17T23:14:51Z"],
  ]),
  ...gdmth("noroeste", "*", [
    ["2026-01", "197.77", "0.9706", "1.5557", "1.7244", "90.85", "392.2", "2026-09-17T23:15:00Z"],
    ["2026-02", "197.77", "0.971", "1.5565", "1.7253", "90.85", "392.43", "2026-09-17T23:15:02Z"],
    ["2026-04", "197.77", "0.9714", "1.5572", "1.7261", "90.85", "392.65", "2026-09-17T23:15:04Z"],
    ["2026-05", "197.77", "0.9637", "1.5436", "1.7108", "90.85", "388.73", "2026-09-17T23:15:07Z"],
    ["2026-06", "197.77", "0.956", "1.5302", "1.6958", "90.85", "384.86", "2026-09-17T23:15:09Z"],
    ["2026-07", "197.77", "0.9408", "1.5035", "1.6657", "90.85", "377.16", "2026-09-17T23:15:11Z"],
    ["2026-08", "197.77", "0.9408", "1.5035", "1.6657", "90.85", "377.17", "2026-09-17T23:15:14Z"],
    ["2026-09", "197.77", "0.9408", "1.5035", "1.6658", "90.85", "377.17", "2026-09-17T23:15:16Z"],
  ]),
  ...gdmth("noroeste", "NAVOJOA, SONORA", [["2026-03", "197.77", "0.9715", "1.5573", "1.7262", "90.85", "392.66", "2026-09-17T21:44:34Z"]]),
].sort((a, b) => a.tariff.localeCompare(b.tariff) || a.division.localeCompare(b.division) || a.month.localeCompare(b.month));

/** The bundled rows of a tariff and division (any spelling of the division). */
export function of(tariff: PriceRow["tariff"], division: Division | string): Row[] {
  return rows.filter((row) => row.tariff === tariff && Location.normalize(row.division) === Location.normalize(division));
}

export class TableError extends WattflowError {
  readonly kind = "input" as const;
  readonly code = "prices.table_invalid";
  constructor(
    message: string,
    readonly path: string,
  ) {
    super(message);
    this.name = "TableError";
  }
  override get problems() {
    return [{ path: this.path, message: this.message }];
  }
}

/** One published table as CFE's page shows it. */
export const Table = z.object(
  {
    tarifa: z.string({ error: "tarifa is required: GDMTH or GDMTO" }),
    /** The division ("región"), e.g. "NOROESTE". */
    region: z.string({ error: "region is required: the tariff division, e.g. NOROESTE" }),
    /** The month as CFE writes it, "MAR-26", or YYYY-MM. */
    periodo_cfe: z.string({ error: 'periodo_cfe is the month as CFE writes it, e.g. "MAR-26"' }).optional(),
    month: z.string({ error: "month is YYYY-MM" }).optional(),
    conceptos: z.array(
      z.object({
        cargo: z.string({ error: 'cargo is required, e.g. "Fijo", "Variable (Energía)"' }),
        int_horario: z.string({ error: 'int_horario is required: "Base", "Intermedia", "Punta" or "-"' }),
        unidades: z.string().optional(),
        valor: z.union([z.number(), z.string()], { error: 'valor is required: a price such as 1.5573 or "1.5573"' }),
      }),
      { error: "conceptos is required: a list of { cargo, int_horario, unidades, valor }" },
    ),
  },
  { error: "a table is { tarifa, region, periodo_cfe, conceptos }" },
);
export type Table = z.infer<typeof Table>;

const spanishMonths = ["ENE", "FEB", "MAR", "ABR", "MAY", "JUN", "JUL", "AGO", "SEP", "OCT", "NOV", "DIC"];

/**
 * A price row from CFE's published table: "Fijo" $/mes, "Variable (Energía)" $/kWh per "Int. Horario"
 * (Base/Intermedia/Punta for GDMTH, "-" for GDMTO), "Distribución" $/kW, "Capacidad" $/kW.
 * @throws TableError naming the concept or field that is missing or malformed (path `conceptos.N.valor` or the field).
 */
export function fromTable(input: unknown): PriceRow {
  const parsed = Table.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new TableError(issue?.message ?? "not a CFE price table", issue && issue.path.length > 0 ? issue.path.join(".") : "(table)");
  }
  const table = parsed.data;
  const tariff = table.tarifa.trim().toUpperCase() === "GDMTH" ? "cfe-gdmth" : table.tarifa.trim().toUpperCase() === "GDMTO" ? "cfe-gdmto" : null;
  if (!tariff) throw new TableError(`tarifa ${JSON.stringify(table.tarifa)} is not GDMTH or GDMTO`, "tarifa");
  let month = table.month;
  if (!month && table.periodo_cfe) {
    const match = /^([A-Z]{3})-(\d{2})$/.exec(table.periodo_cfe.trim().toUpperCase());
    const index = match ? spanishMonths.indexOf(match[1] as string) : -1;
    if (match && index >= 0) month = `20${match[2]}-${String(index + 1).padStart(2, "0")}`;
  }
  if (!month || !/^\d{4}-(0[1-9]|1[0-2])$/.test(month))
    throw new TableError(`the month is missing or not MMM-YY / YYYY-MM (${JSON.stringify(table.periodo_cfe ?? table.month)})`, "periodo_cfe");
  const values = new Map<string, string>();
  table.conceptos.forEach((concept, index) => {
    const value = String(Money.decimalText(concept.valor)).trim();
    if (!/^\d+(\.\d+)?$/.test(value)) throw new TableError(`valor ${JSON.stringify(concept.valor)} is not a price`, `conceptos.${index}.valor`);
    const cargo = Location.normalize(concept.cargo);
    const key = cargo.startsWith("variable") ? `energia:${Location.normalize(concept.int_horario)}` : cargo;
    values.set(key, value);
  });
  const need = (key: string, what: string) => {
    const value = values.get(key);
    if (value === undefined) throw new TableError(`the table has no ${what}`, "conceptos");
    return value;
  };
  const hourly = tariff === "cfe-gdmth";
  return {
    tariff,
    division: Location.normalize(table.region),
    month,
    fixed: need("fijo", '"Fijo" charge'),
    distribution: need("distribucion", '"Distribución" charge'),
    capacity: need("capacidad", '"Capacidad" charge'),
    energyBase: hourly ? need("energia:base", "Base energy price") : null,
    energyIntermedia: hourly ? need("energia:intermedia", "Intermedia energy price") : null,
    energyPunta: hourly ? need("energia:punta", "Punta energy price") : null,
    energy: hourly ? null : need("energia:", "energy price"),
  };
}

/** Rows as the `prices` import file (CSV) takes them. */
export function toCsv(priceRows: readonly PriceRow[]): string {
  const header = "month,division,tariff,fixed,distribution,capacity,base,intermedia,punta,energy";
  const lines = priceRows.map((row) =>
    [
      row.month,
      row.division,
      row.tariff === "cfe-gdmth" ? "GDMTH" : "GDMTO",
      row.fixed,
      row.distribution,
      row.capacity,
      row.energyBase ?? "",
      row.energyIntermedia ?? "",
      row.energyPunta ?? "",
      row.energy ?? "",
    ].join(","),
  );
  return `${[header, ...lines].join("\n")}\n`;
}
