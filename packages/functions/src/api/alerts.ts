/**
 * Mounted at /v1/alerts (org-scoped): GET / lists alerts for the console (?factoryId, ?limit);
 * rules are listed, created and deleted under /rules (admin only); POST /evaluate runs a factory's
 * rules now (admin or operator: it raises and sends alerts).
 */
import { Alert } from "@wattflow/core/alert";
import { Hono } from "hono";
import { z } from "zod";
import { actorAuth, requireRole } from "./auth";
import { json, parse } from "./input";

const ListQuery = z.object({ factoryId: z.string().optional(), limit: z.coerce.number().int().min(1).max(500).optional() });
const EvaluateBody = z.object({ factoryId: z.string({ error: "factoryId is required" }) });

export const alerts = new Hono()
  .get("/", actorAuth, async (c) => {
    const query = parse(ListQuery, c.req.query(), "alerts.invalid_query");
    return c.json({ alerts: await Alert.list(c.get("actor").organizationId, query) });
  })
  .get("/rules", actorAuth, async (c) => c.json({ rules: await Alert.listRules(c.get("actor").organizationId) }))
  .post("/rules", actorAuth, requireRole("admin"), json(Alert.RuleInput), async (c) =>
    c.json(await Alert.createRule({ ...c.req.valid("json"), organizationId: c.get("actor").organizationId }), 201),
  )
  .delete("/rules/:id", actorAuth, requireRole("admin"), async (c) => {
    await Alert.deleteRule(c.get("actor").organizationId, c.req.param("id"));
    return c.body(null, 204);
  })
  .post("/evaluate", actorAuth, requireRole("admin", "operator"), json(EvaluateBody), async (c) => {
    const { factoryId } = c.req.valid("json");
    // Only the caller's own factories: one of theirs with rules, or nothing is evaluated.
    const rules = (await Alert.listRules(c.get("actor").organizationId)).filter((rule) => rule.factoryId === factoryId);
    return c.json({ raised: rules.length === 0 ? [] : await Alert.evaluate(factoryId) });
  });
