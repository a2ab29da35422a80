import type { z } from "zod";
import { jsonPath, VisibleError } from "./error";

/**
 * Wraps an input-taking core function with its schema; routes reuse `fn.schema`.
 * @example export const create = fn(Info, async (input) => …)
 */
export function fn<Schema extends z.ZodType, Result>(
  schema: Schema,
  impl: (input: z.output<Schema>) => Result,
  /** The error code a refused input carries (`factory.invalid`); `input.invalid` by default. */
  code = "input.invalid",
): ((input: z.input<Schema>) => Result) & { schema: Schema; code: string } {
  const wrapped = (input: z.input<Schema>) => {
    const parsed = schema.safeParse(input);
    if (!parsed.success) {
      throw new VisibleError(
        "input",
        code,
        "Invalid input",
        parsed.error.issues.map((issue) => ({ path: jsonPath(issue.path), message: issue.message })),
      );
    }
    return impl(parsed.data);
  };
  return Object.assign(wrapped, { schema, code });
}
