/**
 * What a request body must be before a handler reads it: within its route's size (limits.ts) and free of the
 * characters and keys no body may hold (characters.ts). Authenticated routes check it once the sender is known
 * (auth.ts), so a caller without valid credentials gets 401 whatever it sent, and no byte of its body is read; public
 * routes that take a body (sign-in, enrollment) name it as their `middleware`.
 */
import type { MiddlewareHandler } from "hono";
import { refuseBodyCharacters } from "./characters";
import { limitBody } from "./limits";

/** The body's size, then its characters: 413 or 400 naming where, before the route's validator parses it. */
export const checkBody: MiddlewareHandler = (c, next) =>
  limitBody(c, async () => {
    await refuseBodyCharacters(c, next);
  });
