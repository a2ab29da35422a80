import { VisibleError } from "@wattflow/core/util/error";
import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";

const statusOf: Record<VisibleError["kind"], ContentfulStatusCode> = {
  input: 400,
  auth: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  unavailable: 503,
};

/** The one place errors become HTTP: VisibleErrors with their problems, Hono's 4xx as they are, anything else a bare 500. */
export function onError(error: Error, c: Context) {
  if (error instanceof VisibleError) {
    if (error.retryAfterSeconds !== undefined) c.header("Retry-After", String(error.retryAfterSeconds));
    return c.json({ code: error.code, message: error.message, errors: error.problems }, statusOf[error.kind]);
  }
  // Hono's own errors (a malformed body in its validator, a body over a size limit) keep their status.
  if (error instanceof HTTPException && error.status < 500) {
    return c.json({ code: "request.invalid", message: error.message || "Invalid request", errors: [{ path: "(body)", message: error.message }] }, error.status);
  }
  // The message only: a driver error's text can carry a whole batch of query parameters.
  const cause = error.cause instanceof Error ? ` (cause: ${error.cause.message.slice(0, 300)})` : "";
  console.error(`${c.req.method} ${c.req.path} failed: ${error.name}: ${error.message.slice(0, 300)}${cause}`);
  return c.json({ code: "internal", message: "Internal error; it has been logged" }, 500);
}
