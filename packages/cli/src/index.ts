import { Command, CommanderError } from "commander";
import { CliError } from "./client";

/**
 * Each top-level command's module, in help order. Only the command being run is loaded (`wattflow cost` does not
 * pay for the local stack's imports: ~1.3 s of a 1 M-reading run); help and unknown commands load them all.
 */
const commands: Record<string, () => Promise<{ register: (program: Command) => void }>> = {
  start: () => import("./commands/start"),
  quarantine: () => import("./commands/quarantine"),
  edge: () => import("./commands/edge"),
  period: () => import("./commands/period"),
  bill: () => import("./commands/bill"),
  cost: () => import("./commands/cost"),
  prices: () => import("./commands/prices"),
  flux: () => import("./commands/flux"),
  import: () => import("./commands/import"),
  runs: () => import("./commands/runs"),
  export: () => import("./commands/export"),
};

const program = new Command()
  .name("wattflow")
  .description("Wattflow: electricity usage and cost of industrial factories, reading by reading")
  .showHelpAfterError()
  .exitOverride();

const named = process.argv[2];
const loads = named !== undefined && Object.hasOwn(commands, named) ? [commands[named]] : Object.values(commands);
for (const module of await Promise.all(loads.map((load) => load?.()))) module?.register(program);

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
