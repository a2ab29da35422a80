import { Auth } from "@wattflow/core/auth";
import { Device } from "@wattflow/core/device";
import { VisibleError } from "@wattflow/core/util/error";
import { createMiddleware } from "hono/factory";
import { sessionActor } from "./session";

function bearer(header: string | undefined): string {
  const token = /^Bearer\s+(\S+)$/i.exec(header ?? "")?.[1];
  if (!token) throw new VisibleError("auth", "auth.missing_token", "Authorization: Bearer <token> is required");
  return token;
}

/** Gateways authenticate with their device token. */
export const deviceAuth = createMiddleware<{ Variables: { device: Device.Identity } }>(async (c, next) => {
  const device = await Device.authenticate(bearer(c.req.header("authorization")));
  if (!device) throw new VisibleError("auth", "auth.invalid_device_token", "The device token is unknown or revoked");
  c.set("device", device);
  await next();
});

/** Integrations authenticate with an organization API token, people in the console with their session cookie. */
export const actorAuth = createMiddleware<{ Variables: { actor: Auth.Actor } }>(async (c, next) => {
  const header = c.req.header("authorization");
  const actor = header === undefined ? await sessionActor(c) : await Auth.authenticate(bearer(header));
  if (!actor) throw new VisibleError("auth", "auth.invalid_token", "The API token is unknown or revoked");
  c.set("actor", actor);
  await next();
});
