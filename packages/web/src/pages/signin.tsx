import { type FormEvent, useState } from "react";
import { ApiError, api, type Me, ok } from "../api";

export function SignIn({ onSignedIn }: { onSignedIn: (me: Me) => void }) {
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  const submit = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    setBusy(true);
    setError(undefined);
    try {
      onSignedIn(await ok(api.v1.session.$post({ json: { email: String(form.get("email")), password: String(form.get("password")) } })));
    } catch (failure) {
      setError(failure instanceof ApiError ? failure.message : "Could not reach Wattflow; try again");
    } finally {
      setBusy(false);
    }
  };
  return (
    <div className="signin">
      <form onSubmit={submit} className="card">
        <h1>
          <span className="bolt">⚡</span> Wattflow
        </h1>
        <p className="muted">Electricity use and cost, reading by reading.</p>
        <label>
          Email
          <input name="email" type="email" autoComplete="username" required />
        </label>
        <label>
          Password
          <input name="password" type="password" autoComplete="current-password" required />
        </label>
        {error && (
          <p className="error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" disabled={busy}>
          {busy ? "Signing in…" : "Sign in"}
        </button>
      </form>
    </div>
  );
}
