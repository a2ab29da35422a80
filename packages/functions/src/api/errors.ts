import { type ErrorKind, VisibleError, WattflowError } from "@wattflow/core/util/error";
import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";

const statusOf: Record<Exclude<ErrorKind, "internal">, ContentfulStatusCode> = {
  input: 400,
  auth: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  too_large: 413,
  unavailable: 503,
};

/**
 * An error message fit for the log: a driver's "params:" list (the request's values, a whole batch
 * of them) is cut, every value of the request's query string that the message quotes (a database
 * error repeats the bad value) is replaced, and it is kept to one short line.
 * @example loggable('date/time field value out of range: "0000-01-01"', ["0000-01-01"]) // 'date/time field value out of range: "(query value)"'
 */
export function loggable(message: string, queryValues: readonly string[] = []): string {
  let text = message.replace(/\s*params:[\s\S]*$/i, " params: (not logged)");
  for (const value of [...queryValues].sort((a, b) => b.length - a.length)) if (value.length >= 3) text = text.replaceAll(value, "(query value)");
  return text.replace(/\s+/g, " ").slice(0, 300);
}

/**
 * The one place errors become HTTP: every error of the family (util/error.ts `WattflowError`) by its kind with its
 * code and problems — its message when written for the caller, a plain sentence and a log line when it describes
 * our insides (a store unavailable) — Hono's 4xx as they are, anything else (a bug) a bare 500.
 */
export function onError(error: Error, c: Context) {
  if (error instanceof WattflowError && error.kind !== "internal") {
    if (error instanceof VisibleError && error.retryAfterSeconds !== undefined) c.header("Retry-After", String(error.retryAfterSeconds));
    if (error.public) return c.json({ code: error.code, message: error.message, errors: error.problems }, statusOf[error.kind]);
    logFailure(error, c);
    c.header("Retry-After", "30");
    return c.json({ code: error.code, message: "A service Wattflow depends on is unavailable; try again shortly", errors: [] }, statusOf[error.kind]);
  }
  // Hono's own errors (a malformed body in its validator, a body of an undeclared media type) keep their status; a
  // body that is not JSON keeps the code it had before routes were declared (hono/validator's message names it).
  if (error instanceof HTTPException && error.status < 500) {
    const code = error.message === "Malformed JSON in request body" ? "request.invalid_json" : "request.invalid";
    return c.json({ code, message: error.message || "Invalid request", errors: [{ path: "(body)", message: error.message }] }, error.status);
  }
  logFailure(error, c);
  return c.json({ code: "internal", message: "Internal error; it has been logged" }, 500);
}

/** The path only (never the query string) and each message without what it quotes of the request. */
function logFailure(error: Error, c: Context): void {
  const values = Object.values(c.req.queries()).flat();
  const cause = error.cause instanceof Error ? ` (cause: ${loggable(error.cause.message, values)})` : "";
  // The path as JSON escapes it: a control character in it must never start a line of its own in the log.
  const path = JSON.stringify(c.req.path).slice(1, -1);
  console.error(`${c.req.method} ${path} failed: ${error.name}: ${loggable(error.message, values)}${cause}`);
}
