/**
 * `wattflow prices list|import`: CFE's published GDMTH/GDMTO prices shipped with the product, and the
 * importer of CFE's published table format into the `prices` import file. Needs no running stack.
 */
import { Location } from "@wattflow/core/location";
import { Published } from "@wattflow/core/prices/published";
import type { Command } from "commander";
import { CliError } from "../client";
import { readJson, required } from "./bill";

/** The tables of a file, unchecked (Published.fromTable checks each): one, a list, or `{ "registros": { key: table } }` (a scrape of CFE's pages). */
function tablesOf(value: unknown, file: string): [string, unknown][] {
  if (Array.isArray(value)) return value.map((table, index) => [String(index), table]);
  if (typeof value === "object" && value !== null && "registros" in value && typeof value.registros === "object" && value.registros !== null)
    return Object.entries(value.registros);
  if (typeof value === "object" && value !== null && "conceptos" in value) return [["0", value]];
  throw new CliError(`${file}: not a CFE price table, a list of them or { "registros": … }`, 2);
}

export function register(program: Command): void {
  const prices = program.command("prices").description("CFE's published GDMTH/GDMTO prices per division");
  prices
    .command("list")
    .description(
      "the bundled published prices: months per tariff and division with the municipality consulted, the page and the dataset (--json: every row; --csv: the prices import file)",
    )
    .option("--tariff <tariff>", "cfe-gdmth or cfe-gdmto")
    .option("--division <name>", "one division")
    .option("--json", "print every row with its source")
    .option("--csv", "print the rows as the prices import file, for `wattflow import prices`")
    .action((options: { tariff?: string; division?: string; json?: boolean; csv?: boolean }) => {
      // An unknown name would list nothing, as a division without shipped prices does: say which it is.
      if (options.division !== undefined && !Location.division(options.division))
        throw new CliError(`--division: unknown CFE division ${JSON.stringify(options.division)} (${Location.divisions.join(", ")})`, 2);
      if (options.tariff !== undefined && options.tariff !== "cfe-gdmth" && options.tariff !== "cfe-gdmto")
        throw new CliError(`--tariff: ${JSON.stringify(options.tariff)} is not cfe-gdmth or cfe-gdmto`, 2);
      const rows = Published.rows.filter(
        (row) => (!options.tariff || row.tariff === options.tariff) && (!options.division || Published.of(row.tariff, options.division).includes(row)),
      );
      if (options.json) {
        console.log(JSON.stringify({ version: Published.version, rows }, null, 2));
        return;
      }
      if (options.csv) {
        process.stdout.write(Published.toCsv(rows));
        return;
      }
      const groups = new Map<string, typeof rows>();
      for (const row of rows) groups.set(`${row.tariff}\t${row.division}`, [...(groups.get(`${row.tariff}\t${row.division}`) ?? []), row]);
      const distinct = (values: string[]) => [...new Set(values)].join("; ");
      for (const [key, group] of groups)
        console.log(
          [
            key,
            group.map((row) => row.month).join(" "),
            distinct(group.map((row) => row.source.consulted)),
            distinct(group.map((row) => row.source.url)),
            distinct(group.map((row) => row.source.via)),
          ].join("\t"),
        );
    });
  prices
    .command("import")
    .description("CFE's published price tables (JSON) → the prices import file (CSV on stdout) for `wattflow import prices`")
    .option(
      "--input <file>",
      "JSON: one table { tarifa, region, periodo_cfe, conceptos: [{ cargo, int_horario, unidades, valor }] }, a list, or { registros } (required)",
    )
    .action((options: { input: string }) => {
      required(options, "input");
      const rows = tablesOf(readJson(options.input, "--input"), options.input).map(([key, table]) => {
        try {
          return Published.fromTable(table);
        } catch (error) {
          if (error instanceof Published.TableError) throw new CliError(`${options.input}: ${key}: ${error.path}: ${error.message}`, 2);
          throw error;
        }
      });
      process.stdout.write(Published.toCsv(rows));
    });
}
