import { importLimits } from "../config";

/**
 * A function to await often in a long computation: it gives the event loop a turn (setImmediate)
 * once `importLimits.yieldEveryMs` have passed since the last, and is free otherwise.
 * @example const pace = pacer(); for (const row of rows) { await pace(); … }
 */
export function pacer(): () => Promise<void> {
  let last = performance.now();
  return async () => {
    if (performance.now() - last < importLimits.yieldEveryMs) return;
    await new Promise((resolve) => setImmediate(resolve));
    last = performance.now();
  };
}
