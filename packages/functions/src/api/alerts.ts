/**
 * Mounted at /v1/alerts (org-scoped, a role on every route): GET / lists alerts (?factoryId, ?status, ?limit) for
 * every role; POST /:id/acknowledge and /:id/resolve record who and when (operator or admin); rules are listed by
 * every role, created and deleted by admins under /rules; POST /evaluate runs a factory's rules now (admin or
 * operator: it raises and sends alerts).
 */
import { z } from "@hono/zod-openapi";
import { Alert } from "@wattflow/core/alert";
import type { Auth } from "@wattflow/core/auth";
import { Factory } from "@wattflow/core/factory";
import { access } from "./auth";
import { actorRoutes, answer, ids, invalid, jsonBody, routes } from "./openapi";

const EvaluateBody = z.object({ factoryId: z.string({ error: "factoryId is required" }) });
const tags = ["Alerts"];
/** Who may call, one group each: every role reads, operators and admins handle alerts, admins change the rules. */
const reading = actorRoutes({ tags, middleware: access.anyRole });
const handling = actorRoutes({ tags, middleware: access.operators });
const ruleChange = actorRoutes({ tags, middleware: access.admins });

const listRoute = reading({
  method: "get",
  path: "/",
  summary: "The organization's alerts, newest first",
  request: { query: Alert.ListQuery },
  responses: { 200: answer(z.object({ alerts: z.array(Alert.Item) }), "The alerts") },
});
const markRoute = <A extends "acknowledge" | "resolve">(action: A) =>
  handling({
    method: "post",
    path: `/{id}/${action}` as `/{id}/${A}`,
    summary: `${action === "acknowledge" ? "Acknowledge" : "Resolve"} an alert (admin or operator), recording who and when`,
    request: { params: ids("id") },
    responses: { 200: answer(Alert.Item, "The alert") },
  });
const listRulesRoute = reading({
  method: "get",
  path: "/rules",
  summary: "The organization's alert rules",
  responses: { 200: answer(z.object({ rules: z.array(Alert.Rule) }), "The rules") },
});
const createRuleRoute = ruleChange({
  method: "post",
  path: "/rules",
  summary: "Create an alert rule (admin)",
  request: { body: jsonBody(Alert.RuleInput) },
  responses: { 201: answer(Alert.Rule, "The rule") },
});
const deleteRuleRoute = ruleChange({
  method: "delete",
  path: "/rules/{id}",
  summary: "Delete an alert rule (admin); the alerts it raised stay in the history with `ruleId: null`",
  request: { params: ids("id") },
  responses: { 204: { description: "Deleted" } },
});
const evaluateRoute = handling({
  method: "post",
  path: "/evaluate",
  summary: "Run a factory's rules now (admin or operator): raises and sends alerts",
  request: { body: jsonBody(EvaluateBody) },
  responses: { 200: answer(z.object({ raised: z.array(Alert.Item) }), "The alerts raised") },
});

export const alerts = routes<{ Variables: { actor: Auth.Actor } }>()
  .openapi(
    listRoute,
    async (c) => c.json({ alerts: await Alert.list(c.get("actor").organizationId, c.req.valid("query")) }, 200),
    invalid("alerts.invalid_query"),
  )
  .openapi(markRoute("acknowledge"), async (c) => c.json(await Alert.mark(c.get("actor"), c.req.valid("param").id, "acknowledge"), 200))
  .openapi(markRoute("resolve"), async (c) => c.json(await Alert.mark(c.get("actor"), c.req.valid("param").id, "resolve"), 200))
  .openapi(listRulesRoute, async (c) => c.json({ rules: await Alert.listRules(c.get("actor").organizationId) }, 200))
  .openapi(createRuleRoute, async (c) => c.json(await Alert.createRule({ ...c.req.valid("json"), organizationId: c.get("actor").organizationId }), 201))
  .openapi(deleteRuleRoute, async (c) => {
    await Alert.deleteRule(c.get("actor").organizationId, c.req.valid("param").id);
    return c.body(null, 204);
  })
  .openapi(evaluateRoute, async (c) => {
    const { factoryId } = c.req.valid("json");
    // Only the caller's own factories (another organization's is 404); one with no rules evaluates nothing.
    await Factory.own(c.get("actor").organizationId, factoryId);
    const rules = (await Alert.listRules(c.get("actor").organizationId)).filter((rule) => rule.factoryId === factoryId);
    return c.json({ raised: rules.length === 0 ? [] : await Alert.evaluate(factoryId) }, 200);
  });
