/**
 * Gateway routes: a device enrolls the public key that signs its Kinesis records, fetches its
 * configuration (its meters as configured in the cloud) and sends its heartbeat with its device
 * token; people list their gateways' health with an API token.
 */
import { z } from "@hono/zod-openapi";
import type { Auth } from "@wattflow/core/auth";
import type { Device } from "@wattflow/core/device";
import { Gateway } from "@wattflow/core/device/gateway";
import { actorAuth, deviceAuth } from "./auth";
import { actorRoute, answer, deviceBody, deviceRoutes, jsonBody, routes } from "./openapi";

/** Whether an If-None-Match header names `etag` (a list, weak validators, or `*`; RFC 9110 §13.1.2). */
function matches(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  return header.split(",").some((tag) => {
    const value = tag.trim();
    return value === "*" || value.replace(/^W\//, "") === etag;
  });
}

const tags = ["Devices"];
/** The gateway's own routes, called with its device token. */
const gateway = deviceRoutes({ tags, middleware: deviceAuth });

const configRoute = gateway({
  method: "get",
  path: "/self/config",
  summary: "The calling gateway's meters as configured in the cloud, with an ETag (304 when If-None-Match names it)",
  responses: {
    200: answer(Gateway.Config, "The configuration and its version"),
    304: { description: "The configuration named by If-None-Match is current" },
  },
});
const keyRoute = gateway({
  method: "put",
  path: "/self/key",
  summary: "Enroll the public key (Ed25519 SPKI, base64) that signs the gateway's stream records",
  request: { body: jsonBody(Gateway.EnrollKey.omit({ deviceId: true })) },
  responses: { 200: answer(Gateway.EnrolledKey, "The key as stored") },
});
const heartbeatRoute = gateway({
  method: "post",
  path: "/heartbeat",
  summary: "The gateway's figures (backlog, buses, meters, clock offset, disk), stored whole",
  request: { body: deviceBody(Gateway.Heartbeat.omit({ deviceId: true })) },
  responses: { 200: answer(Gateway.Received, "Received, with the server's clock") },
});
const listRoute = actorRoute({
  method: "get",
  path: "/",
  tags,
  summary: "The organization's gateways with their last heartbeat",
  middleware: actorAuth,
  responses: { 200: answer(z.object({ devices: z.array(Gateway.Info) }), "The gateways") },
});

/** Mounted at /v1/devices: PUT /self/key, GET /self/config and POST /heartbeat with the device token; GET / with an API token. */
export const devices = routes<{ Variables: { device: Device.Identity; actor: Auth.Actor } }>()
  .openapi(configRoute, async (c) => {
    const config = await Gateway.config(c.get("device"));
    const etag = `"${config.version}"`;
    c.header("ETag", etag);
    if (matches(c.req.header("if-none-match"), etag)) return c.body(null, 304);
    return c.json(config, 200);
  })
  .openapi(keyRoute, async (c) => c.json(await Gateway.enrollKey({ ...c.req.valid("json"), deviceId: c.get("device").id }), 200))
  .openapi(heartbeatRoute, async (c) => c.json(await Gateway.heartbeat({ ...c.req.valid("json"), deviceId: c.get("device").id }), 200))
  .openapi(listRoute, async (c) => c.json({ devices: await Gateway.list(c.get("actor").organizationId) }, 200));
