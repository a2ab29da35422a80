/**
 * Console sign-in: POST /v1/session sets an HttpOnly cookie holding the session secret, GET answers
 * who is signed in and their organization (`{ id, name, demo }`), DELETE signs out. The console and the API share one origin, so the cookie never
 * crosses sites; requests that change something must also carry the CSRF header, which a page of
 * another origin cannot add without a CORS preflight this API never grants.
 */
import type { Auth } from "@wattflow/core/auth";
import { Organization } from "@wattflow/core/organization";
import { User } from "@wattflow/core/user";
import { VisibleError } from "@wattflow/core/util/error";
import type { Context } from "hono";
import { Hono } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import { json } from "./input";

export const sessionCookie = "wattflow_session";
export const csrfHeader = "x-wattflow-csrf";

const secure = (c: Context) => new URL(c.req.url).protocol === "https:" || c.req.header("x-forwarded-proto") === "https";

/** The actor of the request's session cookie; unsafe methods must carry the CSRF header. */
export async function sessionActor(c: Context): Promise<Auth.Actor> {
  const token = getCookie(c, sessionCookie);
  if (!token) throw new VisibleError("auth", "auth.missing_token", "Sign in, or send Authorization: Bearer <token>");
  const found = await User.session(token);
  if (!found) throw new VisibleError("auth", "auth.session_expired", "The session expired or was signed out; sign in again");
  if (!["GET", "HEAD", "OPTIONS"].includes(c.req.method) && !c.req.header(csrfHeader))
    throw new VisibleError("forbidden", "auth.missing_csrf_header", `A signed-in request that changes something must send the ${csrfHeader} header`);
  return found.actor;
}

export const session = new Hono()
  .post("/", json(User.SignIn), async (c) => {
    const signedIn = await User.signIn(c.req.valid("json"));
    setCookie(c, sessionCookie, signedIn.token, { httpOnly: true, secure: secure(c), sameSite: "Lax", path: "/", maxAge: User.sessionSeconds });
    const organization = (await Organization.get(signedIn.user.organizationId)) ?? null;
    return c.json({ user: signedIn.user, organization, expiresAt: signedIn.expiresAt.toISOString() });
  })
  .get("/", async (c) => {
    const token = getCookie(c, sessionCookie);
    const found = token ? await User.session(token) : undefined;
    if (!found) throw new VisibleError("auth", "auth.session_expired", "Not signed in");
    // The organization's `demo` flag: the console labels generated data and demo prices.
    const organization = (await Organization.get(found.actor.organizationId)) ?? null;
    return c.json({ user: found.user, organization, expiresAt: found.expiresAt.toISOString() });
  })
  .delete("/", async (c) => {
    const token = getCookie(c, sessionCookie);
    if (token) await User.signOut(token);
    deleteCookie(c, sessionCookie, { path: "/", secure: secure(c) });
    return c.json({ signedOut: true });
  });
