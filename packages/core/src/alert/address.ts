/**
 * Which addresses a webhook may reach: public unicast only. Loopback, private (RFC 1918, CGNAT,
 * ULA), link-local (the cloud metadata address among them), unspecified, multicast and reserved
 * ranges are refused, so an alert rule cannot make the service call into its own network. The
 * check runs on the literal URL when a rule is created and on every address the name resolves to
 * when the alert is delivered (the connection goes to the address checked: no DNS rebinding).
 * `WATTFLOW_WEBHOOK_ALLOW_PRIVATE=1` allows them, for a developer's own machine only.
 */
import { lookup as dnsLookup, type LookupAddress } from "node:dns";
import { BlockList, isIP, type LookupFunction } from "node:net";

export * as WebhookAddress from "./address";

const ranges: [string, number, "ipv4" | "ipv6", string][] = [
  ["0.0.0.0", 8, "ipv4", "unspecified"],
  ["10.0.0.0", 8, "ipv4", "private"],
  ["100.64.0.0", 10, "ipv4", "private (CGNAT)"],
  ["127.0.0.0", 8, "ipv4", "loopback"],
  ["169.254.0.0", 16, "ipv4", "link-local"],
  ["172.16.0.0", 12, "ipv4", "private"],
  ["192.0.0.0", 24, "ipv4", "reserved"],
  ["192.168.0.0", 16, "ipv4", "private"],
  ["198.18.0.0", 15, "ipv4", "reserved"],
  ["224.0.0.0", 4, "ipv4", "multicast"],
  ["240.0.0.0", 4, "ipv4", "reserved"],
  ["::", 128, "ipv6", "unspecified"],
  ["::", 96, "ipv6", "reserved"],
  ["::1", 128, "ipv6", "loopback"],
  ["fc00::", 7, "ipv6", "private (ULA)"],
  ["fe80::", 10, "ipv6", "link-local"],
  ["ff00::", 8, "ipv6", "multicast"],
];

const lists = new Map<string, BlockList>();
for (const [network, prefix, family, kind] of ranges) {
  const list = lists.get(kind) ?? new BlockList();
  list.addSubnet(network, prefix, family);
  lists.set(kind, list);
}

/**
 * Why `address` (an IP literal) may not be a webhook's target — "loopback", "private", "link-local",
 * "unspecified", "multicast", "reserved" — or undefined for a public address.
 * @example WebhookAddress.refusal("169.254.169.254") // "link-local"
 */
export function refusal(address: string): string | undefined {
  // BlockList matches IPv4-mapped IPv6 (::ffff:7f00:1) against the IPv4 ranges itself.
  const bare = address.replace(/^\[|\]$/g, "").replace(/%.*$/, "");
  const family = isIP(bare);
  if (family === 0) return undefined;
  for (const [kind, list] of lists) if (list.check(bare, family === 4 ? "ipv4" : "ipv6")) return kind;
  return undefined;
}

/** Private targets are allowed only when WATTFLOW_WEBHOOK_ALLOW_PRIVATE=1 (a developer's own machine; never set by `npm start`). */
export function privateAllowed(): boolean {
  return process.env.WATTFLOW_WEBHOOK_ALLOW_PRIVATE === "1";
}

/**
 * What is wrong with a webhook URL before any lookup: an IP literal that is not public, or a name
 * that is local by definition (`localhost`, `*.localhost`). Undefined when it may be saved.
 */
export function urlRefusal(url: string): string | undefined {
  if (privateAllowed()) return undefined;
  const host = new URL(url).hostname.toLowerCase();
  if (host === "localhost" || host.endsWith(".localhost")) return `${host} is a loopback name`;
  const kind = refusal(host);
  return kind ? `${host} is a ${kind} address` : undefined;
}

/** A webhook's name resolved to an address it may not reach. */
export class BlockedAddressError extends Error {
  constructor(readonly kind: string) {
    super(`the webhook's host resolves to a ${kind} address`);
    this.name = "BlockedAddressError";
  }
}

/**
 * A `lookup` for http.request that resolves every address of the name and refuses the connection
 * when any is not public, so the socket only ever connects to an address that was checked.
 */
export const checkedLookup: LookupFunction = (hostname, options, callback) => {
  dnsLookup(hostname, { ...options, all: true }, (error, addresses: LookupAddress[]) => {
    if (error) return (callback as (error: Error) => void)(error);
    const blocked = privateAllowed() ? undefined : addresses.map((entry) => refusal(entry.address)).find((kind) => kind !== undefined);
    if (blocked) return (callback as (error: Error) => void)(new BlockedAddressError(blocked));
    if (options.all) return (callback as (error: null, addresses: LookupAddress[]) => void)(null, addresses);
    const first = addresses[0] as LookupAddress;
    callback(null, first.address, first.family);
  });
};
