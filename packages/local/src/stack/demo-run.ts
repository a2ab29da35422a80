/**
 * The demo of a started stack: its organization seeded (demo.ts), its history loaded in the background
 * (demo-history.ts), and its gateway — the edge agent with simulated meters (demo-gateway.ts) — reading after the
 * history, or from the start's 5-minute boundary when there is none.
 */
import { intervalSeconds } from "@wattflow/core/config";
import { Health } from "@wattflow/core/health";
import { type DemoInfo, demoHistoryDays, demoTimeZone, seedDemo } from "./demo";
import { loadHistory } from "./demo-history";

type DemoOptions = { demoTraffic: boolean; demoHistoryDays?: number; demoCatchUpDays?: number };

type DemoContext = {
  dataDir: string;
  apiUrl: string;
  kinesis: DemoInfo["kinesis"];
  /** When the stack started, ms since the epoch: with no history, the gateway reads from its 5-minute boundary. */
  startedAt: number;
  log: (line: string) => void;
  /** Registers a step the stack's stop runs (in reverse order of registration). */
  onStop: (step: () => Promise<void> | void) => void;
  /** Called once the history is loaded (or at once when there is none): the monthly close schedule waits for it. */
  historyLoaded: () => void;
};

/**
 * Seeds the demo and starts its history and gateway as `options` say; resolves with the demo's ids and tokens once
 * seeded (the history goes on in the background; `/health`'s `demoHistory` tells its progress).
 */
export async function startDemo(options: DemoOptions, context: DemoContext): Promise<DemoInfo> {
  const { dataDir, log, onStop, historyLoaded } = context;
  const info = await seedDemo(dataDir, { apiUrl: context.apiUrl, kinesis: context.kinesis });
  const stopping = new AbortController();
  const historyDays = options.demoHistoryDays ?? demoHistoryDays;
  // The demo's gateway, reading from `from` on its first start. Loaded only here: a stack without it does not load the
  // agent's modules (its SQLite binding, meter maps).
  const startGateway = async (from: number) => {
    const { runDemoGateway } = await import("./demo-gateway");
    if (!stopping.signal.aborted) onStop(runDemoGateway(info, { dataDir, from, log }));
  };
  if (historyDays === 0) {
    // No history (tests that count runs or readings, `--demo-history 0`): no loader, no imports, no closes of its own.
    historyLoaded();
    if (options.demoTraffic) {
      const live = Math.floor(context.startedAt / (intervalSeconds * 1000)) * intervalSeconds * 1000;
      await startGateway(live - (options.demoCatchUpDays ?? 0) * 86_400_000);
    }
    return info;
  }
  // In the background: /health answers now, the console fills newest month first, the gateway follows the history.
  const history = loadHistory(info, {
    dataDir,
    days: historyDays,
    timeZone: demoTimeZone,
    log,
    signal: stopping.signal,
    onRecent: (end) => {
      if (options.demoTraffic && !stopping.signal.aborted) void startGateway(end.getTime()).catch((error: Error) => log(`demo gateway: ${error.message}`));
    },
  });
  Health.register("demoHistory", async () => ({ ok: true, detail: history.progress() }));
  const loading = history.done
    .then(() => {
      if (!stopping.signal.aborted) log(`demo history: ${JSON.stringify(history.progress())}`);
    })
    .catch((error: Error) => log(`demo history: ${error.message} (a restart resumes it)`))
    .finally(historyLoaded);
  onStop(async () => {
    stopping.abort();
    await loading;
  });
  return info;
}
