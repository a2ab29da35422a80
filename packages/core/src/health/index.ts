import { unreadableFiles } from "../util/files";
import { processState } from "../util/global";

/** Component health, reported by GET /health. Each runtime registers the parts it runs. */
export * as Health from "./index";

export type Check = () => Promise<{ ok: boolean; detail?: Record<string, unknown> | string }>;
export type Report = { status: "ok" | "degraded"; components: Record<string, { ok: boolean; detail?: unknown }> };

const checks = processState("wattflow.health", () => new Map<string, Check>());

export function register(name: string, check: Check): void {
  checks.set(name, check);
}

export function clear(): void {
  checks.clear();
}

/** Runs every check, each bounded by `timeoutMs` so one hung component cannot hang the report. */
export async function report(timeoutMs = 2000): Promise<Report> {
  const components: Report["components"] = {};
  await Promise.all(
    [...checks].map(async ([name, check]) => {
      try {
        components[name] = await Promise.race([
          check(),
          new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs).unref()),
        ]);
      } catch (error) {
        components[name] = { ok: false, detail: (error as Error).message };
      }
    }),
  );
  return { status: Object.values(components).every((component) => component.ok) ? "ok" : "degraded", components };
}

/**
 * Files a reader could not read (a torn lake Parquet, a workflow state file) and set aside
 * (util/files.ts): each with where it was, where it went, why and when. They are repaired, not
 * failing (the reader goes on without them), so the component stays ok and names them for a person.
 */
export const unreadableFilesCheck: Check = async () => ({ ok: true, detail: { unreadable: unreadableFiles() } });
