/** Display helpers: numbers in the user's locale, instants in the factory's zone. */
const number = (digits: number) => new Intl.NumberFormat(undefined, { minimumFractionDigits: digits, maximumFractionDigits: digits });
const formats = [number(0), number(1), number(2), number(3)] as const;

export function num(value: number | null | undefined, digits: 0 | 1 | 2 | 3 = 0): string {
  return value === null || value === undefined || Number.isNaN(value) ? "—" : formats[digits].format(value);
}

/** A decimal string of money with its currency code. */
export function money(value: string | null | undefined, currency: string): string {
  if (value === null || value === undefined) return "—";
  return `${formats[2].format(Number(value))} ${currency}`;
}

export function percent(value: number | null | undefined, digits: 0 | 1 | 2 = 1): string {
  return value === null || value === undefined ? "—" : `${formats[digits].format(value * 100)} %`;
}

export function when(iso: string | null | undefined, timeZone?: string): string {
  if (!iso) return "never";
  return new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short", timeZone }).format(new Date(iso));
}

/** "3 min ago", for last-seen times. */
export function ago(iso: string | null | undefined, now = Date.now()): string {
  if (!iso) return "never";
  const seconds = Math.round((now - Date.parse(iso)) / 1000);
  if (seconds < 90) return `${Math.max(seconds, 0)} s ago`;
  if (seconds < 5400) return `${Math.round(seconds / 60)} min ago`;
  if (seconds < 172_800) return `${Math.round(seconds / 3600)} h ago`;
  return `${Math.round(seconds / 86_400)} d ago`;
}

/** The zone's offset from UTC at `at`, in milliseconds (local wall time minus UTC). */
function offsetAt(at: Date, timeZone: string): number {
  const parts = new Intl.DateTimeFormat("en-CA", {
    timeZone,
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
    hourCycle: "h23",
  })
    .formatToParts(at)
    .reduce<Record<string, string>>((all, part) => {
      all[part.type] = part.value;
      return all;
    }, {});
  const local = Date.UTC(Number(parts.year), Number(parts.month) - 1, Number(parts.day), Number(parts.hour), Number(parts.minute));
  return local - Math.floor(at.getTime() / 60_000) * 60_000;
}

/** The instant of a wall time (`2027-01-01T00:00`, as a datetime-local input gives it) in the factory's zone. */
export function fromLocal(wall: string, timeZone: string): Date {
  const asUtc = Date.parse(`${wall}Z`);
  // Twice: the offset at the guess can differ from the offset at the answer around a DST change.
  const first = asUtc - offsetAt(new Date(asUtc), timeZone);
  return new Date(asUtc - offsetAt(new Date(first), timeZone));
}

/** Midnight of the factory's local day containing `at`, as an instant. */
export function localMidnight(at: Date, timeZone: string): Date {
  const day = new Intl.DateTimeFormat("en-CA", { timeZone, year: "numeric", month: "2-digit", day: "2-digit" }).format(at);
  return fromLocal(`${day}T00:00`, timeZone);
}
