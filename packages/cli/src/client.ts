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

/**
 * GET `path` for a file (`accept`: text/csv, application/pdf) and answer the response to stream its body; an API
 * problem (4xx/5xx JSON `{ code, message, errors }`) becomes a CliError naming the status, the code and each problem's path.
 * @throws CliError when the API cannot be reached or refuses.
 */
export async function download(to: Target, path: string, accept: string): Promise<Response> {
  let response: Response;
  try {
    response = await fetch(`${to.apiUrl}${path}`, { headers: { authorization: `Bearer ${to.token}`, accept } });
  } catch (error) {
    throw new CliError(`cannot reach the API at ${to.apiUrl}: ${(error as Error).message}; is the stack running (npm start)?`);
  }
  if (response.ok) return response;
  const text = await response.text();
  let problem: { code?: string; message?: string; errors?: { path: string; message: string }[] } | undefined;
  try {
    problem = JSON.parse(text) as typeof problem;
  } catch (error) {
    // Not the API's JSON (a proxy's page): shown as it came, below.
    if (!(error instanceof SyntaxError)) throw error;
  }
  if (!problem?.message) throw new CliError(`GET ${path.split("?")[0]} answered ${response.status}: ${text.slice(0, 500)}`);
  const details = (problem.errors ?? []).map((error) => `${error.path}: ${error.message}`).join("; ");
  throw new CliError(`the API answered ${response.status} ${problem.code ?? ""}: ${problem.message}${details ? ` (${details})` : ""}`);
}
