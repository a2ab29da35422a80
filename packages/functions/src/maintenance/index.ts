/** Scheduled: next months' reading partitions and the retention window (stacks/database.ts). */
import { Maintenance } from "@wattflow/core/maintenance";
import { count, lambda, logger } from "../lambda";
import { ensureRuntime } from "../runtime";

/** Creates next months' reading partitions and drops those past the retention window. */
async function maintainPartitions() {
  await ensureRuntime();
  const result = await Maintenance.run({ retentionMonths: Number(process.env.READING_RETENTION_MONTHS) });
  count("PartitionsDropped", result.dropped.length);
  count("PartitionsKeptUndelivered", result.kept.length);
  logger.info("maintenance done", { ...result, partitions: result.partitions.length });
  return result;
}

export const handler = lambda("maintenance", maintainPartitions);
