import { Command, CommanderError } from "commander";
import { CliError } from "./client";
import { register as bench } from "./commands/bench";
import { register as bill } from "./commands/bill";
import { register as cost } from "./commands/cost";
import { register as edge } from "./commands/edge";
import { register as flux } from "./commands/flux";
import { register as importFiles } from "./commands/import";
import { register as period } from "./commands/period";
import { register as prices } from "./commands/prices";
import { register as quarantine } from "./commands/quarantine";
import { register as runs } from "./commands/runs";
import { register as start } from "./commands/start";

const program = new Command()
  .name("wattflow")
  .description("Wattflow: electricity usage and cost of industrial factories, reading by reading")
  .showHelpAfterError()
  .exitOverride();

for (const command of [start, quarantine, bench, edge, period, bill, cost, prices, flux, importFiles, runs]) command(program);

// A reader that stops early (`wattflow cost … | head`) closes the pipe: that is the end of the output, not a crash.
process.stdout.on("error", (error: NodeJS.ErrnoException) => {
  if (error.code !== "EPIPE") throw error;
  process.exit(0);
});

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) process.exit(error.exitCode);
  if (error instanceof CliError) {
    console.error(`wattflow: ${error.message}`);
    process.exit(error.exitCode);
  }
  console.error(error);
  process.exit(1);
}
