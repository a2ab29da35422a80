/**
 * The stream backlog on AWS, from CloudWatch: per shard, Kinesis' IteratorAgeMilliseconds (how old
 * the record the consumer's GetRecords reached is; shard-level metric enabled in stacks/stream.ts),
 * and the consumer function's IteratorAge (Lambda: arrival to invocation of the last record of a
 * batch). The client is created on first use.
 */
import { CloudWatchClient, GetMetricDataCommand, type MetricDataResult } from "@aws-sdk/client-cloudwatch";
import { sql } from "drizzle-orm";
import { Database } from "../database";
import { Health, type ShardBacklog } from "./index";

export type BacklogSource = { streamName: string; consumerFunction: string; client?: CloudWatchClient };

/** Metrics of the last this many minutes; CloudWatch publishes Lambda and Kinesis metrics each minute. */
const windowMinutes = 5;

let shared: CloudWatchClient | undefined;

function cloudWatch(): CloudWatchClient {
  shared ??= new CloudWatchClient({});
  return shared;
}

/**
 * Per-shard backlog from one GetMetricData call: the newest maximum of each shard's
 * IteratorAgeMilliseconds (labelled by ShardId through a SEARCH expression), and the consumer's
 * IteratorAge as the `(consumer)` row. No datapoint in the window means nothing waited: age 0.
 */
export async function cloudWatchBacklog(source: BacklogSource, now = new Date()): Promise<ShardBacklog[]> {
  const client = source.client ?? cloudWatch();
  const answer = await client.send(
    new GetMetricDataCommand({
      StartTime: new Date(now.getTime() - windowMinutes * 60_000),
      EndTime: now,
      ScanBy: "TimestampDescending",
      MetricDataQueries: [
        {
          Id: "shards",
          Expression: `SEARCH('{AWS/Kinesis,ShardId,StreamName} MetricName="IteratorAgeMilliseconds" StreamName="${source.streamName}"', 'Maximum', 60)`,
          ReturnData: true,
        },
        {
          Id: "consumer",
          MetricStat: {
            Metric: { Namespace: "AWS/Lambda", MetricName: "IteratorAge", Dimensions: [{ Name: "FunctionName", Value: source.consumerFunction }] },
            Period: 60,
            Stat: "Maximum",
          },
          ReturnData: true,
        },
      ],
    }),
  );
  const newest = (result: MetricDataResult) => result.Values?.[0] ?? 0;
  return (answer.MetricDataResults ?? []).map((result) => ({
    // A SEARCH result's label holds its dimension values: the shard id among them.
    shardId: result.Id === "consumer" ? "(consumer)" : (/shardId-\d+/.exec(result.Label ?? "")?.[0] ?? result.Label ?? "?"),
    oldestAgeMs: newest(result),
  }));
}

/**
 * The checks the API Lambda reports: the database answers, and the pipeline's checks with the
 * backlog from CloudWatch (READINGS_STREAM_NAME and WATTFLOW_CONSUMER_FUNCTION, set by stacks/api.ts;
 * the raw archive is WATTFLOW_ARCHIVE_BUCKET). A variable not set makes its check fail, saying which.
 */
export function registerLambdaChecks(env: NodeJS.ProcessEnv = process.env): void {
  Health.clear();
  Health.register("database", async () => {
    await Database.use().execute(sql`select 1`);
    return { ok: true };
  });
  Health.registerPipeline({
    backlog: () => {
      const streamName = env.READINGS_STREAM_NAME;
      const consumerFunction = env.WATTFLOW_CONSUMER_FUNCTION;
      if (!streamName || !consumerFunction) throw new Error("READINGS_STREAM_NAME and WATTFLOW_CONSUMER_FUNCTION must be set to read the backlog");
      return cloudWatchBacklog({ streamName, consumerFunction });
    },
  });
}
