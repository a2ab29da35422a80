/**
 * Console routes under /v1/console: figures for the overview and the factory page, and onboarding
 * (factories, meters, gateways and their credentials, tariffs). Every route works inside the
 * caller's organization, which always comes from the session or token, never from the body;
 * changes need the admin role.
 */
import { Dashboard } from "@wattflow/core/dashboard";
import { Enrollment } from "@wattflow/core/device/enrollment";
import { Factory } from "@wattflow/core/factory";
import { Meter } from "@wattflow/core/meter";
import { Onboarding } from "@wattflow/core/onboarding";
import { Priced } from "@wattflow/core/statement/priced";
import { Hono } from "hono";
import { actorAuth, requireRole } from "./auth";
import { json, query } from "./input";

/** Only admins change an organization's setup. */
const adminOnly = requireRole("admin");

const owned = { organizationId: true, factoryId: true } as const;

export const consoleRoutes = new Hono()
  .use(actorAuth)
  .get("/overview", async (c) => c.json({ factories: await Dashboard.overview(c.get("actor").organizationId) }))
  .get("/factories/:id", query(Dashboard.SeriesQuery, "series.invalid_query"), async (c) =>
    c.json(await Priced.series(c.get("actor").organizationId, c.req.param("id"), c.req.valid("query"))),
  )
  .get("/factories/:id/tariffs", async (c) => c.json(await Onboarding.tariffs(c.get("actor").organizationId, c.req.param("id"))))
  .get("/factories/:id/bills", async (c) => c.json({ bills: await Onboarding.bills(c.get("actor").organizationId, c.req.param("id")) }))
  .post("/factories", adminOnly, json(Factory.create.schema.omit({ organizationId: true })), async (c) =>
    c.json(await Factory.create({ ...c.req.valid("json"), organizationId: c.get("actor").organizationId }), 201),
  )
  .post("/factories/:id/meters", adminOnly, json(Onboarding.createMeter.schema.omit(owned)), async (c) =>
    c.json(await Onboarding.createMeter({ ...c.req.valid("json"), organizationId: c.get("actor").organizationId, factoryId: c.req.param("id") }), 201),
  )
  .patch("/meters/:id", adminOnly, json(Meter.place.schema.omit({ organizationId: true, id: true })), async (c) =>
    c.json(await Meter.place({ ...c.req.valid("json"), organizationId: c.get("actor").organizationId, id: c.req.param("id") })),
  )
  .post("/factories/:id/gateways", adminOnly, json(Enrollment.createGateway.schema.omit(owned)), async (c) =>
    c.json(await Enrollment.createGateway({ ...c.req.valid("json"), organizationId: c.get("actor").organizationId, factoryId: c.req.param("id") }), 201),
  )
  .post("/factories/:id/tariffs", adminOnly, json(Onboarding.addTariff.schema.omit(owned)), async (c) =>
    c.json(await Onboarding.addTariff({ ...c.req.valid("json"), organizationId: c.get("actor").organizationId, factoryId: c.req.param("id") }), 201),
  )
  .post("/factories/:id/tariffs/urdb", adminOnly, json(Onboarding.importUrdb.schema.omit(owned)), async (c) =>
    c.json(await Onboarding.importUrdb({ ...c.req.valid("json"), organizationId: c.get("actor").organizationId, factoryId: c.req.param("id") }), 201),
  )
  .post("/gateways/:id/enrollment-code", adminOnly, async (c) =>
    c.json(await Enrollment.issueCode({ organizationId: c.get("actor").organizationId, deviceId: c.req.param("id") }), 201),
  )
  .post("/gateways/:id/rotate", adminOnly, async (c) =>
    c.json(await Enrollment.rotate({ organizationId: c.get("actor").organizationId, deviceId: c.req.param("id") })),
  )
  .post("/gateways/:id/revoke", adminOnly, async (c) =>
    c.json(await Enrollment.revoke({ organizationId: c.get("actor").organizationId, deviceId: c.req.param("id") })),
  );
