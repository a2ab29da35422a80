/** An API refusal split by form field: each problem shown beside the field its path names, the rest above the form. */
import { ApiError } from "./api";

export type FieldErrors = { message: string; byPath: Map<string, string[]>; other: string[] };

/**
 * The problems of a failed save by path (`municipality`, `prices.months.1.fixed`); problems whose path is no field of
 * the form (`fields`) stay in `other`, with their path. Anything but an API answer is a bug and is rethrown.
 */
export function fieldErrors(failure: unknown, fields: readonly string[]): FieldErrors {
  if (!(failure instanceof ApiError)) throw failure;
  const byPath = new Map<string, string[]>();
  const other: string[] = [];
  for (const problem of failure.problems) {
    if (fields.includes(problem.path)) byPath.set(problem.path, [...(byPath.get(problem.path) ?? []), problem.message]);
    else other.push(`${problem.path}: ${problem.message}`);
  }
  return { message: failure.message, byPath, other };
}

/** The problems of one field, under it. */
export function FieldError({ errors, path }: { errors?: FieldErrors; path: string }) {
  const messages = errors?.byPath.get(path);
  if (!messages) return null;
  return (
    <span className="field-error" role="alert" data-field={path}>
      {messages.join("; ")}
    </span>
  );
}

/** The refusal's message and the problems no field shows. */
export function FormError({ errors }: { errors?: FieldErrors }) {
  if (!errors) return null;
  return (
    <div className="error" role="alert">
      {errors.message}
      {errors.other.length > 0 && (
        <ul>
          {errors.other.map((problem) => (
            <li key={problem}>{problem}</li>
          ))}
        </ul>
      )}
    </div>
  );
}
