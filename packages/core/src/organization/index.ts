import { z } from "zod";
import { Database } from "../database";
import { fn } from "../util/fn";
import { createId } from "../util/id";
import { organizationTable } from "./organization.sql";

export * as Organization from "./index";

export const Info = z.object({ id: z.string(), name: z.string().min(1) });
export type Info = z.infer<typeof Info>;

export const create = fn(z.object({ name: z.string().min(1, "name is required") }), async (input): Promise<Info> => {
  const id = createId("organization");
  await Database.use().insert(organizationTable).values({ id, name: input.name });
  return { id, name: input.name };
});
