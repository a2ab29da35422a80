/// <reference path="./.sst/platform/config.d.ts" />

/**
 * Wattflow on AWS, one copy per stage: `npx sst deploy --stage <name>` (docs/deploy.md).
 * Each concern is a file in stacks/; the sizes of each stage are in stacks/config.ts.
 */
export default $config({
  app(input) {
    const production = input?.stage === "production";
    return {
      name: "wattflow",
      home: "aws",
      // Production keeps its data when removed and refuses `sst remove`; other stages clean up after themselves.
      removal: production ? "retain" : "remove",
      protect: production,
      // The provider version is pinned so deploys and the offline type-check (npm run typecheck) use the same types.
      providers: { aws: { version: "7.20.0", region: (process.env.WATTFLOW_AWS_REGION ?? "us-east-1") as aws.Region } },
    };
  },
  async run() {
    const { configFor, problems } = await import("./stacks/config");
    const found = problems(configFor($app.stage));
    if (found.length > 0) throw new Error(`stacks/config.ts for stage ${$app.stage}: ${found.join("; ")}`);

    // Monitoring first: it sets the defaults every function gets.
    const { alerts } = await import("./stacks/monitoring");
    const { database } = await import("./stacks/database");
    const { deliveryStream, workgroup, glueDatabase } = await import("./stacks/lake");
    const { readings, gatewayRoleAlias, gatewayIotPolicy, credentialsEndpoint } = await import("./stacks/stream");
    await import("./stacks/timeseries");
    const { router, api } = await import("./stacks/api");
    const { web } = await import("./stacks/web");
    const { stateMachines, uploads } = await import("./stacks/workflows");

    return {
      url: router.url,
      api: api.url,
      web: web.url,
      stream: readings.name,
      lakeDelivery: deliveryStream.name,
      athenaWorkgroup: workgroup.name,
      glueDatabase: glueDatabase.name,
      database: database.host,
      gatewayRoleAlias: gatewayRoleAlias.alias,
      gatewayIotPolicy: gatewayIotPolicy.name,
      gatewayCredentialsEndpoint: credentialsEndpoint,
      alerts: alerts.arn,
      uploads: uploads.name,
      workflows: stateMachines.length,
    };
  },
});
