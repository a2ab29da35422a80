/**
 * The public API of an organization's setup and figures, under /v1/factories, used by the console and by
 * integrations alike: factories, their meters, gateways (and credentials), tariffs (a definition, a CFE plan, a
 * URDB rate), bills, usage and the console's series. Every route works inside the caller's organization, taken
 * from the session or token, never from the body or path: another organization's id answers 404. Reads are for
 * every role; changes to setup need admin.
 */
import { Dashboard } from "@wattflow/core/dashboard";
import { Device } from "@wattflow/core/device";
import { Enrollment } from "@wattflow/core/device/enrollment";
import { Gateway } from "@wattflow/core/device/gateway";
import { Export } from "@wattflow/core/export";
import { Factory } from "@wattflow/core/factory";
import { Meter } from "@wattflow/core/meter";
import { Onboarding } from "@wattflow/core/onboarding";
import { Usage } from "@wattflow/core/usage";
import { VisibleError } from "@wattflow/core/util/error";
import { Hono } from "hono";
import { actorAuth, requireRole } from "./auth";
import { csvResponse, wants } from "./exports";
import { json, parse, query } from "./input";

/** Only admins change an organization's setup. */
const adminOnly = requireRole("admin");
/** Every role reads. */
const anyRole = requireRole("admin", "operator", "viewer");

const owned = { organizationId: true, factoryId: true } as const;

/** The factory of the path, if it is the caller's (404 otherwise), for routes whose core function takes no factory. */
async function ownFactory(organizationId: string, id: string): Promise<Factory.Info> {
  const factory = await Factory.get(organizationId, id);
  if (!factory) throw new VisibleError("not_found", "factory.not_found", `factory ${id} not found`);
  return factory;
}

export const factories = new Hono()
  .use(actorAuth)
  .get("/", anyRole, async (c) => c.json({ factories: await Factory.list(c.get("actor").organizationId) }))
  .post("/", adminOnly, json(Factory.create.schema.omit({ organizationId: true })), async (c) =>
    c.json(await Factory.create({ ...c.req.valid("json"), organizationId: c.get("actor").organizationId }), 201),
  )
  .get("/:id", anyRole, async (c) => c.json(await ownFactory(c.get("actor").organizationId, c.req.param("id"))))
  .patch("/:id", adminOnly, json(Factory.Patch), async (c) =>
    c.json(await Factory.update({ ...c.req.valid("json"), organizationId: c.get("actor").organizationId, id: c.req.param("id") })),
  )
  // A query validator, not a parse in the handler, so the console's typed client knows the query.
  .get("/:id/usage", anyRole, query(Usage.Query, "usage.invalid_query"), async (c) => {
    // `Accept: text/csv`: the same buckets as a CSV file (Export.usageCsv), `bom=1` for Excel.
    if (wants(c, "text/csv"))
      return csvResponse(
        c,
        await Export.usageCsv(c.get("actor").organizationId, c.req.param("id"), parse(Export.UsageQuery, c.req.query(), "usage.invalid_query")),
      );
    return c.json(await Usage.factory(c.get("actor").organizationId, c.req.param("id"), c.req.valid("query")));
  })
  .get("/:id/series", anyRole, query(Usage.Query, "series.invalid_query"), async (c) =>
    c.json(await Usage.series(c.get("actor").organizationId, c.req.param("id"), c.req.valid("query"))),
  )
  .get("/:id/meters", anyRole, async (c) => {
    const factory = await ownFactory(c.get("actor").organizationId, c.req.param("id"));
    return c.json({ meters: await Meter.list(factory.organizationId, factory.id) });
  })
  .post("/:id/meters", adminOnly, json(Onboarding.createMeter.schema.omit(owned)), async (c) =>
    c.json(await Onboarding.createMeter({ ...c.req.valid("json"), organizationId: c.get("actor").organizationId, factoryId: c.req.param("id") }), 201),
  )
  .patch("/:id/meters/:meterId", adminOnly, json(Meter.update.schema.omit({ organizationId: true, factoryId: true, id: true })), async (c) =>
    c.json(
      await Meter.update({ ...c.req.valid("json"), organizationId: c.get("actor").organizationId, factoryId: c.req.param("id"), id: c.req.param("meterId") }),
    ),
  )
  .get("/:id/gateways", anyRole, async (c) => {
    const factory = await ownFactory(c.get("actor").organizationId, c.req.param("id"));
    return c.json({ gateways: (await Gateway.list(factory.organizationId)).filter((gateway) => gateway.factoryId === factory.id) });
  })
  .post("/:id/gateways", adminOnly, json(Enrollment.createGateway.schema.omit(owned)), async (c) =>
    c.json(await Enrollment.createGateway({ ...c.req.valid("json"), organizationId: c.get("actor").organizationId, factoryId: c.req.param("id") }), 201),
  )
  .patch("/:id/gateways/:gatewayId", adminOnly, json(Device.rename.schema.pick({ name: true })), async (c) =>
    c.json(
      await Device.rename({
        ...c.req.valid("json"),
        organizationId: c.get("actor").organizationId,
        factoryId: c.req.param("id"),
        id: c.req.param("gatewayId"),
      }),
    ),
  )
  .post("/:id/gateways/:gatewayId/enrollment-code", adminOnly, async (c) =>
    c.json(
      await Enrollment.issueCode({ organizationId: c.get("actor").organizationId, factoryId: c.req.param("id"), deviceId: c.req.param("gatewayId") }),
      201,
    ),
  )
  .post("/:id/gateways/:gatewayId/rotate", adminOnly, async (c) =>
    c.json(await Enrollment.rotate({ organizationId: c.get("actor").organizationId, factoryId: c.req.param("id"), deviceId: c.req.param("gatewayId") })),
  )
  .post("/:id/gateways/:gatewayId/revoke", adminOnly, async (c) =>
    c.json(await Enrollment.revoke({ organizationId: c.get("actor").organizationId, factoryId: c.req.param("id"), deviceId: c.req.param("gatewayId") })),
  )
  .get("/:id/tariffs", anyRole, async (c) => c.json(await Onboarding.tariffs(c.get("actor").organizationId, c.req.param("id"))))
  .post("/:id/tariffs", adminOnly, json(Onboarding.addTariff.schema.omit(owned)), async (c) =>
    c.json(await Onboarding.addTariff({ ...c.req.valid("json"), organizationId: c.get("actor").organizationId, factoryId: c.req.param("id") }), 201),
  )
  .post("/:id/tariffs/cfe", adminOnly, json(Onboarding.assignCfePlan.schema.omit(owned)), async (c) =>
    c.json(await Onboarding.assignCfePlan({ ...c.req.valid("json"), organizationId: c.get("actor").organizationId, factoryId: c.req.param("id") }), 201),
  )
  .post("/:id/tariffs/urdb", adminOnly, json(Onboarding.importUrdb.schema.omit(owned)), async (c) =>
    c.json(await Onboarding.importUrdb({ ...c.req.valid("json"), organizationId: c.get("actor").organizationId, factoryId: c.req.param("id") }), 201),
  )
  .get("/:id/bills", anyRole, async (c) => c.json({ bills: await Onboarding.bills(c.get("actor").organizationId, c.req.param("id")) }));

/** GET /v1/overview: each factory's figures for the console's first page. */
export const overview = new Hono()
  .use(actorAuth)
  .get("/", anyRole, async (c) => c.json({ factories: await Dashboard.overview(c.get("actor").organizationId) }));
