/**
 * The public API of an organization's setup and figures, under /v1/factories, used by the console and by
 * integrations alike: factories, their meters, gateways (and credentials), tariffs (a definition, a CFE plan, a
 * URDB rate), bills, usage and the console's series. Every route works inside the caller's organization, taken
 * from the session or token, never from the body or path: another organization's id answers 404. Reads are for
 * every role; changes to setup need admin.
 */

import { z } from "@hono/zod-openapi";
import type { Auth } from "@wattflow/core/auth";
import { Dashboard } from "@wattflow/core/dashboard";
import { Device } from "@wattflow/core/device";
import { Enrollment } from "@wattflow/core/device/enrollment";
import { Gateway } from "@wattflow/core/device/gateway";
import { Export } from "@wattflow/core/export";
import { Factory } from "@wattflow/core/factory";
import { Meter } from "@wattflow/core/meter";
import { Onboarding } from "@wattflow/core/onboarding";
import { Usage } from "@wattflow/core/usage";
import { access } from "./auth";
import { csvResponse, wants } from "./exports";
import { actorRoute, actorRoutes, answer, file, ids, invalid, jsonBody, problems, routes } from "./openapi";

const owned = { organizationId: true, factoryId: true } as const;

/** The factory of the path, if it is the caller's (404 otherwise), for routes whose core function takes no factory. */
const ownFactory = Factory.own;

type ActorEnv = { Variables: { actor: Auth.Actor } };

/** Every role reads; only admins change an organization's setup. */
const read = access.anyRole;
const change = access.admins;
const tags = ["Factories"];
const Factories = z.object({ factories: z.array(Factory.Info) }).openapi("Factories");
const factoryId = { params: ids("id") };

const listFactories = actorRoute({
  method: "get",
  path: "/",
  tags,
  summary: "The organization's factories",
  middleware: read,
  responses: { 200: { description: "The factories", content: { "application/json": { schema: Factories } } } },
});
const createFactory = actorRoute({
  method: "post",
  path: "/",
  tags,
  summary: "Create a factory (admin)",
  middleware: change,
  request: { body: jsonBody(Factory.create.schema.omit({ organizationId: true })) },
  responses: { 201: { description: "The new factory", content: { "application/json": { schema: Factory.Info } } }, 409: problems[409] },
});
const getFactory = actorRoute({
  method: "get",
  path: "/{id}",
  tags,
  summary: "One factory",
  middleware: read,
  request: factoryId,
  responses: { 200: { description: "The factory", content: { "application/json": { schema: Factory.Info } } } },
});
const patchFactory = actorRoute({
  method: "patch",
  path: "/{id}",
  tags,
  summary: "Change a factory (admin); `null` clears an optional field",
  middleware: change,
  request: { ...factoryId, body: jsonBody(Factory.Patch) },
  responses: { 200: { description: "The factory as changed", content: { "application/json": { schema: Factory.Info } } } },
});
/** Figures over a range, for every role. */
const usageRoute = actorRoutes({ tags: ["Usage"], middleware: read });
const usage = usageRoute({
  method: "get",
  path: "/{id}/usage",
  summary: "Energy (kWh) and cost (MXN) in buckets over [from, to); `Accept: text/csv` for the same as a CSV file (`bom=1` for Excel)",
  request: { ...factoryId, query: Usage.Query.safeExtend({ bom: Export.Bom }) },
  responses: {
    200: {
      description: "The usage buckets",
      content: { ...answer(Usage.Result, "Buckets of kWh and MXN with the period's totals").content, ...file("text/csv", "The buckets as CSV") },
    },
  },
});
const series = usageRoute({
  method: "get",
  path: "/{id}/series",
  summary: "The console's chart series: demand (kW), energy by TOU period and cost over [from, to)",
  request: { ...factoryId, query: Usage.Query },
  responses: { 200: answer(Usage.Series, "The series") },
});
const listMeters = actorRoute({
  method: "get",
  path: "/{id}/meters",
  tags: ["Meters"],
  summary: "The factory's meters",
  middleware: read,
  request: factoryId,
  responses: { 200: answer(z.object({ meters: z.array(Meter.Info) }), "The meters") },
});
/** Changes to a factory's meters, admins only. */
const meterChange = actorRoutes({ tags: ["Meters"], middleware: change });
const createMeter = meterChange({
  method: "post",
  path: "/{id}/meters",
  summary: "Add a meter to the factory (admin)",
  request: { ...factoryId, body: jsonBody(Onboarding.createMeter.schema.omit(owned)) },
  responses: { 201: answer(Meter.Created, "The new meter"), 409: problems[409] },
});
const patchMeter = meterChange({
  method: "patch",
  path: "/{id}/meters/{meterId}",
  summary: "Change a meter (admin): name, line, place in the hierarchy, connection",
  request: { params: ids("id", "meterId"), body: jsonBody(Meter.update.schema.omit({ organizationId: true, factoryId: true, id: true })) },
  responses: { 200: answer(Meter.Info, "The meter as changed"), 409: problems[409] },
});
const listGateways = actorRoute({
  method: "get",
  path: "/{id}/gateways",
  tags: ["Devices"],
  summary: "The factory's gateways",
  middleware: read,
  request: factoryId,
  responses: { 200: answer(z.object({ gateways: z.array(Gateway.Info) }), "The gateways") },
});
/** Changes to a factory's gateways and their credentials, admins only. */
const gatewayChange = actorRoutes({ tags: ["Devices"], middleware: change });
const createGateway = gatewayChange({
  method: "post",
  path: "/{id}/gateways",
  summary: "Add a gateway and its one-time enrollment code (admin)",
  request: { ...factoryId, body: jsonBody(Enrollment.createGateway.schema.omit(owned)) },
  responses: { 201: answer(Enrollment.NewGateway, "The gateway and its enrollment code") },
});
const gatewayIds = { params: ids("id", "gatewayId") };
const renameGateway = gatewayChange({
  method: "patch",
  path: "/{id}/gateways/{gatewayId}",
  summary: "Rename a gateway (admin)",
  request: { ...gatewayIds, body: jsonBody(Device.rename.schema.pick({ name: true })) },
  responses: { 200: answer(Device.Renamed, "The gateway as renamed") },
});
const issueCode = gatewayChange({
  method: "post",
  path: "/{id}/gateways/{gatewayId}/enrollment-code",
  summary: "A new one-time enrollment code for the gateway (admin)",
  request: gatewayIds,
  responses: { 201: answer(Enrollment.Code, "The code and when it expires") },
});
const rotate = gatewayChange({
  method: "post",
  path: "/{id}/gateways/{gatewayId}/rotate",
  summary: "New credentials for the gateway (admin); the old token stops working",
  request: gatewayIds,
  responses: { 200: answer(Enrollment.Credentials, "The gateway's new credentials") },
});
const revoke = gatewayChange({
  method: "post",
  path: "/{id}/gateways/{gatewayId}/revoke",
  summary: "Revoke the gateway's token (admin)",
  request: gatewayIds,
  responses: { 200: answer(Enrollment.Revoked, "When it was revoked") },
});
const listTariffs = actorRoute({
  method: "get",
  path: "/{id}/tariffs",
  tags: ["Tariffs"],
  summary: "The factory's tariff versions, each with the factory-local date it takes effect",
  middleware: read,
  request: factoryId,
  responses: { 200: answer(Onboarding.Tariffs, "The tariff versions") },
});
/** New tariff versions, admins only: from a definition, a CFE plan or a URDB rate. */
const tariffChange = actorRoutes({ tags: ["Tariffs"], middleware: change });
const addTariff = tariffChange({
  method: "post",
  path: "/{id}/tariffs",
  summary: "Add a tariff version from a definition (admin)",
  request: { ...factoryId, body: jsonBody(Onboarding.addTariff.schema.omit(owned)) },
  responses: { 201: answer(Onboarding.Version, "The tariff version"), 409: problems[409] },
});
const assignCfePlan = tariffChange({
  method: "post",
  path: "/{id}/tariffs/cfe",
  summary: "Put the factory on a CFE plan from a date, at published or entered prices (admin)",
  request: { ...factoryId, body: jsonBody(Onboarding.assignCfePlan.schema.omit(owned)) },
  responses: { 201: answer(Onboarding.PlanAssigned, "The tariff version, its local start date and the factory"), 409: problems[409] },
});
const importUrdb = tariffChange({
  method: "post",
  path: "/{id}/tariffs/urdb",
  summary: "Add a tariff version from a URDB rate (admin)",
  request: { ...factoryId, body: jsonBody(Onboarding.importUrdb.schema.omit(owned)) },
  responses: { 201: answer(Onboarding.UrdbImported, "The tariff version and what of the rate was left out"), 409: problems[409] },
});
const listBills = actorRoute({
  method: "get",
  path: "/{id}/bills",
  tags: ["Bills"],
  summary: "The factory's bills, one per billing period",
  middleware: read,
  request: factoryId,
  responses: { 200: answer(z.object({ bills: z.array(Onboarding.StoredBill) }), "The bills") },
});

export const factories = routes<ActorEnv>()
  .openapi(listFactories, async (c) => c.json({ factories: await Factory.list(c.get("actor").organizationId) }, 200))
  .openapi(
    createFactory,
    async (c) => c.json(await Factory.create({ ...c.req.valid("json"), organizationId: c.get("actor").organizationId }), 201),
    invalid(Factory.create.code),
  )
  .openapi(getFactory, async (c) => c.json(await ownFactory(c.get("actor").organizationId, c.req.valid("param").id), 200))
  .openapi(
    patchFactory,
    async (c) => c.json(await Factory.update({ ...c.req.valid("json"), organizationId: c.get("actor").organizationId, id: c.req.valid("param").id }), 200),
    invalid(Factory.update.code),
  )
  .openapi(
    usage,
    async (c) => {
      const organizationId = c.get("actor").organizationId;
      const { bom, ...query } = c.req.valid("query");
      // `Accept: text/csv`: the same buckets as a CSV file (Export.usageCsv).
      if (wants(c, "text/csv")) return csvResponse(c, await Export.usageCsv(organizationId, c.req.valid("param").id, { ...query, bom }));
      return c.json(await Usage.factory(organizationId, c.req.valid("param").id, query), 200);
    },
    invalid("usage.invalid_query"),
  )
  .openapi(
    series,
    async (c) => c.json(await Usage.series(c.get("actor").organizationId, c.req.valid("param").id, c.req.valid("query")), 200),
    invalid("series.invalid_query"),
  )
  .openapi(listMeters, async (c) => {
    const factory = await ownFactory(c.get("actor").organizationId, c.req.valid("param").id);
    return c.json({ meters: await Meter.list(factory.organizationId, factory.id) }, 200);
  })
  .openapi(createMeter, async (c) =>
    c.json(await Onboarding.createMeter({ ...c.req.valid("json"), organizationId: c.get("actor").organizationId, factoryId: c.req.valid("param").id }), 201),
  )
  .openapi(patchMeter, async (c) => {
    const { id, meterId } = c.req.valid("param");
    return c.json(await Meter.update({ ...c.req.valid("json"), organizationId: c.get("actor").organizationId, factoryId: id, id: meterId }), 200);
  })
  .openapi(listGateways, async (c) => {
    const factory = await ownFactory(c.get("actor").organizationId, c.req.valid("param").id);
    return c.json({ gateways: (await Gateway.list(factory.organizationId)).filter((gateway) => gateway.factoryId === factory.id) }, 200);
  })
  .openapi(createGateway, async (c) =>
    c.json(await Enrollment.createGateway({ ...c.req.valid("json"), organizationId: c.get("actor").organizationId, factoryId: c.req.valid("param").id }), 201),
  )
  .openapi(renameGateway, async (c) => {
    const { id, gatewayId } = c.req.valid("param");
    return c.json(await Device.rename({ ...c.req.valid("json"), organizationId: c.get("actor").organizationId, factoryId: id, id: gatewayId }), 200);
  })
  .openapi(issueCode, async (c) => {
    const { id, gatewayId } = c.req.valid("param");
    return c.json(await Enrollment.issueCode({ organizationId: c.get("actor").organizationId, factoryId: id, deviceId: gatewayId }), 201);
  })
  .openapi(rotate, async (c) => {
    const { id, gatewayId } = c.req.valid("param");
    return c.json(await Enrollment.rotate({ organizationId: c.get("actor").organizationId, factoryId: id, deviceId: gatewayId }), 200);
  })
  .openapi(revoke, async (c) => {
    const { id, gatewayId } = c.req.valid("param");
    return c.json(await Enrollment.revoke({ organizationId: c.get("actor").organizationId, factoryId: id, deviceId: gatewayId }), 200);
  })
  .openapi(listTariffs, async (c) => c.json(await Onboarding.tariffs(c.get("actor").organizationId, c.req.valid("param").id), 200))
  .openapi(addTariff, async (c) =>
    c.json(await Onboarding.addTariff({ ...c.req.valid("json"), organizationId: c.get("actor").organizationId, factoryId: c.req.valid("param").id }), 201),
  )
  .openapi(assignCfePlan, async (c) =>
    c.json(await Onboarding.assignCfePlan({ ...c.req.valid("json"), organizationId: c.get("actor").organizationId, factoryId: c.req.valid("param").id }), 201),
  )
  .openapi(importUrdb, async (c) =>
    c.json(await Onboarding.importUrdb({ ...c.req.valid("json"), organizationId: c.get("actor").organizationId, factoryId: c.req.valid("param").id }), 201),
  )
  .openapi(listBills, async (c) => c.json({ bills: await Onboarding.bills(c.get("actor").organizationId, c.req.valid("param").id) }, 200));

const overviewRoute = actorRoute({
  method: "get",
  path: "/",
  tags,
  summary: "Each factory's figures for the console's first page",
  middleware: read,
  responses: { 200: answer(z.object({ factories: z.array(Dashboard.FactorySummary) }), "Each factory's summary") },
});

/** GET /v1/overview: each factory's figures for the console's first page. */
export const overview = routes<ActorEnv>().openapi(overviewRoute, async (c) =>
  c.json({ factories: await Dashboard.overview(c.get("actor").organizationId) }, 200),
);
