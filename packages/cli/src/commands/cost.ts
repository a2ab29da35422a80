/**
 * `wattflow cost`: prices 5-minute readings (NDJSON) under a CFE plan and streams them back with
 * their period, unit price and cost; a longer reading comes back as its 5-minute slots (spread flat,
 * `quality: "estimated"`, `spanStart`), each priced in its own period. `--summary` prints only the
 * totals, rounded to cents once.
 * Needs no running stack.
 */
import { createReadStream } from "node:fs";
import { createInterface } from "node:readline";
import { BillRequest } from "@wattflow/core/billing";
import { Cost } from "@wattflow/core/cost";
import { Grid } from "@wattflow/core/reading/grid";
import { Plan } from "@wattflow/core/tariff/plan";
import type { Command } from "commander";
import Decimal from "decimal.js";
import { z } from "zod";
import { CliError } from "../client";
import { parseOrExit, readJson, required } from "./bill";
import { cfeChoice, placeChoice, placeOptions } from "./period";

type Options = Parameters<typeof placeChoice>[0] & { tariff: string; prices: string; input: string; summary?: boolean };

const Line = BillRequest.ReadingInput.extend({ meterId: z.string({ error: "meterId is required" }).min(1, "meterId is required") });

export function register(program: Command): void {
  const command = program
    .command("cost")
    .description("price readings (NDJSON lines { meterId, start, seconds, kwh }) under a CFE plan: each back with period, unitPrice and cost")
    .option("--tariff <tariff>", "cfe-gdmth, cfe-gdmto, cfe-gdbt, cfe-pdbt, cfe-dist or cfe-dit (required)")
    .option("--prices <file>", 'prices JSON: { "fixed", "energy": { "base", "intermedia", "punta" }, "distribution", "capacity" } (required)')
    .option("--input <file>", "readings, one JSON object a line (- for stdin) (required)")
    .option("--summary", 'print only { "readings", "kwh", "cost", "byPeriod" }');
  placeOptions(command).action(async (options: Options) => {
    required(options, "tariff", "prices", "input");
    const tariff = cfeChoice(options);
    const { zone, timeZone } = placeChoice(options);
    const prices = parseOrExit(BillRequest.pricesFor(tariff), readJson(options.prices, "--prices"), options.prices);
    const definition = BillRequest.definition({ tariff, zone, prices });
    const version = { id: tariff, factoryId: "cli", effectiveFrom: new Date(0), definition };
    const periods = Plan.of(definition).schedule.periods;

    const byPeriod = new Map(periods.map((period) => [period, new Decimal(0)]));
    let readings = 0;
    let kwh = new Decimal(0);
    let out: string[] = [];
    const flush = async () => {
      if (out.length === 0) return;
      const chunk = `${out.join("\n")}\n`;
      out = [];
      if (!process.stdout.write(chunk)) await new Promise((resolve) => process.stdout.once("drain", resolve));
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
    for await (const text of createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY })) {
      number++;
      if (text.trim() === "") continue;
      let raw: unknown;
      try {
        raw = JSON.parse(text);
      } catch (error) {
        throw new CliError(`${options.input}:${number}: not JSON: ${(error as Error).message}`, 2);
      }
      const reading = parseOrExit(Line, raw, `${options.input}:${number}`);
      readings++;
      kwh = kwh.plus(reading.kwh);
      // A reading longer than 5 minutes is spread flat over its slots, each priced in its own period.
      const slots = Grid.slots({ start: new Date(reading.start), seconds: reading.seconds, kwh: reading.kwh });
      for (const slot of slots) {
        const priced = Cost.price(slot, version, { timeZone });
        const period = priced.period as string;
        // Exact cost (the line's own is at 6 decimals): the totals round to cents once, at the end.
        byPeriod.set(period, (byPeriod.get(period) as Decimal).plus(new Decimal(slot.kwh).times(priced.unitPrice)));
        if (options.summary) continue;
        const line =
          slots.length === 1
            ? raw
            : { ...(raw as object), start: slot.start.toISOString(), seconds: 300, kwh: slot.kwh, spanStart: reading.start, quality: "estimated" };
        out.push(JSON.stringify({ ...(line as object), period, unitPrice: priced.unitPrice, cost: priced.cost }));
      }
      if (out.length >= 1000) await flush();
    }
    await flush();
    if (options.summary) {
      const total = [...byPeriod.values()].reduce((sum, value) => sum.plus(value), new Decimal(0));
      const cents = (value: Decimal) => value.toDecimalPlaces(2, Decimal.ROUND_HALF_UP).toFixed(2);
      console.log(
        JSON.stringify({
          readings,
          kwh: kwh.toFixed(),
          cost: cents(total),
          byPeriod: Object.fromEntries([...byPeriod].map(([period, value]) => [period, cents(value)])),
        }),
      );
    }
  });
}
