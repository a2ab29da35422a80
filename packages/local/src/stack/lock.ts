import { join } from "node:path";
import { acquirePidLock, PidLockedError } from "@wattflow/core/util/files";

export class StackLockedError extends Error {
  constructor(
    readonly dataDir: string,
    readonly pid: number,
  ) {
    super(`${dataDir} is in use by a running stack (pid ${pid}); stop it first, or use another --data folder`);
    this.name = "StackLockedError";
  }
}

/**
 * One process owns a data folder (PGlite is single-process). The lock file holds the owner's pid;
 * a lock left by a process that died (kill -9, power cut) is taken over.
 */
export function acquireLock(dataDir: string): () => void {
  try {
    return acquirePidLock(join(dataDir, "stack.lock"));
  } catch (error) {
    if (error instanceof PidLockedError) throw new StackLockedError(dataDir, error.pid);
    throw error;
  }
}
