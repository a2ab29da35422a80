/**
 * What every route declaration shares (`@hono/zod-openapi`): the one validation hook that turns a request schema's
 * refusal into the API's 400 problem, the problem body documented once, the security schemes, and the typed JSON
 * answers the console's `hono/client` reads. Request schemas come from core; routes live beside their handlers.
 */
import { zodToOpenAPIRegistry } from "@asteasolutions/zod-to-openapi";
import { createRoute, type Hook, OpenAPIHono, type RouteConfig, z } from "@hono/zod-openapi";
import { jsonPath, VisibleError } from "@wattflow/core/util/error";
import * as Schema from "@wattflow/core/util/schema";
import type { Env } from "hono";
import type { ZodError } from "zod";

/**
 * The input refusal as the API answers it everywhere: `code`, and each problem by its JSON path (util/error.ts).
 * A field the body's schema does not know is named by its own path (`contractedDemandKW`), one problem each.
 */
function refuse(code: string, error: ZodError): never {
  throw new VisibleError(
    "input",
    code,
    "Invalid request",
    error.issues.flatMap((issue) => Schema.problemsOf(issue, (path) => jsonPath(path))),
  );
}

/**
 * The validation hook of a route whose refusal has its own code (`usage.invalid_query`, `runs.invalid_request`):
 * pass it as `.openapi(route, handler, invalid("usage.invalid_query"))`.
 * @throws VisibleError (400) naming each problem by its path, when the request does not match the route's schema.
 */
export function invalid<T, E extends Env, P extends string>(code: string): Hook<T, E, P, undefined> {
  return (result) => {
    if (!result.success) refuse(code, result.error);
    return undefined;
  };
}

/** The hook of every other route: `request.invalid_query` for the query string, `request.invalid` for a body or path. */
function defaultHook<T, E extends Env, P extends string>(...[result]: Parameters<Hook<T, E, P, undefined>>): undefined {
  if (!result.success) refuse(result.target === "query" ? "request.invalid_query" : "request.invalid", result.error);
  return undefined;
}

/** A sub-app whose routes are declared with `createRoute`, refusing bad input through the one hook. */
export function routes<E extends Env = Env>() {
  return new OpenAPIHono<E>({ defaultHook });
}

/** The body of every error answer (errors.ts `onError`): a stable code, a sentence, and the problems by JSON path. */
export const Problem = z
  .object({
    code: z.string().openapi({ example: "usage.invalid_query" }),
    message: z.string(),
    errors: z.array(z.object({ path: z.string().openapi({ example: "to" }), message: z.string() })).optional(),
  })
  .openapi("Problem", { description: "An error: `code` is stable, `errors` names each problem by its JSON path (`(body)`, `(root)`, `readings.3.kwh`)." });

const problemResponse = (description: string) => ({ description, content: { "application/json": { schema: Problem } } });

/** The error answers a route can give, each a Problem. */
export const problems = {
  400: problemResponse("The request is invalid: each problem named by its path"),
  401: problemResponse("No token or session, or an unknown or revoked one"),
  403: problemResponse("The caller's role may not do this, or a signed-in change lacks the CSRF header"),
  404: problemResponse("Not found in the caller's organization"),
  409: problemResponse("Conflicts with what is stored"),
  413: problemResponse("The body is over the route's limit"),
  415: problemResponse("The body is not of the declared media type"),
  503: problemResponse("A service Wattflow depends on is unavailable; try again after Retry-After seconds"),
} as const;

/** The errors of a route that reads or changes an organization's data. */
export const actorProblems = { 400: problems[400], 401: problems[401], 403: problems[403], 404: problems[404], 503: problems[503] } as const;

/**
 * A JSON answer described by `schema` (declared in core beside the function that makes it): the document shows its
 * fields, and the route's handler must return that schema's type, so the two cannot drift apart.
 * @example responses: { 200: answer(z.object({ factories: z.array(Factory.Info) }), "The organization's factories") }
 */
export function answer<S extends z.ZodType>(schema: S, description: string) {
  return { description, content: { "application/json": { schema } } };
}

/** A file download of `type` (a CSV stream, a PDF) with its `Content-Disposition` name. */
export function file(type: "text/csv" | "application/pdf", description: string) {
  return { [type]: { schema: z.string().openapi({ description }) } } as Record<typeof type, { schema: z.ZodString }>;
}

/** `schema` refusing unknown keys at every depth (core util/schema.ts), each rebuilt schema keeping its OpenAPI metadata. */
function strict<S extends z.ZodType>(schema: S): S {
  return Schema.strict(schema, (from, to) => {
    const metadata = zodToOpenAPIRegistry.get(from);
    if (metadata) zodToOpenAPIRegistry.add(to, metadata);
  });
}

/**
 * The JSON body of a route, validated by `schema` (from core) through the one hook; a body is required, and a field
 * the schema does not name is refused (400, its path in `errors`) rather than dropped: a typo is not lost silently.
 */
export function jsonBody<S extends z.ZodType>(schema: S, description?: string) {
  return { required: true, description, content: { "application/json": { schema: strict(schema) } } } as const;
}

/**
 * The JSON body a gateway sends, validated by `schema` but keeping its unknown fields out rather than refusing them:
 * the agent spreads its own status objects into it (packages/edge agent.ts `heartbeat`), so a gateway newer than the
 * API may send fields this API does not know yet, and refusing them would lose the whole report.
 */
export function deviceBody<S extends z.ZodType>(schema: S, description?: string) {
  return { required: true, description, content: { "application/json": { schema } } } as const;
}

/** Path parameters: each named one a non-empty id string. */
export function ids<const K extends string>(...names: K[]) {
  return z.object(
    Object.fromEntries(
      names.map((name) => [
        name,
        z
          .string()
          .min(1)
          .openapi({ param: { name, in: "path" } }),
      ]),
    ) as Record<K, z.ZodString>,
  );
}

/** People and integrations: an organization API token (Bearer) or the console's session cookie. */
export const actorSecurity: Record<string, string[]>[] = [{ apiToken: [] }, { session: [] }];
/** Gateways: their device token (Bearer). */
export const deviceSecurity: Record<string, string[]>[] = [{ deviceToken: [] }];
/** The console's signed-in session alone (its cookie): the session's own routes. */
export const sessionSecurity: Record<string, string[]>[] = [{ session: [] }];

/** The security schemes the routes name (session.ts, auth.ts). */
export const securitySchemes = {
  apiToken: { type: "http", scheme: "bearer", description: "An organization API token, with its role" },
  deviceToken: { type: "http", scheme: "bearer", description: "A gateway's device token, from enrollment" },
  session: {
    type: "apiKey",
    in: "cookie",
    name: "wattflow_session",
    description: "The console's session (POST /v1/session); a request that changes something must also send `x-wattflow-csrf`",
  },
} as const;

/**
 * A route people and integrations call (an API token or the console's session): `createRoute` with `actorSecurity`
 * and the errors every such route can give (`actorProblems`) added, so a declaration names only what is its own.
 * @example actorRoute({ method: "get", path: "/{id}", tags, summary: "One factory", request, responses: { 200: answer(Factory.Info, "The factory") } })
 */
export function actorRoute<P extends string, R extends Omit<RouteConfig, "path" | "security"> & { path: P }>(config: R) {
  return createRoute({ ...config, security: actorSecurity, responses: { ...actorProblems, ...config.responses } });
}

/**
 * The routes of one resource, declared from what they share: their `tags` and `middleware` (who may call) given once,
 * so each declaration names only its own method, path, summary, request and answers (`actorRoute` adds the rest).
 * @example const gateway = actorRoutes({ tags: ["Devices"], middleware: change });
 *   const rotate = gateway({ method: "post", path: "/{id}/gateways/{gatewayId}/rotate", summary, request, responses });
 */
export function actorRoutes<const S extends Pick<RouteConfig, "tags" | "middleware">>(shared: S) {
  return <P extends string, R extends Omit<RouteConfig, "path" | "security" | "tags" | "middleware"> & { path: P }>(config: R) =>
    actorRoute({ ...shared, ...config });
}

/**
 * The routes of a group that has no token of its own (the session, the public health), declared from what they share:
 * their `tags` and who may call (`security`, `middleware`) given once, as `actorRoutes` does for an organization's data.
 * @example const signedIn = routeGroup({ tags: ["Session"], security: sessionSecurity });
 */
export function routeGroup<const S extends Pick<RouteConfig, "tags" | "security" | "middleware">>(shared: S) {
  return <P extends string, R extends Omit<RouteConfig, "path" | "security" | "tags" | "middleware"> & { path: P }>(config: R) =>
    createRoute({ ...shared, ...config });
}

/** The errors of a gateway's route: a body it sent wrong, an unknown or revoked device token, the stream or database down. */
export const deviceProblems = { 400: problems[400], 401: problems[401], 503: problems[503] } as const;

/**
 * A route a gateway calls with its device token (its `middleware` is auth.ts `deviceAuth`): `createRoute` with
 * `deviceSecurity` and `deviceProblems` added, so a declaration names only what is its own.
 */
export function deviceRoute<P extends string, R extends Omit<RouteConfig, "path" | "security"> & { path: P }>(config: R) {
  return createRoute({ ...config, security: deviceSecurity, responses: { ...deviceProblems, ...config.responses } });
}

/**
 * A gateway's routes, declared from what they share: their `tags` and `middleware` (auth.ts `deviceAuth`) given once,
 * as `actorRoutes` does for people's routes.
 * @example const gateway = deviceRoutes({ tags: ["Devices"], middleware: deviceAuth });
 *   const heartbeat = gateway({ method: "post", path: "/heartbeat", summary, request, responses });
 */
export function deviceRoutes<const S extends Pick<RouteConfig, "tags" | "middleware">>(shared: S) {
  return <P extends string, R extends Omit<RouteConfig, "path" | "security" | "tags" | "middleware"> & { path: P }>(config: R) =>
    deviceRoute({ ...shared, ...config });
}
