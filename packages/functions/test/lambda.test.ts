import type { Context } from "aws-lambda";
import { afterEach, beforeEach, describe, expect, it } from "vitest";

/** The context Lambda passes a Node.js handler. */
const context: Context = {
  callbackWaitsForEmptyEventLoop: true,
  functionName: "wattflow-production-ApiFunction-kmsnqbvd",
  functionVersion: "$LATEST",
  invokedFunctionArn: "arn:aws:lambda:us-east-1:123456789012:function:wattflow-production-ApiFunction-kmsnqbvd",
  memoryLimitInMB: "1024",
  awsRequestId: "2c4b0f0e-8a53-4c8b-9a8e-6f1d2b7c9e10",
  logGroupName: "/aws/lambda/wattflow-production-ApiFunction-kmsnqbvd",
  logStreamName: "2026/11/28/[$LATEST]0123456789abcdef0123456789abcdef",
  getRemainingTimeInMillis: () => 29_000,
  done: () => {},
  fail: () => {},
  succeed: () => {},
};

/** What SST's runtime exposes for the links of stacks/api.ts (normally decrypted from resource.enc). */
const links = {
  SST_RESOURCE_App: JSON.stringify({ name: "wattflow", stage: "production" }),
  SST_RESOURCE_Database: JSON.stringify({
    host: "wattflow-production-databasecluster.cluster-c9akciq32.us-east-1.rds.amazonaws.com",
    port: 5432,
    username: "postgres",
    password: "p@ss/w:rd#1",
    database: "wattflow",
  }),
  SST_RESOURCE_RecordKey: JSON.stringify({ value: "c2VjcmV0LXJlY29yZC1rZXk=" }),
  SST_RESOURCE_SentryDsn: JSON.stringify({ value: "" }),
};

describe("the shared Lambda runtime", () => {
  const saved = { ...process.env };
  beforeEach(() => {
    for (const name of ["DATABASE_URL", "WATTFLOW_RECORD_KEY", "AWS_LAMBDA_FUNCTION_NAME"]) delete process.env[name];
  });
  afterEach(() => {
    process.env = { ...saved };
  });

  it("outside Lambda calls the handler as it is and reads no links", async () => {
    const { lambda } = await import("../src/lambda");
    const handler = lambda("api", async (event: { n: number }) => ({ n: event.n + 1, url: process.env.DATABASE_URL }));

    expect(await handler({ n: 1 })).toEqual({ n: 2, url: undefined });
  });

  it("in Lambda builds DATABASE_URL and the record key from the links before the handler runs", async () => {
    Object.assign(process.env, links, { AWS_LAMBDA_FUNCTION_NAME: context.functionName });
    const { lambda } = await import("../src/lambda");
    const handler = lambda("api", async () => ({ url: process.env.DATABASE_URL, recordKey: process.env.WATTFLOW_RECORD_KEY }));

    const result = await handler({}, context);

    const url = new URL(result.url ?? "");
    expect(decodeURIComponent(url.password)).toBe("p@ss/w:rd#1");
    expect([url.hostname, url.port, url.pathname, url.searchParams.get("sslmode")]).toEqual([
      "wattflow-production-databasecluster.cluster-c9akciq32.us-east-1.rds.amazonaws.com",
      "5432",
      "/wattflow",
      "no-verify",
    ]);
    expect(result.recordKey).toBe("c2VjcmV0LXJlY29yZC1rZXk=");
  });

  it("rethrows what the handler throws, after logging it", async () => {
    Object.assign(process.env, links, { AWS_LAMBDA_FUNCTION_NAME: context.functionName });
    const { lambda } = await import("../src/lambda");
    const handler = lambda("api", async () => {
      throw new Error("database unreachable");
    });

    await expect(handler({}, context)).rejects.toThrow("database unreachable");
  });
});
