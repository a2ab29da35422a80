/** Scheduled: evaluates every factory's alert rules and sends what they raise (stacks/timeseries.ts). */
import { Alert } from "@wattflow/core/alert";
import { count, lambda, logger } from "../lambda";
import { ensureRuntime } from "../runtime";

/** Evaluates every factory's alert rules and sends what they raise. */
async function evaluateAlerts() {
  await ensureRuntime();
  const raised = await Alert.evaluateAll();
  count("AlertsRaised", raised);
  logger.info("alert rules evaluated", { raised });
  return { raised };
}

export const handler = lambda("alerts", evaluateAlerts);
