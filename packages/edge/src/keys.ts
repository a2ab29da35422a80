/**
 * The gateway's Ed25519 key pair, made on first run and kept beside the outbox (mode 0600).
 * The private key never leaves the gateway; the public key is enrolled with PUT /v1/devices/self/key.
 */
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from "node:fs";
import { join } from "node:path";
import { Signature } from "@wattflow/core/device/signature";

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
  const temporary = `${path}.${process.pid}.tmp`;
  const fd = openSync(temporary, "w", 0o600);
  try {
    writeSync(fd, pair.privateKeyPem);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(temporary, path);
  const dir = openSync(dataDir, "r");
  try {
    fsyncSync(dir);
  } finally {
    closeSync(dir);
  }
  return pair;
}
