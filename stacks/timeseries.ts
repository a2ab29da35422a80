/**
 * Hot time series for dashboards, per stage (config.timeseries): none (the lake answers), an
 * external InfluxDB (URL and token as secrets), or Amazon Timestream for InfluxDB in the VPC.
 * Functions that write or read series take `readingsAccess()` (Postgres and `timeseriesLinks`); core reads INFLUX_URL and INFLUX_TOKEN.
 */
import { configFor } from "./config";
import { databaseAccess, vpc } from "./database";

const config = configFor($app.stage);
const timeseries = config.timeseries;

const organization = "wattflow";
const bucket = "readings";

function links(): $util.Input<unknown>[] {
  if (timeseries.kind === "none") return [];
  // The API token is made in InfluxDB after the first deploy (docs/deploy.md): AWS does not create one.
  const token = new sst.Secret("InfluxToken");
  if (timeseries.kind === "external") {
    return [new sst.Secret("InfluxUrl"), token, new sst.Linkable("Influx", { properties: { org: organization, bucket } })];
  }
  const adminPassword = new sst.Secret("InfluxAdminPassword");
  const securityGroup = new aws.ec2.SecurityGroup("InfluxSecurityGroup", {
    vpcId: vpc.id,
    description: "InfluxDB API from inside the VPC only",
    ingress: [{ protocol: "tcp", fromPort: 8086, toPort: 8086, cidrBlocks: [vpc.nodes.vpc.cidrBlock] }],
    egress: [{ protocol: "-1", fromPort: 0, toPort: 0, cidrBlocks: ["0.0.0.0/0"] }],
  });
  const instance = new aws.timestreaminfluxdb.DbInstance("Influx", {
    name: `wattflow-${$app.stage}`,
    dbInstanceType: timeseries.instanceType,
    allocatedStorage: timeseries.storageGb,
    dbStorageType: "InfluxIOIncludedT1",
    deploymentType: timeseries.multiAz ? "WITH_MULTIAZ_STANDBY" : "SINGLE_AZ",
    organization,
    bucket,
    username: "wattflow-admin",
    password: adminPassword.value,
    publiclyAccessible: false,
    vpcSubnetIds: vpc.privateSubnets,
    vpcSecurityGroupIds: [securityGroup.id],
  });
  return [token, new sst.Linkable("Influx", { properties: { url: $interpolate`https://${instance.endpoint}:8086`, org: organization, bucket } })];
}

const timeseriesLinks = links();

/** A function's arguments to read and write readings: Postgres (`databaseAccess`, with `more` links) and the time series. */
export function readingsAccess(...more: unknown[]) {
  return databaseAccess(...more, ...timeseriesLinks);
}

/**
 * Alert rules (demand, power factor, silent gateways, cost) are evaluated every 5 minutes, the
 * reading interval, so an alert follows within one interval of the readings that raise it.
 */
const alertEvaluator = new sst.aws.Function("AlertEvaluator", {
  handler: "packages/functions/src/alerts/index.handler",
  ...readingsAccess(),
  timeout: "2 minutes",
  memory: "512 MB",
  // A verified SES sender for e-mail alerts, set per stage (empty: e-mail rules fail loudly and are retried).
  environment: { ALERT_EMAIL_FROM: process.env.ALERT_EMAIL_FROM ?? "" },
  permissions: [
    // Rules name their own SNS topics and addresses, so these are scoped to the account and the stage's SES identities.
    { actions: ["sns:Publish"], resources: [$interpolate`arn:aws:sns:${aws.getRegionOutput().name}:${aws.getCallerIdentityOutput().accountId}:*`] },
    { actions: ["ses:SendEmail"], resources: [$interpolate`arn:aws:ses:${aws.getRegionOutput().name}:${aws.getCallerIdentityOutput().accountId}:identity/*`] },
  ],
});

new sst.aws.CronV2("AlertSchedule", {
  schedule: "rate(5 minutes)",
  function: alertEvaluator.arn,
  retries: 1,
});
