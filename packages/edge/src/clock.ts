/**
 * The agent's clock: the real one, or a simulated one that starts at a given instant and runs
 * `speed` times faster than real time (tests, benchmarks, replaying a day in minutes).
 */
export type Clock = {
  now(): number;
  /** Resolves when the clock reaches `ms`, or at once when `signal` aborts. */
  sleepUntil(ms: number, signal: AbortSignal): Promise<void>;
  simulated: boolean;
  /** When the clock started (ms): a new agent's first interval starts at the boundary at or after it. */
  origin: number;
};

export function real(): Clock {
  return { now: () => Date.now(), sleepUntil: (ms, signal) => sleep(ms - Date.now(), signal), simulated: false, origin: Date.now() };
}

export function simulated(startMs: number, speed: number, realNow = Date.now): Clock {
  const realStart = realNow();
  const now = () => startMs + (realNow() - realStart) * speed;
  return { now, sleepUntil: (ms, signal) => sleep((ms - now()) / speed, signal), simulated: true, origin: startMs };
}

/** Real-time sleep that ends early when the signal aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (ms <= 0 || signal?.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    }
    signal?.addEventListener("abort", done, { once: true });
  });
}
