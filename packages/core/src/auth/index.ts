import { and, eq, isNull } from "drizzle-orm";
import { z } from "zod";
import { Database } from "../database";
import { fn } from "../util/fn";
import { hashToken } from "../util/hash";
import { createId, createSecret } from "../util/id";
import { apiTokenTable } from "./auth.sql";

export * as Auth from "./index";

export type Role = "admin" | "viewer" | "operator";
/**
 * Who calls: an organization's token or signed-in user. `platform` marks the platform's own
 * operators and admins (a token created with `platform: true`), who also see quarantined records
 * that no organization claims; nobody else ever does.
 */
/** Who calls: an API token, or a person's session (`userId` set). `name` is the token's or the person's, for "who did it" records. */
export type Actor = { organizationId: string; role: Role; tokenId: string; platform?: boolean; userId?: string; name?: string };

/** Issues an API token for an organization; returned once, stored hashed. */
export const createToken = fn(
  z.object({ organizationId: z.string(), name: z.string().min(1), role: z.enum(["admin", "viewer", "operator"]), platform: z.boolean().default(false) }),
  async (input): Promise<{ id: string; token: string }> => {
    const id = createId("apiToken");
    const token = createSecret("wfa");
    await Database.use()
      .insert(apiTokenTable)
      .values({ ...input, id, tokenHash: hashToken(token) });
    return { id, token };
  },
);

/** The actor behind an API token, or undefined when the token is unknown or revoked. */
export async function authenticate(token: string): Promise<Actor | undefined> {
  const [row] = await Database.use()
    .select({
      organizationId: apiTokenTable.organizationId,
      role: apiTokenTable.role,
      tokenId: apiTokenTable.id,
      platform: apiTokenTable.platform,
      name: apiTokenTable.name,
    })
    .from(apiTokenTable)
    .where(and(eq(apiTokenTable.tokenHash, hashToken(token)), isNull(apiTokenTable.revokedAt)));
  return row;
}
