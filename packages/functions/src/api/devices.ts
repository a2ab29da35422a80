/**
 * Gateway routes: a device enrolls the public key that signs its Kinesis records, fetches its
 * configuration (its meters as configured in the cloud) and sends its heartbeat with its device
 * token; people list their gateways' health with an API token.
 */
import { Gateway } from "@wattflow/core/device/gateway";
import { VisibleError } from "@wattflow/core/util/error";
import { Hono } from "hono";
import { actorAuth, deviceAuth } from "./auth";

/** The body as a JSON object (the schema then names each missing or wrong field). */
async function jsonObject<T>(c: { req: { json(): Promise<unknown> } }): Promise<T> {
  let body: unknown;
  try {
    body = await c.req.json();
  } catch (error) {
    throw new VisibleError("input", "request.invalid_json", "The request body is not valid JSON", [{ path: "(body)", message: (error as Error).message }]);
  }
  if (body === null || typeof body !== "object" || Array.isArray(body)) {
    throw new VisibleError("input", "request.not_an_object", "The request body must be a JSON object", [{ path: "(body)", message: "expected an object" }]);
  }
  return body as T;
}

/** Whether an If-None-Match header names `etag` (a list, weak validators, or `*`; RFC 9110 §13.1.2). */
function matches(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  return header.split(",").some((tag) => {
    const value = tag.trim();
    return value === "*" || value.replace(/^W\//, "") === etag;
  });
}

/** Mounted at /v1/devices: PUT /self/key, GET /self/config and POST /heartbeat with the device token; GET / with an API token. */
export const devices = new Hono()
  .get("/self/config", deviceAuth, async (c) => {
    const config = await Gateway.config(c.get("device"));
    const etag = `"${config.version}"`;
    c.header("ETag", etag);
    if (matches(c.req.header("if-none-match"), etag)) return c.body(null, 304);
    return c.json(config);
  })
  .put("/self/key", deviceAuth, async (c) =>
    c.json(await Gateway.enrollKey({ ...(await jsonObject<Parameters<typeof Gateway.enrollKey>[0]>(c)), deviceId: c.get("device").id })),
  )
  .post("/heartbeat", deviceAuth, async (c) =>
    c.json(await Gateway.heartbeat({ ...(await jsonObject<Parameters<typeof Gateway.heartbeat>[0]>(c)), deviceId: c.get("device").id })),
  )
  .get("/", actorAuth, async (c) => c.json({ devices: await Gateway.list(c.get("actor").organizationId) }));
