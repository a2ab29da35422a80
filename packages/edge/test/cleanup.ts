/** Clean-up of what a test started (servers, folders, agents), run after each test of the file whether it passed or not. */
import { afterEach } from "vitest";

export type Cleanup = () => Promise<void> | void;

/**
 * Registers an `afterEach` that runs every clean-up deferred during the test, the last deferred first (as they were
 * started), then forgets them; returns the function that defers one. Call it once, at the top of a test file.
 */
export function cleanupAfterEach(): (cleanup: Cleanup) => void {
  let cleanups: Cleanup[] = [];
  afterEach(async () => {
    const due = cleanups.reverse();
    cleanups = [];
    for (const cleanup of due) await cleanup();
  });
  return (cleanup) => {
    cleanups.push(cleanup);
  };
}
