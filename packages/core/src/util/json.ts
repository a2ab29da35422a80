/**
 * `text` parsed as JSON, or `otherwise` when it is not JSON (JSON.parse threw a SyntaxError); any other error is
 * thrown. For text that may or may not be JSON: a workflow's output or error cause, an archived object.
 * @example parseJsonOr('{"a":1}', undefined) → { a: 1 }; parseJsonOr("oops", "oops") → "oops"
 */
export function parseJsonOr(text: string, otherwise: unknown): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    if (error instanceof SyntaxError) return otherwise;
    throw error;
  }
}

/**
 * The JSON path of the first key `__proto__` in `value` (JSON as JSON.parse gives it), depth first, or undefined.
 * JSON.parse keeps that key as an own property, but zod records and non-strict objects drop it without a word, so
 * input people write (the API's JSON bodies, the CLI's --input files) refuses it rather than ignore what it holds.
 * `constructor` and `prototype` need no such rule: records keep them and strict objects refuse them by name.
 * @example protoKeyAt(JSON.parse('{"months":[{"__proto__":{}}]}')) → ["months", 0, "__proto__"]
 */
export function protoKeyAt(value: unknown, path: (string | number)[] = []): (string | number)[] | undefined {
  if (Array.isArray(value)) {
    for (const [index, item] of value.entries()) {
      const found = protoKeyAt(item, [...path, index]);
      if (found) return found;
    }
    return undefined;
  }
  if (value !== null && typeof value === "object")
    for (const [key, item] of Object.entries(value)) {
      if (key === "__proto__") return [...path, key];
      const found = protoKeyAt(item, [...path, key]);
      if (found) return found;
    }
  return undefined;
}

/** What a refused `__proto__` key is told, the same wherever it is refused. */
export const protoKeyMessage = 'is a key "__proto__", which would be dropped without a word: name the field you meant';
