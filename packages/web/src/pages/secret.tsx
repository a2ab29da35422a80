/** Credentials shown once (enrollment codes, rotated tokens and keys): the API keeps only their hashes. */
import { useTranslation } from "react-i18next";

/** `values` by key (code, gateway, expires, token, private key): each key is named in the console's words and marks its value's test id. */
export function OneTimeSecret({ title, values, onClose }: { title: string; values: Record<string, string | null>; onClose(): void }) {
  const { t } = useTranslation("common");
  return (
    <div className="card secret" role="dialog" aria-label={title}>
      <h2>{title}</h2>
      <p className="muted small">{t("secret.shownOnce")}</p>
      <dl>
        {Object.entries(values)
          .filter((entry): entry is [string, string] => entry[1] !== null)
          .map(([key, value]) => (
            <div key={key}>
              <dt>{t(`secret.${key}`, { defaultValue: key })}</dt>
              <dd>
                <code data-testid={`secret-${key}`}>{value}</code>
              </dd>
            </div>
          ))}
      </dl>
      <button type="button" className="secondary" onClick={onClose}>
        {t("done")}
      </button>
    </div>
  );
}
