/**
 * Which addresses a webhook may reach: public unicast only. Loopback, private (RFC 1918, CGNAT,
 * ULA), link-local (the cloud metadata address among them), unspecified, multicast and reserved
 * ranges are refused, and so are names that are internal by definition (`localhost`, `*.internal`
 * such as metadata.google.internal, `*.local`, a single label that the resolver's search list
 * would complete), so an alert rule cannot make the service call into its own network. The name
 * and literal checks run when a rule is saved and again before every delivery; at delivery every
 * address the name resolves to is checked by the same `refusal` and the socket connects to the
 * address checked (http.request's `lookup`), so a second DNS answer cannot swap it (DNS rebinding).
 * `WATTFLOW_WEBHOOK_ALLOW_PRIVATE=1` allows them, for a developer's own machine only.
 */
import { lookup as dnsLookup, type LookupAddress, type LookupAllOptions } from "node:dns";
import { BlockList, isIP, type LookupFunction } from "node:net";
import { WattflowError } from "../util/error";

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
  // IPv4-translated (SIIT, RFC 2765/6145) and Teredo (RFC 4380): a translator or relay reaches the IPv4 address they
  // carry, which may be one of ours; no public service is addressed this way.
  ["::ffff:0:0:0", 96, "ipv6", "reserved (IPv4-translated)"],
  ["2001::", 32, "ipv6", "reserved (Teredo)"],
  ["fc00::", 7, "ipv6", "private (ULA)"],
  // Local-use NAT64 (RFC 8215): translated inside the operator's own network.
  ["64:ff9b:1::", 48, "ipv6", "private (NAT64 local-use)"],
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
  // A router translates these to the IPv4 address they carry, so that address must be public too.
  const carried = family === 6 ? embeddedIPv4(bare) : undefined;
  return carried ? refusal(carried) : undefined;
}

/**
 * The IPv4 address inside a NAT64 (64:ff9b::/96, RFC 6052) or 6to4 (2002::/16, RFC 3056) address.
 * @example embeddedIPv4("64:ff9b::7f00:1") // "127.0.0.1"
 */
function embeddedIPv4(ipv6: string): string | undefined {
  const words = hextets(ipv6);
  if (!words) return undefined;
  const dotted = (high: number, low: number) => [high >> 8, high & 255, low >> 8, low & 255].join(".");
  if (words[0] === 0x64 && words[1] === 0xff9b && words.slice(2, 6).every((word) => word === 0)) return dotted(words[6] as number, words[7] as number);
  if (words[0] === 0x2002) return dotted(words[1] as number, words[2] as number);
  return undefined;
}

/** The eight 16-bit words of a valid IPv6 address (`::` expanded, a dotted IPv4 tail converted). */
function hextets(ipv6: string): number[] | undefined {
  let text = ipv6;
  const tail = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (tail) {
    const [a, b, c, d] = tail.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, tail.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = "", rest] = text.split("::");
  const left = head ? head.split(":") : [];
  const right = rest ? rest.split(":") : [];
  const zeros = rest === undefined ? 0 : 8 - left.length - right.length;
  const words = [...left, ...Array<string>(zeros).fill("0"), ...right].map((word) => Number.parseInt(word, 16));
  return words.length === 8 ? words : undefined;
}

/** Private targets are allowed only when WATTFLOW_WEBHOOK_ALLOW_PRIVATE=1 (a developer's own machine; never set by `npm start`). */
export function privateAllowed(): boolean {
  return process.env.WATTFLOW_WEBHOOK_ALLOW_PRIVATE === "1";
}

/**
 * Top-level names and suffixes that never name a public host: `localhost` (RFC 6761), `local` (mDNS, RFC 6762; the
 * cluster names of Kubernetes, `*.svc.cluster.local`), `internal` (reserved for private use by ICANN in 2024; the clouds'
 * own names: metadata.google.internal, ip-10-0-0-1.ec2.internal), `home.arpa` (RFC 8375), and the private suffixes RFC
 * 6762 appendix G lists as in common use (`intranet`, `private`, `corp`, `home`, `lan`) with `localdomain`.
 */
const internalSuffixes = ["localhost", "local", "internal", "localdomain", "home.arpa", "intranet", "private", "corp", "home", "lan"];

/**
 * Why a host name (no IP literal) is internal by definition, or undefined when only its addresses can tell.
 * A trailing dot is the same name (`localhost.` is localhost); a name of one label (`metadata`, `instance-data`)
 * is completed by the resolver's search list into a name of the service's own network, so it is refused too; so is a
 * name no DNS could hold (a label over 63 characters, the name over 253).
 * @example WebhookAddress.nameRefusal("metadata.google.internal") // "metadata.google.internal is an internal name"
 */
export function nameRefusal(hostname: string): string | undefined {
  const name = hostname.toLowerCase().replace(/\.+$/, "");
  if (isIP(name.replace(/^\[|\]$/g, "")) !== 0) return undefined;
  // RFC 1035 §2.3.4: a label is 1–63 octets, a name at most 253 characters as written; no resolver answers another.
  if (name.length > 253) return `the host name is ${name.length} characters long; a DNS name has at most 253`;
  const long = name.split(".").find((label) => label.length > 63);
  if (long !== undefined) return `the host name has a label of ${long.length} characters; a DNS label has at most 63`;
  if (name === "localhost" || name.endsWith(".localhost")) return `${name} is a loopback name`;
  if (!name.includes(".")) return `${name || JSON.stringify(hostname)} is a single-label name, which the resolver completes inside our own network`;
  const suffix = internalSuffixes.find((internal) => name === internal || name.endsWith(`.${internal}`));
  return suffix ? `${name} is an internal name (*.${suffix})` : undefined;
}

/**
 * What is wrong with a webhook URL before any lookup: an IP literal that is not public (`refusal`), or a name that
 * is internal by definition (`nameRefusal`). Undefined when it may be saved (or when private targets are allowed).
 * @example WebhookAddress.urlRefusal("http://169.254.169.254/latest/") // "169.254.169.254 is a link-local address"
 */
export function urlRefusal(url: string): string | undefined {
  if (privateAllowed()) return undefined;
  // Not a URL (an IPv6 zone id, no host…): nothing can be delivered to it.
  if (!URL.canParse(url)) return `${JSON.stringify(url.slice(0, 100))} is not a URL`;
  const host = new URL(url).hostname.toLowerCase();
  const kind = refusal(host);
  return kind ? `${host} is ${withArticle(kind)} address` : nameRefusal(host);
}

/** A webhook's URL names an internal host, or its name resolved to an address it may not reach. */
export class BlockedAddressError extends WattflowError {
  readonly kind = "input" as const;
  readonly code = "alert.address_blocked";
  /** `reason`: what is wrong, in a sentence a person can act on ("hooks.example.com resolves to a loopback address"). */
  constructor(readonly reason: string) {
    super(reason);
    this.name = "BlockedAddressError";
  }
}

/** The addresses a name resolves to (both families); tests answer what a rebinding DNS server would. */
export type Resolver = (hostname: string) => Promise<LookupAddress[]>;

/** The system resolver (getaddrinfo, as http.request uses by default). */
const systemResolver: Resolver = (hostname) =>
  new Promise((resolve, reject) =>
    dnsLookup(hostname, { all: true } satisfies LookupAllOptions, (error, addresses) => (error ? reject(error) : resolve(addresses))),
  );

/**
 * A `lookup` for http.request that resolves every address of the name with `resolve` and refuses the connection
 * (BlockedAddressError) when any of them is not public, so the socket only ever connects to an address that was
 * checked: Node connects to what this lookup answers and asks no resolver again.
 * @example https.request(url, { lookup: checkedLookup() })
 */
export function checkedLookup(resolve: Resolver = systemResolver): LookupFunction {
  return (hostname, options, callback) => {
    const fail = callback as (error: Error) => void;
    resolve(hostname).then((answered) => {
      const addresses = options.family === 4 || options.family === 6 ? answered.filter((entry) => entry.family === options.family) : answered;
      if (addresses.length === 0) return fail(Object.assign(new Error(`${hostname} has no address`), { code: "ENOTFOUND" }));
      const blocked = privateAllowed() ? undefined : addresses.map((entry) => refusal(entry.address)).find((kind) => kind !== undefined);
      if (blocked) return fail(new BlockedAddressError(`${hostname} resolves to ${withArticle(blocked)} address`));
      if (options.all) return (callback as (error: null, addresses: LookupAddress[]) => void)(null, addresses);
      const first = addresses[0] as LookupAddress;
      callback(null, first.address, first.family);
    }, fail);
  };
}

/** "a private", "an unspecified": the kind as it reads in a sentence. */
function withArticle(kind: string): string {
  return `${/^[aeiou]/i.test(kind) ? "an" : "a"} ${kind}`;
}
