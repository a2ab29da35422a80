/**
 * The web console on the local API's own origin (as CloudFront serves it beside the API on AWS):
 * GET requests outside /v1, /health, /openapi.json and /docs are answered from packages/web/dist. When dist is missing,
 * `npm start` builds it in the background, so nothing slow stands between start and /health.
 */
import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { extname, join, normalize, sep } from "node:path";
import { fileURLToPath } from "node:url";

const webDir = fileURLToPath(new URL("../../../web/", import.meta.url));
const builtDir = join(webDir, "dist");

const types: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".map": "application/json",
  ".json": "application/json",
  ".woff2": "font/woff2",
};

/** The console runs only its own scripts; uPlot sets inline styles, hence 'unsafe-inline' for styles alone. */
const securityHeaders = {
  "content-security-policy":
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
  "x-content-type-options": "nosniff",
  "referrer-policy": "same-origin",
};

const isApi = (path: string) =>
  path === "/health" || path.startsWith("/v1/") || path === "/v1" || path === "/openapi.json" || path === "/docs" || path.startsWith("/docs/");

/** The path with %-escapes decoded; a malformed escape names no file, so it gets the index. */
function decoded(path: string): string {
  try {
    return decodeURIComponent(path);
  } catch (error) {
    if (error instanceof URIError) return "/";
    throw error;
  }
}

export type ConsoleSite = { serve(request: Request): Promise<Response | undefined> };

/** Serves dist; starts its build when it is missing, unless under a test runner (tests never need the console built). */
export function consoleSite(log: (line: string) => void, distDir = builtDir): ConsoleSite {
  let building: Promise<void> | undefined;
  const build = () => {
    if (building || process.env.VITEST || process.env.WATTFLOW_NO_CONSOLE_BUILD) return;
    log("console: packages/web/dist is missing; building it in the background (npm run build -w packages/web)");
    building = new Promise<void>((resolve) => {
      const child = spawn(process.platform === "win32" ? "npm.cmd" : "npm", ["run", "build", "-w", "packages/web"], {
        cwd: join(webDir, "..", ".."),
        stdio: ["ignore", "ignore", "pipe"],
      });
      let errors = "";
      child.stderr.on("data", (chunk) => {
        errors = (errors + chunk).slice(-2000);
      });
      child.on("error", (error) => log(`console: build could not start: ${error.message}`));
      child.on("exit", (code) => {
        log(code === 0 ? "console: built; open the API URL in a browser" : `console: build failed (exit ${code}): ${errors.trim()}`);
        if (code !== 0) building = undefined;
        resolve();
      });
    });
  };
  if (!existsSync(join(distDir, "index.html"))) build();

  return {
    async serve(request) {
      const url = new URL(request.url);
      if ((request.method !== "GET" && request.method !== "HEAD") || isApi(url.pathname)) return undefined;
      const index = join(distDir, "index.html");
      if (!existsSync(index)) {
        build();
        const message = building ? "The console is being built; reload in a few seconds." : "The console is not built: run npm run build -w packages/web.";
        return new Response(`<!doctype html><meta http-equiv="refresh" content="3"><p>${message}</p>`, {
          status: 503,
          headers: { "content-type": "text/html; charset=utf-8", "retry-after": "3", ...securityHeaders },
        });
      }
      // Paths resolve inside dist only; the SPA routes by hash, so anything else is its index.
      const relative = normalize(decoded(url.pathname)).replace(/^([/\\])+/, "");
      const file = join(distDir, relative);
      const inside = file.startsWith(distDir + sep) && existsSync(file) && !file.endsWith(sep);
      const path = inside && extname(file) ? file : index;
      const body = path === index ? readFileSync(index) : await readFile(path);
      const immutable = path.includes(`${sep}assets${sep}`);
      return new Response(request.method === "HEAD" ? null : body, {
        headers: {
          "content-type": types[extname(path)] ?? "application/octet-stream",
          "cache-control": immutable ? "public, max-age=31536000, immutable" : "no-cache",
          ...securityHeaders,
        },
      });
    },
  };
}
