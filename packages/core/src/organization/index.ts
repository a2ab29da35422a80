import { eq } from "drizzle-orm";
import { z } from "zod";
import { Database } from "../database";
import { fn } from "../util/fn";
import { createId } from "../util/id";
import { organizationTable } from "./organization.sql";

export * as Organization from "./index";

/** An organization; `demo` marks generated data and demo prices (the console labels them). */
export const Info = z.object({ id: z.string(), name: z.string().min(1), demo: z.boolean() });
export type Info = z.infer<typeof Info>;

export const create = fn(z.object({ name: z.string().min(1, "name is required"), demo: z.boolean().default(false) }), async (input): Promise<Info> => {
  const id = createId("organization");
  await Database.use().insert(organizationTable).values({ id, name: input.name, demo: input.demo });
  return { id, name: input.name, demo: input.demo };
});

/** The organization with `id`, or undefined. */
export async function get(id: string): Promise<Info | undefined> {
  const [row] = await Database.use()
    .select({ id: organizationTable.id, name: organizationTable.name, demo: organizationTable.demo })
    .from(organizationTable)
    .where(eq(organizationTable.id, id));
  return row;
}
