/**
 * What the API says as a code and its parameters (an alert's finding, a quarantine reason), in the console's
 * language: the locale's wording of the code with each parameter formatted for a reader, else the stored English text.
 */
import type { TFunction } from "i18next";

/** How each named parameter reads on the page, given what the page knows (`place`: a factory's clock, names by id). */
export type ParamFormats<Place> = Record<string, (value: string | number, place: Place) => string>;

/**
 * `t(prefix + "." + code)` with the parameters formatted by `formats` (a parameter without a format as it is); `fallback`
 * for a record kept before codes, or a code this console has no wording for (a newer API's).
 * @example coded(t, "findings", alert, paramFormats, { timeZone }, alert.message)
 */
export function coded<Place>(
  t: TFunction<string>,
  prefix: string,
  item: { code: string | null; params: Record<string, string | number> | null },
  formats: ParamFormats<Place>,
  place: Place,
  fallback: string,
): string {
  const key = `${prefix}.${item.code}`;
  if (!item.code || !item.params || !t(key, { defaultValue: "" })) return fallback;
  const values = Object.fromEntries(Object.entries(item.params).map(([name, value]) => [name, formats[name]?.(value, place) ?? String(value)]));
  return t(key, values);
}
