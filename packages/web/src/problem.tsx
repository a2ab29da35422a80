/** An API refusal shown as the API worded it (English), with each problem by its path; the console's own words are translated. */
import { type FormEvent, type ReactNode, useState } from "react";
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

/**
 * The forms of a page whose outcome shows once above them (Setup's new factory, gateway and meter; a tariff by JSON or
 * URDB). `submit(run)` is a form's onSubmit: it runs `run` with the form's data, then empties the form, shows the
 * notice `run` returns and calls `onDone` (reload what the form changed); a refusal shows in `outcome` instead.
 * `done(message)` shows a notice for a form that submits itself (the CFE plan).
 */
export function useFormOutcome(onDone: () => void): {
  submit(run: (form: FormData) => Promise<string | undefined>): (event: FormEvent<HTMLFormElement>) => Promise<void>;
  done(message: string): void;
  outcome: ReactNode;
} {
  const [error, setError] = useState<Shown>();
  const [notice, setNotice] = useState<string>();
  const submit = (run: (form: FormData) => Promise<string | undefined>) => async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const element = event.currentTarget;
    setError(undefined);
    setNotice(undefined);
    try {
      const message = await run(new FormData(element));
      element.reset();
      setNotice(message);
      onDone();
    } catch (failure) {
      setError(shown(failure));
    }
  };
  const done = (message: string) => {
    setError(undefined);
    setNotice(message);
    onDone();
  };
  const outcome = (
    <>
      <ProblemBox error={error} />
      {notice && <p className="notice">{notice}</p>}
    </>
  );
  return { submit, done, outcome };
}
