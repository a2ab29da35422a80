/**
 * Scheduled (stacks/stream.ts, every minute; the local stack's scheduler calls this same handler):
 * forwards readings stored in Postgres but not yet in the lake and the series (a lake or series
 * outage, or a crash between the writes), and moves records kept in the raw archive into quarantine.
 */
import { deliverySweepLimit, deliverySweepMs } from "@wattflow/core/config";
import { Ingest } from "@wattflow/core/ingest";
import { Quarantine } from "@wattflow/core/quarantine";
import { count, lambda, logger } from "../lambda";
import { ensureRuntime } from "../runtime";

/** Forwards undelivered readings and moves raw-archived records into quarantine. */
async function sweep() {
  await ensureRuntime();
  const forwarded = await Ingest.sweepUndelivered({ olderThanMs: deliverySweepMs, limit: deliverySweepLimit });
  const archive = await Quarantine.restoreArchived();
  count("ReadingsSwept", forwarded);
  count("RecordsRestoredFromArchive", archive.restored);
  if (forwarded > 0 || archive.restored > 0 || archive.unreadable > 0) logger.info("swept", { forwarded, ...archive });
  return { forwarded, ...archive };
}

export const handler = lambda("sweeper", sweep);
