/** How CLI commands reach the running stack (or a deployed stage): its HTTP API, never its files. */
import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";

export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
    this.name = "CliError";
  }
}

export type Target = { apiUrl: string; token: string; demo?: Record<string, unknown> };

export function dataDir(): string {
  return resolve(process.env.WATTFLOW_DATA ?? ".wattflow");
}

/** The API and token: WATTFLOW_API / WATTFLOW_TOKEN, else the running stack's demo.json token with the role the command needs. */
export function target(tokenKey: "apiToken" | "adminToken" | "operatorToken" | "platformToken" = "apiToken"): Target {
  const demoPath = join(dataDir(), "demo.json");
  const demo = existsSync(demoPath) ? (JSON.parse(readFileSync(demoPath, "utf8")) as Record<string, unknown>) : undefined;
  const apiUrl = process.env.WATTFLOW_API ?? (demo?.apiUrl as string | undefined);
  const token = process.env.WATTFLOW_TOKEN ?? ((demo?.[tokenKey] ?? demo?.apiToken) as string | undefined);
  if (!apiUrl || !token) {
    throw new CliError(`no stack to talk to: start one with \`npm start\` (it writes ${demoPath}), or set WATTFLOW_API and WATTFLOW_TOKEN`);
  }
  return { apiUrl: apiUrl.replace(/\/$/, ""), token, demo };
}

export async function api<T>(to: Target, method: string, path: string, body?: unknown): Promise<T> {
  let response: Response;
  try {
    response = await fetch(`${to.apiUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${to.token}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (error) {
    throw new CliError(`cannot reach the API at ${to.apiUrl}: ${(error as Error).message}; is the stack running (npm start)?`);
  }
  const text = await response.text();
  if (!response.ok) {
    throw new CliError(`${method} ${path} answered ${response.status}: ${text.slice(0, 500)}`);
  }
  return JSON.parse(text) as T;
}
