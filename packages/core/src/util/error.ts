export type Problem = { path: string; message: string };

export type VisibleErrorKind = "input" | "auth" | "forbidden" | "not_found" | "conflict" | "too_large" | "unavailable";

/**
 * What went wrong, as the API answers it: `input` 400, `auth` 401, `forbidden` 403, `not_found` 404,
 * `conflict` 409, `too_large` 413, `unavailable` 503 (a store or service that may answer later), `internal` 500
 * (a bug or a broken deployment: logged, never described to the caller).
 */
export type ErrorKind = VisibleErrorKind | "internal";

/**
 * The one error family: every error Wattflow throws on purpose has a `kind` (its HTTP status) and a stable
 * `code` (`tariff.invalid`), and may name `problems` by path. The API maps it once (functions/src/api/errors.ts),
 * so a domain error is never a 500. Subclasses declare `kind`, `code` and `name` as fields; a constructor only where they take more than (message, { cause }).
 * @example class TariffError extends WattflowError { readonly kind = "input"; readonly code = "tariff.invalid"; }
 */
export abstract class WattflowError extends Error {
  abstract readonly kind: ErrorKind;
  abstract readonly code: string;
  /** The parts of the input at fault, by path; none by default. */
  get problems(): Problem[] {
    return [];
  }
  /** Whether the message was written for the caller; `unavailable` and `internal` errors describe our insides. */
  get public(): boolean {
    return this.kind !== "internal" && this.kind !== "unavailable";
  }
}

/**
 * An input error found at one place of the input: `path` (dotted, `usage.readings.3.start`) with the message is its
 * one problem. Subclasses declare `code` and their `name`.
 * @example class UrdbError extends PathError { readonly code = "tariff.urdb_invalid"; override readonly name = "UrdbError"; }
 */
export abstract class PathError extends WattflowError {
  readonly kind = "input" as const;
  constructor(
    message: string,
    /** Where in the input, as a dotted path (`usage.readings.3.start`). */
    readonly path: string,
  ) {
    super(message);
  }
  override get problems(): Problem[] {
    return [{ path: this.path, message: this.message }];
  }
}

/**
 * A store or service this process depends on (a port's adapter, the stream, a mail server) could not be reached or
 * did not answer: 503, retry later; the message describes our insides and is logged, not shown. `cause` keeps the
 * adapter's own error. Subclasses declare `code` and their `name`.
 * @example class ArchiveError extends UnavailableError { readonly code = "archive.unavailable"; override readonly name = "ArchiveError"; }
 */
export abstract class UnavailableError extends WattflowError {
  readonly kind = "unavailable" as const;
}

/**
 * An error the caller caused or can act on, made where it is found; the API maps it to a 4xx/503 once, in onError.
 * @example throw new VisibleError("input", "reading.future_timestamp", "start is in the future")
 */
export class VisibleError extends WattflowError {
  constructor(
    public readonly kind: VisibleErrorKind,
    public readonly code: string,
    message: string,
    private readonly found: Problem[] = [],
    public readonly retryAfterSeconds?: number,
  ) {
    super(message);
    this.name = "VisibleError";
  }
  override get problems(): Problem[] {
    return this.found;
  }
  /** Written for the caller, a 503 included (it says what to wait for). */
  override get public(): boolean {
    return true;
  }
}

/** Joins a zod issue path into the dotted JSON path the API reports (`readings.3.kwh`). */
export function jsonPath(path: ReadonlyArray<PropertyKey>, prefix: ReadonlyArray<PropertyKey> = []): string {
  const parts = [...prefix, ...path].map(String);
  return parts.length === 0 ? "(root)" : parts.join(".");
}
