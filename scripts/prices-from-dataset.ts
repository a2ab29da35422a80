/**
 * Generates the bundled published prices (packages/core/src/prices/data/published.json) from a scrape of CFE's
 * tariff pages in the shape of EnergiaHollman/tarifas-electricas-mx `data/tarifas.json` (MIT; its figures, not its
 * code): `{ "actualizado", "registros": { "GDMTH|REGION|YYYY-MM": { tarifa, region, anio, mes, periodo_cfe, cargos,
 * conceptos, fecha_captura, fuente, municipio_consultado } } }`. Each record's table goes through our own parser of
 * CFE's table format (Published.fromTable), is checked against the record's month and its `cargos` summary, and
 * keeps its source: the page, the municipality consulted, the capture instant and the dataset at its commit.
 *
 *   npx tsx scripts/prices-from-dataset.ts tarifas.json --commit <40-hex sha> [--repository owner/name]
 *     [--path data/tarifas.json] [--licence MIT] [--out packages/core/src/prices/data/published.json]
 *
 * Exits 2 naming the record and field of the first bad record; the same file and commit give the same output.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { Location } from "@wattflow/core/location";
import { Published } from "@wattflow/core/prices/published";
import { z } from "zod";

const usage =
  "usage: tsx scripts/prices-from-dataset.ts <tarifas.json> --commit <sha> [--repository owner/name] [--path data/tarifas.json] [--licence MIT] [--out file]";

function fail(message: string): never {
  process.stderr.write(`prices-from-dataset: ${message}\n`);
  process.exit(2);
}

function options(argv: string[]) {
  const [file, ...rest] = argv;
  if (!file || file.startsWith("--")) fail(usage);
  const named: Record<string, string> = {
    repository: "EnergiaHollman/tarifas-electricas-mx",
    path: "data/tarifas.json",
    licence: "MIT",
    out: new URL("../packages/core/src/prices/data/published.json", import.meta.url).pathname,
  };
  for (let index = 0; index < rest.length; index += 2) {
    const key = rest[index]?.replace(/^--/, "");
    const value = rest[index + 1];
    if (!key || value === undefined || !["commit", "repository", "path", "licence", "out"].includes(key)) fail(usage);
    named[key] = value;
  }
  if (!named.commit || !/^[0-9a-f]{40}$/.test(named.commit)) fail("--commit is the dataset's full commit (40 hex digits)");
  return {
    file,
    commit: named.commit,
    repository: named.repository as string,
    path: named.path as string,
    licence: named.licence as string,
    out: named.out as string,
  };
}

/** One record of the dataset; `conceptos` is CFE's table, `cargos` the dataset's own summary of it. */
const DatasetRecord = z.object({
  tarifa: z.string(),
  region: z.string(),
  anio: z.number().int(),
  mes: z.number().int().min(1).max(12),
  cargos: z.record(z.string(), z.number()).optional(),
  conceptos: z.array(z.unknown()),
  fecha_captura: z.iso.datetime({ offset: true, error: "fecha_captura is an ISO 8601 instant" }),
  fuente: z.url({ error: "fuente is the page's URL" }),
  municipio_consultado: z.string().min(1, "municipio_consultado is required"),
});
const Dataset = z.object({ actualizado: z.iso.datetime({ offset: true }), registros: z.record(z.string(), z.unknown()) });

/** The dataset's `cargos` names of each row field. */
const summaryNames = {
  fixed: "fijo",
  distribution: "distribucion",
  capacity: "capacidad",
  energyBase: "base",
  energyIntermedia: "intermedia",
  energyPunta: "punta",
  energy: "energia",
} as const;

const utc = (instant: string) => new Date(instant).toISOString().replace(".000Z", "Z");

function main() {
  const { file, commit, repository, path, licence, out } = options(process.argv.slice(2));
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, "utf8"));
  } catch (error) {
    fail(`${file}: ${(error as Error).message}`);
  }
  const dataset = Dataset.safeParse(raw);
  if (!dataset.success) fail(`${file}: ${dataset.error.issues[0]?.path.join(".")}: ${dataset.error.issues[0]?.message}`);
  const via = `${repository} ${path}@${commit}`;

  const rows: Published.Row[] = [];
  for (const [key, value] of Object.entries(dataset.data.registros)) {
    const where = `${file}: registros.${JSON.stringify(key)}`;
    const record = DatasetRecord.safeParse(value);
    if (!record.success) fail(`${where}.${record.error.issues[0]?.path.join(".")}: ${record.error.issues[0]?.message}`);
    const { anio, mes, cargos, region, fecha_captura, fuente, municipio_consultado } = record.data;
    if (!Location.division(region)) fail(`${where}.region: ${JSON.stringify(region)} is not a CFE division (${Location.divisions.join(", ")})`);
    let table: ReturnType<typeof Published.fromTable>;
    try {
      table = Published.fromTable(value);
    } catch (error) {
      if (error instanceof Published.TableError) fail(`${where}.${error.path}: ${error.message}`);
      throw error;
    }
    const month = `${anio}-${String(mes).padStart(2, "0")}`;
    if (table.month !== month) fail(`${where}: the table is for ${table.month} (periodo_cfe) but anio/mes say ${month}`);
    // The dataset's summary must say what its table says: a disagreement is a scrape to look at, not to ship.
    for (const [field, name] of Object.entries(summaryNames) as [keyof typeof summaryNames, string][]) {
      const fromTable = table[field];
      const summary = cargos?.[name];
      if (fromTable !== null && summary !== undefined && Number(fromTable) !== summary)
        fail(`${where}.cargos.${name}: ${summary} disagrees with the table's ${fromTable}`);
    }
    rows.push({ ...table, source: { url: fuente, consulted: municipio_consultado, captured: utc(fecha_captura), via } });
  }
  rows.sort((a, b) => a.tariff.localeCompare(b.tariff) || a.division.localeCompare(b.division) || a.month.localeCompare(b.month));

  const data: Published.Data = {
    version: utc(dataset.data.actualizado).slice(0, 10),
    datasets: [{ repository, path, commit, licence, updated: utc(dataset.data.actualizado) }],
    rows,
  };
  const checked = Published.Data.safeParse(data);
  if (!checked.success) fail(`generated data: ${checked.error.issues[0]?.path.join(".")}: ${checked.error.issues[0]?.message}`);
  // One row a line: a new month or a corrected figure is a one-line diff.
  const text = [
    "{",
    `  "version": ${JSON.stringify(data.version)},`,
    `  "datasets": ${JSON.stringify(data.datasets)},`,
    '  "rows": [',
    rows.map((row) => `    ${JSON.stringify(row)}`).join(",\n"),
    "  ]",
    "}",
    "",
  ].join("\n");
  writeFileSync(out, text);

  const counts = new Map<string, string[]>();
  for (const row of rows) counts.set(`${row.tariff} ${row.division}`, [...(counts.get(`${row.tariff} ${row.division}`) ?? []), row.month]);
  for (const [group, months] of counts) process.stderr.write(`${group}: ${months.length} months (${months[0]} … ${months.at(-1)})\n`);
  process.stderr.write(`${rows.length} rows, version ${data.version} → ${out}\n`);
}

main();
