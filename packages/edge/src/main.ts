/**
 * `wattflow-edge run --config FILE`: the agent alone (what `wattflow edge run` runs), for gateways
 * that install only this package. Exit codes: 0 done or stopped, 1 failure, 2 bad config.
 * SIGTERM or SIGINT stops it; so does the closing of its IPC channel when a supervisor started it
 * with one (the local stack's demo gateway), so it never outlives a supervisor killed with SIGKILL.
 */
import { AgentError, run } from "./agent";
import { ConfigError, load } from "./config";

export async function main(argv: readonly string[]): Promise<number> {
  const [command, flag, path] = argv;
  if (command !== "run" || flag !== "--config" || !path) {
    console.error("usage: wattflow-edge run --config FILE");
    return 2;
  }
  let config: ReturnType<typeof load>;
  try {
    config = load(path);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    console.error(`wattflow-edge: ${error.message}`);
    return 2;
  }
  const stop = new AbortController();
  process.once("SIGTERM", () => stop.abort());
  process.once("SIGINT", () => stop.abort());
  if (process.channel) {
    process.once("disconnect", () => stop.abort());
    // The channel alone must not keep the process alive once the agent has stopped.
    process.channel.unref();
  }
  try {
    return await run(config, { log: (line) => console.error(`[${new Date().toISOString()}] ${line}`), signal: stop.signal });
  } catch (error) {
    if (!(error instanceof AgentError)) throw error;
    console.error(`wattflow-edge: ${error.message}`);
    return 1;
  }
}
