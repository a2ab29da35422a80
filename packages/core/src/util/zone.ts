/** IANA time zone names (pure). */

const canonical = new Map<string, string | undefined>();

/**
 * The canonical IANA spelling of a time zone name — `america/monterrey` → `America/Monterrey`,
 * `US/Central` → `America/Chicago` — or undefined for a name the runtime's zone database does not know.
 * Node's `Intl` accepts any letter case, but InfluxDB (Go's time package), Postgres and Athena look
 * zones up by their exact spelling, so a zone is stored and sent only in this form.
 * @example canonicalZone("america/monterrey") → "America/Monterrey"
 */
export function canonicalZone(name: string): string | undefined {
  if (canonical.has(name)) return canonical.get(name);
  let found: string | undefined;
  try {
    found = new Intl.DateTimeFormat("en-US", { timeZone: name }).resolvedOptions().timeZone;
  } catch (error) {
    if (!(error instanceof RangeError)) throw error;
  }
  // Building a formatter is the costly part: remember every answer, known or not.
  canonical.set(name, found);
  return found;
}
