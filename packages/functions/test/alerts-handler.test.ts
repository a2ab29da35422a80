import { Alert } from "@wattflow/core/alert";
import { Device } from "@wattflow/core/device";
import type { Context } from "aws-lambda";
import { describe, expect, it } from "vitest";
import { handler } from "../src/alerts/index";
import { ids, usePipeline } from "./support";

const context = {
  functionName: "wattflow-production-AlertEvaluator",
  awsRequestId: "0b6c1f52-3c1e-4d7a-9d49-3a5c2e1f0a11",
  getRemainingTimeInMillis: () => 110_000,
} as Context;

describe("the scheduled alert evaluator", () => {
  usePipeline();

  it("raises a silent gateway's alert once, however often the schedule runs", async () => {
    await Alert.createRule({ organizationId: ids.organization, factoryId: ids.factory, kind: "gateway_silent", threshold: 15 });
    await Device.touch([ids.device], new Date(Date.now() - 60 * 60_000));

    const first = await handler({}, context);
    const second = await handler({}, context);

    expect(first).toEqual({ raised: 1 });
    expect(second).toEqual({ raised: 0 });
    const alerts = await Alert.list(ids.organization);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({ factoryId: ids.factory, kind: "gateway_silent" });
  });
});
