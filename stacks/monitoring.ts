/**
 * Operations shared by every stack: the alerts topic and the alarm helper, the Sentry DSN secret,
 * and the defaults every function gets (runtime, logs, Powertools settings, Sentry link).
 * Imported first by sst.config.ts, so the function defaults apply to all functions.
 */
import { configFor } from "./config";

const config = configFor($app.stage);

/** Set with `sst secret set SentryDsn <dsn> --stage <stage>`; empty (the default) leaves Sentry off. */
export const sentryDsn = new sst.Secret("SentryDsn", "");

/** Every alarm notifies this topic; subscribe on-call email or chat to it (docs/deploy.md). */
export const alerts = new sst.aws.SnsTopic("Alerts");

const alertEmail = process.env.WATTFLOW_ALERT_EMAIL;
if (alertEmail) {
  new aws.sns.TopicSubscription("AlertsEmail", { topic: alerts.arn, protocol: "email", endpoint: alertEmail });
}

/**
 * Packages core imports (dynamically) only for the local runtime; never loaded in a Lambda, so left out
 * of bundles. drizzle's PGlite driver must go too: bundled, it would import PGlite at load time.
 */
const localOnly = ["@electric-sql/pglite", "drizzle-orm/pglite", "drizzle-orm/pglite/migrator", "@duckdb/node-api", "better-sqlite3", "kinesis-local"];

$transform(sst.aws.Function, (args) => {
  args.runtime ??= "nodejs22.x";
  args.architecture ??= "arm64";
  args.logging ??= { retention: config.logRetention, format: "json" };
  args.environment = $output(args.environment ?? {}).apply((environment) => ({
    POWERTOOLS_METRICS_NAMESPACE: "Wattflow",
    POWERTOOLS_LOG_LEVEL: config.production ? "INFO" : "DEBUG",
    WATTFLOW_STAGE: $app.stage,
    NODE_OPTIONS: "--enable-source-maps",
    ...environment,
  }));
  args.link = $output(args.link ?? []).apply((link) => [...link, sentryDsn]);
  args.nodejs = $output(args.nodejs ?? {}).apply((nodejs) => ({
    sourcemap: true,
    ...nodejs,
    esbuild: { ...nodejs.esbuild, external: [...(nodejs.esbuild?.external ?? []), ...localOnly] },
  }));
});

export type AlarmArgs = {
  description: string;
  namespace: string;
  metricName: string;
  dimensions: $util.Input<Record<string, $util.Input<string>>>;
  statistic: "Maximum" | "Sum" | "Average" | "Minimum";
  threshold: number;
  /** Minutes per evaluation period. */
  periodMinutes?: number;
  evaluationPeriods?: number;
  comparison?: "GreaterThanOrEqualToThreshold" | "GreaterThanThreshold" | "LessThanThreshold";
};

/**
 * A CloudWatch alarm that notifies the alerts topic when it fires and when it clears. Missing data is
 * not breaching: a quiet stage is not an incident.
 * @example alarm("ConsumerIteratorAge", { namespace: "AWS/Lambda", metricName: "IteratorAge", ... })
 */
export function alarm(name: string, args: AlarmArgs): aws.cloudwatch.MetricAlarm {
  return new aws.cloudwatch.MetricAlarm(name, {
    alarmDescription: `${args.description} (${$app.stage})`,
    namespace: args.namespace,
    metricName: args.metricName,
    dimensions: args.dimensions,
    statistic: args.statistic,
    threshold: args.threshold,
    period: (args.periodMinutes ?? 5) * 60,
    evaluationPeriods: args.evaluationPeriods ?? 1,
    comparisonOperator: args.comparison ?? "GreaterThanOrEqualToThreshold",
    treatMissingData: "notBreaching",
    alarmActions: [alerts.arn],
    okActions: [alerts.arn],
  });
}
