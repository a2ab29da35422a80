/**
 * `wattflow bill --input FILE`: a CFE monthly bill (GDMTH, GDMTO, GDBT, PDBT, DIST, DIT) from a JSON request, itemized,
 * as JSON; with `meters`, the billing meters' bill and its allocation to the sub-meters. Needs no running stack.
 */
import { readFileSync } from "node:fs";
import { Bill, BillError, BillRequest } from "@wattflow/core/billing";
import { jsonPath } from "@wattflow/core/util/error";
import { protoKeyAt, protoKeyMessage } from "@wattflow/core/util/json";
import type { Command } from "commander";
import type { z } from "zod";
import { CliError } from "../client";

/** Options a command cannot run without; commander's own check would exit 1 with a help page. */
export function required<Options extends object>(options: Options, ...names: (keyof Options & string)[]): void {
  for (const name of names)
    if (options[name] === undefined) throw new CliError(`--${name.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`)} is required`, 2);
}

/**
 * `text` parsed as JSON: the one reader of the CLI's JSON input, a whole file (`readJson`) or one line of NDJSON
 * (`wattflow cost --input`). Text that is not JSON, or holds a `__proto__` key anywhere (its schema would drop it and
 * what it holds without a word), exits 2 as `where: not JSON: …` or `where: <JSON path>: …`.
 * @example parseInput('{"usage":{"__proto__":{}}}', "--input: req.json") // exits 2: "--input: req.json: usage.__proto__: is a key …"
 */
export function parseInput(text: string, where: string): unknown {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new CliError(`${where}: not JSON: ${(error as Error).message}`, 2);
  }
  // Only text that spells the key, or an escape that could ("\u005f_proto__"), is walked: most NDJSON lines have neither.
  const key = text.includes("__proto__") || text.includes("\\u") ? protoKeyAt(value) : undefined;
  if (key) throw new CliError(`${where}: ${jsonPath(key)}: ${protoKeyMessage}`, 2);
  return value;
}

/**
 * `text` without the byte order mark Windows editors (Notepad, Excel's "CSV UTF-8") put first, which JSON parsers may
 * ignore (RFC 8259 §8.1): a saved file is read as the person sees it, not refused as "not JSON" for a character they cannot see.
 */
export const withoutBom = (text: string): string => (text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);

/** Reads a JSON file (a leading BOM ignored) through `parseInput`; a missing file exits 2 naming the option and the file too. */
export function readJson(file: string, option: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    throw new CliError(`${option}: cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, 2);
  }
  return parseInput(withoutBom(text), `${option}: ${file}`);
}

/** Parses with a schema; the first problem exits 2 as `where: path: message`. */
export function parseOrExit<Schema extends z.ZodType>(schema: Schema, value: unknown, where: string): z.output<Schema> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  throw new CliError(`${where}: ${issue ? `${jsonPath(issue.path)}: ${issue.message}` : "invalid"}`, 2);
}

export function register(program: Command): void {
  program
    .command("bill")
    .description("a CFE monthly bill (GDMTH, GDMTO, GDBT, PDBT, DIST, DIT) from a JSON request (prices and readings or sums), printed as JSON")
    .option("--input <file>", 'request JSON: { "tariff", "zone"?, "period", "prices", "usage", "meters"? } (required)')
    .action((options: { input: string }) => {
      required(options, "input");
      const request = parseOrExit(BillRequest.Request, readJson(options.input, "--input"), options.input);
      try {
        // The request carries its own prices, never estimated ones: the printed bill has just the contract's fields,
        // and says how much energy was estimated only when readings longer than 5 minutes were spread.
        const input = BillRequest.toInput(request);
        const computed = Bill.compute(input);
        const { estimated: _estimated, estimatedKwh, ...bill } = computed;
        const allocation = BillRequest.allocate(request, input, computed);
        console.log(JSON.stringify({ ...bill, ...(estimatedKwh === "0" ? {} : { estimatedKwh }), ...(allocation ? { allocation } : {}) }, null, 2));
      } catch (error) {
        if (error instanceof BillError) throw new CliError(`${options.input}: ${error.path}: ${error.message}`, 2);
        throw error;
      }
    });
}
