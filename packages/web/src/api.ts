/**
 * The typed client of the Hono API (types only: nothing of the server is bundled). The session
 * cookie rides along on the same origin; the CSRF header marks requests as the console's own.
 */
import type { App } from "@wattflow/functions/api/app";
import { hc, type InferResponseType } from "hono/client";

export const api = hc<App>(location.origin, { headers: { "x-wattflow-csrf": "1" }, init: { credentials: "same-origin" } });

export type ApiProblem = { path: string; message: string };

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly problems: ApiProblem[] = [],
  ) {
    super(message);
    this.name = "ApiError";
  }
}

/** Fires on every 401, so the app can go back to sign-in. */
export const signedOut = new EventTarget();

type Reply = { ok: boolean; status: number; json(): Promise<unknown> };
/** A typed client answer's success body: its statuses' bodies (the route's documented responses) less the API's Problem. */
type Body<R extends Reply> = Exclude<Awaited<ReturnType<R["json"]>>, { code: string; message: string }>;

/** The JSON of a successful answer; an error answer becomes an ApiError with the API's own message and problems. */
export function ok<R extends Reply>(pending: Promise<R>): Promise<Body<R>>;
export function ok<T>(pending: Promise<{ ok: boolean; status: number; json(): Promise<T> }>): Promise<Exclude<T, { code: string; message: string }>>;
export async function ok(pending: Promise<Reply>): Promise<unknown> {
  const response = await pending;
  if (response.ok) return await response.json();
  const body = (await response.json().catch(() => ({}))) as { code?: string; message?: string; errors?: ApiProblem[] };
  if (response.status === 401) signedOut.dispatchEvent(new Event("signed-out"));
  throw new ApiError(response.status, body.code ?? "http_error", body.message ?? `HTTP ${response.status}`, body.errors ?? []);
}

export type Me = InferResponseType<(typeof api.v1.session)["$get"], 200>;
export type Overview = InferResponseType<(typeof api.v1.overview)["$get"], 200>;
export type Series = InferResponseType<(typeof api.v1.factories)[":id"]["series"]["$get"], 200>;
export type Devices = InferResponseType<(typeof api.v1.devices)["$get"], 200>;
export type Factories = InferResponseType<(typeof api.v1.factories)["$get"], 200>;
export type Tariffs = InferResponseType<(typeof api.v1.factories)[":id"]["tariffs"]["$get"], 200>;
export type Gaps = InferResponseType<(typeof api.v1.meters)[":id"]["gaps"]["$get"], 200>;
export type Bills = InferResponseType<(typeof api.v1.factories)[":id"]["bills"]["$get"], 200>;
export type Factory = InferResponseType<(typeof api.v1.factories)[":id"]["$get"], 200>;
export type Meters = InferResponseType<(typeof api.v1.factories)[":id"]["meters"]["$get"], 200>;
export type Gateways = InferResponseType<(typeof api.v1.factories)[":id"]["gateways"]["$get"], 200>;
export type Locations = InferResponseType<(typeof api.v1.locations)["$get"], 200>;
export type Runs = InferResponseType<(typeof api.v1.runs)["$get"], 200>;
export type Run = InferResponseType<(typeof api.v1.runs)[":id"]["$get"], 200>;
export type RunHistory = InferResponseType<(typeof api.v1.runs)[":id"]["history"]["$get"], 200>;
export type Quarantined = InferResponseType<(typeof api.v1.quarantine)["$get"], 200>;
export type Alerts = InferResponseType<(typeof api.v1.alerts)["$get"], 200>;
