/**
 * The gateway's Ed25519 key pair, made on first run and kept beside the outbox (mode 0600).
 * The private key never leaves the gateway; the public key is enrolled with PUT /v1/devices/self/key.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { Signature } from "@wattflow/core/device/signature";
import { writeFileAtomicSync } from "@wattflow/core/util/files";

export function keyPath(dataDir: string): string {
  return join(dataDir, "device-key.pem");
}

export function loadOrCreate(dataDir: string): { privateKeyPem: string; publicKey: string } {
  const path = keyPath(dataDir);
  if (existsSync(path)) {
    const privateKeyPem = readFileSync(path, "utf8");
    return { privateKeyPem, publicKey: Signature.publicKeyOf(privateKeyPem) };
  }
  const pair = Signature.generateDeviceKey();
  // Written whole and renamed, so a power cut leaves either no key or a complete one.
  writeFileAtomicSync(path, pair.privateKeyPem, { mode: 0o600 });
  return pair;
}
