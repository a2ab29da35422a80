/** An API refusal split by form field: each problem shown beside the field its path names, the rest above the form. */
import { createContext, type FormEvent, type FormHTMLAttributes, type ReactNode, useContext, useState } from "react";
import { ApiError } from "./api";
import { ProblemBox } from "./problem";

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

/** The refusal of the FieldForm around, for its FormError, Fields and FieldErrors. */
const Refusal = createContext<FieldErrors | undefined>(undefined);

type FieldFormProps = Omit<FormHTMLAttributes<HTMLFormElement>, "onSubmit"> & {
  /** The paths the form shows beside a field; the API's other problems go to its FormError. */
  fields: readonly string[];
  /** Saves the form's data (a FormData of its named controls); the ApiError it throws on a refusal is shown by field. */
  onSave(form: FormData): Promise<void>;
  children: ReactNode;
};

/**
 * A form that saves through the API and shows a refusal where it belongs: each problem under the Field (or FieldError)
 * of its path, the rest in its FormError. Browser validation is off, so the API's words are the ones people read.
 * Errors other than an ApiError are bugs and are rethrown. Example:
 * `<FieldForm fields={["name"]} onSave={save}><FormError /><Field label={t("name")} path="name"><input name="name" /></Field></FieldForm>`
 */
export function FieldForm({ fields, onSave, children, ...form }: FieldFormProps) {
  const [errors, setErrors] = useState<FieldErrors>();
  const submit = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const data = new FormData(event.currentTarget);
    setErrors(undefined);
    try {
      await onSave(data);
    } catch (failure) {
      setErrors(fieldErrors(failure, fields));
    }
  };
  return (
    <form {...form} onSubmit={submit} noValidate>
      <Refusal.Provider value={errors}>{children}</Refusal.Provider>
    </form>
  );
}

/** The problems the FieldForm's refusal names by `path`, under the field. */
export function FieldError({ path }: { path: string }) {
  const messages = useContext(Refusal)?.byPath.get(path);
  if (!messages) return null;
  return (
    <span className="field-error" role="alert" data-field={path}>
      {messages.join("; ")}
    </span>
  );
}

/**
 * A labelled control of a FieldForm: the label's words, the control (`children`, a hint may follow it) and under them
 * the problems of `path`; a field that problems name by more than one path (`municipality` and `state`) lists each.
 */
export function Field({ label, path, htmlFor, children }: { label: ReactNode; path: string | readonly string[]; htmlFor?: string; children: ReactNode }) {
  return (
    <label htmlFor={htmlFor}>
      {label} {children}
      {(typeof path === "string" ? [path] : path).map((one) => (
        <FieldError key={one} path={one} />
      ))}
    </label>
  );
}

/** The FieldForm's refusal above its fields: the API's message and the problems no field shows. */
export function FormError() {
  const refusal = useContext(Refusal);
  return <ProblemBox error={refusal && { message: refusal.message, problems: refusal.other }} />;
}
