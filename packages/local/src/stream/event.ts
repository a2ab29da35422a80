import type { KinesisStreamEvent, KinesisStreamRecord } from "aws-lambda";
import type { LogRecord } from "./log";

/** The Kinesis event Lambda's event source mapping delivers for `records` of stream `streamName`. */
export function kinesisEvent(records: readonly LogRecord[], options: { streamName: string; region?: string; accountId?: string }): KinesisStreamEvent {
  const region = options.region ?? "us-east-1";
  const account = options.accountId ?? "000000000000";
  const arn = `arn:aws:kinesis:${region}:${account}:stream/${options.streamName}`;
  return {
    Records: records.map(
      (record): KinesisStreamRecord => ({
        kinesis: {
          kinesisSchemaVersion: "1.0",
          partitionKey: record.partitionKey,
          sequenceNumber: record.sequenceNumber,
          data: record.data.toString("base64"),
          approximateArrivalTimestamp: record.arrivalMs / 1000,
        },
        eventSource: "aws:kinesis",
        eventVersion: "1.0",
        eventID: `${record.shardId}:${record.sequenceNumber}`,
        eventName: "aws:kinesis:record",
        invokeIdentityArn: `arn:aws:iam::${account}:role/local-consumer`,
        awsRegion: region,
        eventSourceARN: arn,
      }),
    ),
  };
}
