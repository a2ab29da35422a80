import { and, eq, isNull } from "drizzle-orm";
import { z } from "zod";
import { Database } from "../database";
import { fn } from "../util/fn";
import { hashToken } from "../util/hash";
import { createId, createSecret } from "../util/id";
import { apiTokenTable } from "./auth.sql";

export * as Auth from "./index";

export type Role = "admin" | "viewer" | "operator";
export type Actor = { organizationId: string; role: Role; tokenId: string };

/** Issues an API token for an organization; returned once, stored hashed. */
export const createToken = fn(
  z.object({ organizationId: z.string(), name: z.string().min(1), role: z.enum(["admin", "viewer", "operator"]) }),
  async (input): Promise<{ id: string; token: string }> => {
    const id = createId("apiToken");
    const token = createSecret("wfa");
    await Database.use()
      .insert(apiTokenTable)
      .values({ ...input, id, tokenHash: hashToken(token) });
    return { id, token };
  },
);

export async function authenticate(token: string): Promise<Actor | undefined> {
  const [row] = await Database.use()
    .select({ organizationId: apiTokenTable.organizationId, role: apiTokenTable.role, tokenId: apiTokenTable.id })
    .from(apiTokenTable)
    .where(and(eq(apiTokenTable.tokenHash, hashToken(token)), isNull(apiTokenTable.revokedAt)));
  return row;
}
