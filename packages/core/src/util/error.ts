export type Problem = { path: string; message: string };

export type VisibleErrorKind = "input" | "auth" | "forbidden" | "not_found" | "conflict" | "too_large" | "unavailable";

/**
 * An error the caller caused or can act on; the API maps it to a 4xx/503 once, in onError.
 * @example throw new VisibleError("input", "reading.future_timestamp", "start is in the future")
 */
export class VisibleError extends Error {
  constructor(
    public readonly kind: VisibleErrorKind,
    public readonly code: string,
    message: string,
    public readonly problems: Problem[] = [],
    public readonly retryAfterSeconds?: number,
  ) {
    super(message);
    this.name = "VisibleError";
  }
}

/** Joins a zod issue path into the dotted JSON path the API reports (`readings.3.kwh`). */
export function jsonPath(path: ReadonlyArray<PropertyKey>, prefix: ReadonlyArray<PropertyKey> = []): string {
  const parts = [...prefix, ...path].map(String);
  return parts.length === 0 ? "(root)" : parts.join(".");
}
