/** An API refusal shown as the API worded it (English), with each problem by its path; the console's own words are translated. */
import { ApiError } from "./api";
import { i18n } from "./i18n";

export type Shown = { message: string; problems: string[] };

/** What to show for a failed action; anything but an API answer or bad JSON typed by the user is a bug and is rethrown. */
export function shown(failure: unknown): Shown {
  if (failure instanceof ApiError) return { message: failure.message, problems: failure.problems.map((problem) => `${problem.path}: ${problem.message}`) };
  if (failure instanceof SyntaxError) return { message: i18n.t("notJson", { ns: "common", message: failure.message }), problems: [] };
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
