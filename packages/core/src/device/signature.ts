/**
 * Signatures on stream records, so the consumer can tell who wrote a record (issue 4, item 5).
 * Kinesis credentials cannot say which meters a gateway may write: a gateway signs each record it
 * puts on Kinesis with its own Ed25519 key (public key enrolled through the API), and the API signs the
 * records it puts for gateways (route "http") with the server's HMAC key, so nobody holding only Kinesis
 * credentials can claim either route. Pure: node:crypto only, no I/O.
 */
import { createHmac, createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject, sign, timingSafeEqual, verify } from "node:crypto";

export * as Signature from "./signature";

const devicePrefix = "ed25519:";
const serverPrefix = "hmac-sha256:";

/**
 * The bytes that are signed: the record without `sig`, as JSON with keys sorted at every level.
 * @example canonical({ v: 1, deviceId: "dev_…", via: "kinesis", reading }) // same bytes whatever the key order
 */
export function canonical(record: Record<string, unknown>): Uint8Array {
  const { sig: _sig, ...rest } = record;
  return new TextEncoder().encode(stringify(rest));
}

function stringify(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stringify).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, item]) => item !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${stringify(item)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

/** A new device key pair: the private key stays on the gateway (PKCS#8 PEM), the public key is enrolled (SPKI DER, base64). */
export function generateDeviceKey(): { privateKeyPem: string; publicKey: string } {
  const pair = generateKeyPairSync("ed25519");
  return {
    privateKeyPem: pair.privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
    publicKey: pair.publicKey.export({ type: "spki", format: "der" }).toString("base64"),
  };
}

/** The enrolled form (SPKI DER, base64) of a private key's public half. */
export function publicKeyOf(privateKeyPem: string): string {
  return createPublicKey(createPrivateKey(privateKeyPem)).export({ type: "spki", format: "der" }).toString("base64");
}

/** Loads a private key once; pass the result to `signDevice` for each record. */
export function privateKey(privateKeyPem: string): KeyObject {
  return createPrivateKey(privateKeyPem);
}

/** The `sig` a gateway puts on a record it sends straight to Kinesis. */
export function signDevice(record: Record<string, unknown>, key: KeyObject): string {
  return devicePrefix + sign(null, canonical(record), key).toString("base64");
}

/** The `sig` the API puts on a record it puts on the stream for an authenticated device (route "http"). */
export function signServer(record: Record<string, unknown>, secret: Uint8Array): string {
  return serverPrefix + createHmac("sha256", secret).update(canonical(record)).digest("base64");
}

/** Parsed public keys by their base64 form: parsing costs far more than a verification. */
const parsedKeys = new Map<string, KeyObject>();
const maxParsedKeys = 10_000;

function publicKeyObject(base64: string): KeyObject {
  let key = parsedKeys.get(base64);
  if (!key) {
    key = createPublicKey({ key: Buffer.from(base64, "base64"), format: "der", type: "spki" });
    if (parsedKeys.size >= maxParsedKeys) parsedKeys.clear();
    parsedKeys.set(base64, key);
  }
  return key;
}

export type Keys = {
  /** The device's enrolled public key (SPKI DER, base64), or null when it never enrolled one. */
  devicePublicKey: string | null | undefined;
  serverSecret: Uint8Array;
};

/**
 * Checks a record's signature against the key its route calls for; returns why it fails, or
 * undefined when it is good. `raw` is the record's bytes as received (the signature covers every field).
 */
export function check(raw: Uint8Array, keys: Keys): string | undefined {
  let record: Record<string, unknown>;
  try {
    record = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(raw)) as Record<string, unknown>;
  } catch (error) {
    return `record is not UTF-8 JSON: ${(error as Error).message}`;
  }
  const sig = record.sig;
  if (typeof sig !== "string" || sig.length === 0) return `record via ${String(record.via)} carries no signature (sig)`;
  if (record.via === "http") {
    if (!sig.startsWith(serverPrefix)) return "record via http must be signed by the API (hmac-sha256)";
    const expected = Buffer.from(signServer(record, keys.serverSecret));
    const given = Buffer.from(sig);
    return expected.length === given.length && timingSafeEqual(expected, given) ? undefined : "the API signature does not match the record";
  }
  if (!sig.startsWith(devicePrefix)) return "record via kinesis must be signed by its device (ed25519)";
  if (!keys.devicePublicKey) return `device ${String(record.deviceId)} has no enrolled public key`;
  let publicKey: KeyObject;
  try {
    publicKey = publicKeyObject(keys.devicePublicKey);
  } catch (error) {
    return `the device's enrolled public key cannot be read: ${(error as Error).message}`;
  }
  const ok = verify(null, canonical(record), publicKey, Buffer.from(sig.slice(devicePrefix.length), "base64"));
  return ok ? undefined : "the device signature does not match the record (not written by this device, or altered)";
}
