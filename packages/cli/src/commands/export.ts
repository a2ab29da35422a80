/**
 * `wattflow export readings|usage|bill`: files for people outside the console, through the API — readings (per
 * meter and 5-minute slot) and usage (per bucket) as CSV, a closed bill as the PDF finance files. Streams to
 * `--out FILE` (written beside it and renamed when whole) or to standard output.
 */
import { createWriteStream } from "node:fs";
import { rename, rm } from "node:fs/promises";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { ReadableStream as WebReadableStream } from "node:stream/web";
import { Argument, type Command } from "commander";
import { api, CliError, download, target } from "../client";

type Options = {
  factory?: string;
  meter?: string;
  from?: string;
  to?: string;
  bucket: string;
  month?: string;
  bill?: string;
  format?: string;
  out?: string;
  bom?: boolean;
};

type Bill = { id: string; month: string; source: "wattflow" | "utility" };

/** Where the bytes go: FILE (through FILE.partial, so a failed export leaves no half file under its name) or stdout. */
async function save(response: Response, out: string | undefined, binary: boolean): Promise<void> {
  if (!response.body) throw new CliError("the API answered without a body");
  const body = Readable.fromWeb(response.body as WebReadableStream<Uint8Array>);
  if (out === undefined) {
    if (binary && process.stdout.isTTY) throw new CliError("a PDF is binary: give --out FILE (or redirect standard output)");
    await pipeline(body, process.stdout, { end: false });
    return;
  }
  const partial = `${out}.partial`;
  try {
    await pipeline(body, createWriteStream(partial));
    await rename(partial, out);
  } catch (error) {
    await rm(partial, { force: true });
    throw new CliError(`the export to ${out} failed: ${(error as Error).message}`);
  }
  console.error(`wrote ${out}`);
}

function needRange(what: string, options: Options): { from: string; to: string } {
  if (!options.from || !options.to)
    throw new CliError(
      `export ${what} needs --from and --to (ISO 8601 instants with Z or an offset, e.g. --from 2026-03-01T00:00:00-06:00 --to 2026-04-01T00:00:00-06:00)`,
    );
  return { from: options.from, to: options.to };
}

function checkFormat(what: string, options: Options, only: "csv" | "pdf"): void {
  if (options.format !== undefined && options.format !== only) throw new CliError(`${what} export as ${only} only (--format ${only}), not ${options.format}`);
}

/** The bill of `--bill ID`, or the computed bill of `--month YYYY-MM`. */
async function chooseBill(factory: string, options: Options): Promise<string> {
  if (options.bill) return options.bill;
  if (!options.month || !/^\d{4}-(0[1-9]|1[0-2])$/.test(options.month)) throw new CliError("export bill needs --month YYYY-MM (the bill's month) or --bill ID");
  const { bills } = await api<{ bills: Bill[] }>(target(), "GET", `/v1/factories/${encodeURIComponent(factory)}/bills`);
  const found = bills.find((bill) => bill.month === options.month && bill.source === "wattflow");
  if (found) return found.id;
  const months = [...new Set(bills.filter((bill) => bill.source === "wattflow").map((bill) => bill.month))];
  throw new CliError(
    `factory ${factory} has no closed bill for ${options.month}${months.length > 0 ? ` (closed: ${months.join(", ")})` : ""}; close it with \`wattflow runs start close --month ${options.month}\``,
  );
}

export function register(program: Command): void {
  program
    .command("export")
    .description("readings or usage as CSV, a closed bill as PDF, through the API")
    .addArgument(new Argument("<what>", "what to export").choices(["readings", "usage", "bill"]))
    .option("--factory <id>", "the factory (default: the demo factory of the running stack)")
    .option("--meter <id>", "readings of one meter of the factory")
    .option("--from <instant>", "readings and usage from this instant (ISO 8601, with Z or an offset)")
    .option("--to <instant>", "… to this instant, exclusive (at most 400 days after --from)")
    .option("--bucket <width>", "usage buckets: 5m, 15m, 1h or 1d (1d: the factory's local days)", "1h")
    .option("--month <YYYY-MM>", "the bill's month")
    .option("--bill <id>", "the bill (bil_…), instead of --month")
    .option("--format <format>", "csv (readings, usage) or pdf (bill)")
    .option("--out <file>", "write to this file instead of standard output")
    .option("--bom", "start a CSV with a UTF-8 byte order mark, for Excel")
    .action(async (what: "readings" | "usage" | "bill", options: Options) => {
      const to = target();
      const factory = options.factory ?? (to.demo?.factoryId as string | undefined);
      if (!factory) throw new CliError("--factory <id> is required (no demo factory to default to)");
      const base = `/v1/factories/${encodeURIComponent(factory)}`;
      if (what === "bill") {
        checkFormat("bills", options, "pdf");
        const bill = await chooseBill(factory, options);
        return save(await download(to, `${base}/bills/${encodeURIComponent(bill)}.pdf`, "application/pdf"), options.out, true);
      }
      checkFormat(what, options, "csv");
      const query = new URLSearchParams(needRange(what, options));
      if (options.bom) query.set("bom", "1");
      if (what === "usage") {
        if (options.meter) throw new CliError("usage is the factory's: --meter applies to readings");
        query.set("bucket", options.bucket);
        return save(await download(to, `${base}/exports/usage.csv?${query}`, "text/csv"), options.out, false);
      }
      if (options.meter) query.set("meter", options.meter);
      return save(await download(to, `${base}/exports/readings.csv?${query}`, "text/csv"), options.out, false);
    });
}
