/**
 * The readings stream: Kinesis, the consumer's event source mapping with every setting spelled out,
 * the on-failure destination and the drainer that archives given-up records' data into quarantine,
 * and the gateways' AWS IoT credentials (X.509 certificate → temporary credentials for PutRecords
 * on this stream only).
 */
import { configFor } from "./config";
import { database, vpc } from "./database";
import { deliveryStream } from "./lake";
import { alarm } from "./monitoring";
import { timeseriesLinks } from "./timeseries";

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

const consumer = config.consumer;
export const consumerSubscription = readings.subscribe(
  "Consumer",
  {
    handler: "packages/functions/src/ingest/consumer.handler",
    vpc,
    link: [database, recordKey, ...timeseriesLinks],
    timeout: `${consumer.timeoutSeconds} seconds`,
    memory: `${consumer.memoryMb} MB`,
    environment: { LAKE_DELIVERY_STREAM: deliveryStream.name },
    permissions: [
      { actions: ["firehose:PutRecordBatch"], resources: [deliveryStream.arn] },
      // The event source mapping sends on-failure records with the function's role.
      { actions: ["sqs:SendMessage"], resources: [consumerFailures.arn] },
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
    vpc,
    link: [database],
    timeout: `${config.drainer.timeoutSeconds} seconds`,
    memory: "512 MB",
    permissions: [{ actions: ["kinesis:GetShardIterator", "kinesis:GetRecords"], resources: [readings.arn] }],
  },
  // One failure pointer per invocation: each may mean reading up to 10,000 records back.
  { batch: { size: 1, partialResponses: true } },
);

// Gateways: an X.509 certificate per device (registered at provisioning) is exchanged by the AWS IoT
// credentials provider for short-lived credentials of this role, which can only put readings.
const gatewayRole = new aws.iam.Role("GatewayRole", {
  assumeRolePolicy: $jsonStringify({
    Version: "2012-10-17",
    Statement: [{ Effect: "Allow", Principal: { Service: "credentials.iot.amazonaws.com" }, Action: "sts:AssumeRole" }],
  }),
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

const consumerName = consumerSubscription.nodes.function.apply((fn) => fn.name);

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
