import { randomBytes } from "node:crypto";
import { ulid } from "ulid";

const prefixes = {
  organization: "org",
  factory: "fac",
  meter: "mtr",
  device: "dev",
  apiToken: "tok",
  tariff: "trf",
  quarantine: "qtn",
  user: "usr",
  session: "ses",
  bill: "bil",
  alertRule: "alr",
  alert: "alt",
  import: "imp",
  enrollment: "enr",
} as const;

/** A prefixed, time-sortable id: `createId("meter")` → `mtr_01J…`. */
export function createId(kind: keyof typeof prefixes): string {
  return `${prefixes[kind]}_${ulid().toLowerCase()}`;
}

/**
 * A bearer secret of `bytes` random bytes (base64url): prefix names its kind so a leaked one is recognisable in logs
 * and scanners — `wfd` device token, `wfa` API token, `wfs` console session.
 */
export function createSecret(prefix: "wfd" | "wfa" | "wfs", bytes = 24): string {
  return `${prefix}_${randomBytes(bytes).toString("base64url")}`;
}
