/**
 * Workflow runs, in the shape of the Step Functions API, for `wattflow runs` against the local stack and the console:
 * list (every kind: imports, monthly closes, recomputes, with duration, files and a failure's plain explanation),
 * describe, history pages; and starting a monthly close or a cost recompute.
 */

import { VisibleError } from "@wattflow/core/util/error";
import { Instant } from "@wattflow/core/util/instant";
import { Workflow } from "@wattflow/core/workflow";
import { Runs } from "@wattflow/core/workflow/runs";
import { Hono } from "hono";
import { z } from "zod";
import { actorAuth, requireRole } from "./auth";

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
    months: z.array(Instant.monthSchema("month")).min(1),
    factoryIds: z.array(z.string()).optional(),
  }),
]);

function check<T extends z.ZodType>(schema: T, input: unknown): z.output<T> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  throw new VisibleError(
    "input",
    "runs.invalid_request",
    "Invalid request",
    result.error.issues.map((issue) => ({ path: issue.path.join(".") || "(root)", message: issue.message })),
  );
}

async function own(id: string, organizationId: string): Promise<Workflow.Execution> {
  const execution = await Workflow.use().describe(id);
  if (!execution || !Runs.visible(execution, organizationId)) throw new VisibleError("not_found", "run.not_found", `run ${id} not found`);
  return execution;
}

export const runs = new Hono()
  .use(actorAuth)
  .get("/", async (c) => {
    const query = check(ListQuery, c.req.query());
    return c.json({ executions: await Runs.list(c.get("actor").organizationId, query) });
  })
  .post("/", requireRole("admin", "operator"), async (c) => {
    const actor = c.get("actor");
    const body = check(StartBody, await c.req.json().catch(() => undefined));
    const { workflow, ...input } = body;
    return c.json(await Workflow.use().start(workflow, { ...input, organizationId: actor.organizationId }), 202);
  })
  .get("/:id", async (c) => c.json(await own(c.req.param("id"), c.get("actor").organizationId)))
  .get("/:id/history", async (c) => {
    const id = c.req.param("id");
    await own(id, c.get("actor").organizationId);
    const maxResults = c.req.query("maxResults");
    return c.json(
      await Workflow.use().history(id, { nextToken: c.req.query("nextToken") || undefined, maxResults: maxResults ? Number(maxResults) : undefined }),
    );
  });
