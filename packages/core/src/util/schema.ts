/**
 * Zod schemas refusing what they do not name, at every depth, for input a person typed: a misspelt field in a
 * tariff's prices must be a refusal naming it, never a field dropped on the way to a bill. Stored and bundled data
 * keep their schemas' own (tolerant) rule; this is applied where input enters (the API's bodies, prices entered by hand).
 */
import { z } from "zod";

/** A zod 4 schema's definition, as far as `strict` reads it (`_zod.def`). */
type Definition = {
  type: string;
  shape?: Record<string, z.ZodType>;
  catchall?: z.ZodType;
  element?: z.ZodType;
  innerType?: z.ZodType;
  options?: z.ZodType[];
  valueType?: z.ZodType;
  in?: z.ZodType;
};

/**
 * `schema` refusing, at every depth, keys it does not name: each object — inside arrays, records, unions (plain and
 * discriminated), optionals, defaults and the input side of pipes — becomes strict and keeps its refinements. An
 * object that declares a catch-all (what else it takes) keeps it. `copied(from, to)` is called for each schema
 * rebuilt, so a caller can carry metadata kept outside the schema (an OpenAPI component's name).
 * Errors: none; the returned schema gives zod's `unrecognized_keys` issue (its path, its `keys`) for each unknown key.
 * @example strict(Tariff.Definition).safeParse({ kind: "flat", currency: "MXN", energyPrice: "2", demandPrice: "3" }) → unrecognized_keys ["demandPrice"]
 */
export function strict<S extends z.ZodType>(schema: S, copied?: (from: z.ZodType, to: z.ZodType) => void): S {
  const rebuilt = (def: Definition): S => {
    const copy = schema.clone(def as never) as S;
    // A clone is a new instance: zod's own metadata (`.describe()`, `.meta()`) is kept by instance, so it goes along.
    // An `id` names one schema in the registry: the copy takes the rest (description, examples).
    const { id: _id, ...metadata } = z.globalRegistry.get(schema) ?? {};
    if (Object.keys(metadata).length > 0) z.globalRegistry.add(copy, metadata);
    copied?.(schema, copy);
    return copy;
  };
  const inner = (child: z.ZodType | undefined) => strict(child as z.ZodType, copied);
  const def = schema._zod.def as Definition;
  switch (def.type) {
    case "object":
      if (def.catchall) return schema;
      return rebuilt({ ...def, shape: Object.fromEntries(Object.entries(def.shape ?? {}).map(([key, value]) => [key, inner(value)])), catchall: z.never() });
    case "array":
      return rebuilt({ ...def, element: inner(def.element) });
    case "optional":
    case "nullable":
    case "default":
    case "prefault":
    case "readonly":
    case "nonoptional":
      return rebuilt({ ...def, innerType: inner(def.innerType) });
    case "union":
      return rebuilt({ ...def, options: (def.options ?? []).map(inner) });
    case "record":
      return rebuilt({ ...def, valueType: inner(def.valueType) });
    case "pipe":
      return rebuilt({ ...def, in: inner(def.in) });
    default:
      return schema;
  }
}

/**
 * A zod issue as the problems the API answers, one per path: an unknown key is named by its own path ("is not a
 * field of this body"), every other issue keeps its message. `path` maps zod's path to the answer's (JSON path text).
 */
export function problemsOf(issue: z.core.$ZodIssue, path: (segments: PropertyKey[]) => string): { path: string; message: string }[] {
  return issue.code === "unrecognized_keys"
    ? issue.keys.map((key) => ({ path: path([...issue.path, key]), message: `${key} is not a field of this body` }))
    : [{ path: path(issue.path), message: issue.message }];
}
