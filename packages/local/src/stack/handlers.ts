/**
 * The local stand-in for the API Lambda behind its function URL: the consumer handler and the Hono app, loaded once
 * (or again after a source change in dev mode, the local counterpart of `sst dev`'s live Lambda), and the HTTP server
 * that serves the console's files and sends everything else to the app loaded now.
 */
import { type FSWatcher, readdirSync, statSync, watch } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { type ServerType, serve } from "@hono/node-server";
import type { KinesisHandler } from "../stream/poller";
import type { ConsoleSite } from "./console";

export type Handlers = { consumer: KinesisHandler; app: { fetch: (request: Request, env?: unknown) => Response | Promise<Response> } };
export type HandlerLoader = ReturnType<typeof handlerLoader>;

/** Serves the Hono app; the request goes to the app loaded now, so a dev reload takes effect at once. */
export async function listen(handlers: HandlerLoader, site: ConsoleSite, port: number, hostname: string): Promise<ServerType> {
  return new Promise((resolveServer, reject) => {
    const fetch = async (request: Request) => (await site.serve(request)) ?? (await handlers.current()).app.fetch(request);
    const server = serve({ fetch, port, hostname }, () => resolveServer(server));
    server.once("error", reject);
  });
}

const functionsDir = fileURLToPath(new URL("../../../functions/src/", import.meta.url));
const coreDir = fileURLToPath(new URL("../../../core/src/", import.meta.url));

/**
 * Loads the consumer handler and the API app. In dev mode they are loaded through tsx's
 * namespaced import, and loaded again when a file under core/ or functions/ changes, so the next
 * batch or request runs the new code — the local counterpart of `sst dev`'s live Lambda.
 */
export function handlerLoader(dev: boolean, log: (line: string) => void) {
  let loaded: Promise<Handlers> | undefined;
  const watchers: { close(): void }[] = [];
  let generation = 0;
  const load = async (): Promise<Handlers> => {
    if (!dev) {
      const [consumer, api] = await Promise.all([import("@wattflow/functions/ingest/consumer"), import("@wattflow/functions/api/app")]);
      return { consumer: consumer.handler, app: api.app };
    }
    // A fresh tsx namespace loads a fresh module graph, dependencies included; state that must
    // survive (database, stream, lake) lives on globalThis (core/src/util/global.ts).
    const { register } = await import("tsx/esm/api");
    const loader = register({ namespace: `dev-${++generation}` });
    const parent = import.meta.url;
    const consumer = (await loader.import(pathToFileURL(join(functionsDir, "ingest/consumer.ts")).href, parent)) as { handler: KinesisHandler };
    const api = (await loader.import(pathToFileURL(join(functionsDir, "api/app.ts")).href, parent)) as { app: Handlers["app"] };
    return { consumer: consumer.handler, app: api.app };
  };
  if (dev) {
    for (const dir of [functionsDir, coreDir]) {
      watchers.push(
        watchTree(dir, (file) => {
          if (!file.endsWith(".ts")) return;
          loaded = undefined;
          log(`dev: ${file} changed; handlers reload on next use`);
        }),
      );
    }
  }
  return {
    current(): Promise<Handlers> {
      loaded ??= load().catch((error: Error) => {
        loaded = undefined;
        throw error;
      });
      return loaded;
    },
    async close() {
      for (const watcher of watchers) watcher.close();
    },
  };
}

/**
 * Watches every folder under `root` (not each file: editors save by replacing the file, which a
 * per-file watch loses), adding folders created later.
 */
function watchTree(root: string, onChange: (file: string) => void): { close(): void } {
  const watchers = new Map<string, FSWatcher>();
  const add = (dir: string) => {
    if (watchers.has(dir)) return;
    try {
      watchers.set(
        dir,
        watch(dir, (_event, name) => {
          if (!name) return;
          const path = join(dir, String(name));
          if (statSync(path, { throwIfNoEntry: false })?.isDirectory()) add(path);
          onChange(relative(root, path));
        }),
      );
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
      return;
    }
    for (const entry of readdirSync(dir, { withFileTypes: true })) if (entry.isDirectory()) add(join(dir, entry.name));
  };
  add(root);
  return {
    close() {
      for (const watcher of watchers.values()) watcher.close();
    },
  };
}
