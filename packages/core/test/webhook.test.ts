import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { eq } from "drizzle-orm";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { Alert } from "../src/alert";
import { WebhookAddress } from "../src/alert/address";
import { alertRuleTable, alertTable } from "../src/alert/alert.sql";
import { deviceTable } from "../src/device/device.sql";
import { factoryTable } from "../src/factory/factory.sql";
import { organizationTable } from "../src/organization/organization.sql";
import { Testing } from "../src/testing";

describe("webhook addresses", () => {
  it("refuses loopback, private, CGNAT, link-local (metadata), unspecified, multicast and mapped forms; lets public ones through", () => {
    const refused = {
      "127.0.0.1": "loopback",
      "127.8.9.10": "loopback",
      "::1": "loopback",
      "[::1]": "loopback",
      "::ffff:7f00:1": "loopback",
      "10.1.2.3": "private",
      "172.31.255.255": "private",
      "192.168.0.10": "private",
      "100.64.0.1": "private (CGNAT)",
      "100.127.255.254": "private (CGNAT)",
      "fd12:3456::1": "private (ULA)",
      "169.254.169.254": "link-local",
      "fe80::1": "link-local",
      "0.0.0.0": "unspecified",
      "::": "unspecified",
      "224.0.0.251": "multicast",
      "ff02::1": "multicast",
      "255.255.255.255": "reserved",
    };
    for (const [address, kind] of Object.entries(refused)) expect([address, WebhookAddress.refusal(address)]).toEqual([address, kind]);
    // Just outside the ranges: 100.128/10 is past CGNAT, 172.32 past 172.16/12, 11.x past 10/8.
    for (const address of ["8.8.8.8", "100.128.0.1", "172.32.0.1", "11.0.0.1", "2606:4700:4700::1111"]) expect(WebhookAddress.refusal(address)).toBeUndefined();
  });

  it("reads the host of a URL as WHATWG normalizes it, so decimal and hex IPv4 forms are caught", () => {
    expect(WebhookAddress.urlRefusal("http://2130706433:8080/hook")).toBe("127.0.0.1 is a loopback address");
    expect(WebhookAddress.urlRefusal("http://0x7f.1/hook")).toBe("127.0.0.1 is a loopback address");
    expect(WebhookAddress.urlRefusal("http://[::ffff:127.0.0.1]/hook")).toBe("[::ffff:7f00:1] is a loopback address");
    expect(WebhookAddress.urlRefusal("http://api.localhost/hook")).toBe("api.localhost is a loopback name");
    expect(WebhookAddress.urlRefusal("http://0.0.0.0/hook")).toBe("0.0.0.0 is an unspecified address");
    expect(WebhookAddress.urlRefusal("https://hooks.example.com/x")).toBeUndefined();
  });
});

describe("webhook delivery", () => {
  let database: Awaited<ReturnType<typeof Testing.database>>;
  let server: Server;
  let port: number;
  let received = 0;
  const factoryId = "fac_hook";
  const now = new Date("2026-03-10T19:00:00Z");

  beforeAll(async () => {
    database = await Testing.database();
    await database.db.insert(organizationTable).values({ id: "org_hook", name: "Hooks" });
    await database.db
      .insert(factoryTable)
      .values({ id: factoryId, organizationId: "org_hook", name: "Plant", timeZone: "America/Mexico_City", tariffCode: "flat" });
    // Silent for an hour: a gateway_silent rule at 15 minutes raises one alert, with no time series needed.
    await database.db
      .insert(deviceTable)
      .values({ id: "dev_hook", organizationId: "org_hook", factoryId, name: "gw", tokenHash: "h", lastSeenAt: new Date(now.getTime() - 3_600_000) });
    server = createServer((request, response) => {
      received++;
      request.resume();
      response.writeHead(204).end();
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterEach(async () => {
    delete process.env.WATTFLOW_WEBHOOK_ALLOW_PRIVATE;
    await database.db.delete(alertRuleTable);
    received = 0;
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await database.close();
  });

  /** A rule stored as if its name had resolved to a public address when it was saved (the DNS rebinding case). */
  async function storedRule(url: string): Promise<string> {
    const id = `alr_${Math.random().toString(36).slice(2)}`;
    await database.db
      .insert(alertRuleTable)
      .values({ id, organizationId: "org_hook", factoryId, kind: "gateway_silent", threshold: 15, channels: [{ type: "webhook", url }] });
    return id;
  }

  async function deliveryError(ruleId: string): Promise<string | null | undefined> {
    const [row] = await database.db.select().from(alertTable).where(eq(alertTable.ruleId, ruleId));
    return row?.deliveryError;
  }

  it("refuses a rule whose webhook is a loopback, private or metadata literal, naming the channel's path", async () => {
    for (const url of [
      `http://127.0.0.1:${port}/hook`,
      "http://169.254.169.254/latest/meta-data/",
      "http://10.0.0.5/",
      "http://[::1]/",
      "http://localhost:5432/",
    ]) {
      const attempt = Promise.resolve().then(() =>
        Alert.createRule({ organizationId: "org_hook", factoryId, kind: "gateway_silent", threshold: 15, channels: [{ type: "webhook", url }] }),
      );
      await expect(attempt, url).rejects.toMatchObject({ kind: "input", problems: [{ path: "channels.0.url" }] });
    }
    expect(await database.db.select().from(alertRuleTable)).toEqual([]);
  });

  it("checks the address a name resolves to at delivery: localhost is never called, and the error says only 'refused'", async () => {
    const ruleId = await storedRule(`http://localhost:${port}/hook`);
    await Alert.evaluate(factoryId, now);
    expect(received).toBe(0);
    expect(await deliveryError(ruleId)).toBe("webhook: refused: the host is not a public address");
  });

  it("stores 'failed' without the address or the socket error when a private target is allowed but closed", async () => {
    process.env.WATTFLOW_WEBHOOK_ALLOW_PRIVATE = "1";
    const closed = await Testing.freePort();
    const ruleId = await storedRule(`http://127.0.0.1:${closed}/hook`);
    await Alert.evaluate(factoryId, now);
    const error = await deliveryError(ruleId);
    expect(error).toBe("webhook: failed");
    expect(error).not.toMatch(/ECONNREFUSED|127\.0\.0\.1|\d{4,5}/);
  });

  it("delivers to a private target only with WATTFLOW_WEBHOOK_ALLOW_PRIVATE=1 (a developer's own machine)", async () => {
    process.env.WATTFLOW_WEBHOOK_ALLOW_PRIVATE = "1";
    const rule = await Alert.createRule({
      organizationId: "org_hook",
      factoryId,
      kind: "gateway_silent",
      threshold: 15,
      channels: [{ type: "webhook", url: `http://127.0.0.1:${port}/hook` }],
    });
    await Alert.evaluate(factoryId, now);
    expect(received).toBe(1);
    expect(await deliveryError(rule.id)).toBeNull();
  });
});
