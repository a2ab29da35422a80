/**
 * The API describes itself: GET /openapi.json is a valid OpenAPI 3.1 document that lists exactly the routes the app
 * serves (both directions, from Hono's own route table), and GET /docs reads it with files this API serves itself.
 */
import { readFileSync } from "node:fs";
import { compileErrors, validate } from "@readme/openapi-parser";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import pkg from "../package.json" with { type: "json" };
import { app } from "../src/api/app";
import { ids, type Pipeline, pipeline } from "./support";

type Operation = { security?: Record<string, string[]>[]; responses: Record<string, { content?: Record<string, unknown> }> };
type Document = {
  openapi: string;
  info: { title: string; version: string };
  servers: { url: string }[];
  paths: Record<string, Record<string, Operation>>;
  components: { securitySchemes: Record<string, { type: string; scheme?: string; in?: string; name?: string }>; schemas: Record<string, unknown> };
};

/** Served but not in the document, each with its reason. */
const internal: Record<string, string> = {
  "GET /openapi.json": "the document itself",
  "GET /docs": "the page that reads the document",
  "GET /docs/:file{swagger-ui\\.css|swagger-ui-bundle\\.js}": "the page's own script and style sheet",
};

const methods = ["get", "put", "post", "delete", "patch", "head", "options"];

/**
 * The routes README.md's API table names: each `METHOD /path?query` code span of its first column, as the document
 * spells it (`:id` → `{id}`, the query and `[&optional]` parts dropped).
 */
function readmeRoutes(): string[] {
  const readme = readFileSync(new URL("../../../README.md", import.meta.url), "utf8");
  const table = readme.split("\n## API\n")[1]?.split("\n| route ")[1]?.split("\n\n")[0] ?? "";
  const rows = table.split("\n").slice(2);
  expect(rows.length).toBeGreaterThan(10);
  return rows.flatMap((row) =>
    [...(row.split(/(?<!\\)\|/)[1] ?? "").matchAll(/`([A-Z]+) (\/[^`?[]*)[^`]*`/g)].map(
      ([, method, path]) => `${method} ${path?.replace(/:([A-Za-z]+)/g, "{$1}")}`,
    ),
  );
}

async function documentOf(): Promise<Document> {
  const response = await app.request("/openapi.json");
  expect(response.status).toBe(200);
  return (await response.json()) as Document;
}

describe("the OpenAPI document", () => {
  let p: Pipeline;
  let document: Document;
  beforeAll(async () => {
    // A running app (its runtime needs a database), though the document itself needs no token.
    p = await pipeline();
    document = await documentOf();
  });
  afterAll(async () => {
    await p.close();
  });

  it("validates as OpenAPI 3.1 and names the API and its version from package.json", async () => {
    const result = await validate(structuredClone(document) as never);
    expect(result.valid ? "" : compileErrors(result)).toBe("");
    expect(result.specification).toBe("OpenAPI");
    expect(document.openapi).toBe("3.1.0");
    expect(document.info).toMatchObject({ title: "Wattflow API", version: pkg.version });
    expect(document.servers).toEqual([{ url: "/", description: "This deployment" }]);
  });

  it("lists every route the app serves, and serves every route it lists, but the named internal ones", () => {
    // Hono's route table: middleware is registered as ALL; `:id` in Hono is `{id}` in OpenAPI.
    const served = new Set(
      app.routes.filter((route) => route.method !== "ALL").map((route) => `${route.method} ${route.path.replace(/:([A-Za-z]+)(?![{A-Za-z])/g, "{$1}")}`),
    );
    const listed = new Set(
      Object.entries(document.paths).flatMap(([path, item]) =>
        Object.keys(item)
          .filter((method) => methods.includes(method))
          .map((method) => `${method.toUpperCase()} ${path}`),
      ),
    );
    const undocumented = [...served].filter((route) => !listed.has(route) && !(route in internal));
    const unserved = [...listed].filter((route) => !served.has(route));
    expect({ undocumented, unserved }).toEqual({ undocumented: [], unserved: [] });
    // The internal list names only routes that exist, so it cannot hide a typo.
    expect(Object.keys(internal).filter((route) => !served.has(route))).toEqual([]);
    // Prepare-free sanity: the public API is all of it, under /v1 but the public health check.
    expect([...listed].filter((route) => !route.split(" ")[1]?.startsWith("/v1/"))).toEqual(["GET /health"]);
    expect(listed.size).toBeGreaterThanOrEqual(50);
  });

  it("is what README.md's API table lists: every documented route once, and no route the app does not serve", () => {
    const documented = Object.entries(document.paths).flatMap(([path, item]) =>
      Object.keys(item)
        .filter((method) => methods.includes(method))
        .map((method) => `${method.toUpperCase()} ${path}`),
    );
    const listed = readmeRoutes();
    const twice = listed.filter((route, index) => listed.indexOf(route) !== index);
    expect({
      missing: documented.filter((route) => !listed.includes(route)),
      notServed: listed.filter((route) => !documented.includes(route)),
      twice,
    }).toEqual({ missing: [], notServed: [], twice: [] });
  });

  it("documents the token, device token and session cookie, and names one on every /v1 route but sign-in and enrollment", () => {
    expect(document.components.securitySchemes).toMatchObject({
      apiToken: { type: "http", scheme: "bearer" },
      deviceToken: { type: "http", scheme: "bearer" },
      session: { type: "apiKey", in: "cookie", name: "wattflow_session" },
    });
    const open = Object.entries(document.paths).flatMap(([path, item]) =>
      Object.entries(item)
        .filter(([, operation]) => !operation.security?.length)
        .map(([method]) => `${method.toUpperCase()} ${path}`),
    );
    expect(open.sort()).toEqual(["GET /health", "POST /v1/enroll", "POST /v1/session"]);
  });

  it("documents the error body once, as the Problem every 4xx refers to", () => {
    expect(Object.keys(document.components.schemas)).toContain("Problem");
    const usage = document.paths["/v1/factories/{id}/usage"]?.get;
    expect(usage?.responses["400"]?.content).toEqual({ "application/json": { schema: { $ref: "#/components/schemas/Problem" } } });
    // The usage route answers JSON or, asked for it, CSV; the bill answers JSON or a PDF.
    expect(Object.keys(usage?.responses["200"]?.content ?? {})).toEqual(["application/json", "text/csv"]);
    expect(Object.keys(document.paths["/v1/factories/{id}/bills/{bill}"]?.get?.responses["200"]?.content ?? {})).toEqual([
      "application/json",
      "application/pdf",
    ]);
  });

  it("refuses input through the one hook, with each route's own code and the problems by path", async () => {
    const response = await app.request(`/v1/factories/${ids.factory}/usage?from=2026-03-02T00:00:00Z&to=2026-03-01T00:00:00Z&bucket=2h`, {
      headers: { authorization: `Bearer ${p.apiToken}` },
    });
    expect(response.status).toBe(400);
    // Usage.Query: bucket is one of 5m, 15m, 1h, 1d; the range rule runs only once the fields are valid.
    expect(await response.json()).toEqual({
      code: "usage.invalid_query",
      message: "Invalid request",
      errors: [{ path: "bucket", message: "bucket must be 5m, 15m, 1h or 1d" }],
    });
  });

  it("answers a JSON body of the wrong shape with the route's own code (factory.invalid) naming each field", async () => {
    const response = await app.request("/v1/factories", {
      method: "POST",
      headers: { authorization: `Bearer ${p.apiToken}`, "content-type": "application/json" },
      body: JSON.stringify({ timeZone: "America/Monterrey" }),
    });
    expect(response.status).toBe(400);
    const body = (await response.json()) as { code: string; errors: { path: string }[] };
    // Factory.create's refusal code, as the core function gives it to the API, the CLI and the console alike.
    expect(body.code).toBe("factory.invalid");
    expect(body.errors.map((problem) => problem.path)).toContain("name");
  });

  it("refuses a management body's unknown field (a typo) with 400 naming it, rather than dropping it", async () => {
    const send = (method: string, path: string, body: unknown) =>
      app.request(path, { method, headers: { authorization: `Bearer ${p.apiToken}`, "content-type": "application/json" }, body: JSON.stringify(body) });
    // `contractedDemandKW` for `contractedDemandKw`: once silently dropped, the factory kept its old demand.
    const patch = await send("PATCH", `/v1/factories/${ids.factory}`, { contractedDemandKW: 500 });
    expect(patch.status).toBe(400);
    expect(((await patch.json()) as { errors: { path: string }[] }).errors).toEqual([
      { path: "contractedDemandKW", message: "contractedDemandKW is not a field of this body" },
    ]);
    // Each option of a discriminated union is strict too (POST /v1/runs), with the route's own code.
    const run = await send("POST", "/v1/runs", { workflow: "MonthlyClose", month: "2026-03", factories: [ids.factory] });
    expect(run.status).toBe(400);
    expect(await run.json()).toMatchObject({ code: "runs.invalid_request", errors: [{ path: "factories" }] });
    // The document says so: a client generator learns the same rule.
    const body = document.paths["/v1/factories/{id}"]?.patch as unknown as { requestBody: { content: Record<string, { schema: unknown }> } };
    expect(JSON.stringify(body.requestBody.content["application/json"]?.schema)).toContain('"additionalProperties":false');
  });

  it("refuses an unknown field at any depth (a tariff's prices, an alert's channel) naming its path, and stores nothing", async () => {
    const send = (method: string, path: string, body: unknown) =>
      app.request(path, { method, headers: { authorization: `Bearer ${p.apiToken}`, "content-type": "application/json" }, body: JSON.stringify(body) });
    const tariffs = async () =>
      ((await (await send("GET", `/v1/factories/${ids.factory}/tariffs`, undefined)).json()) as { versions?: unknown[] }).versions?.length;
    const before = await tariffs();
    // A flat tariff with a demand price it does not have: once dropped, the bill charged no demand and said nothing.
    const flat = await send("POST", `/v1/factories/${ids.factory}/tariffs`, {
      effectiveFrom: "2031-01-01T06:00:00Z",
      definition: { kind: "flat", currency: "MXN", energyPrice: "2.10", demandPrice: "350" },
    });
    expect(flat.status).toBe(400);
    expect(((await flat.json()) as { errors: { path: string; message: string }[] }).errors).toEqual([
      { path: "definition.demandPrice", message: "demandPrice is not a field of this body" },
    ]);
    // A misspelt period in a month's prices, inside an array inside a discriminated union.
    const gdmth = await send("POST", `/v1/factories/${ids.factory}/tariffs`, {
      effectiveFrom: "2031-01-01T06:00:00Z",
      definition: {
        kind: "cfe-gdmth",
        zone: "central",
        prices: [{ month: "2031-01", fixed: "1", energy: { base: "1", intermedia: "1.5", punta: "2", puntaa: "9" }, distribution: "90", capacity: "390" }],
      },
    });
    expect(gdmth.status).toBe(400);
    expect(((await gdmth.json()) as { errors: { path: string }[] }).errors).toEqual([
      { path: "definition.prices.0.energy.puntaa", message: "puntaa is not a field of this body" },
    ]);
    // The same month priced twice: refused on the second, whose prices the bill would have ignored.
    const april = { month: "2031-04", fixed: "1", energy: { base: "1", intermedia: "1.5", punta: "2" }, distribution: "90", capacity: "390" };
    const twice = await send("POST", `/v1/factories/${ids.factory}/tariffs`, {
      effectiveFrom: "2031-01-01T06:00:00Z",
      definition: { kind: "cfe-gdmth", zone: "central", prices: [april, { ...april, fixed: "2" }] },
    });
    expect(twice.status).toBe(400);
    expect(((await twice.json()) as { errors: { path: string }[] }).errors.map((problem) => problem.path)).toEqual(["definition.prices.1.month"]);
    expect(await tariffs()).toBe(before);
    // A webhook channel with an e-mail copy it cannot send: the rule is refused, not stored without it.
    const rule = await send("POST", "/v1/alerts/rules", {
      factoryId: ids.factory,
      kind: "power_factor_low",
      channels: [{ type: "webhook", url: "https://hooks.example.com/wattflow", cc: "energia@example.com" }],
    });
    expect(rule.status).toBe(400);
    expect(((await rule.json()) as { errors: { path: string }[] }).errors.map((problem) => problem.path)).toEqual(["channels.0.cc"]);
    // The nested objects' own rules still run: street lighting is a percent or an amount, not both.
    const both = await send("POST", `/v1/factories/${ids.factory}/tariffs`, {
      effectiveFrom: "2031-01-01T06:00:00Z",
      definition: {
        kind: "cfe-gdmth",
        zone: "central",
        streetLighting: { percent: "5", amount: "100" },
        prices: [{ month: "2031-01", fixed: "1", energy: { base: "1", intermedia: "1.5", punta: "2" }, distribution: "90", capacity: "390" }],
      },
    });
    expect(both.status).toBe(400);
    expect(JSON.stringify(await both.json())).toContain("give a percent (with an optional cap) or an amount");
    const document = (await (await app.request("/openapi.json")).json()) as { paths: Record<string, Record<string, { requestBody?: unknown }>> };
    const tariffBody = JSON.stringify(document.paths["/v1/factories/{id}/tariffs"]?.post?.requestBody);
    // Every object of the body says so in the document, not only the outermost.
    expect(tariffBody.match(/"additionalProperties":false/g)?.length).toBeGreaterThan(20);
    // Prices typed by month are checked against the tariff's shape once it is known; the document says that shape.
    expect(JSON.stringify(document.paths["/v1/factories/{id}/tariffs/cfe"]?.post?.requestBody)).toContain("One month's prices in the tariff's shape");
  });

  it("answers a body that is not JSON with request.invalid_json, and one of another media type with 415", async () => {
    const send = (contentType: string, body: string) =>
      app.request("/v1/factories", { method: "POST", headers: { authorization: `Bearer ${p.apiToken}`, "content-type": contentType }, body });
    const malformed = await send("application/json", "{ name: ");
    expect(malformed.status).toBe(400);
    expect(((await malformed.json()) as { code: string }).code).toBe("request.invalid_json");
    const form = await send("application/x-www-form-urlencoded", "name=Plant");
    expect(form.status).toBe(415);
    expect(((await form.json()) as { code: string }).code).toBe("request.invalid");
  });

  it("serves the docs page with Swagger UI's files from this API, no CDN", async () => {
    const page = await app.request("/docs");
    expect(page.status).toBe(200);
    const html = await page.text();
    // Every script and style sheet the page loads is one of ours (a relative URL), and it reads /openapi.json.
    const loads = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((match) => match[1]);
    expect(loads).toEqual(["/docs/swagger-ui.css", "/docs/swagger-ui-bundle.js"]);
    expect(html).toContain('url: "/openapi.json"');
    const script = await app.request("/docs/swagger-ui-bundle.js");
    expect(script.status).toBe(200);
    expect(script.headers.get("content-type")).toBe("text/javascript; charset=utf-8");
    expect(await script.text()).toContain("SwaggerUIBundle");
    const style = await app.request("/docs/swagger-ui.css");
    expect(style.headers.get("content-type")).toBe("text/css; charset=utf-8");
  });
});
