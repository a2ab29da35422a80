import { defaultHistoryDays } from "@wattflow/local/stack/demo-history";
import { startStack } from "@wattflow/local/stack/index";
import { StackLockedError } from "@wattflow/local/stack/lock";
import type { Command } from "commander";
import { CliError, dataDir } from "../client";

export function register(program: Command): void {
  program
    .command("start")
    .description("run the whole system locally: API, stream, consumer, database, lake, demo factory")
    .option("--port <port>", "API port", process.env.PORT ?? "3000")
    .option("--kinesis-port <port>", "local Kinesis endpoint port", process.env.KINESIS_PORT ?? "4567")
    .option("--data <dir>", "data folder", dataDir())
    .option("--no-demo", "do not create the demo organization")
    .option("--no-demo-traffic", "create the demo organization but do not run its gateway (the edge agent with simulated meters)")
    .option(
      "--demo-history <days>",
      "days of demo history loaded in the background on the first start (WATTFLOW_DEMO_HISTORY_DAYS)",
      process.env.WATTFLOW_DEMO_HISTORY_DAYS ?? String(defaultHistoryDays),
    )
    .option("--demo-catch-up <days>", "with --demo-history 0: days before the start the demo gateway reads on its first start, as if it had been off", "0")
    .option("--dev", "reload handlers when their source changes (npm run dev)", false)
    .action(
      async (options: {
        port: string;
        kinesisPort: string;
        data: string;
        demo: boolean;
        demoTraffic: boolean;
        demoHistory: string;
        demoCatchUp: string;
        dev: boolean;
      }) => {
        const demoHistoryDays = Number(options.demoHistory);
        if (!Number.isInteger(demoHistoryDays) || demoHistoryDays < 0 || demoHistoryDays > 800)
          throw new CliError(`--demo-history must be a whole number of days from 0 to 800, got ${JSON.stringify(options.demoHistory)}`);
        const began = Date.now();
        const demoCatchUpDays = Number(options.demoCatchUp);
        if (!(demoCatchUpDays >= 0)) throw new CliError("--demo-catch-up must be a number of days, 0 or more", 2);
        const log = (line: string) => console.log(`[${new Date().toISOString()}] ${line}`);
        const stack = await startStack({
          dataDir: options.data,
          port: Number(options.port),
          kinesisPort: Number(options.kinesisPort),
          databaseUrl: process.env.DATABASE_URL,
          demo: options.demo,
          demoTraffic: options.demo && options.demoTraffic,
          demoHistoryDays,
          demoCatchUpDays,
          dev: options.dev,
          log,
        }).catch((error: NodeJS.ErrnoException & { port?: number }) => {
          if (error.code === "EADDRINUSE") {
            throw new CliError(`port ${error.port} is already in use: pick others with --port / --kinesis-port (or PORT / KINESIS_PORT)`);
          }
          if (error instanceof StackLockedError) throw new CliError(error.message);
          throw error;
        });
        log(`Wattflow local stack ready in ${Date.now() - began} ms${options.dev ? " (dev: handlers reload on change)" : ""}`);
        log(`  API       ${stack.apiUrl}   (GET /health)`);
        log(`  Kinesis   ${stack.kinesisEndpoint}`);
        if (stack.demo) log(`  demo      ${options.data}/demo.json (factory ${stack.demo.factoryId})`);
        let stopping = false;
        const shutdown = async (signal: string) => {
          if (stopping) return;
          stopping = true;
          log(`${signal}: stopping`);
          await stack.stop();
          process.exit(0);
        };
        process.on("SIGINT", () => void shutdown("SIGINT"));
        process.on("SIGTERM", () => void shutdown("SIGTERM"));
      },
    );
}
