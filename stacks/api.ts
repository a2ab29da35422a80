/**
 * The API: the Hono app as one Lambda behind the app's Router, on the same origin as the console
 * (stacks/web.ts), so console sessions need no cross-site cookies. Gateways POST here when they
 * cannot reach Kinesis; the API puts their readings on the same stream.
 */
import { configFor } from "./config";
import { alarm } from "./monitoring";
import { consumerName, rawArchive, readings, recordKey } from "./stream";
import { readingsAccess } from "./timeseries";
import { workflowClient } from "./workflows";

const config = configFor($app.stage);

/** One CloudFront distribution in front of the console and the API. */
export const router = new sst.aws.Router("App");

/** Signs console sessions. */
export const sessionSecret = new sst.Secret("SessionSecret");

export const api = new sst.aws.Function("Api", {
  handler: "packages/functions/src/api/index.handler",
  ...readingsAccess(recordKey, sessionSecret),
  timeout: `${config.api.timeoutSeconds} seconds`,
  memory: `${config.api.memoryMb} MB`,
  environment: {
    READINGS_STREAM_NAME: readings.name,
    // /v1/health: the consumer's backlog from CloudWatch, and how much the raw archive holds.
    WATTFLOW_CONSUMER_FUNCTION: consumerName,
    WATTFLOW_ARCHIVE_BUCKET: rawArchive.name,
    ...workflowClient.environment,
  },
  // Not linked to the stream: a link would grant kinesis:*. The API only puts records.
  permissions: [
    { actions: ["kinesis:PutRecords", "kinesis:PutRecord"], resources: [readings.arn] },
    // GetMetricData has no resource-level permissions.
    { actions: ["cloudwatch:GetMetricData"], resources: ["*"] },
    { actions: ["s3:ListBucket"], resources: [rawArchive.arn] },
    ...workflowClient.permissions,
  ],
  // pdfkit reads its standard fonts' metrics (AFM files) beside its code at run time, and /docs serves Swagger UI's
  // files from swagger-ui-dist: installed, not bundled, so they ship.
  nodejs: { install: ["pdfkit", "swagger-ui-dist"] },
  // A plain function URL, routed below: `url.router` would route one path only, and the app also answers /health.
  url: true,
});

router.route("/v1", api.url);
router.route("/health", api.url);
// The API's OpenAPI 3.1 document and the page that reads it.
router.route("/openapi.json", api.url);
router.route("/docs", api.url);

alarm("ApiErrors", {
  description: "The API answered 5xx",
  namespace: "AWS/Lambda",
  metricName: "Url5xxCount",
  dimensions: { FunctionName: api.name },
  statistic: "Sum",
  threshold: config.monitoring.apiErrorsPer5Minutes,
});
