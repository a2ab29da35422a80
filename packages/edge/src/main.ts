/**
 * `wattflow-edge run --config FILE`: the agent alone (what `wattflow edge run` runs), for gateways
 * that install only this package. Exit codes: 0 done or stopped, 1 failure, 2 bad config.
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
  try {
    return await run(config, { log: (line) => console.error(`[${new Date().toISOString()}] ${line}`), signal: stop.signal });
  } catch (error) {
    if (!(error instanceof AgentError)) throw error;
    console.error(`wattflow-edge: ${error.message}`);
    return 1;
  }
}
