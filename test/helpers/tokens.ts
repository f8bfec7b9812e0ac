/** Keys, clocks, nonce stores and hand-made JWTs for the identity and ticket tests. */
import { createHmac, generateKeyPairSync, type KeyObject, sign } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ed25519TokenKeys, type TokenKeys, type TokenSettings } from "../../src/jwt/config.js";
import { KeyStore } from "../../src/keys/keystore.js";
import type { NonceStore } from "../../src/state/types.js";

export const T0 = Date.parse("2026-03-02T10:00:00.250Z");

/** A settable clock (epoch ms). */
export function testClock(start = T0): {
  now: () => number;
  set(ms: number): void;
  advance(seconds: number): void;
} {
  let t = start;
  return {
    now: () => t,
    set: (ms) => {
      t = ms;
    },
    advance: (seconds) => {
      t += seconds * 1000;
    },
  };
}

/** A fresh key store with identity and ticket keys, and rings that re-read it on every use. */
export function tempKeys(settings: Partial<TokenSettings> = {}): {
  dir: string;
  store: KeyStore;
  keys: TokenKeys;
} {
  const dir = mkdtempSync(join(tmpdir(), "agent-safe-keys-"));
  const store = new KeyStore(dir);
  store.generate("identity-issuer");
  store.generate("ticket-signing");
  return { dir, store, keys: ed25519TokenKeys(store, settings, { refreshMs: 0 }) };
}

/** A single-process NonceStore for unit tests (the shared ones are tested in replay tests). */
export function memoryNonces(): NonceStore & { size(): number } {
  const used = new Map<string, number>();
  return {
    async consume(nonce, expiresAtMs) {
      if (used.has(nonce)) return false;
      used.set(nonce, expiresAtMs);
      return true;
    },
    async isUsed(nonce) {
      return used.has(nonce);
    },
    size: () => used.size,
  };
}

export const b64 = (v: unknown): string =>
  Buffer.from(typeof v === "string" ? v : JSON.stringify(v), "utf8").toString("base64url");

/** A compact JWS with any header and payload, signed by `signer` over `header.payload`. */
export function forge(
  header: Record<string, unknown>,
  payload: Record<string, unknown>,
  signer: (input: Buffer) => Buffer = () => Buffer.alloc(0),
): string {
  const input = `${b64(header)}.${b64(payload)}`;
  return `${input}.${signer(Buffer.from(input)).toString("base64url")}`;
}

export const ed25519Signer = (key: KeyObject) => (input: Buffer) => sign(null, input, key);
export const hmacSigner = (secret: Uint8Array | string) => (input: Buffer) =>
  createHmac("sha256", secret).update(input).digest();

export function strangerKey(): { privateKey: KeyObject; publicKey: KeyObject } {
  return generateKeyPairSync("ed25519");
}

/** Replaces the payload of a token, keeping its header and signature. */
export function withPayload(token: string, edit: (p: Record<string, unknown>) => void): string {
  const [h, p, s] = token.split(".") as [string, string, string];
  const payload = JSON.parse(Buffer.from(p, "base64url").toString("utf8")) as Record<string, unknown>;
  edit(payload);
  return `${h}.${b64(payload)}.${s}`;
}

export function decodePart(token: string, index: 0 | 1): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split(".")[index]!, "base64url").toString("utf8")) as Record<
    string,
    unknown
  >;
}
