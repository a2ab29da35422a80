import { type FormEvent, useState } from "react";
import { useTranslation } from "react-i18next";
import { ApiError, api, type Me, ok } from "../api";
import { LanguageSelect } from "../options";

export function SignIn({ onSignedIn }: { onSignedIn: (me: Me) => void }) {
  const { t } = useTranslation("signin");
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
      setError(failure instanceof ApiError ? failure.message : t("couldNotReach"));
    } finally {
      setBusy(false);
    }
  };
  return (
    <div className="signin">
      <form onSubmit={submit} className="card">
        <div className="signin-top">
          <h1>
            <span className="bolt">⚡</span> Wattflow
          </h1>
          <LanguageSelect />
        </div>
        <p className="muted">{t("tagline")}</p>
        <label>
          {t("email")}
          <input name="email" type="email" autoComplete="username" required />
        </label>
        <label>
          {t("password")}
          <input name="password" type="password" autoComplete="current-password" required />
        </label>
        {error && (
          <p className="error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" disabled={busy}>
          {busy ? t("signingIn") : t("signIn")}
        </button>
      </form>
    </div>
  );
}
