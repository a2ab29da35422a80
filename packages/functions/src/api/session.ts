/**
 * Console sign-in: POST /v1/session sets an HttpOnly cookie holding the session secret, GET answers
 * who is signed in and their organization (`{ id, name, demo }`), DELETE signs out. The console and the API share one origin, so the cookie never
 * crosses sites; requests that change something must also carry the CSRF header, which a page of
 * another origin cannot add without a CORS preflight this API never grants.
 */
import { z } from "@hono/zod-openapi";
import type { Auth } from "@wattflow/core/auth";
import { Organization } from "@wattflow/core/organization";
import { User } from "@wattflow/core/user";
import { VisibleError } from "@wattflow/core/util/error";
import type { Context } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import { checkBody } from "./body";
import { answer, jsonBody, problems, routeGroup, routes, sessionSecurity } from "./openapi";

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

const Session = z
  .object({ user: User.Info, organization: Organization.Info.nullable(), expiresAt: z.string().openapi({ format: "date-time" }) })
  .openapi("Session", { description: "Who is signed in, their organization (`demo`: generated data and demo prices) and when the session ends" });
const sessionAnswer = (description: string) => ({ description, content: { "application/json": { schema: Session } } });
// Anyone may sign in (its body is checked — size, characters — before the validator reads it, as auth.ts does once a
// caller is known); who is signed in, and signing out, are the session's own.
const anyone = routeGroup({ tags: ["Session"], middleware: checkBody });
const signedIn = routeGroup({ tags: ["Session"], security: sessionSecurity });

const signInRoute = anyone({
  method: "post",
  path: "/",
  summary: "Sign in: sets the HttpOnly session cookie",
  request: { body: jsonBody(User.SignIn) },
  responses: { 200: sessionAnswer("Signed in"), 400: problems[400], 401: problems[401] },
});
const whoRoute = signedIn({
  method: "get",
  path: "/",
  summary: "Who is signed in",
  responses: { 200: sessionAnswer("The session"), 401: problems[401] },
});
const signOutRoute = signedIn({
  method: "delete",
  path: "/",
  summary: "Sign out: ends the session and clears its cookie",
  responses: { 200: answer(z.object({ signedOut: z.literal(true) }), "Signed out") },
});

export const session = routes()
  .openapi(signInRoute, async (c) => {
    const signedIn = await User.signIn(c.req.valid("json"));
    setCookie(c, sessionCookie, signedIn.token, { httpOnly: true, secure: secure(c), sameSite: "Lax", path: "/", maxAge: User.sessionSeconds });
    const organization = (await Organization.get(signedIn.user.organizationId)) ?? null;
    return c.json({ user: signedIn.user, organization, expiresAt: signedIn.expiresAt.toISOString() }, 200);
  })
  .openapi(whoRoute, async (c) => {
    const token = getCookie(c, sessionCookie);
    const found = token ? await User.session(token) : undefined;
    if (!found) throw new VisibleError("auth", "auth.session_expired", "Not signed in");
    // The organization's `demo` flag: the console labels generated data and demo prices.
    const organization = (await Organization.get(found.actor.organizationId)) ?? null;
    return c.json({ user: found.user, organization, expiresAt: found.expiresAt.toISOString() }, 200);
  })
  .openapi(signOutRoute, async (c) => {
    const token = getCookie(c, sessionCookie);
    if (token) await User.signOut(token);
    deleteCookie(c, sessionCookie, { path: "/", secure: secure(c) });
    return c.json({ signedOut: true as const }, 200);
  });
