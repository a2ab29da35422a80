/**
 * The demo factory's history, loaded in the background after the API listens: `days` of readings (400 by
 * default for `wattflow start`, a few for test stacks) ending where the demo gateway's live traffic begins,
 * through the bulk path (Ingest.storeBulk: validated, priced, stored once on the grid, delivered to the lake
 * and the series) a few days per call, newest month first so the console shows recent months early; each
 * month's rollups are summed once after its readings are in (Rollup.rebuild over the month).
 * Each whole past month is closed (Close.factoryMonth) right after its readings are in; then the year's
 * production is imported and the utility's bill for last month (a little off ours) imported for reconciliation.
 *
 * Resumable: `demo-history.json` in the data folder keeps where the history ends and the months done; a
 * restart mid-load loads the months not done (a month cut short is loaded again: its stored readings are
 * duplicates), and a finished history is never loaded again.
 */
import { join } from "node:path";
import { Close } from "@wattflow/core/close";
import { Database } from "@wattflow/core/database";
import { Import } from "@wattflow/core/import";
import { Ingest } from "@wattflow/core/ingest";
import { Rollup } from "@wattflow/core/rollup";
import { readJsonState, writeFileAtomic } from "@wattflow/core/util/files";
import { Workflow } from "@wattflow/core/workflow";
import type { DemoInfo } from "./demo";
import { type Calendar, calendarOf, production, reading, utcOffsetHours } from "./demo-year";
import { closeEndedMonths } from "./workflows";

/** Days of history `wattflow start` loads unless told (`--demo-history DAYS`, WATTFLOW_DEMO_HISTORY_DAYS): 13 months and a few days. */
export const defaultHistoryDays = 400;

const slotMs = 300_000;
const dayMs = 86_400_000;

/** What demo-history.json keeps between starts. */
export type HistoryState = {
  /** The first and the last instant (exclusive) of the history, ISO 8601 UTC; fixed at the first start. */
  start: string;
  end: string;
  /** Local months (YYYY-MM) whose readings are all stored. */
  loaded: string[];
  /** Local months closed after their readings were stored. */
  closed: string[];
  production: boolean;
  /** The month whose utility bill was imported, or null. */
  utilityBill: string | null;
  finished: boolean;
};

export type HistoryProgress = {
  status: "loading" | "done" | "failed";
  months: number;
  monthsLoaded: number;
  /** Readings stored (new) and found stored already (duplicates) by this start. */
  stored: number;
  duplicates: number;
  /** Seconds since this start began loading. */
  seconds: number;
  /** The oldest month whose readings are all stored. */
  oldestLoaded: string | null;
  error?: string;
};

/** One local month of the history, clipped to [start, end). */
type Chunk = { month: string; from: number; to: number; whole: boolean };

/** The local month (YYYY-MM) holding instant `ms`. */
function localMonth(ms: number): string {
  return new Date(ms + utcOffsetHours * 3_600_000).toISOString().slice(0, 7);
}

/** The history's local months, newest first, each clipped to [start, end); `whole` when the month is in it from its first to its last slot. */
export function chunksOf(start: number, end: number, timeZone: string): Chunk[] {
  const chunks: Chunk[] = [];
  let month = localMonth(end - slotMs);
  for (;;) {
    const range = Close.monthRange(month, timeZone);
    const from = Math.max(range.from.getTime(), start);
    const to = Math.min(range.to.getTime(), end);
    if (to <= from) break;
    chunks.push({ month, from, to, whole: from === range.from.getTime() && to === range.to.getTime() });
    if (range.from.getTime() <= start) break;
    month = localMonth(range.from.getTime() - slotMs);
  }
  return chunks;
}

/** The readings of every demo meter over [from, to), as POST /v1/ingest takes them. */
export function readingsOf(meterIds: readonly string[], from: number, to: number, calendar: Calendar): Record<string, unknown>[] {
  const readings: Record<string, unknown>[] = [];
  for (let start = from; start < to; start += slotMs) {
    const iso = new Date(start).toISOString();
    meterIds.forEach((meterId, index) => {
      readings.push({ meterId, start: iso, seconds: slotMs / 1000, ...reading(index, start, calendar) });
    });
  }
  return readings;
}

export type HistoryOptions = {
  dataDir: string;
  days: number;
  timeZone: string;
  log: (line: string) => void;
  /** Called once the newest month is stored: live traffic may begin at `end`. */
  onRecent?: (end: Date) => void;
  /**
   * Readings per Ingest.storeBulk call: two days of every meter by default (3,456 for six), so no single
   * statement holds the event loop (PGlite runs on it) long enough to keep /health waiting.
   */
  batch?: number;
  /** Stops the load between two calls (the stack is stopping); the next start resumes it. */
  signal?: AbortSignal;
  now?: Date;
};

/**
 * Loads (or finishes loading) the demo's history. Resolves when it is done; `progress()` says how far it
 * got meanwhile (GET /v1/health shows it under `demoHistory`). Throws what the bulk path, the close or
 * the imports throw; a restart resumes.
 */
export function loadHistory(info: DemoInfo, options: HistoryOptions): { done: Promise<void>; progress(): HistoryProgress } {
  const path = join(options.dataDir, "demo-history.json");
  const began = Date.now();
  const progress: HistoryProgress = { status: "loading", months: 0, monthsLoaded: 0, stored: 0, duplicates: 0, seconds: 0, oldestLoaded: null };
  const save = (state: HistoryState) => writeFileAtomic(path, JSON.stringify(state, null, 2));

  const run = async () => {
    const now = options.now ?? new Date();
    let state = readJsonState<HistoryState>(path);
    if (!state) {
      // The history ends where live traffic begins: one slot before the one under way, so the demo gateway's
      // first round has an interval to send (and reports itself online at once, as a real gateway does).
      const end = Math.floor(now.getTime() / slotMs) * slotMs - slotMs;
      state = {
        start: new Date(end - options.days * dayMs).toISOString(),
        end: new Date(end).toISOString(),
        loaded: [],
        closed: [],
        production: false,
        utilityBill: null,
        finished: false,
      };
      await save(state);
    }
    const start = Date.parse(state.start);
    const end = Date.parse(state.end);
    const calendar = calendarOf(new Date(end));
    const chunks = chunksOf(start, end, options.timeZone);
    progress.months = chunks.length;
    progress.monthsLoaded = chunks.filter((chunk) => state.loaded.includes(chunk.month)).length;
    if (state.finished) {
      options.onRecent?.(new Date(end));
      return;
    }
    const currentMonth = localMonth(now.getTime());
    let recentSaid = false;
    for (const chunk of chunks) {
      if (!state.loaded.includes(chunk.month)) {
        const readings = readingsOf(info.meterIds, chunk.from, chunk.to, calendar);
        const batch = options.batch ?? 2 * 288 * info.meterIds.length;
        // Two calls in flight: one's lake write (DuckDB, its own thread) runs while the other's rows are
        // priced and inserted (PGlite, this thread). Their slots never overlap.
        const inFlight: Promise<void>[] = [];
        for (let index = 0; index < readings.length && !options.signal?.aborted; index += batch) {
          const call = Ingest.storeBulk(info.deviceId, readings.slice(index, index + batch), new Date(), { rollups: "deferred" }).then((result) => {
            progress.stored += result.stored;
            progress.duplicates += result.duplicates;
            if (result.conflicts > 0) options.log(`demo history: ${result.conflicts} reading(s) of ${chunk.month} contradict stored ones and were left out`);
          });
          // Awaited below; this only keeps a failure from being reported as unhandled before its turn.
          call.catch(() => {});
          inFlight.push(call);
          if (inFlight.length >= 2) await inFlight.shift();
        }
        await Promise.all(inFlight);
        if (options.signal?.aborted) return;
        // The month's rollups summed from what it stored, a week per transaction (no statement holds the event loop
        // for long), not once per call; a month cut short is stored and summed again on the next start, so it is
        // marked loaded only after this.
        for (let from = chunk.from; from < chunk.to; from += 7 * dayMs) {
          const range = { from: new Date(from), to: new Date(Math.min(from + 7 * dayMs, chunk.to)) };
          await Database.use().transaction((tx) => Rollup.rebuild(tx, { factoryId: info.factoryId, range }));
        }
        state.loaded.push(chunk.month);
        await save(state);
        progress.monthsLoaded++;
      }
      progress.oldestLoaded = chunk.month;
      if (chunk.whole && chunk.month < currentMonth && !state.closed.includes(chunk.month)) {
        await Close.factoryMonth({ factoryId: info.factoryId, month: chunk.month });
        state.closed.push(chunk.month);
        await save(state);
      }
      if (!recentSaid) {
        recentSaid = true;
        options.onRecent?.(new Date(end));
      }
      progress.seconds = (Date.now() - began) / 1000;
    }
    if (!recentSaid) options.onRecent?.(new Date(end));
    if (options.signal?.aborted) return;
    if (!state.production) {
      const firstDay = new Date(start + utcOffsetHours * 3_600_000).toISOString().slice(0, 10);
      const lastDay = new Date(end - slotMs + utcOffsetHours * 3_600_000).toISOString().slice(0, 10);
      const rows = production(firstDay, lastDay, calendar);
      const csv = ["date,line,units", ...rows.map((row) => `${row.date},${row.line},${row.units}`)].join("\n");
      await Import.start({
        organizationId: info.organizationId,
        kind: "production",
        factoryId: info.factoryId,
        files: [{ name: "demo-production.csv", bytes: Buffer.from(`${csv}\n`) }],
      });
      state.production = true;
      await save(state);
    }
    const lastMonth = Close.previousMonth(now, options.timeZone);
    if (state.utilityBill === null && state.closed.includes(lastMonth)) {
      await importUtilityBill(info, lastMonth);
      state.utilityBill = lastMonth;
      await save(state);
    }
    // The schedule's close of last month, now that its readings are in (the schedule itself waits for this load).
    await closeEndedMonths(await Workflow.use(), now);
    state.finished = true;
    await save(state);
  };

  const done = run().then(
    () => {
      if (options.signal?.aborted) return;
      progress.status = "done";
      progress.seconds = (Date.now() - began) / 1000;
    },
    (error: Error) => {
      progress.status = "failed";
      progress.error = error.message;
      throw error;
    },
  );
  return {
    done,
    progress: () => ({ ...progress, seconds: progress.status === "loading" ? (Date.now() - began) / 1000 : progress.seconds }),
  };
}

/** Quantity units of our bill lines as a utility bill file writes them (an amount-only line has none). */
const fileUnits = new Set(["kWh", "kW", "kVArh", "month", "day", "%"]);

/**
 * Imports the utility's bill for `month` through the import path, a little off ours as a real one is: CFE read
 * 1.8 % more punta kWh (a meter's clock drift at the period's edge), so punta, subtotal, IVA and total differ.
 */
async function importUtilityBill(info: DemoInfo, month: string): Promise<void> {
  const ours = await Close.get(info.factoryId, month);
  if (!ours) throw new Error(`the demo's bill for ${month} is not closed`);
  const summing = new Set(["subtotal", "iva", "total"]);
  // Whole cents: every amount on a bill has two decimals, so integer arithmetic is exact.
  const cents = (text: string) => Math.round(Number(text) * 100);
  const money = (value: number) => (value / 100).toFixed(2);
  let subtotal = 0;
  const lines: string[] = [];
  for (const line of ours.lines) {
    if (summing.has(line.code) || line.code === "dap") continue;
    const punta = line.code === "energy-punta";
    const quantity = punta ? Math.round(Number(line.quantity) * 1.018).toString() : line.quantity;
    const amount = punta ? Math.round(Number(quantity) * Number(line.unitPrice) * 100) : cents(line.amount);
    subtotal += amount;
    lines.push(`${month},${line.code},${quantity},${fileUnits.has(line.unit) ? line.unit : ""},${line.unitPrice},${money(amount)}`);
  }
  // IVA is 16 % of the charges (Ley del IVA art. 1); DAP is added after IVA and not taxed.
  lines.push(`${month},iva,1,,0,${money(Math.round(subtotal * 0.16))}`);
  const dap = ours.lines.find((line) => line.code === "dap");
  if (dap) lines.push(`${month},dap,1,,0,${money(cents(dap.amount))}`);
  const csv = ["month,code,quantity,unit,unit_price,amount", ...lines].join("\n");
  await Import.start({
    organizationId: info.organizationId,
    kind: "bill",
    factoryId: info.factoryId,
    files: [{ name: `cfe-${month}.csv`, bytes: Buffer.from(`${csv}\n`) }],
  });
}
