import { Database } from "@wattflow/core/database";

/**
 * In a Lambda nothing is opened at import: the first invocation opens Postgres from the environment.
 * Locally the stack has provided everything already, and this returns at once.
 */
export async function ensureRuntime(): Promise<void> {
  if (!Database.current()) await Database.fromEnvironment();
}
