/**
 * `wattflow cost`: prices 5-minute readings (NDJSON) under a CFE plan and streams them back with
 * their period, unit price and cost; a longer reading comes back as its 5-minute slots (spread flat,
 * `quality: "estimated"`, `spanStart`), each priced in its own period. `--summary` prints only the
 * totals as the bill rounds them (core Cents): each period's kWh × unit price rounded once to the cent, the cost their sum.
 * Lines are read in batches (Config.costCliBatchReadings), turned into columns, priced by the bulk
 * engine (Cost.priceColumns) and written; a bad line (not JSON, a `__proto__` key, a reading its schema refuses) stops
 * the command with exit 2 naming its line, after the lines before it are written.
 * Needs no running stack.
 */
import { createReadStream } from "node:fs";
import { BillRequest } from "@wattflow/core/billing";
import { Config } from "@wattflow/core/config";
import { Cost } from "@wattflow/core/cost";
import { Grid } from "@wattflow/core/reading/grid";
import type { Tariff } from "@wattflow/core/tariff";
import { parseInstant } from "@wattflow/core/tariff/periods";
import { Plan } from "@wattflow/core/tariff/plan";
import { Cents } from "@wattflow/core/util/cents";
import type { Command } from "commander";
import Decimal from "decimal.js";
import { z } from "zod";
import { CliError } from "../client";
import { parseInput, parseOrExit, readJson, required, withoutBom } from "./bill";
import { cfeChoice, placeChoice, placeOptions } from "./period";

type Options = Parameters<typeof placeChoice>[0] & { tariff: string; prices: string; input: string; summary?: boolean };

const Line = BillRequest.ReadingInput.extend({ meterId: z.string({ error: "meterId is required" }).min(1, "meterId is required") });

const MICRO = 1_000_000;
/** Keys the command writes; a line that already has one is written through a spread (its key keeps its place). */
const added = ["period", "unitPrice", "cost"];

/**
 * A line exactly as JSON.stringify writes a reading: plain-character strings (nothing to escape), numbers in their
 * shortest form (checked after the match). Such a line needs neither JSON.parse nor JSON.stringify: its text is its
 * output. Anything else (other keys, other order, escapes) takes the general path.
 */
const CANONICAL = /^\{"meterId":"[\w.:@/-]+","start":"([\dT:.Z+-]+)",(?:"seconds":(\d+),)?"kwh":(\d[\d.e+-]*)(?:,"kvarh":(-?\d[\d.e+-]*))?\}$/;
const canonicalNumber = (text: string | undefined) => text === undefined || String(Number(text)) === text;

/** A reading line that passes the schema without running it (the common case); anything else goes through zod for its error. */
function plainReading(raw: unknown): { start: string; seconds: number; kwh: number } | null {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) return null;
  const line = raw as Record<string, unknown>;
  const { meterId, start, seconds, kwh, kvarh } = line;
  if (typeof meterId !== "string" || meterId.length === 0 || typeof start !== "string") return null;
  if (typeof kwh !== "number" || !(kwh >= 0) || !Number.isFinite(kwh)) return null;
  if (seconds !== undefined && (typeof seconds !== "number" || !Number.isInteger(seconds) || seconds <= 0)) return null;
  if (kvarh !== undefined && (typeof kvarh !== "number" || !Number.isFinite(kvarh))) return null;
  return { start, seconds: (seconds as number | undefined) ?? 300, kwh };
}

/**
 * parseInstant with a memory: a file's readings share their starts (every meter has one per slot), so most
 * lines reuse a start already parsed. Bounded (cleared past Config.costCliBatchReadings entries).
 */
function instants(): (text: string) => number | null {
  const seen = new Map<string, number | null>();
  return (text) => {
    let ms = seen.get(text);
    if (ms === undefined) {
      if (seen.size >= Config.costCliBatchReadings) seen.clear();
      ms = parseInstant(text);
      seen.set(text, ms);
    }
    return ms;
  };
}

/** Millionths as a 6-decimal string (non-negative integers). */
function micros(value: number): string {
  const whole = Math.floor(value / MICRO);
  return `${whole}.${String(value - whole * MICRO).padStart(6, "0")}`;
}

/**
 * The slots of one batch as columns: interval start (epoch ms) and kWh to price, and how to write each back —
 * `head` is the line's JSON without its closing brace, else `line` is spread.
 */
class Batch {
  readonly start = new Float64Array(Config.costCliBatchReadings);
  readonly kwh = new Float64Array(Config.costCliBatchReadings);
  heads: (string | null)[] = [];
  lines: (object | null)[] = [];
  size = 0;
  push(head: string | null, line: object | null, kwh: number, start: number): boolean {
    this.start[this.size] = start;
    this.kwh[this.size] = kwh;
    this.heads.push(head);
    this.lines.push(line);
    this.size++;
    return this.size === Config.costCliBatchReadings;
  }
}

export function register(program: Command): void {
  const command = program
    .command("cost")
    .description("price readings (NDJSON lines { meterId, start, seconds, kwh }) under a CFE plan: each back with period, unitPrice and cost")
    .option("--tariff <tariff>", "cfe-gdmth, cfe-gdmto, cfe-gdbt, cfe-pdbt, cfe-dist or cfe-dit (required)")
    .option(
      "--prices <file>",
      'prices JSON: { "fixed", "energy": { "base", "intermedia", "punta" }, "distribution", "capacity" }, each a number or decimal string (required)',
    )
    .option("--input <file>", "readings, one JSON object a line (- for stdin) (required)")
    .option("--summary", 'print only { "readings", "kwh", "cost", "byPeriod" }');
  placeOptions(command).action(async (options: Options) => {
    required(options, "tariff", "prices", "input");
    const tariff = cfeChoice(options);
    const { zone, timeZone } = placeChoice(options);
    const prices = parseOrExit(BillRequest.pricesFor(tariff), readJson(options.prices, "--prices"), options.prices);
    const definition = BillRequest.definition({ tariff, zone, prices });
    const version: Tariff.Version = { id: tariff, factoryId: "cli", effectiveFrom: new Date(0), definition };
    const periods = Plan.of(definition).schedule.periods;

    // Totals: kWh in millionths while exact to 6 decimals, else as decimals; each period's cost is its kWh × unit price, rounded once.
    const periodMicro = new Float64Array(periods.length);
    const periodOdd = periods.map(() => new Decimal(0));
    const unitPrices: (string | undefined)[] = periods.map(() => undefined);
    let readings = 0;
    let kwhMicro = 0;
    let kwhOdd = new Decimal(0);

    const write = async (chunk: string) => {
      if (chunk.length > 0 && !process.stdout.write(chunk)) await new Promise((resolve) => process.stdout.once("drain", resolve));
    };

    const batch = new Batch();
    const flush = async () => {
      if (batch.size === 0) return;
      const size = batch.size;
      const columns = { start: batch.start.subarray(0, size), kwh: batch.kwh.subarray(0, size) };
      const priced = Cost.priceColumns(columns, version, { timeZone });
      const out: string[] = [];
      for (let index = 0; index < size; index++) {
        const entry = { kwh: columns.kwh[index] as number, start: columns.start[index] as number };
        const head = batch.heads[index] as string | null;
        const code = priced.period[index] as number;
        const period = periods[code] as string;
        let unitPrice = unitPrices[code];
        let cost: string;
        const micro = Math.round(entry.kwh * MICRO);
        if (micro / MICRO === entry.kwh && unitPrice !== undefined) {
          cost = micros(priced.costMicro[index] as number);
          periodMicro[code] = (periodMicro[code] as number) + micro;
        } else {
          // kWh finer than 6 decimals (or a period's first reading): the per-reading price, exact, as before.
          const one = Cost.price({ kwh: entry.kwh, start: new Date(entry.start) }, version, { timeZone });
          unitPrice = one.unitPrice;
          unitPrices[code] = unitPrice;
          cost = one.cost;
          if (micro / MICRO === entry.kwh) periodMicro[code] = (periodMicro[code] as number) + micro;
          else periodOdd[code] = (periodOdd[code] as Decimal).plus(entry.kwh);
        }
        if (options.summary) continue;
        out.push(
          head === null
            ? JSON.stringify({ ...batch.lines[index], period, unitPrice, cost })
            : `${head}"period":"${period}","unitPrice":"${unitPrice}","cost":"${cost}"}`,
        );
      }
      batch.heads = [];
      batch.lines = [];
      batch.size = 0;
      if (out.length > 0) await write(`${out.join("\n")}\n`);
    };

    const stream = options.input === "-" ? process.stdin : createReadStream(options.input);
    const opened = new Promise<void>((resolve, reject) => {
      if (stream === process.stdin) resolve();
      else stream.once("open", () => resolve()).once("error", reject);
    });
    try {
      await opened;
    } catch (error) {
      throw new CliError(`--input: cannot read ${options.input}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, 2);
    }

    let number = 0;
    const instant = instants();
    const take = async (text: string) => {
      number++;
      const match = CANONICAL.exec(text);
      if (match && canonicalNumber(match[2]) && canonicalNumber(match[3]) && canonicalNumber(match[4])) {
        const start = instant(match[1] as string);
        const seconds = match[2] === undefined ? 300 : Number(match[2]);
        const kwh = Number(match[3]);
        if (start !== null && seconds > 0 && seconds < 1.5 * Config.intervalSeconds && Number.isFinite(kwh)) {
          readings++;
          const micro = Math.round(kwh * MICRO);
          if (micro / MICRO === kwh) kwhMicro += micro;
          else kwhOdd = kwhOdd.plus(kwh);
          if (batch.push(`${text.slice(0, -1)},`, null, kwh, start)) await flush();
          return;
        }
      }
      if (text.trim() === "") return;
      let raw: unknown;
      try {
        raw = parseInput(text, `${options.input}:${number}`);
      } catch (error) {
        // As any bad line: the good lines before it are written, then the command stops (exit 2) naming it.
        await flush();
        throw error;
      }
      let reading = plainReading(raw);
      const startMs = reading ? instant(reading.start) : null;
      if (!reading || startMs === null) {
        await flush();
        reading = parseOrExit(Line, raw, `${options.input}:${number}`);
      }
      readings++;
      const micro = Math.round(reading.kwh * MICRO);
      if (micro / MICRO === reading.kwh) kwhMicro += micro;
      else kwhOdd = kwhOdd.plus(reading.kwh);
      // A reading longer than 5 minutes is spread flat over its slots, each priced in its own period.
      const start = startMs ?? Date.parse(reading.start);
      const slots = reading.seconds < 1.5 * Config.intervalSeconds ? null : Grid.slots({ start: new Date(start), seconds: reading.seconds, kwh: reading.kwh });
      if (!slots || slots.length === 1) {
        const plain = added.every((key) => !(key in (raw as object)));
        const text = plain && !options.summary ? JSON.stringify(raw) : "";
        if (batch.push(plain ? `${text.slice(0, -1)}${text.length > 2 ? "," : ""}` : null, plain ? null : (raw as object), reading.kwh, start)) await flush();
      } else
        for (const slot of slots) {
          const line = { ...(raw as object), start: slot.start.toISOString(), seconds: 300, kwh: slot.kwh, spanStart: reading.start, quality: "estimated" };
          if (batch.push(null, line, slot.kwh, slot.start.getTime())) await flush();
        }
    };

    // Lines split by hand (CRLF too): faster than readline at millions of lines. A BOM before the first line is ignored.
    // A line's beginning waits in `pending` until a chunk brings its end, and only the new chunk is searched for it: a
    // line of 40 MB took 14 s when each chunk searched the whole line so far again (its length squared).
    let pending: string[] = [];
    let first = true;
    stream.setEncoding("utf8");
    for await (const chunk of stream as AsyncIterable<string>) {
      const piece = first ? withoutBom(chunk) : chunk;
      first = false;
      const ended = piece.indexOf("\n");
      if (ended === -1) {
        pending.push(piece);
        continue;
      }
      const head = pending.join("");
      const text = head + piece;
      let from = 0;
      for (let end = head.length + ended; end !== -1; end = text.indexOf("\n", from)) {
        await take(text.charCodeAt(end - 1) === 13 && end > from ? text.slice(from, end - 1) : text.slice(from, end));
        from = end + 1;
      }
      pending = [text.slice(from)];
    }
    const rest = pending.join("");
    if (rest.length > 0) await take(rest.endsWith("\r") ? rest.slice(0, -1) : rest);
    await flush();

    if (options.summary) {
      // As the bill: each period's energy is one line, its kWh × unit price rounded once to the cent; the cost adds those lines.
      const byPeriod = periods.map((_, code) =>
        Cents.charge(new Decimal(periodMicro[code] as number).div(MICRO).plus(periodOdd[code] as Decimal), unitPrices[code] ?? 0).toFixed(2),
      );
      console.log(
        JSON.stringify({
          readings,
          kwh: new Decimal(kwhMicro).div(MICRO).plus(kwhOdd).toFixed(),
          cost: Cents.sum(byPeriod),
          byPeriod: Object.fromEntries(periods.map((period, code) => [period, byPeriod[code] as string])),
        }),
      );
    }
  });
}
