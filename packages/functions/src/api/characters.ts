/**
 * Characters and keys a request may not carry, refused with 400 naming where before any handler sees them: a control
 * character (U+0000–U+001F, U+007F) in the path or a query value — it would forge lines in the log and no id, date
 * or name of ours holds one — U+0000 anywhere in a JSON body, which PostgreSQL cannot store in text (it answered
 * 500 before), and a `__proto__` key anywhere in a JSON body. Tabs and line breaks inside JSON strings stay allowed: a
 * tariff note may have them. The path and query are checked for every request (`refuseControlCharacters`); a body
 * only once its sender is known (`refuseBodyCharacters`, through body.ts `checkBody`), so a caller without
 * credentials is told 401 and nothing of the body rules.
 *
 * Why `__proto__`: JSON.parse keeps it as an own key, but zod records and loose objects drop it without a word (a CFE
 * month entered as `{"__proto__": {...}}` was ignored, the answer looked fine). `constructor` and `prototype` are kept
 * by records and refused by strict objects like any unknown key, so they need nothing here. A gateway's bodies
 * (`tolerantBodies`) are exempt: they ignore any key they do not know, `__proto__` included, so one odd key never
 * costs a batch its good readings.
 */
import { jsonPath, VisibleError } from "@wattflow/core/util/error";
import { pathWhere, protoKeyAt, protoKeyMessage } from "@wattflow/core/util/json";
import type { MiddlewareHandler } from "hono";

/** Whether `text` holds a control character (U+0000–U+001F or U+007F). */
function hasControl(text: string): boolean {
  for (let index = 0; index < text.length; index++) {
    const code = text.charCodeAt(index);
    if (code < 0x20 || code === 0x7f) return true;
  }
  return false;
}

const hasNul = (text: string) => text.includes("\u0000");

/** The gateway's bodies (deviceBody and the ingest envelope): unknown keys are ignored there, `__proto__` too. */
const tolerantBodies = new Set(["/v1/ingest", "/v1/devices/heartbeat"]);

const refuse = (code: string, path: string, message: string): never => {
  throw new VisibleError("input", code, "The request holds a character it may not", [{ path, message }]);
};

/**
 * @throws VisibleError 400 `request.invalid_path` (a control character in the path, named `(path)`) or
 *   `request.invalid_query` (in a query value, named by its parameter).
 */
export const refuseControlCharacters: MiddlewareHandler = async (c, next) => {
  if (hasControl(c.req.path)) refuse("request.invalid_path", "(path)", "holds a control character (U+0000–U+001F or U+007F)");
  for (const [name, values] of Object.entries(c.req.queries()))
    if (hasControl(name) || values.some((value) => hasControl(value)))
      refuse("request.invalid_query", hasControl(name) ? "(query)" : name, "holds a control character (U+0000–U+001F or U+007F)");
  await next();
};

/**
 * @throws VisibleError 400 `request.invalid` (U+0000 or a `__proto__` key in a JSON body, named by its JSON path) or
 *   `request.invalid_json` (a body that must be read here and is not JSON).
 */
export const refuseBodyCharacters: MiddlewareHandler = async (c, next) => {
  // Imports stream their files to the upload store unread (imports.ts): their bytes are the parsers' to judge. A media
  // type's case means nothing (RFC 9110 §8.3.1) and the route's validator parses "Application/JSON" as JSON too.
  const json = (c.req.header("content-type") ?? "").toLowerCase().includes("json") && !c.req.path.startsWith("/v1/imports");
  if (c.req.method !== "GET" && c.req.method !== "HEAD" && json) {
    const text = await c.req.text();
    const protoKeys = !tolerantBodies.has(c.req.path);
    // Cheap first: only a body that spells U+0000 raw, `__proto__`, or any \u escape (either can be spelt escaped:
    // "\u005f_proto__") is parsed here; the route's validator parses the rest.
    if (text.includes("\u0000") || text.includes("\\u") || (protoKeys && text.includes("__proto__"))) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {
        // Worded as the route's validator words a body that is not JSON (errors.ts): no character is to blame.
        throw new VisibleError("input", "request.invalid_json", "Malformed JSON in request body", [{ path: "(body)", message: "is not JSON" }]);
      }
      const at = pathWhere(parsed, { key: hasNul, text: hasNul });
      if (at) refuse("request.invalid", jsonPath(at), "holds U+0000 (NUL), which no text field may");
      const key = protoKeys ? protoKeyAt(parsed) : undefined;
      if (key) throw new VisibleError("input", "request.invalid", "The request holds a key it may not", [{ path: jsonPath(key), message: protoKeyMessage }]);
    }
  }
  await next();
};
