/**
 * The document tells the truth about answers: each route is called on a running app with seeded data, and its JSON
 * body is validated (ajv, JSON Schema 2020-12) against the schema /openapi.json gives for that status code, with
 * every object closed (`additionalProperties: false` unless the schema says otherwise), so a field a handler returns
 * that the document does not declare, or a required one it lacks, fails the test.
 */

import { Close } from "@wattflow/core/close";
import { Testing } from "@wattflow/core/testing";
import { Uploads } from "@wattflow/core/upload";
import { LocalStore } from "@wattflow/core/upload/local";
import { User } from "@wattflow/core/user";
import { Workflow } from "@wattflow/core/workflow";
import { LocalRunner, type StepHandler } from "@wattflow/local/workflow/runner";
import { Ajv2020, type ValidateFunction } from "ajv/dist/2020";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { app } from "../src/api/app";
import { handler as consumer } from "../src/ingest/consumer";
import * as closeSteps from "../src/workflows/close";
import * as importSteps from "../src/workflows/import";
import { devicePublicKey, deviceToken, drainToEvent, ids, type Pipeline, pipeline, reading } from "./support";

type Schema = Record<string, unknown>;
type Operation = { responses: Record<string, { content?: Record<string, { schema: Schema }> }> };
type Document = { paths: Record<string, Record<string, Operation>>; components: { schemas: Record<string, Schema> } };

/** `schema` with each object that names its properties closed, unless it says what else it takes. */
function closed(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(closed);
  if (typeof schema !== "object" || schema === null) return schema;
  const copy = Object.fromEntries(Object.entries(schema).map(([key, value]) => [key, closed(value)]));
  if ("properties" in copy && !("additionalProperties" in copy)) copy.additionalProperties = false;
  return copy;
}

/** Whether an operation's JSON answers are a bare `{ type: "object" }`: documented, but saying nothing. */
function bare(operation: Operation): boolean {
  return Object.values(operation.responses).some((response) => {
    const schema = response.content?.["application/json"]?.schema;
    return schema !== undefined && !("$ref" in schema) && schema.type === "object" && !("properties" in schema) && !("additionalProperties" in schema);
  });
}

const stepModules: Record<string, Record<string, unknown>> = { close: closeSteps, import: importSteps };

/** The monthly close's and the imports' real steps, found by the registry's handler path as the local stack finds them. */
async function realStep(handler: string): Promise<StepHandler> {
  const match = /^packages\/functions\/src\/workflows\/(\w+)\.(\w+)$/.exec(handler);
  const step = match ? stepModules[match[1] as string]?.[match[2] as string] : undefined;
  if (typeof step !== "function") throw new Error(`no step ${handler}`);
  return step as StepHandler;
}

describe("the OpenAPI document's answers", () => {
  let p: Pipeline;
  let runner: LocalRunner;
  const dir = Testing.temporaryDir();
  let document: Document;
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  const validators = new Map<string, ValidateFunction>();
  /** Operations whose answer was validated, with the status codes seen. */
  const checked = new Map<string, Set<number>>();

  /** Calls `method template` (path parameters filled from `params`) and validates the JSON answer; returns it. */
  async function call<T = Record<string, unknown>>(
    method: string,
    template: string,
    options: { params?: Record<string, string>; query?: string; body?: unknown; file?: { type: string; text: string }; token?: string; cookie?: string } = {},
  ): Promise<{ status: number; body: T; headers: Headers }> {
    const path = template.replace(/\{(\w+)\}/g, (_, name: string) => options.params?.[name] ?? `{${name}}`) + (options.query ? `?${options.query}` : "");
    // The console's session (cookie and CSRF header) when given one, else a token.
    const headers: Record<string, string> = options.cookie
      ? { cookie: options.cookie, "x-wattflow-csrf": "1" }
      : { authorization: `Bearer ${options.token ?? p.apiToken}` };
    if (options.body !== undefined) headers["content-type"] = "application/json";
    if (options.file) headers["content-type"] = options.file.type;
    const body = options.file ? options.file.text : options.body === undefined ? undefined : JSON.stringify(options.body);
    const response = await app.request(path, { method, headers, body });
    const operation = document.paths[template]?.[method.toLowerCase()];
    expect(operation, `${method} ${template} is in the document`).toBeDefined();
    const schema = operation?.responses[String(response.status)]?.content?.["application/json"]?.schema;
    const answer = (await response.json()) as T;
    expect(schema, `${method} ${path} answered ${response.status}, a status the document does not give it: ${JSON.stringify(answer)}`).toBeDefined();
    const key = `${method} ${template} ${response.status}`;
    let validate = validators.get(key);
    if (!validate) {
      validate = ajv.compile({ ...(closed(schema) as Schema), components: closed(document.components) });
      validators.set(key, validate);
    }
    const valid = validate(answer);
    expect(valid ? [] : validate.errors, `${method} ${path} ${response.status}: ${JSON.stringify(answer).slice(0, 400)}`).toEqual([]);
    checked.set(`${method} ${template}`, (checked.get(`${method} ${template}`) ?? new Set()).add(response.status));
    return { status: response.status, body: answer, headers: response.headers };
  }

  beforeAll(async () => {
    p = await pipeline();
    runner = new LocalRunner({ dir: `${dir.path}/workflows`, resolveStep: realStep, retryIntervalMs: 0 });
    Workflow.provide(runner);
    Uploads.provide(new LocalStore(`${dir.path}/uploads`));
    document = (await (await app.request("/openapi.json")).json()) as Document;
  }, 240_000);
  afterAll(async () => {
    await runner?.stop();
    Workflow.provide(undefined);
    Uploads.provide(undefined);
    await p?.close();
    dir.remove();
  });

  it("describes every JSON answer: none is a bare object", () => {
    const undescribed = Object.entries(document.paths).flatMap(([path, item]) =>
      Object.entries(item)
        .filter(([, operation]) => bare(operation))
        .map(([method]) => `${method.toUpperCase()} ${path}`),
    );
    expect(undescribed).toEqual([]);
  });

  it("a gateway's routes answer as documented: heartbeat, key, its configuration, enrollment", async () => {
    const beat = await call("POST", "/v1/devices/heartbeat", {
      token: deviceToken,
      body: { backlog: 3, oldestUnsentSeconds: 60, lastSuccess: { kinesis: null, http: "2026-03-10T18:00:00.000Z" }, rejected: 0, clockOffsetMs: 12 },
    });
    expect(beat.status).toBe(200);
    expect((await call("PUT", "/v1/devices/self/key", { token: deviceToken, body: { publicKey: devicePublicKey } })).status).toBe(200);
    const config = await call<{ meters: unknown[] }>("GET", "/v1/devices/self/config", { token: deviceToken });
    expect(config.body.meters.length).toBe(ids.meters.length);
    const devices = await call<{ devices: { heartbeat: unknown }[] }>("GET", "/v1/devices");
    expect(devices.body.devices.some((device) => device.heartbeat !== null)).toBe(true);
  });

  it("the factory's meters and gateways answer as documented, through a gateway's whole life", async () => {
    const factory = { id: ids.factory };
    const created = await call<{ id: string }>("POST", "/v1/factories", { body: { name: "Plant C", timeZone: "America/Monterrey", tariffCode: "flat" } });
    expect(created.status).toBe(201);
    await call("PATCH", "/v1/factories/{id}", { params: { id: created.body.id }, body: { contractedDemandKw: 500 } });
    await call("GET", "/v1/factories/{id}", { params: factory });
    await call("GET", "/v1/factories");
    const meters = await call<{ meters: { id: string }[] }>("GET", "/v1/factories/{id}/meters", { params: factory });
    expect(meters.body.meters).toHaveLength(ids.meters.length);
    await call("PATCH", "/v1/factories/{id}/meters/{meterId}", { params: { ...factory, meterId: ids.meters[0] ?? "" }, body: { name: "Compressor" } });
    const added = await call<{ deviceId: string; code: string }>("POST", "/v1/factories/{id}/gateways", { params: factory, body: { name: "Line 2" } });
    expect(added.status).toBe(201);
    const gateway = { ...factory, gatewayId: added.body.deviceId };
    await call("PATCH", "/v1/factories/{id}/gateways/{gatewayId}", { params: gateway, body: { name: "Line 2 north" } });
    const enrolled = await call("POST", "/v1/enroll", { body: { code: added.body.code } });
    expect(enrolled.status).toBe(200);
    expect((await call("POST", "/v1/factories/{id}/gateways/{gatewayId}/enrollment-code", { params: gateway })).status).toBe(201);
    await call("POST", "/v1/factories/{id}/gateways/{gatewayId}/rotate", { params: gateway });
    await call("POST", "/v1/factories/{id}/gateways/{gatewayId}/revoke", { params: gateway });
    const gateways = await call<{ gateways: unknown[] }>("GET", "/v1/factories/{id}/gateways", { params: factory });
    expect(gateways.body.gateways).toHaveLength(2);
  });

  it("alerts, rules, runs, quarantine and health answer as documented", async () => {
    const rule = await call("POST", "/v1/alerts/rules", {
      body: { factoryId: ids.factory, kind: "gateway_silent", channels: [{ type: "email", to: "ops@example.com" }] },
    });
    expect(rule.status).toBe(201);
    await call("GET", "/v1/alerts/rules");
    await call("POST", "/v1/alerts/evaluate", { body: { factoryId: ids.factory } });
    await call("GET", "/v1/alerts");
    const started = await call<{ executionArn: string }>("POST", "/v1/runs", { body: { workflow: "MonthlyClose", month: "2026-02" } });
    expect(started.status).toBe(202);
    const runs = await call<{ executions: unknown[] }>("GET", "/v1/runs");
    expect(runs.body.executions.length).toBeGreaterThan(0);
    await call("GET", "/v1/runs/{id}", { params: { id: started.body.executionArn } });
    await call("GET", "/v1/runs/{id}/history", { params: { id: started.body.executionArn } });
    await call("GET", "/v1/quarantine");
    await call("POST", "/v1/quarantine/replay", { body: { ids: ["qua_none"] } });
    await call("GET", "/v1/health");
    await call("GET", "/health");
  });

  it("the console's session answers as documented: sign in, who, sign out", async () => {
    const credentials = { email: "admin@plant-a.example", password: "correct horse battery staple" };
    await User.create({ organizationId: ids.organization, name: "A admin", role: "admin", ...credentials });
    const signedIn = await call("POST", "/v1/session", { body: credentials, cookie: "none=1" });
    expect(signedIn.status).toBe(200);
    const cookie = /wattflow_session=[^;]+/.exec(signedIn.headers.get("set-cookie") ?? "")?.[0] ?? "";
    expect((await call("GET", "/v1/session", { cookie })).status).toBe(200);
    expect((await call("DELETE", "/v1/session", { cookie })).status).toBe(200);
  });

  it("a gateway's readings and the figures read from them answer as documented, priced and not", async () => {
    // Prepare: an hour of two meters on Plant A (flat tariff since 2020), a 15-minute reading spread over its slots, a bad one.
    const readings = [];
    for (let slot = 0; slot < 12; slot++) {
      const start = new Date(Date.UTC(2026, 2, 10, 18, slot * 5)).toISOString();
      readings.push({ ...reading(0, start, 10 + slot), kvarh: 3 }, reading(1, start, 5));
    }
    readings.push({ ...reading(2, "2026-03-10T18:00:00Z", 3), seconds: 900 }, reading(2, "2026-03-10T18:00:00Z", -1));
    const ingested = await call<{ accepted: number; rejected: unknown[] }>("POST", "/v1/ingest", { token: deviceToken, body: { readings } });
    expect(ingested.body).toMatchObject({ accepted: 25, rejected: [{ index: 25 }] });
    await consumer(await drainToEvent(p.log));
    const factory = { id: ids.factory };
    const day = "from=2026-03-10T00:00:00Z&to=2026-03-11T00:00:00Z";
    const before = "from=2019-03-10T00:00:00Z&to=2019-03-11T00:00:00Z";

    // Act and assess: each answer validated by `call`; both sides of `priced`.
    expect((await call("GET", "/v1/factories/{id}/usage", { params: factory, query: day })).body).toMatchObject({ priced: true });
    expect((await call("GET", "/v1/factories/{id}/usage", { params: factory, query: before })).body).toMatchObject({ priced: false });
    expect((await call("GET", "/v1/factories/{id}/series", { params: factory, query: `${day}&bucket=15m` })).body).toMatchObject({ priced: true });
    expect((await call("GET", "/v1/factories/{id}/series", { params: factory, query: before })).body).toMatchObject({ priced: false });
    const meter = { id: ids.meters[0] as string };
    const stored = await call<{ readings: unknown[] }>("GET", "/v1/meters/{id}/readings", { params: meter, query: day });
    expect(stored.body.readings).toHaveLength(12);
    const gaps = await call<{ missing: unknown[]; estimated: unknown[] }>("GET", "/v1/meters/{id}/gaps", {
      params: { id: ids.meters[2] as string },
      query: "from=2026-03-10T17:00:00Z&to=2026-03-10T19:00:00Z",
    });
    expect(gaps.body.missing.length).toBeGreaterThan(0);
    expect(gaps.body.estimated).toHaveLength(1);
    expect((await call("GET", "/v1/factories/{id}/kpis", { params: factory, query: "month=2026-03" })).body).toMatchObject({ priced: true });
    const unpriced = await call("GET", "/v1/factories/{id}/kpis", { params: factory, query: "month=2019-03&gridFactor=0.45" });
    expect(unpriced.body).toMatchObject({ priced: false, bill: { unavailable: expect.any(String) } });
    const overview = await call<{ factories: unknown[] }>("GET", "/v1/overview");
    expect(overview.body.factories.length).toBeGreaterThan(0);
    expect((await call<{ municipalities: unknown[] }>("GET", "/v1/locations")).body.municipalities.length).toBeGreaterThan(0);
  });

  it("a factory on a CFE plan answers as documented: its meters, tariffs, KPIs, bills and their allocation", async () => {
    // Prepare: a GDMTH factory in Navojoa (Noroeste) with a billing meter and a sub-meter on its own gateway.
    const created = await call<{ id: string }>("POST", "/v1/factories", {
      body: { name: "Planta Navojoa", timeZone: "America/Hermosillo", tariffCode: "cfe-gdmth", state: "Sonora", municipality: "Navojoa" },
    });
    const factory = { id: created.body.id };
    const gateway = await call<{ deviceId: string }>("POST", "/v1/factories/{id}/gateways", { params: factory, body: { name: "Supply" } });
    const deviceId = gateway.body.deviceId;
    const supply = await call<{ id: string }>("POST", "/v1/factories/{id}/meters", {
      params: factory,
      body: { deviceId, name: "Supply", line: "Plant", role: "billing", driver: "sdm630", bus: "rs485", unitId: 1 },
    });
    expect(supply.status).toBe(201);
    const press = await call<{ id: string }>("POST", "/v1/factories/{id}/meters", {
      params: factory,
      body: { deviceId, name: "Press", line: "Press", role: "sub", parentId: supply.body.id },
    });
    const plan = await call("POST", "/v1/factories/{id}/tariffs/cfe", {
      params: factory,
      body: { tariff: "cfe-gdmth", contractedDemandKw: 1200, supplyVoltage: "medium", effectiveFrom: "2026-03-01", prices: { source: "published" } },
    });
    expect(plan.status).toBe(201);
    const flat = await call("POST", "/v1/factories/{id}/tariffs", {
      params: factory,
      body: { effectiveFrom: "2027-01-01T07:00:00Z", definition: { kind: "flat", currency: "MXN", energyPrice: "2.5" } },
    });
    expect(flat.status).toBe(201);
    const allDay = Array.from({ length: 12 }, () => Array(24).fill(0));
    const urdb = await call<{ warnings: string[] }>("POST", "/v1/factories/{id}/tariffs/urdb", {
      params: factory,
      body: {
        effectiveFrom: "2027-06-01T07:00:00Z",
        rate: { energyratestructure: [[{ rate: 0.1 }]], energyweekdayschedule: allDay, energyweekendschedule: allDay, coincidentratestructure: [] },
      },
    });
    expect(urdb.body.warnings.length).toBeGreaterThan(0);
    const tariffs = await call<{ versions: unknown[] }>("GET", "/v1/factories/{id}/tariffs", { params: factory });
    expect(tariffs.body.versions).toHaveLength(3);
    // Every way of adding a version answers its local start date as the list does. Hermosillo is UTC−7 all year, so
    // 2027-01-01T07:00Z is local midnight of 1 January 2027 and 2027-06-01T07:00Z of 1 June; the plan's date is entered.
    const dates = (version: unknown) => {
      const { effectiveFrom, effectiveDate } = version as { effectiveFrom: string; effectiveDate: string };
      return [effectiveFrom, effectiveDate];
    };
    expect([plan.body, flat.body, urdb.body].map(dates)).toEqual([
      ["2026-03-01T07:00:00.000Z", "2026-03-01"],
      ["2027-01-01T07:00:00.000Z", "2027-01-01"],
      ["2027-06-01T07:00:00.000Z", "2027-06-01"],
    ]);
    expect(tariffs.body.versions.map(dates)).toEqual([
      ["2027-06-01T07:00:00.000Z", "2027-06-01"],
      ["2027-01-01T07:00:00.000Z", "2027-01-01"],
      ["2026-03-01T07:00:00.000Z", "2026-03-01"],
    ]);
    const slot = (meterId: string, minute: number, kwh: number) => ({
      meterId,
      intervalStart: new Date(Date.UTC(2026, 2, 10, 18, minute)),
      intervalSeconds: 300,
      factoryId: factory.id,
      deviceId,
      kwh,
      kvarh: kwh / 4,
      source: "http" as const,
      receivedAt: new Date(),
    });
    await Testing.insertReadings(
      p.database.db,
      [0, 5, 10].flatMap((minute) => [slot(supply.body.id, minute, 40), slot(press.body.id, minute, 25)]),
    );

    // Act and assess
    const kpis = await call("GET", "/v1/factories/{id}/kpis", { params: factory, query: "month=2026-03" });
    expect(kpis.body).toMatchObject({ priced: true, bill: { monthToDate: { lines: expect.any(Array) } } });
    await Close.factoryMonth({ factoryId: factory.id, month: "2026-03" });
    const bills = await call<{ bills: { id: string }[] }>("GET", "/v1/factories/{id}/bills", { params: factory });
    expect(bills.body.bills).toHaveLength(1);
    await call("GET", "/v1/factories/{id}/bills/{bill}", { params: { ...factory, bill: bills.body.bills[0]?.id ?? "" } });
    const allocation = await call<{ meters: unknown[] }>("GET", "/v1/factories/{id}/allocation", { params: factory, query: "month=2026-03" });
    expect(allocation.body.meters).toHaveLength(1);
  });

  it("imports answer as documented: started, then listed loaded or failed with each bad row", async () => {
    const upload = (name: string, text: string) =>
      call<{ executionArn: string }>("POST", "/v1/imports", {
        query: `kind=production&factory=${ids.factory}&name=${name}`,
        file: { type: "text/csv", text },
      });
    const good = await upload("good.csv", "date,line,units\n2026-03-10,L0,1200\n");
    const bad = await upload("bad.csv", "date,line,units\n2026-03-10,L0,many\n");
    expect([good.status, bad.status]).toEqual([202, 202]);
    await runner.idle();

    const listed = await call<{ imports: { fileName: string; status: string; errors: unknown[] | null }[] }>("GET", "/v1/imports");
    expect(listed.body.imports.map((run) => [run.fileName, run.status, run.errors?.length ?? 0]).sort()).toEqual([
      ["bad.csv", "failed", 1],
      ["good.csv", "loaded", 0],
    ]);
    // What an import answers, listed by hand from the console's table and the run's link: the upload store's key is
    // not one of them (it was `objectKey`, `imports/<org>/<id>/<name>`).
    expect(Object.keys(listed.body.imports[0] ?? {}).sort()).toEqual(
      ["bytes", "createdAt", "errors", "executionArn", "factoryId", "fileName", "finishedAt", "format", "id"]
        .concat(["inserted", "kind", "organizationId", "rows", "sha256", "status", "unchanged", "updated"])
        .sort(),
    );
  });

  it("validated an answer of every described GET route", () => {
    const gets = Object.entries(document.paths)
      .filter(([, item]) => item.get?.responses["200"]?.content?.["application/json"])
      .map(([path]) => `GET ${path}`);
    expect(gets.filter((route) => !checked.has(route))).toEqual([]);
  });
});
