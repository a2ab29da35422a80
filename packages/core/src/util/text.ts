/**
 * Text that came from outside (a record's bytes, a parser's message quoting them) made safe to
 * store and show: Postgres text and jsonb refuse NUL, and control characters garble logs and terminals.
 */
import { quarantineTextLimits } from "../config";

/**
 * Replaces NUL and other C0/C1 control characters (tab and newline kept) with `\uXXXX` escapes,
 * lone surrogates with U+FFFD, and cuts the result to `max` characters with a marker saying how much was cut.
 * @example safeText("not json \0") === "not json \\u0000"
 */
export function safeText(value: unknown, max: number = quarantineTextLimits.messageChars): string {
  const text = (typeof value === "string" ? value : String(value))
    .replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, "\uFFFD")
    // biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point.
    .replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, "0")}`);
  return text.length <= max ? text : `${text.slice(0, max)}… (${text.length - max} more characters)`;
}
