/**
 * Hot time series for dashboards, per stage (config.timeseries): none (the lake answers), an
 * external InfluxDB (URL and token as secrets), or Amazon Timestream for InfluxDB in the VPC.
 * Functions that write or read series link `timeseriesLinks`; core reads INFLUX_URL and INFLUX_TOKEN.
 */
import { configFor } from "./config";
import { vpc } from "./database";

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

export const timeseriesLinks = links();
