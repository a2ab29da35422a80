import { Auth } from "@wattflow/core/auth";
import { Device } from "@wattflow/core/device";
import { VisibleError } from "@wattflow/core/util/error";
import { createMiddleware } from "hono/factory";
import { checkBody } from "./body";
import { sessionActor } from "./session";

function bearer(header: string | undefined): string {
  const token = /^Bearer\s+(\S+)$/i.exec(header ?? "")?.[1];
  if (!token) throw new VisibleError("auth", "auth.missing_token", "Authorization: Bearer <token> is required");
  return token;
}

// Each authentication checks the body (body.ts) only once the sender is known: without valid credentials the answer is
// 401 whatever the body holds or weighs, and none of it is read.

/** Gateways authenticate with their device token, then their body is checked. */
export const deviceAuth = createMiddleware<{ Variables: { device: Device.Identity } }>(async (c, next) => {
  const device = await Device.authenticate(bearer(c.req.header("authorization")));
  if (!device) throw new VisibleError("auth", "auth.invalid_device_token", "The device token is unknown or revoked");
  c.set("device", device);
  await checkBody(c, next);
});

/** Integrations authenticate with an organization API token, people in the console with their session cookie; then the body is checked. */
export const actorAuth = createMiddleware<{ Variables: { actor: Auth.Actor } }>(async (c, next) => {
  const header = c.req.header("authorization");
  const actor = header === undefined ? await sessionActor(c) : await Auth.authenticate(bearer(header));
  if (!actor) throw new VisibleError("auth", "auth.invalid_token", "The API token is unknown or revoked");
  c.set("actor", actor);
  await checkBody(c, next);
});

/**
 * Lets the request through only when the actor (set by actorAuth, which must run first) has one of
 * `roles`; otherwise 403 `auth.role_required` naming the roles that may. Every route that changes
 * something carries one.
 * @example .delete("/rules/:id", actorAuth, requireRole("admin"), async (c) => …)
 */
export function requireRole(...roles: [Auth.Role, ...Auth.Role[]]) {
  const allowed = new Set<Auth.Role>(roles);
  return createMiddleware<{ Variables: { actor: Auth.Actor } }>(async (c, next) => {
    const actor = c.get("actor");
    if (!allowed.has(actor.role))
      throw new VisibleError(
        "forbidden",
        "auth.role_required",
        `${c.req.method} ${c.req.path} needs the role ${roles.join(" or ")}; this token or user is ${actor.role}`,
        [{ path: "(authorization)", message: `role ${actor.role} may not do this` }],
      );
    await next();
  });
}

/**
 * Who may call a route, as its `middleware`: the caller authenticated (token or session), then its role checked.
 * @example actorRoute({ method: "post", path: "/replay", middleware: access.admins, … })
 */
export const access = {
  /** Every role: reading an organization's data. */
  anyRole: [actorAuth, requireRole("admin", "operator", "viewer")],
  /** Operators and admins: imports, closes, alerts handled, quarantine and health read. */
  operators: [actorAuth, requireRole("admin", "operator")],
  /** Admins alone: setup, rules, replay. */
  admins: [actorAuth, requireRole("admin")],
};
