import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { eq } from "drizzle-orm";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { Alert } from "../src/alert";
import { WebhookAddress } from "../src/alert/address";
import { alertRuleTable, alertTable } from "../src/alert/alert.sql";
import { ChannelNotifier } from "../src/alert/notify";
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
      // ::ffff:0:7f00:1 carries 127.0.0.1 for a SIIT translator; 2001:0:…:80ff:fffe is a Teredo address (RFC 4380).
      "::ffff:0:7f00:1": "reserved (IPv4-translated)",
      "2001:0:4136:e378:8000:63bf:80ff:fffe": "reserved (Teredo)",
    };
    for (const [address, kind] of Object.entries(refused)) expect([address, WebhookAddress.refusal(address)]).toEqual([address, kind]);
    // Just outside the ranges: 100.128/10 is past CGNAT, 172.32 past 172.16/12, 11.x past 10/8, 2001:4860::/32 past Teredo.
    for (const address of ["8.8.8.8", "100.128.0.1", "172.32.0.1", "11.0.0.1", "2606:4700:4700::1111", "2001:4860:4860::8888"])
      expect(WebhookAddress.refusal(address)).toBeUndefined();
  });

  it("reads the host of a URL as WHATWG normalizes it, so decimal and hex IPv4 forms are caught", () => {
    expect(WebhookAddress.urlRefusal("http://2130706433:8080/hook")).toBe("127.0.0.1 is a loopback address");
    expect(WebhookAddress.urlRefusal("http://0x7f.1/hook")).toBe("127.0.0.1 is a loopback address");
    expect(WebhookAddress.urlRefusal("http://[::ffff:127.0.0.1]/hook")).toBe("[::ffff:7f00:1] is a loopback address");
    expect(WebhookAddress.urlRefusal("http://api.localhost/hook")).toBe("api.localhost is a loopback name");
    expect(WebhookAddress.urlRefusal("http://0.0.0.0/hook")).toBe("0.0.0.0 is an unspecified address");
    expect(WebhookAddress.urlRefusal("https://hooks.example.com/x")).toBeUndefined();
  });

  it("refuses names that are internal by definition, with or without a trailing dot, in any case", () => {
    const refused = {
      "http://metadata.google.internal/computeMetadata/v1/": "metadata.google.internal is an internal name (*.internal)",
      "http://METADATA.Google.Internal./x": "metadata.google.internal is an internal name (*.internal)",
      "http://ip-10-0-0-1.ec2.internal/": "ip-10-0-0-1.ec2.internal is an internal name (*.internal)",
      "http://localhost./": "localhost is a loopback name",
      "http://api.svc.cluster.local:8080/": "api.svc.cluster.local is an internal name (*.local)",
      "http://router.home.arpa/": "router.home.arpa is an internal name (*.home.arpa)",
      "http://nas.lan/": "nas.lan is an internal name (*.lan)",
      "http://box.localdomain/": "box.localdomain is an internal name (*.localdomain)",
      // One label: the resolver's search list completes it (GCE answers `metadata` itself).
      "http://metadata/computeMetadata/v1/": "metadata is a single-label name, which the resolver completes inside our own network",
      "http://instance-data./latest/": "instance-data is a single-label name, which the resolver completes inside our own network",
      // RFC 1035: 64 characters in one label, or 4 labels of 63 (4 × 63 + 3 dots = 255) in all, is no DNS name.
      [`https://${"a".repeat(64)}.example.com/`]: "the host name has a label of 64 characters; a DNS label has at most 63",
      [`https://${Array(4).fill("b".repeat(63)).join(".")}/`]: "the host name is 255 characters long; a DNS name has at most 253",
    };
    for (const [url, message] of Object.entries(refused)) expect([url, WebhookAddress.urlRefusal(url)]).toEqual([url, message]);
    // Names that only end like an internal suffix are public: "internal.example.com", "mylocal.com".
    for (const url of [
      "https://internal.example.com/x",
      "https://mylocal.com/",
      "https://hooks.slack.com/services/T0/B0/x",
      `https://${"c".repeat(63)}.example.com/`,
    ])
      expect(WebhookAddress.urlRefusal(url)).toBeUndefined();
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
    Alert.provideNotifier(undefined);
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
      "http://localhost./",
      "http://metadata.google.internal/computeMetadata/v1/",
      "http://metadata/computeMetadata/v1/",
    ]) {
      const attempt = Promise.resolve().then(() =>
        Alert.createRule({ organizationId: "org_hook", factoryId, kind: "gateway_silent", threshold: 15, channels: [{ type: "webhook", url }] }),
      );
      await expect(attempt, url).rejects.toMatchObject({ kind: "input", problems: [{ path: "channels.0.url" }] });
    }
    expect(await database.db.select().from(alertRuleTable)).toEqual([]);
  });

  it("refuses a stored rule whose host is internal by definition before any lookup, naming the channel and why", async () => {
    // Prepare: rules stored before the name check existed; a resolver that would answer our own server.
    const { resolve, asked } = Testing.answeringResolver("127.0.0.1");
    Alert.provideNotifier(new ChannelNotifier({ resolve }));
    const local = await storedRule(`http://localhost:${port}/hook`);
    const metadata = await storedRule(`http://metadata.google.internal:${port}/computeMetadata/v1/`);

    await Alert.evaluate(factoryId, now);

    expect(received).toBe(0);
    expect(asked).toEqual([]);
    expect(await deliveryError(local)).toBe("webhook localhost: refused: localhost is a loopback name");
    expect(await deliveryError(metadata)).toBe("webhook metadata.google.internal: refused: metadata.google.internal is an internal name (*.internal)");
  });

  it.each([
    // A public name whose DNS answers loopback, the metadata address as IPv4-mapped IPv6, or one private address among public ones.
    [[{ address: "127.0.0.1", family: 4 }], "a loopback address"],
    [[{ address: "::ffff:169.254.169.254", family: 6 }], "a link-local address"],
    [
      [
        { address: "93.184.215.14", family: 4 },
        { address: "10.0.0.5", family: 4 },
      ],
      "a private address",
    ],
    [[{ address: "fd00::1", family: 6 }], "a private (ULA) address"],
    [[{ address: "0.0.0.0", family: 4 }], "an unspecified address"],
  ])("checks every address a public name resolves to at delivery: %j is refused as %s and never connected to", async (addresses, kind) => {
    Alert.provideNotifier(new ChannelNotifier({ resolve: async () => addresses }));
    const ruleId = await storedRule(`http://hooks.example.com:${port}/hook`);

    await Alert.evaluate(factoryId, now);

    expect(received).toBe(0);
    expect(await deliveryError(ruleId)).toBe(`webhook hooks.example.com: refused: hooks.example.com resolves to ${kind}`);
  });

  it("connects to the address the checked lookup answered, not to a second answer of the system resolver", async () => {
    // Prepare: private targets allowed so the test's loopback server may be reached; hooks.example.com is public in
    // the system's DNS, so a request that reaches 127.0.0.1 went to the address this resolver answered.
    process.env.WATTFLOW_WEBHOOK_ALLOW_PRIVATE = "1";
    let lookups = 0;
    Alert.provideNotifier(
      new ChannelNotifier({
        resolve: async () => {
          lookups++;
          return [{ address: "127.0.0.1", family: 4 }];
        },
      }),
    );
    const ruleId = await storedRule(`http://hooks.example.com:${port}/hook`);

    await Alert.evaluate(factoryId, now);

    expect([received, lookups]).toEqual([1, 1]);
    expect(await deliveryError(ruleId)).toBeNull();
  });

  it("does not follow a redirect: a 3xx is a failed delivery and its Location is never called", async () => {
    // Prepare: private targets allowed (both servers are on loopback); the first answers 302 to the second.
    process.env.WATTFLOW_WEBHOOK_ALLOW_PRIVATE = "1";
    let followed = 0;
    const target = createServer((request, response) => {
      followed++;
      request.resume();
      response.writeHead(204).end();
    });
    await new Promise<void>((resolve) => target.listen(0, "127.0.0.1", resolve));
    const redirector = createServer((request, response) => {
      received++;
      request.resume();
      response.writeHead(302, { location: `http://127.0.0.1:${(target.address() as AddressInfo).port}/meta-data/` }).end();
    });
    await new Promise<void>((resolve) => redirector.listen(0, "127.0.0.1", resolve));
    const ruleId = await storedRule(`http://127.0.0.1:${(redirector.address() as AddressInfo).port}/hook`);

    await Alert.evaluate(factoryId, now);
    await Promise.all([target, redirector].map((server) => new Promise<void>((resolve) => server.close(() => resolve()))));

    expect([received, followed]).toEqual([1, 0]);
    expect(await deliveryError(ruleId)).toBe("webhook 127.0.0.1: failed (HTTP 302)");
  });

  it("stores 'failed' without the port or the socket error when a private target is allowed but closed", async () => {
    process.env.WATTFLOW_WEBHOOK_ALLOW_PRIVATE = "1";
    const closed = await Testing.freePort();
    const ruleId = await storedRule(`http://127.0.0.1:${closed}/hook`);
    await Alert.evaluate(factoryId, now);
    const error = await deliveryError(ruleId);
    // The channel is named by the host the organization wrote; nothing of the socket's answer is kept.
    expect(error).toBe("webhook 127.0.0.1: failed");
    expect(error).not.toMatch(/ECONNREFUSED|\d{4,5}/);
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
