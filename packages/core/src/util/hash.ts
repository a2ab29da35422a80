import { createHash } from "node:crypto";

/** Tokens are 192 random bits, so a plain SHA-256 (no salt, no stretching) is enough to store them safely. */
export function hashToken(token: string): string {
  return createHash("sha256").update(token).digest("hex");
}
