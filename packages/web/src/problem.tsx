/** An API refusal shown as the API worded it, with each problem by its path. */
import { ApiError } from "./api";

export type Shown = { message: string; problems: string[] };

/** What to show for a failed action; anything but an API answer or bad JSON typed by the user is a bug and is rethrown. */
export function shown(failure: unknown): Shown {
  if (failure instanceof ApiError) return { message: failure.message, problems: failure.problems.map((problem) => `${problem.path}: ${problem.message}`) };
  if (failure instanceof SyntaxError) return { message: `Not valid JSON: ${failure.message}`, problems: [] };
  throw failure;
}

export function ProblemBox({ error }: { error?: Shown }) {
  if (!error) return null;
  return (
    <div className="error" role="alert">
      {error.message}
      {error.problems.length > 0 && (
        <ul>
          {error.problems.map((problem) => (
            <li key={problem}>{problem}</li>
          ))}
        </ul>
      )}
    </div>
  );
}
