/**
 * `wattflow-bench`: the benchmarks that print their figures (`npm run bench:*` in the root package.json), apart
 * from the `wattflow` command users run. Each subcommand prints its figures, with `--json` as JSON on the last line.
 */
import { CliError } from "@wattflow/cli/client";
import { Command, CommanderError } from "commander";
import { registerBenchCost } from "./cost";
import { registerBenchEdge } from "./edge";
import { registerBenchIngest } from "./ingest";
import { registerBenchKpi } from "./kpi";
import { registerBenchUsage } from "./usage";

const program = new Command().name("wattflow-bench").description("benchmarks that print their figures").showHelpAfterError().exitOverride();
for (const register of [registerBenchCost, registerBenchKpi, registerBenchEdge, registerBenchUsage, registerBenchIngest]) register(program);

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) process.exit(error.exitCode);
  if (error instanceof CliError) {
    console.error(`wattflow-bench: ${error.message}`);
    process.exit(error.exitCode);
  }
  console.error(error);
  process.exit(1);
}
