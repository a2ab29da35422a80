/**
 * Postgres: Aurora Serverless v2 in the stage's VPC (scales to zero outside production), migrated by
 * a function on every deploy; a daily job keeps next months' reading partitions and the retention window.
 * Under `sst dev` no cluster is deployed and the links point at a local Postgres (the `dev` block).
 */
import { configFor } from "./config";
import { alarm } from "./monitoring";

const config = configFor($app.stage);

export const vpc = new sst.aws.Vpc("Vpc", { nat: config.database.nat, az: config.production ? 3 : 2 });

export const database = new sst.aws.Aurora("Database", {
  engine: "postgres",
  version: "17",
  vpc,
  scaling: {
    min: `${config.database.minAcu} ACU`,
    max: `${config.database.maxAcu} ACU`,
    ...(config.database.pauseAfter ? { pauseAfter: config.database.pauseAfter } : {}),
  },
  // A reader in production keeps a warm standby in another AZ (failover in seconds).
  replicas: config.production ? 1 : 0,
  // With a proxy the links point at it, so functions connect through it without a code change.
  proxy: config.database.proxy,
  dev: {
    host: process.env.WATTFLOW_DEV_PGHOST ?? "localhost",
    port: Number(process.env.WATTFLOW_DEV_PGPORT ?? 5432),
    database: "wattflow",
    username: "postgres",
    password: process.env.WATTFLOW_DEV_PGPASSWORD ?? "postgres",
  },
  transform: {
    cluster: (args) => {
      args.backupRetentionPeriod = config.production ? 14 : 1;
      args.deletionProtection = config.production;
      args.storageEncrypted = true;
      args.copyTagsToSnapshot = true;
    },
  },
});

/**
 * A function's arguments to open Postgres: the stage's VPC (the cluster is private to it) and the database's link,
 * before `more` links: `new sst.aws.Function("X", { handler, ...databaseAccess(), timeout })`.
 */
export function databaseAccess(...more: unknown[]) {
  return { vpc, link: [database, ...more] };
}

/** Applies packages/core/migrations; core finds them next to the bundle (see copyFiles). */
export const migrator = new sst.aws.Function("Migrator", {
  handler: "packages/functions/src/migrator/index.handler",
  ...databaseAccess(),
  timeout: "5 minutes",
  memory: "512 MB",
  // core resolves `../../migrations` from the bundle at packages/functions/src/migrator/.
  copyFiles: [{ from: "packages/core/migrations", to: "packages/functions/migrations" }],
});

if (!$dev) {
  // A new input each deploy makes Pulumi invoke the migrator every time; a failed migration fails the deploy.
  new aws.lambda.Invocation("MigratorInvocation", {
    functionName: migrator.name,
    input: JSON.stringify({ deployedAt: new Date().toISOString() }),
  });
}

export const maintenance = new sst.aws.Function("Maintenance", {
  handler: "packages/functions/src/maintenance/index.handler",
  ...databaseAccess(),
  timeout: "15 minutes",
  memory: "512 MB",
  environment: { READING_RETENTION_MONTHS: String(config.database.readingRetentionMonths) },
});

new sst.aws.CronV2("MaintenanceSchedule", {
  // Daily, at a quiet hour for Mexican factories; partitions are created months ahead, so a missed run is harmless.
  schedule: "cron(30 3 * * ? *)",
  timezone: "America/Mexico_City",
  function: maintenance.arn,
  retries: 2,
});

if (!$dev) {
  alarm("AuroraAtMaxAcu", {
    description: "Aurora ran at its maximum capacity for 15 minutes: raise maxAcu or find the query",
    namespace: "AWS/RDS",
    metricName: "ServerlessDatabaseCapacity",
    dimensions: { DBClusterIdentifier: database.id },
    statistic: "Maximum",
    threshold: config.database.maxAcu,
    evaluationPeriods: 3,
  });
}
