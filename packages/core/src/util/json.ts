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
 * The JSON path of the first key or string in `value` (JSON as JSON.parse gives it) that `refused` picks, depth
 * first (a key before what it holds), or undefined when there is none. It walks with a stack of its own, not by
 * recursion: a body nested a few thousand deep (`[[[…"\\u0041"…]]]`, a few kB, before any sign-in) overflowed the
 * call stack and answered 500.
 * @example pathWhere(JSON.parse('{"a":["x","\\u0000"]}'), { text: (text) => text.includes("\u0000") }) → ["a", 1]
 */
export function pathWhere(
  value: unknown,
  refused: { key?: (key: string) => boolean; text?: (text: string) => boolean },
  path: (string | number)[] = [],
): (string | number)[] | undefined {
  // Each node knows its parent, so a path is built once, for the node found (not copied at every level).
  type Node = { value: unknown; key?: string | number; parent?: Node };
  const pathTo = (node: Node): (string | number)[] => {
    const keys: (string | number)[] = [];
    for (let at: Node | undefined = node; at?.key !== undefined; at = at.parent) keys.push(at.key);
    return [...path, ...keys.reverse()];
  };
  const stack: Node[] = [{ value }];
  for (let node = stack.pop(); node; node = stack.pop()) {
    if (typeof node.key === "string" && refused.key?.(node.key)) return pathTo(node);
    const current = node.value;
    if (typeof current === "string") {
      if (refused.text?.(current)) return pathTo(node);
      continue;
    }
    const entries: [string | number, unknown][] = Array.isArray(current)
      ? [...current.entries()]
      : current !== null && typeof current === "object"
        ? Object.entries(current)
        : [];
    // Pushed last to first, so the first entry (and all it holds) is looked at first.
    for (let index = entries.length - 1; index >= 0; index--) {
      const [key, item] = entries[index] as [string | number, unknown];
      stack.push({ value: item, key, parent: node });
    }
  }
  return undefined;
}

/**
 * The JSON path of the first key `__proto__` in `value` (JSON as JSON.parse gives it), or undefined.
 * JSON.parse keeps that key as an own property, but zod records and non-strict objects drop it without a word, so
 * input people write (the API's JSON bodies, the CLI's --input files) refuses it rather than ignore what it holds.
 * `constructor` and `prototype` need no such rule: records keep them and strict objects refuse them by name.
 * @example protoKeyAt(JSON.parse('{"months":[{"__proto__":{}}]}')) → ["months", 0, "__proto__"]
 */
export function protoKeyAt(value: unknown): (string | number)[] | undefined {
  return pathWhere(value, { key: (key) => key === "__proto__" });
}

/** What a refused `__proto__` key is told, the same wherever it is refused. */
export const protoKeyMessage = 'is a key "__proto__", which would be dropped without a word: name the field you meant';
