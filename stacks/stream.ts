/**
 * The readings stream: Kinesis, the consumer's event source mapping with every setting spelled out,
 * the on-failure destination and the drainer that archives given-up records' data into quarantine,
 * and the gateways' AWS IoT credentials (X.509 certificate → temporary credentials for PutRecords
 * on this stream only).
 */
import { Config as Core } from "@wattflow/core/config";
import { configFor } from "./config";
import { databaseAccess } from "./database";
import { assumedBy } from "./iam";
import { deliveryStream } from "./lake";
import { alarm } from "./monitoring";
import { readingsAccess } from "./timeseries";

const config = configFor($app.stage);
const capacity = config.stream.capacity;

/** Signs the records the API puts on the stream, so a Kinesis writer cannot pass its records off as the API's; the consumer verifies. */
export const recordKey = new sst.Secret("RecordKey");

export const readings = new sst.aws.KinesisStream("Readings", {
  transform: {
    stream: (args) => {
      args.streamModeDetails = { streamMode: capacity.mode };
      args.shardCount = capacity.mode === "PROVISIONED" ? capacity.shards : undefined;
      args.retentionPeriod = config.stream.retentionHours;
      args.encryptionType = "KMS";
      args.kmsKeyId = "alias/aws/kinesis";
      // Per-shard iterator age, so /v1/health names the shard that falls behind (core/src/health/aws.ts).
      args.shardLevelMetrics = ["IteratorAgeMilliseconds"];
    },
  },
});

/** SQS keeps a message at most 14 days: longer than the stream keeps records, so a pointer never vanishes before its data. */
const keepMessages = (args: aws.sqs.QueueArgs): undefined => {
  args.messageRetentionSeconds = 14 * 24 * 3600;
};

/** Failure pointers the drainer could not archive after maxReceiveCount tries. */
const drainerDeadLetters = new sst.aws.Queue("ConsumerFailuresDeadLetter", { transform: { queue: keepMessages } });

/** Pointers to the batches the consumer gave up on (Lambda's on-failure records); the drainer turns them into data. */
export const consumerFailures = new sst.aws.Queue("ConsumerFailures", {
  // AWS advises six times the function timeout for a Lambda-polled queue (retries within one receive).
  visibilityTimeout: `${config.drainer.timeoutSeconds * 6} seconds`,
  dlq: { queue: drainerDeadLetters.arn, retry: config.drainer.maxReceiveCount },
  transform: { queue: keepMessages },
});

/**
 * Records quarantine could not take (the database down or refusing the row), kept whole so the
 * consumer and the drainer can move on; the sweeper moves them into quarantine (core/src/archive).
 */
export const rawArchive = new sst.aws.Bucket("RawArchive", { versioning: config.production });

/** What a function needs to write, read and empty the raw archive. */
const rawArchiveAccess = {
  environment: { WATTFLOW_ARCHIVE_BUCKET: rawArchive.name },
  permissions: [
    { actions: ["s3:PutObject", "s3:GetObject", "s3:DeleteObject"], resources: [$interpolate`${rawArchive.arn}/*`] },
    { actions: ["s3:ListBucket"], resources: [rawArchive.arn] },
  ],
};

const consumer = config.consumer;
export const consumerSubscription = readings.subscribe(
  "Consumer",
  {
    handler: "packages/functions/src/ingest/consumer.handler",
    ...readingsAccess(recordKey),
    timeout: `${consumer.timeoutSeconds} seconds`,
    memory: `${consumer.memoryMb} MB`,
    environment: { LAKE_DELIVERY_STREAM: deliveryStream.name, ...rawArchiveAccess.environment },
    permissions: [
      { actions: ["firehose:PutRecordBatch"], resources: [deliveryStream.arn] },
      // The event source mapping sends on-failure records with the function's role.
      { actions: ["sqs:SendMessage"], resources: [consumerFailures.arn] },
      ...rawArchiveAccess.permissions,
    ],
  },
  {
    transform: {
      eventSourceMapping: (args) => {
        args.startingPosition = "TRIM_HORIZON";
        args.batchSize = consumer.batchSize;
        args.maximumBatchingWindowInSeconds = consumer.batchingWindowSeconds;
        args.parallelizationFactor = consumer.parallelizationFactor;
        args.bisectBatchOnFunctionError = consumer.bisectBatchOnFunctionError;
        args.functionResponseTypes = ["ReportBatchItemFailures"];
        args.maximumRetryAttempts = consumer.maximumRetryAttempts;
        args.maximumRecordAgeInSeconds = consumer.maximumRecordAgeSeconds;
        args.destinationConfig = { onFailure: { destinationArn: consumerFailures.arn } };
      },
    },
  },
);

// Created by the subscription (not passed as an ARN) so SST grants it the queue's receive/delete permissions.
export const drainerSubscription = consumerFailures.subscribe(
  {
    handler: "packages/functions/src/drainer/index.handler",
    ...databaseAccess(),
    timeout: `${config.drainer.timeoutSeconds} seconds`,
    memory: "512 MB",
    environment: rawArchiveAccess.environment,
    permissions: [{ actions: ["kinesis:GetShardIterator", "kinesis:GetRecords"], resources: [readings.arn] }, ...rawArchiveAccess.permissions],
  },
  // One failure pointer per invocation: each may mean reading up to 10,000 records back.
  { batch: { size: 1, partialResponses: true } },
);

/**
 * Forwards readings stored but not yet in the lake and the series (a lake or series outage leaves
 * them undelivered rather than failing the stream), and restores raw-archived records into quarantine.
 */
const sweeper = new sst.aws.Function("UndeliveredSweeper", {
  handler: "packages/functions/src/sweeper/index.handler",
  ...readingsAccess(),
  timeout: "5 minutes",
  memory: "1024 MB",
  environment: { LAKE_DELIVERY_STREAM: deliveryStream.name, ...rawArchiveAccess.environment },
  permissions: [{ actions: ["firehose:PutRecordBatch"], resources: [deliveryStream.arn] }, ...rawArchiveAccess.permissions],
});

new sst.aws.CronV2("UndeliveredSweep", {
  schedule: Core.deliverySweepSchedule,
  function: sweeper.arn,
  // The next run a minute later is the retry.
  retries: 0,
});

// Gateways: an X.509 certificate per device (registered at provisioning) is exchanged by the AWS IoT
// credentials provider for short-lived credentials of this role, which can only put readings.
const gatewayRole = new aws.iam.Role("GatewayRole", {
  assumeRolePolicy: assumedBy("credentials.iot.amazonaws.com"),
  maxSessionDuration: 3600,
});

new aws.iam.RolePolicy("GatewayPutReadings", {
  role: gatewayRole.id,
  policy: $jsonStringify({
    Version: "2012-10-17",
    Statement: [{ Effect: "Allow", Action: ["kinesis:PutRecords", "kinesis:PutRecord"], Resource: readings.arn }],
  }),
});

export const gatewayRoleAlias = new aws.iot.RoleAlias("GatewayRoleAlias", {
  alias: `wattflow-${$app.stage}-gateway`,
  roleArn: gatewayRole.arn,
  credentialDuration: 3600,
});

/** Attach to each gateway's certificate: it may only exchange the certificate for credentials of the role above. */
export const gatewayIotPolicy = new aws.iot.Policy("GatewayIotPolicy", {
  name: `wattflow-${$app.stage}-gateway`,
  policy: $jsonStringify({
    Version: "2012-10-17",
    Statement: [{ Effect: "Allow", Action: "iot:AssumeRoleWithCertificate", Resource: gatewayRoleAlias.arn }],
  }),
});

export const credentialsEndpoint = aws.iot.getEndpointOutput({ endpointType: "iot:CredentialProvider" }).endpointAddress;

export const consumerName = consumerSubscription.nodes.function.apply((fn) => fn.name);

alarm("ConsumerIteratorAge", {
  description: "The consumer is falling behind the readings stream",
  namespace: "AWS/Lambda",
  metricName: "IteratorAge",
  dimensions: { FunctionName: consumerName },
  statistic: "Maximum",
  threshold: config.monitoring.iteratorAgeAlarmMs,
  evaluationPeriods: 3,
});

alarm("ConsumerGaveUp", {
  description: "The consumer gave up on a batch; the drainer archives it to quarantine (wattflow quarantine list)",
  namespace: "AWS/SQS",
  metricName: "NumberOfMessagesSent",
  dimensions: { QueueName: consumerFailures.nodes.queue.name },
  statistic: "Sum",
  threshold: 1,
});

alarm("ArchivedFailures", {
  description: "Records were archived to quarantine from the stream: fix the cause, then wattflow quarantine replay",
  namespace: "Wattflow",
  metricName: "RecordsArchived",
  dimensions: { service: "wattflow", function: "drainer" },
  statistic: "Sum",
  threshold: 1,
});

alarm("DrainerDeadLetters", {
  description: "A failed batch could not be archived (past retention?): its data may be lost; read the drainer's logs",
  namespace: "AWS/SQS",
  metricName: "ApproximateNumberOfMessagesVisible",
  dimensions: { QueueName: drainerDeadLetters.nodes.queue.name },
  statistic: "Maximum",
  threshold: 1,
  evaluationPeriods: 1,
});
