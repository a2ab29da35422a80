/**
 * Workflow runs, in the shape of the Step Functions API, for `wattflow runs` against the local stack and the console:
 * list (every kind: imports, monthly closes, recomputes, with duration, files and a failure's plain explanation),
 * describe, history pages; and starting a monthly close or a cost recompute.
 */

import { z } from "@hono/zod-openapi";
import type { Auth } from "@wattflow/core/auth";
import { Factory } from "@wattflow/core/factory";
import { VisibleError } from "@wattflow/core/util/error";
import { Instant } from "@wattflow/core/util/instant";
import { Workflow } from "@wattflow/core/workflow";
import { Runs } from "@wattflow/core/workflow/runs";
import { access, actorAuth } from "./auth";
import { actorRoute, actorRoutes, answer, ids, invalid, jsonBody, routes } from "./openapi";

const statuses = ["RUNNING", "SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"] as const;
const ListQuery = z.object({
  workflow: z.string().optional(),
  status: z.enum(statuses).optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});
const StartBody = z.discriminatedUnion("workflow", [
  z.object({
    workflow: z.literal("MonthlyClose"),
    month: Instant.monthSchema("month"),
    factoryIds: z.array(z.string()).optional(),
  }),
  z.object({
    workflow: z.literal("CostRecompute"),
    // Five years of months at most (the readings window): a longer list only fails later, inside the run, on Step
    // Functions' 256 KiB state limit.
    months: z
      .array(Instant.monthSchema("month"))
      .min(1)
      .max(60, "at most 60 months (five years) in one recompute: start one run per range")
      .refine((months) => new Set(months).size === months.length, "each month once"),
    factoryIds: z.array(z.string()).optional(),
  }),
]);

/** The run as the actor may read it (Runs.scoped); another organization's is 404. */
async function own(id: string, actor: Auth.Actor): Promise<Workflow.Execution> {
  const execution = await (await Workflow.use()).describe(id);
  if (!execution || !Runs.visible(execution, actor.organizationId)) throw new VisibleError("not_found", "run.not_found", `run ${id} not found`);
  return Runs.scoped(execution, actor);
}

const HistoryQuery = z.object({
  nextToken: z.string().optional(),
  maxResults: z.coerce.number().int().min(1).max(1000).optional(),
});

const tags = ["Runs"];
/** Reading runs: any role, each seeing its organization's (Runs.scoped). */
const readRoute = actorRoutes({ tags, middleware: actorAuth });
const listRoute = readRoute({
  method: "get",
  path: "/",
  summary: "Workflow runs (imports, monthly closes, recomputes) with duration, files and a failure's explanation",
  request: { query: ListQuery },
  responses: { 200: answer(z.object({ executions: z.array(Runs.Item) }), "The runs, newest first") },
});
const startRoute = actorRoute({
  method: "post",
  path: "/",
  tags,
  summary: "Start a monthly close or a cost recompute (admin or operator)",
  middleware: access.operators,
  request: { body: jsonBody(StartBody) },
  responses: { 202: answer(Workflow.Started, "The started run") },
});
const describeRoute = readRoute({
  method: "get",
  path: "/{id}",
  summary: "One run (Step Functions DescribeExecution shape)",
  request: { params: ids("id") },
  responses: { 200: answer(Workflow.Execution, "The run") },
});
const historyRoute = readRoute({
  method: "get",
  path: "/{id}/history",
  summary: "A page of the run's history events",
  request: { params: ids("id"), query: HistoryQuery },
  responses: { 200: answer(Workflow.HistoryPage, "Events and the next page's token") },
});

/** Every refusal of a runs route has the one code `wattflow runs` knows. */
const refused = "runs.invalid_request";

export const runs = routes<{ Variables: { actor: Auth.Actor } }>()
  .openapi(listRoute, async (c) => c.json({ executions: await Runs.list(c.get("actor"), c.req.valid("query")) }, 200), invalid(refused))
  .openapi(
    startRoute,
    async (c) => {
      const { workflow, ...input } = c.req.valid("json");
      const organizationId = c.get("actor").organizationId;
      // A run names only the caller's factories: another organization's id is 404 as on every factory route.
      for (const factoryId of input.factoryIds ?? []) await Factory.own(organizationId, factoryId);
      return c.json(await (await Workflow.use()).start(workflow, { ...input, organizationId }), 202);
    },
    invalid(refused),
  )
  .openapi(describeRoute, async (c) => c.json(await own(c.req.valid("param").id, c.get("actor")), 200), invalid(refused))
  .openapi(
    historyRoute,
    async (c) => {
      const { id } = c.req.valid("param");
      const actor = c.get("actor");
      const execution = await own(id, actor);
      // A scheduled close's events carry every organization's pages: its history is the platform's to read.
      if (Runs.scheduled(execution) && !actor.platform)
        throw new VisibleError(
          "forbidden",
          "run.history_platform_only",
          `run ${id} was started by the schedule for every organization: its history is read with a platform token; the run itself shows your part`,
        );
      const { nextToken, maxResults } = c.req.valid("query");
      return c.json(await (await Workflow.use()).history(id, { nextToken: nextToken || undefined, maxResults }), 200);
    },
    invalid(refused),
  );
