/**
 * Alert webhooks through the public doors: a rule whose webhook names an internal host is a 400 at its field path;
 * a rule to a public name is saved, and when that name answers an internal address at delivery (DNS rebinding) the
 * alert's delivery error says which channel and why, the test's server is never called, and the other rule's alert
 * is still delivered.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { SNSClient } from "@aws-sdk/client-sns";
import { Alert } from "@wattflow/core/alert";
import { ChannelNotifier } from "@wattflow/core/alert/notify";
import { Device } from "@wattflow/core/device";
import { Testing } from "@wattflow/core/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { app } from "../src/api/app";
import { ids, usePipeline } from "./support";

const send = (method: string, path: string, token: string, body?: unknown) =>
  app.request(path, {
    method,
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
const webhookRule = (url: string) => ({ factoryId: ids.factory, kind: "gateway_silent", threshold: 15, channels: [{ type: "webhook", url }] });

/** A loopback HTTP server answering `status` with `body`, counting the requests it received. */
async function listen(status: number, type: string, body: string): Promise<{ server: Server; url: string; count(): number }> {
  let received = 0;
  const server = createServer((request, response) => {
    received++;
    request.resume();
    response.writeHead(status, { "content-type": type }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, count: () => received };
}

describe("alert webhooks reach public addresses only, through the API", () => {
  const p = usePipeline("pglite");
  let hook: Awaited<ReturnType<typeof listen>>;
  let sns: Awaited<ReturnType<typeof listen>>;

  beforeAll(async () => {
    hook = await listen(204, "text/plain", "");
    sns = await listen(
      200,
      "text/xml",
      '<PublishResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><PublishResult><MessageId>94f20ce6-13c5-43a0-9a9e-ca52d816e90b</MessageId></PublishResult><ResponseMetadata><RequestId>f187a3c1-376f-11df-8963-01868b7c937a</RequestId></ResponseMetadata></PublishResponse>',
    );
  });
  afterAll(async () => {
    Alert.provideNotifier(undefined);
    await Promise.all([hook, sns].map(({ server }) => new Promise<void>((resolve) => server.close(() => resolve()))));
  });

  it("POST /v1/alerts/rules with a webhook to an internal name or address is a 400 at channels.0.url, and nothing is saved", async () => {
    const cases: [string, string][] = [
      ["https://metadata.google.internal/computeMetadata/v1/", "metadata.google.internal is an internal name (*.internal)"],
      ["http://localhost./hook", "localhost is a loopback name"],
      ["http://api.svc.cluster.local/hook", "api.svc.cluster.local is an internal name (*.local)"],
      ["http://metadata/computeMetadata/v1/", "metadata is a single-label name, which the resolver completes inside our own network"],
      ["http://169.254.169.254/latest/meta-data/", "169.254.169.254 is a link-local address"],
    ];

    for (const [url, why] of cases) {
      const answer = await send("POST", "/v1/alerts/rules", p.apiToken, webhookRule(url));
      expect([url, answer.status]).toEqual([url, 400]);
      expect(await answer.json()).toMatchObject({ errors: [{ path: "channels.0.url", message: `url must reach a public address: ${why}` }] });
    }
    expect(await Alert.listRules(ids.organization)).toEqual([]);
  });

  it("POST /v1/alerts/rules with a file: or ftp: URL is one 400 saying it must be http(s), no second error about its host", async () => {
    for (const url of ["file:///etc/passwd", "ftp://files.example.com/hook"]) {
      const answer = await send("POST", "/v1/alerts/rules", p.apiToken, webhookRule(url));

      expect([url, answer.status]).toEqual([url, 400]);
      expect(((await answer.json()) as { errors: unknown }).errors).toEqual([{ path: "channels.0.url", message: "url must be an http(s) URL" }]);
    }
  });

  it("a public name that answers loopback at delivery is refused as the alert's delivery error; the other rule's alert is delivered", async () => {
    // Prepare: the name resolves to the test's own server (127.0.0.1) when the alert is sent; SNS goes to a local endpoint.
    const { resolve, asked } = Testing.answeringResolver("127.0.0.1");
    Alert.provideNotifier(
      new ChannelNotifier({
        resolve,
        sns: new SNSClient({ region: "us-east-1", endpoint: sns.url, credentials: { accessKeyId: "AKIATEST", secretAccessKey: "secret" } }),
      }),
    );
    const port = (hook.server.address() as AddressInfo).port;
    const saved = await send("POST", "/v1/alerts/rules", p.apiToken, webhookRule(`http://hooks.example.com:${port}/wattflow`));
    const topicArn = "arn:aws:sns:us-east-1:123456789012:wattflow-alerts";
    const other = await send("POST", "/v1/alerts/rules", p.apiToken, { ...webhookRule(""), channels: [{ type: "sns", topicArn }] });
    // The gateway was last heard from an hour ago: each gateway_silent rule (15 minutes) raises one alert.
    await Device.touch([ids.device], new Date(Date.now() - 60 * 60_000));

    const evaluated = await send("POST", "/v1/alerts/evaluate", p.apiToken, { factoryId: ids.factory });
    const listed = await send("GET", "/v1/alerts", p.apiToken);

    expect([saved.status, other.status, evaluated.status]).toEqual([201, 201, 200]);
    const savedRule = (await saved.json()) as { id: string };
    const alerts = ((await listed.json()) as { alerts: Alert.Item[] }).alerts;
    const byRule = Object.fromEntries(alerts.map((alert) => [alert.ruleId, alert]));
    expect(byRule[savedRule.id]).toMatchObject({
      deliveredAt: null,
      deliveryError: "webhook hooks.example.com: refused: hooks.example.com resolves to a loopback address",
    });
    expect(byRule[((await other.json()) as { id: string }).id]).toMatchObject({ deliveredAt: expect.any(String), deliveryError: null });
    expect([asked, hook.count(), sns.count()]).toEqual([["hooks.example.com"], 0, 1]);
  });
});
