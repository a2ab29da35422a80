/**
 * The console's languages: Spanish (Mexico) by default, English a click away. Strings live in one JSON file per
 * language and namespace (`locales/<language>/<namespace>.json`, a namespace per page plus `common`), read through
 * i18next so plurals follow each language's CLDR rules (`key_one` / `key_other`). The choice is kept in localStorage.
 */
import i18n from "i18next";
import { initReactI18next } from "react-i18next";

export const languages = ["es-MX", "en"] as const;
export type Language = (typeof languages)[number];
export const defaultLanguage: Language = "es-MX";
const storageKey = "wattflow.language";

// Every locales/<language>/<namespace>.json, bundled by Vite at build time (no fetch at startup).
const files = import.meta.glob<{ default: Record<string, unknown> }>("./locales/*/*.json", { eager: true });
const resources: Record<string, Record<string, Record<string, unknown>>> = {};
for (const [path, module] of Object.entries(files)) {
  const [, language, namespace] = /\.\/locales\/([^/]+)\/([^/]+)\.json$/.exec(path) ?? [];
  if (!language || !namespace) continue;
  resources[language] ??= {};
  resources[language][namespace] = module.default;
}

function storedLanguage(): Language {
  const stored = typeof localStorage === "undefined" ? null : localStorage.getItem(storageKey);
  return languages.find((language) => language === stored) ?? defaultLanguage;
}

void i18n.use(initReactI18next).init({
  resources,
  lng: storedLanguage(),
  fallbackLng: defaultLanguage,
  defaultNS: "common",
  ns: Object.keys(resources[defaultLanguage] ?? {}),
  fallbackNS: "common", // a page's t() finds the shared words (refresh, loading, periods) without a prefix
  interpolation: { escapeValue: false }, // React escapes already
  returnNull: false,
});
document.documentElement.lang = i18n.language;

/** Switches the console's language and remembers it for the next visit. */
export function setLanguage(language: Language): void {
  localStorage.setItem(storageKey, language);
  document.documentElement.lang = language;
  void i18n.changeLanguage(language);
}

/** The language in use, as a BCP 47 tag Intl formatters take. */
export function currentLanguage(): Language {
  return languages.find((language) => language === i18n.language) ?? defaultLanguage;
}

export { i18n };
