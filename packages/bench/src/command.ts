import { CliError } from "@wattflow/cli/client";
import type { Command } from "commander";

/**
 * A commander parser for a numeric option: the value as a number, e.g.
 * `.option("--meters <n>", "meters", numberOption("--meters"), 200)`. A whole number of at least `min` (1 unless
 * given; 0 where none is a choice) unless `whole` is false. Throws CliError (exit code 2) naming the option otherwise,
 * which `wattflow-bench` prints as `wattflow-bench: --meters: must be a whole number of at least 1`.
 */
export const numberOption =
  (name: string, { min = 1, whole = true }: { min?: number; whole?: boolean } = {}) =>
  (text: string): number => {
    const value = Number(text);
    if (text.trim() === "" || !Number.isFinite(value) || (whole && !Number.isInteger(value)) || value < min)
      throw new CliError(`${name}: must be ${whole ? "a whole number" : "a number"} of at least ${min}, not ${JSON.stringify(text)}`, 2);
    return value;
  };

/**
 * Adds the subcommand `name` to `wattflow-bench` with the `--json` flag every benchmark has; the caller adds its own
 * options and its action, which prints with `printFigures`.
 */
export function benchCommand(bench: Command, name: string, description: string): Command {
  return bench.command(name).description(description).option("--json", "print the figures as JSON on the last line");
}

/** Prints a benchmark's figures: one JSON line with `--json` (what scripts read), else as Node shows the object. */
export function printFigures(figures: unknown, json: boolean | undefined): void {
  if (json) console.log(JSON.stringify(figures));
  else console.log(figures);
}
