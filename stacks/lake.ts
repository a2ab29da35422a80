/**
 * The lake: the consumer puts costed readings on Firehose (Direct PUT), which converts them to
 * Parquet through the Glue table and writes them under `readings/dt=YYYY-MM-DD/`, the date taken from
 * each record (dynamic partitioning), not from the arrival time. Athena reads it (Power BI via ODBC).
 * The table's columns come from core's lake schema, the same source as the record Firehose receives.
 */
import { KpiViews } from "@wattflow/core/kpi/views";
import { LakeSchema } from "@wattflow/core/lake/schema";
import { Instant } from "@wattflow/core/util/instant";
import { configFor } from "./config";
import { assumedBy } from "./iam";
import { alarm } from "./monitoring";

const config = configFor($app.stage);
const identity = aws.getCallerIdentityOutput({});
const region = aws.getRegionOutput({});
const partition = aws.getPartitionOutput({});

export const lakeBucket = new sst.aws.Bucket("Lake", { versioning: config.production });

new aws.s3.BucketLifecycleConfiguration("LakeLifecycle", {
  bucket: lakeBucket.name,
  rules: [
    {
      id: "readings-to-infrequent-access",
      status: "Enabled",
      filter: { prefix: LakeSchema.prefix },
      transitions: [{ days: config.lake.infrequentAccessAfterDays, storageClass: "STANDARD_IA" }],
      // Overwritten versions (production keeps versioning) are not the lake's data.
      noncurrentVersionExpiration: { noncurrentDays: 30 },
    },
    { id: "firehose-errors", status: "Enabled", filter: { prefix: "errors/" }, expiration: { days: config.lake.errorRetentionDays } },
    { id: "abort-incomplete-uploads", status: "Enabled", filter: { prefix: "" }, abortIncompleteMultipartUpload: { daysAfterInitiation: 2 } },
  ],
});

/** Glue names allow lowercase letters, digits and underscores. */
export const glueDatabase = new aws.glue.CatalogDatabase("LakeDatabase", { name: `wattflow_${$app.stage.toLowerCase().replace(/[^a-z0-9]/g, "_")}` });

export const readingsTable = new aws.glue.CatalogTable("ReadingsTable", {
  databaseName: glueDatabase.name,
  name: LakeSchema.tableName,
  tableType: "EXTERNAL_TABLE",
  parameters: {
    classification: "parquet",
    EXTERNAL: "TRUE",
    // Partition projection: Athena computes the dt= partitions, no crawler or MSCK REPAIR needed.
    "projection.enabled": "true",
    [`projection.${LakeSchema.partitionKey}.type`]: "date",
    [`projection.${LakeSchema.partitionKey}.format`]: "yyyy-MM-dd",
    // The dates ingest and imports accept (config readingWindow), so every stored reading is visible.
    [`projection.${LakeSchema.partitionKey}.range`]: Instant.lakeRange.athena,
    [`projection.${LakeSchema.partitionKey}.interval`]: "1",
    [`projection.${LakeSchema.partitionKey}.interval.unit`]: "DAYS",
    "storage.location.template": $interpolate`s3://${lakeBucket.name}/${LakeSchema.prefix}${LakeSchema.partitionKey}=\${${LakeSchema.partitionKey}}/`,
  },
  partitionKeys: [{ name: LakeSchema.partitionKey, type: "string" }],
  storageDescriptor: {
    location: $interpolate`s3://${lakeBucket.name}/${LakeSchema.prefix}`,
    inputFormat: "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat",
    outputFormat: "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat",
    serDeInfo: { serializationLibrary: "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe", parameters: { "serialization.format": "1" } },
    columns: LakeSchema.columns.map((column) => ({ name: column.name, type: column.type })),
  },
});

const deliveryName = `wattflow-${$app.stage}-readings`;
const firehoseLogs = new aws.cloudwatch.LogGroup("LakeDeliveryLogs", {
  name: `/aws/kinesisfirehose/${deliveryName}`,
  retentionInDays: config.production ? 90 : 7,
});
const firehoseLogStream = new aws.cloudwatch.LogStream("LakeDeliveryLogStream", { logGroupName: firehoseLogs.name, name: "DestinationDelivery" });

const firehoseRole = new aws.iam.Role("LakeDeliveryRole", {
  // Only Firehose acting for this account may assume the role (confused deputy).
  assumeRolePolicy: assumedBy("firehose.amazonaws.com", { StringEquals: { "sts:ExternalId": identity.accountId } }),
});

const glueArn = (resource: string) => $interpolate`arn:${partition.partition}:glue:${region.region}:${identity.accountId}:${resource}`;

new aws.iam.RolePolicy("LakeDeliveryPolicy", {
  role: firehoseRole.id,
  policy: $jsonStringify({
    Version: "2012-10-17",
    Statement: [
      {
        Effect: "Allow",
        Action: ["s3:AbortMultipartUpload", "s3:GetBucketLocation", "s3:GetObject", "s3:ListBucket", "s3:ListBucketMultipartUploads", "s3:PutObject"],
        Resource: [lakeBucket.arn, $interpolate`${lakeBucket.arn}/*`],
      },
      {
        // Format conversion reads the table's schema.
        Effect: "Allow",
        Action: ["glue:GetTable", "glue:GetTableVersion", "glue:GetTableVersions"],
        Resource: [
          glueArn("catalog"),
          $interpolate`${glueArn("database")}/${glueDatabase.name}`,
          $interpolate`${glueArn("table")}/${glueDatabase.name}/${readingsTable.name}`,
        ],
      },
      { Effect: "Allow", Action: ["logs:PutLogEvents"], Resource: [$interpolate`${firehoseLogs.arn}:log-stream:*`] },
    ],
  }),
});

export const deliveryStream = new aws.kinesis.FirehoseDeliveryStream("LakeDelivery", {
  name: deliveryName,
  destination: "extended_s3",
  serverSideEncryption: { enabled: true, keyType: "AWS_OWNED_CMK" },
  extendedS3Configuration: {
    bucketArn: lakeBucket.arn,
    roleArn: firehoseRole.arn,
    prefix: `${LakeSchema.prefix}${LakeSchema.partitionKey}=!{partitionKeyFromQuery:${LakeSchema.partitionKey}}/`,
    errorOutputPrefix: "errors/!{firehose:error-output-type}/!{timestamp:yyyy-MM-dd}/",
    bufferingSize: config.lake.bufferingSizeMb,
    bufferingInterval: config.lake.bufferingIntervalSeconds,
    // Parquet compresses itself (SNAPPY below); Firehose compression must be off with format conversion.
    compressionFormat: "UNCOMPRESSED",
    dynamicPartitioningConfiguration: { enabled: true, retryDuration: 300 },
    processingConfiguration: {
      enabled: true,
      processors: [
        {
          type: "MetadataExtraction",
          parameters: [
            { parameterName: "MetadataExtractionQuery", parameterValue: `{${LakeSchema.partitionKey}: .${LakeSchema.partitionKey}}` },
            { parameterName: "JsonParsingEngine", parameterValue: "JQ-1.6" },
          ],
        },
      ],
    },
    dataFormatConversionConfiguration: {
      enabled: true,
      inputFormatConfiguration: { deserializer: { hiveJsonSerDe: { timestampFormats: [LakeSchema.timestampFormat] } } },
      outputFormatConfiguration: { serializer: { parquetSerDe: { compression: "SNAPPY" } } },
      schemaConfiguration: { databaseName: glueDatabase.name, tableName: readingsTable.name, roleArn: firehoseRole.arn, versionId: "LATEST" },
    },
    cloudwatchLoggingOptions: { enabled: true, logGroupName: firehoseLogs.name, logStreamName: firehoseLogStream.name },
  },
});

/** Query results are disposable: kept a week. */
export const athenaResults = new sst.aws.Bucket("AthenaResults", {
  lifecycle: [{ id: "expire-results", expiresIn: `${config.lake.athenaResultsRetentionDays} days` }],
});

export const workgroup = new aws.athena.Workgroup("Analytics", {
  name: `wattflow-${$app.stage}`,
  forceDestroy: !config.production,
  configuration: {
    enforceWorkgroupConfiguration: true,
    publishCloudwatchMetricsEnabled: true,
    bytesScannedCutoffPerQuery: config.lake.athenaBytesScannedCutoff,
    engineVersion: { selectedEngineVersion: "Athena engine version 3" },
    resultConfiguration: {
      outputLocation: $interpolate`s3://${athenaResults.name}/results/`,
      encryptionConfiguration: { encryptionOption: "SSE_S3" },
    },
  },
});

/** The lake's views, then the KPI views built on them (Power BI reads these; docs/powerbi-athena.md). */
const views = (database: string) => [...LakeSchema.views(database), ...KpiViews.views(database)];

/** The KPI views, saved in the workgroup; run each once after the first deploy (docs/deploy.md). */
views("").forEach((view, index) => {
  new aws.athena.NamedQuery(`View${view.name.replace(/(^|_)([a-z])/g, (_match, _sep: string, letter: string) => letter.toUpperCase())}`, {
    name: view.name,
    description: view.description,
    workgroup: workgroup.name,
    database: glueDatabase.name,
    query: glueDatabase.name.apply((name) => views(name)[index]?.sql ?? ""),
  });
});

alarm("LakeDeliveryStale", {
  description: "Firehose has not delivered readings to S3 for longer than its buffer plus 15 minutes",
  namespace: "AWS/Firehose",
  metricName: "DeliveryToS3.DataFreshness",
  dimensions: { DeliveryStreamName: deliveryStream.name },
  statistic: "Maximum",
  threshold: config.lake.bufferingIntervalSeconds + 15 * 60,
});

alarm("LakeConversionFailures", {
  description: "Firehose could not convert readings to Parquet; they are under errors/ in the lake bucket",
  namespace: "AWS/Firehose",
  metricName: "FailedConversion.Records",
  dimensions: { DeliveryStreamName: deliveryStream.name },
  statistic: "Sum",
  threshold: 1,
});
