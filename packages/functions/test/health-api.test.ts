/**
 * GET /health tells the truth and tells it only to those who may know: the public answer is the
 * status alone; /v1/health (operator or admin) has each check's figures and thresholds.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { CloudWatchClient, GetMetricDataCommand, type GetMetricDataCommandOutput } from "@aws-sdk/client-cloudwatch";
import { RawArchive } from "@wattflow/core/archive";
import { LocalArchive } from "@wattflow/core/archive/local";
import { Auth } from "@wattflow/core/auth";
import { health as thresholds } from "@wattflow/core/config";
import { Health } from "@wattflow/core/health";
import { registerLambdaChecks } from "@wattflow/core/health/aws";
import { Ingest } from "@wattflow/core/ingest";
import { Quarantine } from "@wattflow/core/quarantine";
import { Testing } from "@wattflow/core/testing";
import { mockClient } from "aws-sdk-client-mock";
import { sql } from "drizzle-orm";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { app } from "../src/api/app";
import { handler } from "../src/ingest/consumer";
import { drainToEvent, ids, type Pipeline, pipeline, reading } from "./support";

const metricData = JSON.parse(readFileSync(new URL("./events/cloudwatch/get-metric-data.json", import.meta.url), "utf8")) as {
  MetricDataResults: { Id: string; Label: string; Timestamps: string[]; Values: number[]; StatusCode: "Complete" }[];
};

const device = { id: ids.device, organizationId: ids.organization, factoryId: ids.factory };

describe("health", () => {
  let p: Pipeline;
  let archiveDir: { path: string; remove(): void };
  let viewerToken: string;
  beforeEach(async () => {
    p = await pipeline();
    archiveDir = Testing.temporaryDir();
    RawArchive.provide(new LocalArchive(join(archiveDir.path, "archive")));
    viewerToken = (await Auth.createToken({ organizationId: ids.organization, name: "v", role: "viewer" })).token;
    Health.clear();
    // Locally the backlog comes from the poller; here a caught-up shard.
    Health.registerPipeline({ backlog: async () => [{ shardId: "shardId-000000000000", behind: 0, oldestAgeMs: 0 }] });
  });
  afterEach(async () => {
    Health.clear();
    RawArchive.provide(undefined);
    archiveDir.remove();
    await p.close();
  });

  const details = (token: string) => app.request("/v1/health", { headers: { authorization: `Bearer ${token}` } });

  it("answers the public the status alone, and an admin every check's figures", async () => {
    const open = await app.request("/health");
    const admin = await details(p.apiToken);

    expect([open.status, await open.json()]).toEqual([200, { status: "ok" }]);
    expect(admin.status).toBe(200);
    const report = (await admin.json()) as Health.Report;
    expect(Object.keys(report.components).sort()).toEqual(["archive", "quarantine", "stream", "undelivered"]);
    expect(report.components.undelivered?.detail).toEqual({ readings: 0, oldestAgeSeconds: 0, thresholdSeconds: thresholds.undeliveredMaxAgeSeconds });
  });

  it("gives details to no one without an operator or admin token", async () => {
    expect((await app.request("/v1/health")).status).toBe(401);
    expect((await details(viewerToken)).status).toBe(403);
  });

  it("is degraded while a stored reading waits for the lake longer than the threshold, and says how many", async () => {
    await Ingest.submit(device, { readings: [reading(0, "2026-11-27T18:00:00Z", 4.5)] });
    // Stored, never delivered (a lake outage), 10 minutes ago: older than the threshold (2 sweeps + 60 s = 120 s).
    await handler(await drainToEvent(p.log));
    await p.database.db.execute(sql`update reading set lake_delivered_at = null, stored_at = now() - interval '10 minutes'`);

    const open = await app.request("/health");
    const report = (await (await details(p.apiToken)).json()) as Health.Report;

    expect([open.status, await open.json()]).toEqual([503, { status: "degraded" }]);
    expect(report.components.undelivered?.ok).toBe(false);
    const undelivered = report.components.undelivered?.detail as { readings: number; oldestAgeSeconds: number };
    expect(undelivered.readings).toBe(1);
    expect(undelivered.oldestAgeSeconds).toBeGreaterThanOrEqual(600);
  });

  it("is degraded when more records were quarantined in the last hour than the threshold", async () => {
    const one = { source: "consumer" as const, reason: "invalid record", errors: [], data: Buffer.from("x") };
    await Quarantine.add(Array.from({ length: thresholds.quarantinedPerHour }, () => one));
    const atThreshold = await app.request("/health");
    await Quarantine.add([one]);
    const past = (await (await details(p.apiToken)).json()) as Health.Report;

    expect(atThreshold.status).toBe(200);
    expect([past.status, past.components.quarantine?.detail]).toEqual([
      "degraded",
      { lastHour: thresholds.quarantinedPerHour + 1, threshold: thresholds.quarantinedPerHour },
    ]);
  });

  it("on AWS reads each shard's iterator age from CloudWatch and names the shard that falls behind", async () => {
    const cloudWatch = mockClient(CloudWatchClient);
    const answer: GetMetricDataCommandOutput = {
      $metadata: { httpStatusCode: 200 },
      MetricDataResults: metricData.MetricDataResults.map((result) => ({ ...result, Timestamps: result.Timestamps.map((time) => new Date(time)) })),
    };
    cloudWatch.on(GetMetricDataCommand).resolves(answer);
    registerLambdaChecks({ READINGS_STREAM_NAME: "wattflow-production-ReadingsStream-bmkfdwca", WATTFLOW_CONSUMER_FUNCTION: "wattflow-production-Consumer" });

    const report = (await (await details(p.apiToken)).json()) as Health.Report;
    cloudWatch.restore();

    // The newest datapoint of each series (ScanBy TimestampDescending): shard 1 at 95 s is past the 60 s threshold.
    expect(report.components.stream).toEqual({
      ok: false,
      detail: {
        oldestAgeMs: 95_000,
        thresholdMs: thresholds.streamMaxAgeMs,
        shards: [
          { shardId: "shardId-000000000000", oldestAgeMs: 1200 },
          { shardId: "shardId-000000000001", oldestAgeMs: 95_000 },
          { shardId: "(consumer)", oldestAgeMs: 94_100 },
        ],
      },
    });
    expect(report.components.database).toEqual({ ok: true });
    const query = cloudWatch.commandCalls(GetMetricDataCommand)[0]?.args[0].input;
    expect(query?.MetricDataQueries?.[0]?.Expression).toContain('StreamName="wattflow-production-ReadingsStream-bmkfdwca"');
  });
});
