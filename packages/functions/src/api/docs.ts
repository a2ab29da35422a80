/**
 * The API's own description: GET /openapi.json (OpenAPI 3.1, from the routes' declarations) and GET /docs, Swagger UI
 * reading it. Swagger UI's files are served from the installed swagger-ui-dist package, so the page works with no
 * network beyond this API (no CDN).
 */
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import type { OpenAPIHono } from "@hono/zod-openapi";
import { Hono } from "hono";
import pkg from "../../package.json" with { type: "json" };
import { securitySchemes } from "./openapi";

/** The OpenAPI 3.1 document of `api`'s declared routes, served from `/` (relative server URL: this deployment). */
export function openApiDocument(api: OpenAPIHono) {
  for (const [name, scheme] of Object.entries(securitySchemes)) api.openAPIRegistry.registerComponent("securitySchemes", name, scheme);
  return () =>
    api.getOpenAPI31Document({
      openapi: "3.1.0",
      info: {
        title: "Wattflow API",
        version: pkg.version,
        description:
          "Electricity usage and cost for industrial factories, reading by reading. Every route works inside the caller's organization " +
          "(an API token or the console's session); errors are a Problem naming each problem by its JSON path.",
      },
      servers: [{ url: "/", description: "This deployment" }],
    });
}

const assets = { "swagger-ui.css": "text/css; charset=utf-8", "swagger-ui-bundle.js": "text/javascript; charset=utf-8" } as const;
const cache = new Map<string, string>();

/** A file of the installed swagger-ui-dist, read once. */
async function asset(name: keyof typeof assets): Promise<string> {
  const cached = cache.get(name);
  if (cached !== undefined) return cached;
  const root = dirname(createRequire(import.meta.url).resolve("swagger-ui-dist/package.json"));
  const text = await readFile(join(root, name), "utf8");
  cache.set(name, text);
  return text;
}

const page = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Wattflow API</title>
<link rel="stylesheet" href="/docs/swagger-ui.css">
</head>
<body>
<div id="docs"></div>
<script src="/docs/swagger-ui-bundle.js"></script>
<script>window.ui = SwaggerUIBundle({ url: "/openapi.json", dom_id: "#docs", deepLinking: true, withCredentials: true, validatorUrl: null });</script>
</body>
</html>`;

/** GET /openapi.json, GET /docs and the two files the page loads. */
export function apiDocs(api: OpenAPIHono) {
  const document = openApiDocument(api);
  return new Hono()
    .get("/openapi.json", (c) => c.json(document()))
    .get("/docs", (c) => c.html(page))
    .get("/docs/:file{swagger-ui\\.css|swagger-ui-bundle\\.js}", async (c) => {
      const name = c.req.param("file") as keyof typeof assets;
      return c.body(await asset(name), 200, { "content-type": assets[name] });
    });
}
