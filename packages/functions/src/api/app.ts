/**
 * The HTTP API for gateways and dashboards: a Lambda behind the router on AWS, the same app on
 * @hono/node-server locally. Routes are thin: parse, call core, map.
 */

import { Export } from "@wattflow/core/export";
import { Health } from "@wattflow/core/health";
import { Ingest } from "@wattflow/core/ingest";
import { Location } from "@wattflow/core/location";
import { Quarantine } from "@wattflow/core/quarantine";
import { Usage } from "@wattflow/core/usage";
import { jsonPath, VisibleError } from "@wattflow/core/util/error";
import { Instant } from "@wattflow/core/util/instant";
import { Hono } from "hono";
import { z } from "zod";
import { ensureRuntime } from "../runtime";
import { alerts } from "./alerts";
import { actorAuth, deviceAuth, requireRole } from "./auth";
import { devices } from "./devices";
import { enroll } from "./enroll";
import { onError } from "./errors";
import { csvResponse, exportRoutes, wants } from "./exports";
import { factories, overview } from "./factories";
import { imports } from "./imports";
import { query } from "./input";
import { kpis } from "./kpis";
import { limitBody } from "./limits";
import { runs } from "./runs";
import { session } from "./session";

async function jsonBody(c: { req: { json(): Promise<unknown> } }): Promise<unknown> {
  try {
    return await c.req.json();
  } catch (error) {
    throw new VisibleError("input", "request.invalid_json", "The request body is not valid JSON", [{ path: "(body)", message: (error as Error).message }]);
  }
}

function parse<T extends z.ZodType>(schema: T, input: unknown, code: string): z.output<T> {
  const result = schema.safeParse(input);
  if (!result.success) {
    throw new VisibleError(
      "input",
      code,
      "Invalid request",
      result.error.issues.map((issue) => ({ path: jsonPath(issue.path), message: issue.message })),
    );
  }
  return result.data;
}

const ingest = new Hono().use(deviceAuth).post("/", async (c) => c.json(await Ingest.submit(c.get("device"), await jsonBody(c))));

/** The bundled location catalogue (core/src/location): CFE's divisions and each municipality's divisions and clock, for setup forms. */
const locations = new Hono().use(actorAuth).get("/", async (c) => c.json({ divisions: Location.divisions, municipalities: Location.municipalities }));

const ReadingsQuery = z.object({ from: Instant.schema("from"), to: Instant.schema("to") });
const meters = new Hono()
  .use(actorAuth)
  .get("/:id/readings", async (c) => {
    const organizationId = c.get("actor").organizationId;
    // `Accept: text/csv`: the meter's readings as a streamed CSV file (Export.readingsCsv), `bom=1` for Excel.
    if (wants(c, "text/csv")) {
      const csvQuery = parse(Export.ReadingsQuery, { ...c.req.query(), meter: c.req.param("id") }, "readings.invalid_query");
      return csvResponse(c, await Export.readingsCsv(organizationId, await Export.meterFactory(organizationId, c.req.param("id")), csvQuery));
    }
    const query = parse(ReadingsQuery, c.req.query(), "readings.invalid_query");
    return c.json({ readings: await Usage.meterReadings(organizationId, c.req.param("id"), new Date(query.from), new Date(query.to)) });
  })
  .get("/:id/gaps", query(Usage.GapsQuery, "gaps.invalid_query"), async (c) =>
    c.json(await Usage.gaps(c.get("actor").organizationId, c.req.param("id"), c.req.valid("query"))),
  );

const ReplayBody = z.object({ ids: z.array(z.string()).default([]) });
// An organization's quarantine is its operators' and admins' (records no organization claims: platform actors only); replay is admin-only.
// Each route names its own roles, so a refusal names the role that would do (a viewer replaying is told admin).
const quarantine = new Hono()
  .use(actorAuth)
  .get("/", requireRole("admin", "operator"), async (c) =>
    c.json({ items: await Quarantine.list(c.get("actor"), { includeReplayed: c.req.query("all") === "true" }) }),
  )
  .post("/replay", requireRole("admin"), async (c) => {
    const body = parse(ReplayBody, await jsonBody(c), "quarantine.invalid_replay");
    return c.json(await Quarantine.replay(c.get("actor"), body.ids));
  });

const health = new Hono().use(actorAuth, requireRole("admin", "operator")).get("/", async (c) => {
  const report = await Health.report();
  return c.json(report, report.status === "ok" ? 200 : 503);
});

export const app = new Hono()
  .use(async (c, next) => {
    await next();
    // Answers carry an organization's data or a token: no cache may keep them, no browser may guess their type.
    c.res.headers.set("Cache-Control", "no-store");
    c.res.headers.set("X-Content-Type-Options", "nosniff");
  })
  .use(limitBody)
  .use(async (_, next) => {
    await ensureRuntime();
    await next();
  })
  // Public: the status alone; what each check found is for an operator or admin (/v1/health).
  .get("/health", async (c) => {
    const report = await Health.report();
    return c.json(Health.publicView(report), report.status === "ok" ? 200 : 503);
  })
  .route("/v1/health", health)
  .route("/v1/ingest", ingest)
  .route("/v1/factories", factories)
  .route("/v1/factories", kpis)
  .route("/v1/factories", exportRoutes)
  .route("/v1/overview", overview)
  .route("/v1/locations", locations)
  .route("/v1/meters", meters)
  .route("/v1/quarantine", quarantine)
  .route("/v1/devices", devices)
  .route("/v1/imports", imports)
  .route("/v1/runs", runs)
  .route("/v1/session", session)
  .route("/v1/enroll", enroll)
  .route("/v1/alerts", alerts)
  .notFound((c) => c.json({ code: "not_found", message: `${c.req.method} ${c.req.path} is not a route` }, 404))
  .onError(onError);

export type App = typeof app;
