/**
 * Mounted at /v1/alerts (org-scoped, a role on every route): GET / lists alerts (?factoryId, ?status, ?limit) for
 * every role; POST /:id/acknowledge and /:id/resolve record who and when (operator or admin); rules are listed by
 * every role, created and deleted by admins under /rules; POST /evaluate runs a factory's rules now (admin or
 * operator: it raises and sends alerts).
 */
import { Alert } from "@wattflow/core/alert";
import { Hono } from "hono";
import { z } from "zod";
import { actorAuth, requireRole } from "./auth";
import { json, parse } from "./input";

const EvaluateBody = z.object({ factoryId: z.string({ error: "factoryId is required" }) });
const anyRole = requireRole("admin", "operator", "viewer");
const handles = requireRole("admin", "operator");

export const alerts = new Hono()
  .use(actorAuth)
  .get("/", anyRole, async (c) => {
    const query = parse(Alert.ListQuery, c.req.query(), "alerts.invalid_query");
    return c.json({ alerts: await Alert.list(c.get("actor").organizationId, query) });
  })
  .post("/:id/acknowledge", handles, async (c) => c.json(await Alert.mark(c.get("actor"), c.req.param("id"), "acknowledge")))
  .post("/:id/resolve", handles, async (c) => c.json(await Alert.mark(c.get("actor"), c.req.param("id"), "resolve")))
  .get("/rules", anyRole, async (c) => c.json({ rules: await Alert.listRules(c.get("actor").organizationId) }))
  .post("/rules", requireRole("admin"), json(Alert.RuleInput), async (c) =>
    c.json(await Alert.createRule({ ...c.req.valid("json"), organizationId: c.get("actor").organizationId }), 201),
  )
  .delete("/rules/:id", requireRole("admin"), async (c) => {
    await Alert.deleteRule(c.get("actor").organizationId, c.req.param("id"));
    return c.body(null, 204);
  })
  .post("/evaluate", handles, json(EvaluateBody), async (c) => {
    const { factoryId } = c.req.valid("json");
    // Only the caller's own factories: one of theirs with rules, or nothing is evaluated.
    const rules = (await Alert.listRules(c.get("actor").organizationId)).filter((rule) => rule.factoryId === factoryId);
    return c.json({ raised: rules.length === 0 ? [] : await Alert.evaluate(factoryId) });
  });
