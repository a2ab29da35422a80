/**
 * Console users and their sessions. Passwords are hashed with scrypt (memory-hard: 32 MiB per hash),
 * sessions are random secrets whose SHA-256 is stored, with an absolute expiry.
 */
import { randomBytes, type ScryptOptions, scrypt, timingSafeEqual } from "node:crypto";
import { and, eq, gt, isNull } from "drizzle-orm";
import { z } from "zod";
import type { Auth } from "../auth";
import { Database } from "../database";
import { VisibleError } from "../util/error";
import { fn } from "../util/fn";
import { processState } from "../util/global";
import { hashToken } from "../util/hash";
import { createId, createSecret } from "../util/id";
import { sessionTable, userTable } from "./user.sql";

export * as User from "./index";

export const Role = z.enum(["admin", "viewer"]);
export type Role = z.infer<typeof Role>;

export const Info = z.object({ id: z.string(), organizationId: z.string(), email: z.string(), name: z.string(), role: Role });
export type Info = z.infer<typeof Info>;

/** How long a session lives after sign-in; the browser's cookie carries the same Max-Age. */
export const sessionSeconds = 12 * 3600;

/** N = 2^15, r = 8: 32 MiB and ~100 ms per hash on these machines, OWASP's floor for scrypt. */
const scryptParams = { N: 2 ** 15, r: 8, p: 1 } as const;
const keyLength = 32;

function derive(password: string, salt: Buffer, params: { N: number; r: number; p: number }): Promise<Buffer> {
  const options: ScryptOptions = { ...params, maxmem: 256 * params.N * params.r };
  return new Promise((resolve, reject) => scrypt(password.normalize("NFKC"), salt, keyLength, options, (error, key) => (error ? reject(error) : resolve(key))));
}

/** `scrypt$N$r$p$salt$hash` (base64url), so the parameters can be raised without breaking old hashes. */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await derive(password, salt, scryptParams);
  return ["scrypt", scryptParams.N, scryptParams.r, scryptParams.p, salt.toString("base64url"), key.toString("base64url")].join("$");
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [scheme, n, r, p, salt, key] = stored.split("$");
  if (scheme !== "scrypt" || !salt || !key) throw new Error(`unknown password hash scheme ${scheme}`);
  const expected = Buffer.from(key, "base64url");
  const actual = await derive(password, Buffer.from(salt, "base64url"), { N: Number(n), r: Number(r), p: Number(p) });
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

const Email = z
  .string()
  .trim()
  .toLowerCase()
  .pipe(z.email({ error: "email must be an email address" }));

export const create = fn(
  z.object({
    organizationId: z.string(),
    email: Email,
    name: z.string().min(1, "name is required"),
    role: Role,
    password: z.string().min(12, "password must have at least 12 characters"),
  }),
  async (input): Promise<Info> => {
    const id = createId("user");
    const existing = await Database.use().select({ id: userTable.id }).from(userTable).where(eq(userTable.email, input.email));
    if (existing.length > 0)
      throw new VisibleError("conflict", "user.email_taken", `a user with email ${input.email} already exists`, [{ path: "email", message: "already taken" }]);
    await Database.use()
      .insert(userTable)
      .values({
        id,
        organizationId: input.organizationId,
        email: input.email,
        name: input.name,
        role: input.role,
        passwordHash: await hashPassword(input.password),
      });
    return { id, organizationId: input.organizationId, email: input.email, name: input.name, role: input.role };
  },
);

/** A hash of a password nobody has, so an unknown email costs as much time as a wrong password. */
let decoy: Promise<string> | undefined;

export const SignIn = z.object({ email: Email, password: z.string().min(1, "password is required") });

/**
 * Failed sign-ins per email: after `maxFailures` within `failureWindowMs` the email is refused until
 * the window passes, so a password cannot be guessed at scrypt's pace for long. Per process (per
 * Lambda instance on AWS): a brake, not a global count.
 */
export const maxFailures = 10;
export const failureWindowMs = 15 * 60_000;
const failures = processState("wattflow.signin-failures", () => new Map<string, { count: number; since: number }>());

/** Checks the password and opens a session; the secret is returned once, for the cookie. */
export const signIn = fn(SignIn, async (input): Promise<{ user: Info; token: string; expiresAt: Date }> => {
  const now = Date.now();
  const failed = failures.get(input.email);
  if (failed && now - failed.since >= failureWindowMs) failures.delete(input.email);
  else if (failed && failed.count >= maxFailures) {
    const retryAfterSeconds = Math.ceil((failed.since + failureWindowMs - now) / 1000);
    throw new VisibleError(
      "auth",
      "session.too_many_attempts",
      `Too many failed sign-ins for this email; try again in ${Math.ceil(retryAfterSeconds / 60)} min`,
      [],
      retryAfterSeconds,
    );
  }
  const [row] = await Database.use()
    .select()
    .from(userTable)
    .where(and(eq(userTable.email, input.email), isNull(userTable.disabledAt)));
  decoy ??= hashPassword(randomBytes(16).toString("hex"));
  const ok = await verifyPassword(input.password, row?.passwordHash ?? (await decoy));
  if (!row || !ok) {
    const entry = failures.get(input.email) ?? { count: 0, since: now };
    failures.set(input.email, { ...entry, count: entry.count + 1 });
    throw new VisibleError("auth", "session.invalid_credentials", "The email or password is wrong");
  }
  failures.delete(input.email);
  const token = createSecret("wfs", 32);
  const expiresAt = new Date(Date.now() + sessionSeconds * 1000);
  await Database.use()
    .insert(sessionTable)
    .values({ id: createId("session"), userId: row.id, organizationId: row.organizationId, tokenHash: hashToken(token), expiresAt });
  return { user: toInfo(row), token, expiresAt };
});

function toInfo(row: typeof userTable.$inferSelect): Info {
  return { id: row.id, organizationId: row.organizationId, email: row.email, name: row.name, role: row.role };
}

/** The user and actor behind a session secret, unless it expired, was signed out or the user disabled. */
export async function session(token: string, now = new Date()): Promise<{ user: Info; actor: Auth.Actor; expiresAt: Date } | undefined> {
  const [row] = await Database.use()
    .select({ user: userTable, sessionId: sessionTable.id, expiresAt: sessionTable.expiresAt })
    .from(sessionTable)
    .innerJoin(userTable, eq(userTable.id, sessionTable.userId))
    .where(and(eq(sessionTable.tokenHash, hashToken(token)), isNull(sessionTable.revokedAt), gt(sessionTable.expiresAt, now), isNull(userTable.disabledAt)));
  if (!row) return undefined;
  return {
    user: toInfo(row.user),
    actor: { organizationId: row.user.organizationId, role: row.user.role, tokenId: row.sessionId, userId: row.user.id, name: row.user.name },
    expiresAt: row.expiresAt,
  };
}

export async function signOut(token: string): Promise<void> {
  await Database.use()
    .update(sessionTable)
    .set({ revokedAt: new Date() })
    .where(and(eq(sessionTable.tokenHash, hashToken(token)), isNull(sessionTable.revokedAt)));
}
