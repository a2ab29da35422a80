import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { SESv2Client } from "@aws-sdk/client-sesv2";
import { SNSClient } from "@aws-sdk/client-sns";
import { eq, getTableName, type Table } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Alert } from "../src/alert";
import { alertTable } from "../src/alert/alert.sql";
import { ChannelNotifier } from "../src/alert/notify";
import { AlertRules } from "../src/alert/rules";
import { Database } from "../src/database";
import { deviceTable } from "../src/device/device.sql";
import { factoryTable } from "../src/factory/factory.sql";
import type { Lake } from "../src/lake";
import { organizationTable } from "../src/organization/organization.sql";
import type { Statement } from "../src/statement";
import { Testing } from "../src/testing";
import { TimeSeries } from "../src/timeseries";
import { LakeTimeSeries } from "../src/timeseries/local";
import { temporaryLake } from "./temporary-lake";

const zone = "America/Mexico_City";

function window(start: string, kwh: number, extra: Partial<TimeSeries.Window> = {}): TimeSeries.Window {
  const kvarh = extra.kvarh === undefined ? kwh / 4 : extra.kvarh;
  return { start: new Date(start), period: "base", kwh, kvarh, kwhWithKvarh: kvarh === null ? 0 : kwh, cost: (kwh * 2).toFixed(6), ...extra };
}

/** A quarter-hour of the bill's basis meters (Statement.Quarter): measured kWh, kVArh a quarter of it unless given. */
function quarter(start: string, kwh: number, extra: Partial<Statement.Quarter> = {}): Statement.Quarter {
  const kvarh = extra.kvarh === undefined ? kwh / 4 : extra.kvarh;
  return { start: new Date(start), measuredKwh: kwh, kvarh, kwhWithKvarh: kvarh === null ? 0 : kwh, ...extra };
}

function context(extra: Partial<AlertRules.BillContext>): AlertRules.BillContext {
  return {
    now: new Date("2026-03-10T20:01:00Z"),
    timeZone: zone,
    contractedDemandKw: 400,
    powerFactorThreshold: 0.9,
    quarters: [],
    windows: [],
    gateways: [],
    ...extra,
  };
}

describe("alert rules", () => {
  it("read the time series only as far back as each kind needs; the bill's rules read none", () => {
    const now = new Date("2026-03-10T20:01:00Z");

    expect(AlertRules.since("demand_near_contracted_punta", now)).toEqual(new Date("2026-03-10T19:01:00Z"));
    expect(AlertRules.since("daily_cost_anomaly", now)?.getTime()).toBeLessThanOrEqual(Date.parse("2026-02-08T06:00:00Z"));
    expect(AlertRules.since("gateway_silent", now)).toBeUndefined();
    // The peak and the power factor judge the statement's quarter-hours of the billing period (Context.quarters).
    expect(AlertRules.since("demand_near_peak", now)).toBeUndefined();
    expect(AlertRules.since("power_factor_low", now)).toBeUndefined();
  });

  it("demand near the billing period's peak fires on the latest complete quarter-hour only", () => {
    const quarters = [quarter("2026-03-02T18:00:00Z", 100), quarter("2026-03-10T19:30:00Z", 60), quarter("2026-03-10T19:45:00Z", 96)];

    const found = AlertRules.demandNearPeak(context({ quarters }), 0.95);
    const calm = AlertRules.demandNearPeak(context({ quarters: quarters.slice(0, 2) }), 0.95);
    const stale = AlertRules.demandNearPeak(context({ quarters, now: new Date("2026-03-10T21:00:00Z") }), 0.95);

    expect(found).toEqual([
      {
        dedupKey: "window:2026-03-10T19:45:00.000Z",
        message: expect.stringContaining("96 % of this billing period's peak"),
        // 96 kWh in 15 minutes = 384 kW against the earlier peak of 100 kWh = 400 kW: 0.96 of it.
        code: "demand_near_peak",
        params: { demandKw: 384, share: 0.96, peakKw: 400 },
        value: 384,
        limit: 380,
        at: new Date("2026-03-10T19:45:00Z"),
      },
    ]);
    expect(calm).toEqual([]);
    expect(stale).toEqual([]);
  });

  it("punta demand near the contracted demand fires only in punta", () => {
    const punta = [window("2026-03-11T01:00:00Z", 95, { period: "punta" })];
    const now = new Date("2026-03-11T01:16:00Z");

    expect(AlertRules.demandNearContractedInPunta(context({ windows: punta, now }), 0.9)).toHaveLength(1);
    expect(AlertRules.demandNearContractedInPunta(context({ windows: [{ ...(punta[0] as TimeSeries.Window), period: "base" }], now }), 0.9)).toEqual([]);
    expect(AlertRules.demandNearContractedInPunta(context({ windows: punta, now, contractedDemandKw: null }), 0.9)).toEqual([]);
  });

  it("power factor under the threshold today, once an hour of data says so", () => {
    const low = Array.from({ length: 4 }, (_, index) =>
      quarter(new Date(Date.parse("2026-03-10T18:00:00Z") + index * 900_000).toISOString(), 10, { kvarh: 8 }),
    );

    const found = AlertRules.powerFactorLow(context({ quarters: low }), 0.9);

    // 10 / √(10² + 8²) = 10 / 12.806 = 0.7809.
    expect(found).toMatchObject([{ dedupKey: "day:2026-03-10", value: 0.7809, limit: 0.9 }]);
    expect(AlertRules.powerFactorLow(context({ quarters: low.slice(0, 3) }), 0.9)).toEqual([]);
  });

  it("power factor follows the factory's CFE threshold unless the rule sets its own", () => {
    // Each window 10 kWh and 4 kVArh: PF = 10 / √(10² + 4²) = 10 / 10.770 = 0.9285 (rounded to 0.928 for the text).
    const quarters = Array.from({ length: 4 }, (_, index) =>
      quarter(new Date(Date.parse("2026-03-10T18:00:00Z") + index * 900_000).toISOString(), 10, { kvarh: 4 }),
    );

    // A 0.95 factory (high voltage, or ≥ 1 MW medium voltage, from the 2024 bills): the rule without a threshold alerts.
    const strict = AlertRules.evaluate("power_factor_low", null, context({ quarters, powerFactorThreshold: 0.95 }));
    // A 0.90 factory: 0.928 is no surcharge, no alert; with the rule's own 0.95 it alerts, saying both thresholds.
    const usual = AlertRules.evaluate("power_factor_low", null, context({ quarters, powerFactorThreshold: 0.9 }));
    const own = AlertRules.evaluate("power_factor_low", 0.95, context({ quarters, powerFactorThreshold: 0.9 }));

    expect(strict).toMatchObject([
      {
        code: "power_factor_low",
        params: { pf: 0.928, threshold: 0.95, cfeThreshold: 0.95 },
        message: "power factor today is 0.928, under 0.95: CFE surcharges this factory's bill below 0.95",
        value: 0.9285,
        limit: 0.95,
      },
    ]);
    expect(usual).toEqual([]);
    expect(own).toMatchObject([
      {
        code: "power_factor_low_rule",
        params: { pf: 0.928, threshold: 0.95, cfeThreshold: 0.9 },
        message: "power factor today is 0.928, under the rule's 0.95 (CFE surcharges this factory's bill below 0.9)",
        limit: 0.95,
      },
    ]);
  });

  it("power factor leaves out the kWh of meters without kVArh", () => {
    // Each window: 20 kWh, of which 8 from the meter that also measured 6 kVArh → 8 / √(8² + 6²) = 0.8.
    // Counting all 20 kWh would give 20 / √(20² + 6²) = 0.9578 and no alert.
    const mixed = Array.from({ length: 4 }, (_, index) =>
      quarter(new Date(Date.parse("2026-03-10T18:00:00Z") + index * 900_000).toISOString(), 20, { kvarh: 6, kwhWithKvarh: 8 }),
    );

    expect(AlertRules.powerFactorLow(context({ quarters: mixed }), 0.9)).toMatchObject([{ value: 0.8 }]);
  });

  it("a silent gateway alerts once per silence; a backlog that does not drain alerts by its oldest reading", () => {
    const gateways = [
      { id: "dev_1", name: "north", lastSeenAt: new Date("2026-03-10T19:30:00Z"), heartbeatAt: null, oldestUnsentSeconds: null },
      { id: "dev_2", name: "south", lastSeenAt: new Date("2026-03-10T20:00:30Z"), heartbeatAt: new Date("2026-03-10T20:00:30Z"), oldestUnsentSeconds: 3600 },
      { id: "dev_3", name: "new", lastSeenAt: null, heartbeatAt: null, oldestUnsentSeconds: null },
    ];

    // now 20:01; north last seen 19:30 → 31 minutes; south's oldest unsent reading 3,600 s before 20:00:30 → 19:00 (floored to the minute).
    expect(AlertRules.gatewaySilent(context({ gateways }), 15)).toMatchObject([
      {
        dedupKey: "silent:dev_1:2026-03-10T19:30:00.000Z",
        value: 31,
        code: "gateway_silent",
        params: { gateway: "north", minutes: 31, since: "2026-03-10T19:30:00.000Z" },
      },
    ]);
    expect(AlertRules.gatewayBacklog(context({ gateways }), 30)).toMatchObject([
      {
        dedupKey: "backlog:dev_2:2026-03-10T19:00:00.000Z",
        value: 60,
        code: "gateway_backlog",
        params: { gateway: "south", minutes: 60, since: "2026-03-10T19:00:00.000Z" },
      },
    ]);
    expect(AlertRules.gatewayBacklog(context({ gateways }), 90)).toEqual([]);
  });

  it("a day's cost far from the same weekday's norm alerts; a normal day does not", () => {
    // Mondays 2, 9 February and 16, 23 February at 100/window-day; Monday 9 March is yesterday (now is Tuesday 10 March).
    const day = (date: string, kwh: number) => window(`${date}T18:00:00Z`, kwh);
    const history = [day("2026-02-09", 50), day("2026-02-16", 50), day("2026-02-23", 50), day("2026-03-02", 50)];

    const high = AlertRules.dailyCostAnomaly(context({ windows: [...history, day("2026-03-09", 80)] }), 0.3);
    const normal = AlertRules.dailyCostAnomaly(context({ windows: [...history, day("2026-03-09", 55)] }), 0.3);

    // Yesterday 80 kWh × 2 = 160.00; the norm (4 × 50 kWh × 2) / 4 = 100.00; (160 − 100) / 100 = 0.6 above.
    expect(high).toMatchObject([
      {
        dedupKey: "day:2026-03-09",
        value: 160,
        limit: 100,
        at: new Date("2026-03-09T06:00:00Z"),
        code: "daily_cost_above",
        params: { day: "2026-03-09", cost: "160.00", share: 0.6, norm: "100.00" },
      },
    ]);
    expect(high[0]?.message).toMatch(/60 % above/);
    expect(normal).toEqual([]);
  });
});

type Received = { path: string; body: string; contentType: string | undefined };

async function listen(handler: (request: IncomingMessage, body: string) => { status: number; type: string; body: string }) {
  const received: Received[] = [];
  const server: Server = createServer((request, response) => {
    let body = "";
    request.on("data", (chunk) => {
      body += chunk;
    });
    request.on("end", () => {
      received.push({ path: request.url ?? "", body, contentType: request.headers["content-type"] });
      const answer = handler(request, body);
      response.writeHead(answer.status, { "content-type": answer.type }).end(answer.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    received,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe("alert evaluation, storage and delivery", () => {
  const { lake, remove: removeLake } = temporaryLake();
  let database: Awaited<ReturnType<typeof Testing.database>>;
  let webhook: Awaited<ReturnType<typeof listen>>;
  let sns: Awaited<ReturnType<typeof listen>>;
  let ses: Awaited<ReturnType<typeof listen>>;
  let webhookStatus = 500;
  const factoryId = "fac_alert";
  const now = new Date("2026-03-10T19:01:00Z");

  beforeAll(async () => {
    // The test's webhook server listens on loopback: the developer's-machine setting allows it.
    process.env.WATTFLOW_WEBHOOK_ALLOW_PRIVATE = "1";
    database = await Testing.database();
    await database.db.insert(organizationTable).values([
      { id: "org_alert", name: "A" },
      { id: "org_other", name: "B" },
    ]);
    await database.db
      .insert(factoryTable)
      .values({ id: factoryId, organizationId: "org_alert", name: "Plant", timeZone: zone, tariffCode: "flat", contractedDemandKw: "400" });
    await database.db
      .insert(deviceTable)
      .values({ id: "dev_alert", organizationId: "org_alert", factoryId, name: "gw-1", tokenHash: "h", lastSeenAt: new Date("2026-03-10T18:00:00Z") });
    const rows: Lake.Row[] = [];
    // Today from local midnight: 10 kWh per 5 minutes (120 kW); at 12:45 local a 90 kWh spike per reading (1,080 kW).
    for (let slot = 0; slot < 13 * 12; slot++) {
      const start = new Date(Date.parse("2026-03-10T06:00:00Z") + slot * 300_000);
      const kwh = start.toISOString() >= "2026-03-10T18:45:00.000Z" ? 90 : 10;
      rows.push(
        Testing.lakeRow({
          meterId: "mtr_alert",
          factoryId,
          deviceId: "dev_alert",
          intervalStart: start,
          kwh,
          kvarh: kwh,
          touPeriod: "intermedia",
          tariffId: "trf",
          unitPrice: "1.000000",
          cost: kwh.toFixed(6),
        }),
      );
    }
    await lake.put(rows);
    // The same readings in `reading` (and its rollups): the peak and PF rules judge the statement's figures.
    await Testing.insertReadings(database.db, rows);
    TimeSeries.provide(new LakeTimeSeries(lake));
    webhook = await listen(() => ({ status: webhookStatus, type: "text/plain", body: "" }));
    sns = await listen(() => ({
      status: 200,
      type: "text/xml",
      body: '<PublishResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><PublishResult><MessageId>94f20ce6-13c5-43a0-9a9e-ca52d816e90b</MessageId></PublishResult><ResponseMetadata><RequestId>f187a3c1-376f-11df-8963-01868b7c937a</RequestId></ResponseMetadata></PublishResponse>',
    }));
    ses = await listen(() => ({ status: 200, type: "application/json", body: '{"MessageId":"0100018e-test"}' }));
    const credentials = { accessKeyId: "AKIATEST", secretAccessKey: "secret" };
    Alert.provideNotifier(
      new ChannelNotifier({
        sns: new SNSClient({ region: "us-east-1", endpoint: sns.url, credentials }),
        ses: new SESv2Client({ region: "us-east-1", endpoint: ses.url, credentials }),
        emailFrom: "alerts@wattflow.example",
      }),
    );
  });
  afterAll(async () => {
    delete process.env.WATTFLOW_WEBHOOK_ALLOW_PRIVATE;
    Alert.provideNotifier(undefined);
    TimeSeries.provide(undefined);
    await Promise.all([webhook.close(), sns.close(), ses.close()]);
    await removeLake();
    await database.close();
  });

  it("refuses a rule for another organization's factory and a channel that is not one", async () => {
    await expect(Alert.createRule({ organizationId: "org_other", factoryId, kind: "power_factor_low", threshold: 0.9 })).rejects.toMatchObject({
      kind: "not_found",
    });
    // The schema check throws before any await: run it inside a promise chain.
    await expect(
      Promise.resolve().then(() =>
        Alert.createRule({ organizationId: "org_alert", factoryId, kind: "power_factor_low", threshold: 0.9, channels: [{ type: "webhook", url: "ftp://x" }] }),
      ),
    ).rejects.toMatchObject({ kind: "input", problems: [{ path: "channels.0.url" }] });
  });

  it("raises each occurrence once, sends it to every channel, and retries a channel that failed", async () => {
    await Alert.createRule({
      organizationId: "org_alert",
      factoryId,
      kind: "demand_near_contracted_punta",
      threshold: 0.9,
      channels: [{ type: "sns", topicArn: "arn:aws:sns:us-east-1:123456789012:alerts" }],
    });
    const pfRule = await Alert.createRule({
      organizationId: "org_alert",
      factoryId,
      kind: "power_factor_low",
      threshold: 0.9,
      channels: [
        { type: "email", to: "energy@plant.example" },
        { type: "webhook", url: `${webhook.url}/hook` },
      ],
    });
    const silent = await Alert.createRule({ organizationId: "org_alert", factoryId, kind: "gateway_silent", threshold: 30, channels: [] });
    const peak = await Alert.createRule({ organizationId: "org_alert", factoryId, kind: "demand_near_peak", threshold: 0.95, channels: [] });

    const first = await Alert.evaluate(factoryId, now);
    webhookStatus = 204;
    const second = await Alert.evaluate(factoryId, new Date(now.getTime() + 60_000));

    // Intermedia, not punta: the contracted-demand rule stays quiet.
    expect(first.map((item) => item.ruleId).sort()).toEqual([pfRule.id, silent.id, peak.id].sort());
    expect(second).toEqual([]);
    const stored = await database.db.select().from(alertTable).where(eq(alertTable.ruleId, pfRule.id));
    expect(stored).toHaveLength(1);
    expect(stored[0]?.deliveredAt).not.toBeNull();
    expect(stored[0]?.deliveryError).toBeNull();
    // The webhook failed once (500), then got it; the e-mail went out on both attempts.
    expect(webhook.received.map((request) => request.path)).toEqual(["/hook", "/hook"]);
    expect(JSON.parse(webhook.received[1]?.body ?? "{}")).toMatchObject({ kind: "power_factor_low", factoryId, value: Number(Math.SQRT1_2.toFixed(4)) });
    expect(ses.received).toHaveLength(2);
    expect(ses.received[0]?.path).toBe("/v2/email/outbound-emails");
    expect(JSON.parse(ses.received[0]?.body ?? "{}")).toMatchObject({
      FromEmailAddress: "alerts@wattflow.example",
      Destination: { ToAddresses: ["energy@plant.example"] },
    });
    expect(sns.received).toHaveLength(0);
  });

  it("lists the organization's alerts newest first, and none of another organization's", async () => {
    const mine = await Alert.list("org_alert");
    const theirs = await Alert.list("org_other");

    expect(mine.map((item) => item.kind).sort()).toEqual(["demand_near_peak", "gateway_silent", "power_factor_low"]);
    expect(mine.find((item) => item.kind === "demand_near_peak")?.message).toMatch(/1080 kW .*: a new peak/);
    expect(theirs).toEqual([]);
  });

  it("publishes to SNS when a punta window nears the contracted demand", async () => {
    // Re-price the spike as punta (a correction with a later computedAt) and evaluate again.
    const spike: Lake.Row[] = [0, 5, 10].map((minute) => ({
      meterId: "mtr_alert",
      factoryId,
      deviceId: "dev_alert",
      intervalStart: new Date(Date.parse("2026-03-10T18:45:00Z") + minute * 60_000),
      intervalSeconds: 300,
      kwh: 90,
      kvarh: 90,
      kwAvg: null,
      kwMax: null,
      pf: null,
      voltage: null,
      current: null,
      touPeriod: "punta",
      tariffId: "trf",
      unitPrice: "1.000000",
      cost: "90.000000",
      estimated: false,
      gap: false,
      computedAt: new Date("2026-03-10T19:05:00Z"),
      source: "kinesis",
      receivedAt: new Date("2026-03-10T19:05:00Z"),
    }));
    await lake.put(spike);

    const raised = await Alert.evaluate(factoryId, new Date(now.getTime() + 120_000));

    expect(raised.map((item) => item.kind)).toEqual(["demand_near_contracted_punta"]);
    expect(sns.received).toHaveLength(1);
    expect(new URLSearchParams(sns.received[0]?.body).get("Action")).toBe("Publish");
    expect(new URLSearchParams(sns.received[0]?.body).get("TopicArn")).toBe("arn:aws:sns:us-east-1:123456789012:alerts");
    expect(await Alert.evaluateAll(new Date(now.getTime() + 180_000))).toBe(0);
  });

  it("a power-factor rule without a threshold alerts under the factory's own CFE threshold, storing its code and parameters", async () => {
    // Prepare: two plants with the same readings today, 10 kWh and 4 kVArh per 5 minutes from 12:00 to 13:00 local:
    // PF = 10 / √(10² + 4²) = 0.9285. One is high-voltage supply (CFE surcharges under 95 from the 2024 bills,
    // Config.powerFactorThresholds), the other medium voltage with 400 kW contracted (90).
    await database.db.insert(factoryTable).values([
      { id: "fac_alert_hv", organizationId: "org_alert", name: "HV plant", timeZone: zone, tariffCode: "cfe-dist", supplyVoltage: "high" },
      {
        id: "fac_alert_mv",
        organizationId: "org_alert",
        name: "MV plant",
        timeZone: zone,
        tariffCode: "cfe-gdmth",
        supplyVoltage: "medium",
        contractedDemandKw: "400",
      },
    ]);
    const today = ["fac_alert_hv", "fac_alert_mv"].flatMap((id) =>
      Array.from({ length: 12 }, (_, slot) =>
        Testing.lakeRow({
          meterId: `mtr_${id}`,
          factoryId: id,
          intervalStart: new Date(Date.parse("2026-03-10T18:00:00Z") + slot * 300_000),
          kwh: 10,
          kvarh: 4,
        }),
      ),
    );
    await lake.put(today);
    await Testing.insertReadings(database.db, today);
    const high = await Alert.createRule({ organizationId: "org_alert", factoryId: "fac_alert_hv", kind: "power_factor_low" });
    await Alert.createRule({ organizationId: "org_alert", factoryId: "fac_alert_mv", kind: "power_factor_low" });

    // Act
    const raisedHigh = await Alert.evaluate("fac_alert_hv", now);
    const raisedMedium = await Alert.evaluate("fac_alert_mv", now);

    // Assess
    expect(high.threshold).toBeNull();
    expect(raisedHigh).toMatchObject([
      {
        kind: "power_factor_low",
        code: "power_factor_low",
        params: { pf: 0.928, threshold: 0.95, cfeThreshold: 0.95 },
        message: "power factor today is 0.928, under 0.95: CFE surcharges this factory's bill below 0.95",
        limit: 0.95,
      },
    ]);
    expect(raisedMedium).toEqual([]);
    expect((await Alert.list("org_alert", { factoryId: "fac_alert_hv" }))[0]).toMatchObject({ code: "power_factor_low", params: { cfeThreshold: 0.95 } });
  });

  it("a factory with gateway rules alone evaluates without reading any bill: no tariff, no prices, no billing period", async () => {
    // Prepare: a plant with a CFE tariff code but no tariff version or prices, a gateway last seen 18:00Z, and one
    // gateway_silent rule of 30 minutes; a second plant with a power_factor_low rule, the kind that judges the bill.
    await database.db.insert(factoryTable).values([
      { id: "fac_gw_only", organizationId: "org_alert", name: "Gateways only", timeZone: zone, tariffCode: "cfe-gdmth" },
      { id: "fac_gw_pf", organizationId: "org_alert", name: "PF rule", timeZone: zone, tariffCode: "cfe-gdmth" },
    ]);
    await database.db.insert(deviceTable).values({
      id: "dev_gw_only",
      organizationId: "org_alert",
      factoryId: "fac_gw_only",
      name: "gw-only",
      tokenHash: "h2",
      lastSeenAt: new Date("2026-03-10T18:00:00Z"),
    });
    const silent = await Alert.createRule({ organizationId: "org_alert", factoryId: "fac_gw_only", kind: "gateway_silent", threshold: 30, channels: [] });
    await Alert.createRule({ organizationId: "org_alert", factoryId: "fac_gw_pf", kind: "power_factor_low", channels: [] });
    // Every table the evaluation selects from, by name, through a database that notes each `from`.
    const read: string[] = [];
    const watched = new Proxy(database.db, {
      get(target, key) {
        const value = Reflect.get(target, key, target);
        if (key !== "select" && key !== "selectDistinct") return typeof value === "function" ? value.bind(target) : value;
        return (...args: unknown[]) => {
          const builder = value.apply(target, args);
          const from = builder.from.bind(builder);
          builder.from = (table: Table, ...rest: unknown[]) => {
            read.push(getTableName(table));
            return from(table, ...rest);
          };
          return builder;
        };
      },
    });
    Database.provide({ ...database, db: watched });
    try {
      // Act
      const raised = await Alert.evaluate("fac_gw_only", now);
      const gatewayReads = read.splice(0);
      await Alert.evaluate("fac_gw_pf", now);
      const billReads = read.splice(0);

      // Assess: silent from 18:00Z to 19:01Z is 61 minutes, over the rule's 30.
      expect(raised.map((item) => [item.ruleId, item.kind])).toEqual([[silent.id, "gateway_silent"]]);
      // The gateway rule reads its rules, factory, gateways and alerts; never a utility bill (the billing period) or a tariff.
      expect(gatewayReads).not.toContain("bill");
      expect(gatewayReads).not.toContain("tariff");
      // The counter sees billing where a rule judges the bill: the period (utility bills) and the tariff in force.
      expect(billReads).toContain("bill");
      expect(billReads).toContain("tariff");
    } finally {
      Database.provide(database);
    }
  });
});
