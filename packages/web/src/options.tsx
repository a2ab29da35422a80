/** The choices of a `<select>`: the console's one way to list them, and the language switch of the header and sign-in. */
import type { ReactNode } from "react";
import { useTranslation } from "react-i18next";
import { type Language, languages, setLanguage } from "./i18n";

/**
 * One `<option>` per item: its value `value(item)` (the item itself for strings), its words `label(item)` (the value
 * by default). Example: `<select name="factory"><Options values={factories} value={(f) => f.id} label={(f) => f.name} /></select>`
 */
export function Options<T>({ values, value, label }: { values: readonly T[]; value?(item: T): string; label?(item: T): ReactNode }) {
  return values.map((item) => {
    const key = value ? value(item) : String(item);
    return (
      <option key={key} value={key}>
        {label ? label(item) : key}
      </option>
    );
  });
}

/** The console's language, switched and remembered for the next visit (each language named in the current one). */
export function LanguageSelect() {
  const { t, i18n } = useTranslation("common");
  return (
    <select aria-label={t("language")} value={i18n.language} onChange={(event) => setLanguage(event.target.value as Language)}>
      <Options values={languages} label={(language) => t(`languageName.${language}`)} />
    </select>
  );
}
