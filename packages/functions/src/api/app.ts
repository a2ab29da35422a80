/**
 * The HTTP API for gateways and dashboards: a Lambda behind the router on AWS, the same app on
 * @hono/node-server locally. Routes are thin: parse, call core, map.
 */

import { $, createRoute, type RouteConfig, z } from "@hono/zod-openapi";
import type { Auth } from "@wattflow/core/auth";
import type { Device } from "@wattflow/core/device";
import { Export } from "@wattflow/core/export";
import { Health } from "@wattflow/core/health";
import { Ingest } from "@wattflow/core/ingest";
import { Location } from "@wattflow/core/location";
import { Quarantine } from "@wattflow/core/quarantine";
import { Reading } from "@wattflow/core/reading";
import { Usage } from "@wattflow/core/usage";
import { VisibleError } from "@wattflow/core/util/error";
import { ensureRuntime } from "../runtime";
import { alerts } from "./alerts";
import { access, actorAuth, deviceAuth } from "./auth";
import { refuseControlCharacters } from "./characters";
import { devices } from "./devices";
import { apiDocs } from "./docs";
import { enroll } from "./enroll";
import { onError } from "./errors";
import { csvResponse, exportRoutes, wants } from "./exports";
import { factories, overview } from "./factories";
import { imports } from "./imports";
import { kpis } from "./kpis";
import { actorRoute, actorRoutes, actorSecurity, answer, deviceRoute, file, ids, invalid, jsonBody, problems, routes } from "./openapi";
import { runs } from "./runs";
import { session } from "./session";

type ActorEnv = { Variables: { actor: Auth.Actor } };

/** The body as JSON, for ingest: core names each problem of the envelope and of each reading (Ingest.submit). */
async function readJson(c: { req: { json(): Promise<unknown> } }): Promise<unknown> {
  try {
    return await c.req.json();
  } catch (error) {
    throw new VisibleError("input", "request.invalid_json", "The request body is not valid JSON", [{ path: "(body)", message: (error as Error).message }]);
  }
}

/** `schema` as JSON Schema (draft 2020-12, as OpenAPI 3.1 takes it), for a body core validates itself. */
function documented(schema: z.ZodType): Record<string, unknown> {
  const { $schema: _, ...json } = z.toJSONSchema(schema, { io: "input", unrepresentable: "any" });
  return json;
}
// The envelope holds its readings as unknowns (each is checked alone, so one bad reading does not refuse the batch):
// documented as the Reading.Input they must be.
const envelopeSchema = documented(Ingest.Envelope);
(envelopeSchema.properties as { readings: { items: unknown } }).readings.items = documented(Reading.Input);
const ingestRoute = deviceRoute({
  method: "post",
  path: "/",
  tags: ["Ingest"],
  summary: "A gateway's readings (at most 500): each accepted, a duplicate, or rejected with its problems by path",
  middleware: deviceAuth,
  // Documented, not validated here: Ingest.submit answers each reading's problems in a 200, the envelope's in a 400.
  request: { body: { required: true, content: { "application/json": { schema: envelopeSchema } } } },
  responses: {
    200: answer(Ingest.SubmitResult, "How many were accepted, how many were duplicates, and each rejected reading's problems"),
    413: problems[413],
  },
});
const ingest = routes<{ Variables: { device: Device.Identity } }>().openapi(ingestRoute, async (c) =>
  c.json(await Ingest.submit(c.get("device"), await readJson(c)), 200),
);

const locationsRoute = actorRoute({
  method: "get",
  path: "/",
  tags: ["Factories"],
  summary: "CFE's divisions and each municipality's divisions and clock, for setup forms",
  middleware: actorAuth,
  responses: {
    200: answer(Location.Catalogue, "The location catalogue"),
  },
});
/** The bundled location catalogue (core/src/location): CFE's divisions and each municipality's divisions and clock, for setup forms. */
const locations = routes<ActorEnv>().openapi(locationsRoute, async (c) => c.json(Location.catalogue(), 200));

/** A meter's stored data, for every role. */
const meterRoute = actorRoutes({ tags: ["Meters"], middleware: actorAuth });
const readingsRoute = meterRoute({
  method: "get",
  path: "/{id}/readings",
  summary: "The meter's readings over [from, to), or with `Accept: text/csv` a streamed CSV file (`bom=1` for Excel); `meter` is the path's",
  request: { params: ids("id"), query: Export.ReadingsQuery },
  responses: {
    200: {
      description: "The readings",
      content: {
        ...answer(z.object({ readings: z.array(Usage.StoredReading) }), "The meter's readings (kWh, kW, PF) by slot").content,
        ...file("text/csv", "One row per reading"),
      },
    },
  },
});
const gapsRoute = meterRoute({
  method: "get",
  path: "/{id}/gaps",
  summary: "The meter's missing and estimated spans over [from, to)",
  request: { params: ids("id"), query: Usage.GapsQuery },
  responses: { 200: answer(Usage.Gaps, "Missing and estimated spans") },
});
const meters = routes<ActorEnv>()
  .openapi(
    readingsRoute,
    async (c) => {
      const organizationId = c.get("actor").organizationId;
      const meterId = c.req.valid("param").id;
      const query = c.req.valid("query");
      // `Accept: text/csv`: the meter's readings as a streamed CSV file (Export.readingsCsv).
      if (wants(c, "text/csv")) {
        const factoryId = await Export.meterFactory(organizationId, meterId);
        return csvResponse(c, await Export.readingsCsv(organizationId, factoryId, { ...query, meter: meterId }));
      }
      return c.json({ readings: await Usage.meterReadings(organizationId, meterId, new Date(query.from), new Date(query.to)) }, 200);
    },
    invalid("readings.invalid_query"),
  )
  .openapi(
    gapsRoute,
    async (c) => c.json(await Usage.gaps(c.get("actor").organizationId, c.req.valid("param").id, c.req.valid("query")), 200),
    invalid("gaps.invalid_query"),
  );

const ReplayBody = z.object({ ids: z.array(z.string()).default([]) });
// An organization's quarantine is its operators' and admins' (records no organization claims: platform actors only); replay is admin-only.
// Each route names its own roles, so a refusal names the role that would do (a viewer replaying is told admin).
const quarantineRoute = actorRoute({
  method: "get",
  path: "/",
  tags: ["Quarantine"],
  summary: "Stream records held back (bad signature, unknown device, unreadable), for operators and admins; `all=true` with replayed ones",
  middleware: access.operators,
  request: { query: z.object({ all: z.enum(["true", "false"]).optional() }) },
  responses: { 200: answer(z.object({ items: z.array(Quarantine.Item) }), "The quarantined records") },
});
const replayRoute = actorRoute({
  method: "post",
  path: "/replay",
  tags: ["Quarantine"],
  summary: "Put quarantined records back on the stream (admin)",
  middleware: access.admins,
  request: { body: jsonBody(ReplayBody) },
  responses: { 200: answer(Quarantine.Replayed, "Which were replayed and which were not found") },
});
const quarantine = routes<ActorEnv>()
  .openapi(quarantineRoute, async (c) =>
    c.json({ items: await Quarantine.list(c.get("actor"), { includeReplayed: c.req.valid("query").all === "true" }) }, 200),
  )
  .openapi(replayRoute, async (c) => c.json(await Quarantine.replay(c.get("actor"), c.req.valid("json").ids), 200), invalid("quarantine.invalid_replay"));

/**
 * A route of /health: its report answers 200 when every check passed, 503 when one failed; `config` says who may call
 * (its security, middleware and their errors).
 */
function healthRouteOf<
  S extends z.ZodType,
  P extends string,
  R extends Omit<RouteConfig, "path" | "tags" | "responses"> & { path: P; responses?: RouteConfig["responses"] },
>(report: S, description: string, config: R) {
  const reported = answer(report, description);
  return createRoute({ ...config, tags: ["Health"], responses: { 200: reported, 503: { ...reported, description: "A check failed" }, ...config.responses } });
}

const healthRoute = healthRouteOf(Health.Report, "Each component's check", {
  method: "get",
  path: "/",
  summary: "What each health check found (operators and admins); 503 when one fails",
  middleware: access.operators,
  security: actorSecurity,
  responses: { 401: problems[401], 403: problems[403] },
});
const health = routes<ActorEnv>().openapi(healthRoute, async (c) => {
  const report = await Health.report();
  return report.status === "ok" ? c.json(report, 200) : c.json(report, 503);
});

// Public: the status alone; what each check found is for an operator or admin (/v1/health).
const publicHealthRoute = healthRouteOf(Health.PublicReport, "The status alone", {
  method: "get",
  path: "/health",
  summary: "Whether the API and what it depends on are up (public: the status alone)",
});

const api = $(
  routes()
    .use(async (c, next) => {
      await next();
      // Answers carry an organization's data or a token: no cache may keep them, no browser may guess their type.
      c.res.headers.set("Cache-Control", "no-store");
      c.res.headers.set("X-Content-Type-Options", "nosniff");
    })
    // The path and query are checked for every request; a body only once its sender is known (auth.ts, body.ts).
    .use(refuseControlCharacters)
    .use(async (_, next) => {
      await ensureRuntime();
      await next();
    }),
)
  .openapi(publicHealthRoute, async (c) => {
    const report = await Health.report();
    return report.status === "ok" ? c.json(Health.publicView(report), 200) : c.json(Health.publicView(report), 503);
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

/** Every route above, documented: `/openapi.json` (OpenAPI 3.1) and `/docs` to read it. */
export const app = api.route("/", apiDocs(api));

export type App = typeof app;
