/**
 * Who sends a body is known before the body is looked at: a request without valid credentials is a 401 on every
 * authenticated route whatever its body holds or weighs (an anonymous caller learns nothing of the body rules), and
 * once the sender is known the body rules answer as before (400 naming the path, 413 naming the limit). The routes
 * come from the OpenAPI document, so a route added later without the check fails here.
 */
import { bodyLimits } from "@wattflow/core/config";
import { Testing } from "@wattflow/core/testing";
import { describe, expect, it } from "vitest";
import { app } from "../src/api/app";
import { deviceToken, ids, usePipeline } from "./support";

type Problem = { code: string; message: string; errors?: { path: string; message: string }[] };
type Operation = { security?: Record<string, string[]>[]; requestBody?: unknown };

const nul = "holds U+0000 (NUL), which no text field may";
const proto = 'is a key "__proto__", which would be dropped without a word: name the field you meant';
const depth = 5_000;
/** Larger than every JSON route's limit (ingest's is the largest): spaces, so it would be JSON if it were read. */
const oversize = " ".repeat(Math.max(bodyLimits.jsonBytes, bodyLimits.ingestBytes) + 1);

/** The bodies no route takes, each as raw text (a `__proto__` key cannot be written as an object literal). */
const badBodies: [string, string, Record<string, string>?][] = [
  ["an escaped NUL", '{"name":"Planta \\u0000 Norte"}'],
  // A control character raw inside a string is not JSON (RFC 8259 §7).
  ["a raw NUL", '{"name":"Planta \u0000 Norte"}'],
  ["a __proto__ key", '{"__proto__":{"name":"x"}}'],
  // [[[…"\u0041"…]]]: the escape made the body checker parse it, and recursion overflowed the stack at this depth.
  [`${depth} arrays deep`, `${"[".repeat(depth)}"\\u0041"${"]".repeat(depth)}`],
  ["malformed JSON with an escape", '{"name":"\\u0041"'],
  ["malformed JSON", '{"name":'],
  ["a body over every limit", oversize],
  ["a declared length over every limit", "{}", { "content-length": String(150 * 1024 * 1024) }],
];

/**
 * Every documented operation that takes credentials, as [method, path with its ids filled in, operation]. Signing out
 * is left out: without a session it has nothing to end and answers 200 (session.ts), reading no body.
 */
async function securedOperations(): Promise<[string, string, Operation][]> {
  const document = (await (await app.request("/openapi.json")).json()) as { paths: Record<string, Record<string, Operation>> };
  return Object.entries(document.paths).flatMap(([path, methods]) =>
    Object.entries(methods)
      .filter(([method, operation]) => method !== "get" && (operation.security?.length ?? 0) > 0 && `${method} ${path}` !== "delete /v1/session")
      .map(([method, operation]): [string, string, Operation] => [method.toUpperCase(), path.replace(/\{[^}]+\}/g, ids.factory), operation]),
  );
}

const send = (method: string, path: string, body: string, headers: Record<string, string> = {}) =>
  app.request(path, { method, headers: { "content-type": "application/json", ...headers }, body });

describe.each(Testing.lanes())("authentication before the body on %s", (lane) => {
  const p = usePipeline(lane);

  it("finds the routes to try: every documented route that changes something takes credentials but sign-in and enrollment", async () => {
    const operations = await securedOperations();
    // 20 is a floor, not a count: factories, meters, gateways, tariffs, alerts, runs, imports, quarantine, ingest…
    expect(operations.length).toBeGreaterThan(20);
    expect(operations.map(([method, path]) => `${method} ${path}`)).toEqual(
      expect.arrayContaining(["POST /v1/ingest", "POST /v1/imports", "POST /v1/alerts/rules"]),
    );
  });

  it.each(badBodies)("%s to any authenticated route without credentials is a 401, never a 400 or 413", async (_, body, headers) => {
    const answers: string[] = [];
    for (const [method, path] of await securedOperations()) {
      const response = await send(method, path, body, headers);
      answers.push(`${method} ${path} ${response.status} ${((await response.json()) as Problem).code}`);
    }
    // auth.ts: no Authorization header and no session cookie is auth.missing_token (sessionActor), for every route.
    expect(answers.filter((answer) => !answer.endsWith(" 401 auth.missing_token"))).toEqual([]);
  });

  it.each(badBodies)("%s with an unknown token is a 401 naming the kind of token", async (_, body, headers) => {
    const answers: string[] = [];
    for (const [method, path, operation] of await securedOperations()) {
      const response = await send(method, path, body, { authorization: "Bearer wft_unknown", ...headers });
      const gateway = operation.security?.some((scheme) => "deviceToken" in scheme) ?? false;
      // auth.ts: an unknown device token is auth.invalid_device_token, an unknown API token auth.invalid_token.
      const expected = gateway ? "401 auth.invalid_device_token" : "401 auth.invalid_token";
      const answer = `${response.status} ${((await response.json()) as Problem).code}`;
      if (answer !== expected) answers.push(`${method} ${path} ${answer}, not ${expected}`);
    }
    expect(answers).toEqual([]);
  });

  it("every authenticated JSON body is still checked once the sender is known: an escaped NUL is a 400 at its path", async () => {
    const answers: string[] = [];
    for (const [method, path, operation] of await securedOperations()) {
      // Imports stream their files to the upload store unread: their bytes are the parsers' to judge (characters.ts).
      if (path.startsWith("/v1/imports")) continue;
      const gateway = operation.security?.some((scheme) => "deviceToken" in scheme) ?? false;
      const response = await send(method, path, badBodies[0]?.[1] as string, { authorization: `Bearer ${gateway ? deviceToken : p.apiToken}` });
      const answer = (await response.json()) as Problem;
      // The NUL sits in the top-level "name", so each answer names "name" (characters.ts refuseBodyCharacters).
      if (response.status !== 400 || answer.errors?.[0]?.path !== "name") answers.push(`${method} ${path} ${response.status} ${JSON.stringify(answer)}`);
    }
    expect(answers).toEqual([]);
  });

  it.each([
    ["an escaped NUL", badBodies[0]?.[1], 400, { code: "request.invalid", errors: [{ path: "name", message: nul }] }],
    [
      "a raw NUL",
      badBodies[1]?.[1],
      400,
      { code: "request.invalid_json", message: "Malformed JSON in request body", errors: [{ path: "(body)", message: "is not JSON" }] },
    ],
    ["a __proto__ key", badBodies[2]?.[1], 400, { code: "request.invalid", errors: [{ path: "__proto__", message: proto }] }],
    // Parsed by the body checker (it holds an escape), walked without recursion; the route's schema then refuses the
    // array with the route's own code (factories.ts).
    ["5,000 arrays deep in name", `{"name":${"[".repeat(depth)}"\\u0041"${"]".repeat(depth)}}`, 400, { code: "factory.invalid", errors: [{ path: "name" }] }],
    [
      "malformed JSON with an escape",
      badBodies[4]?.[1],
      400,
      // The message the validator gives malformed JSON without an escape (errors.ts), not "holds a character it may not".
      { code: "request.invalid_json", message: "Malformed JSON in request body", errors: [{ path: "(body)", message: "is not JSON" }] },
    ],
    ["malformed JSON", badBodies[5]?.[1], 400, { code: "request.invalid_json", errors: [{ path: "(body)" }] }],
    ["a body over the limit", oversize, 413, { code: "request.too_large", errors: [{ path: "(body)", message: `at most ${bodyLimits.jsonBytes} bytes` }] }],
  ])("with a valid token, %s to PATCH /v1/factories/:id is answered by the body rules as before", async (_, body, status, expected) => {
    const response = await send("PATCH", `/v1/factories/${ids.factory}`, body as string, { authorization: `Bearer ${p.apiToken}` });

    expect(response.status).toBe(status);
    expect(await response.json()).toMatchObject(expected);
  });

  it.each(["Application/JSON", "APPLICATION/JSON; charset=utf-8", "application/merge-patch+JSON"])(
    "with a valid token, a body sent as %s is checked as JSON: an escaped NUL is a 400 at its path, not a 500 from the database",
    async (contentType) => {
      // The validator parses any case of a JSON media type; before, the body checker skipped these and the NUL reached
      // the factory's update, which PostgreSQL refused (500).
      const response = await send("PATCH", `/v1/factories/${ids.factory}`, badBodies[0]?.[1] as string, {
        authorization: `Bearer ${p.apiToken}`,
        "content-type": contentType,
      });

      expect(response.status).toBe(400);
      expect(await response.json()).toMatchObject({ code: "request.invalid", errors: [{ path: "name", message: nul }] });
    },
  );

  it.each([
    [
      "sign-in with an escaped NUL",
      "/v1/session",
      '{"email":"a\\u0000@example.com","password":"x"}',
      400,
      { code: "request.invalid", errors: [{ path: "email", message: nul }] },
    ],
    [
      "sign-in with a __proto__ key",
      "/v1/session",
      '{"__proto__":{},"email":"a@example.com","password":"x"}',
      400,
      { errors: [{ path: "__proto__", message: proto }] },
    ],
    ["sign-in over the limit", "/v1/session", oversize, 413, { code: "request.too_large" }],
    ["enrollment with an escaped NUL", "/v1/enroll", '{"code":"AB\\u0000CD"}', 400, { code: "request.invalid", errors: [{ path: "code", message: nul }] }],
    ["enrollment with a __proto__ key", "/v1/enroll", '{"__proto__":{"code":"x"}}', 400, { errors: [{ path: "__proto__", message: proto }] }],
  ])("public routes keep their answers: %s", async (_, path, body, status, expected) => {
    const response = await send("POST", path, body, {});

    expect(response.status).toBe(status);
    expect(await response.json()).toMatchObject(expected);
  });
});
