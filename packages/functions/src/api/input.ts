import { jsonPath, VisibleError } from "@wattflow/core/util/error";
import type { MiddlewareHandler } from "hono";
import type { z } from "zod";

/** The request body as a parsed JSON object. */
async function jsonObject(c: { req: { json(): Promise<unknown> } }): Promise<Record<string, unknown>> {
  let body: unknown;
  try {
    body = await c.req.json();
  } catch (error) {
    throw new VisibleError("input", "request.invalid_json", "The request body is not valid JSON", [{ path: "(body)", message: (error as Error).message }]);
  }
  if (body === null || typeof body !== "object" || Array.isArray(body))
    throw new VisibleError("input", "request.not_an_object", "The request body must be a JSON object", [{ path: "(body)", message: "expected an object" }]);
  return body as Record<string, unknown>;
}

/**
 * Validates the JSON body with `schema` (read in the handler with `c.req.valid("json")`); as a
 * validator it also types the body for the `hono/client` the console uses.
 * @example .post("/", json(User.SignIn), async (c) => c.json(await User.signIn(c.req.valid("json"))))
 */
/** `input` parsed by `schema`, or a 400 that names each problem by its path. */
export function parse<S extends z.ZodType>(schema: S, input: unknown, code = "request.invalid"): z.output<S> {
  const parsed = schema.safeParse(input);
  if (!parsed.success)
    throw new VisibleError(
      "input",
      code,
      "Invalid request",
      parsed.error.issues.map((issue) => ({ path: jsonPath(issue.path), message: issue.message })),
    );
  return parsed.data;
}

export function json<S extends z.ZodType>(
  schema: S,
  /** The refusal's code, as the core function's (`Factory.create.code`); `request.invalid` by default. */
  code = "request.invalid",
): MiddlewareHandler<object, string, { in: { json: z.input<S> }; out: { json: z.output<S> } }> {
  return async (c, next) => {
    c.req.addValidatedData("json", parse(schema, await jsonObject(c), code) as object);
    await next();
  };
}

/** Validates the query string with `schema` (read with `c.req.valid("query")`), typing it for `hono/client` too. */
export function query<S extends z.ZodType>(
  schema: S,
  code = "request.invalid_query",
): MiddlewareHandler<object, string, { in: { query: z.input<S> }; out: { query: z.output<S> } }> {
  return async (c, next) => {
    c.req.addValidatedData("query", parse(schema, c.req.query(), code) as object);
    await next();
  };
}
