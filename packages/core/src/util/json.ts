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
