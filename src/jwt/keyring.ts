/**
 * The keys one kind of token is signed and verified with. A deployment uses exactly one
 * algorithm (DESIGN.md §4 item 6):
 *
 * - `EdDSA` (default): the purpose's Ed25519 key from the key store signs, with its `kid` in the
 *   header; verification looks the `kid` up among the current and retired public keys, and a
 *   retired key verifies only until its `keep_until`. The ring re-reads the key store every
 *   `refreshMs` and, at most once a second, when a token names a `kid` it does not know (a
 *   rotation by another process), so a flood of made-up `kid`s cannot hammer the disk.
 * - `HS256` (0.9.0 compatibility, only when configured): one shared secret, no `kid`.
 */
import { createHmac, sign as edSign, type KeyObject, webcrypto } from "node:crypto";
import { KeyError, type KeyPurpose, type KeyStore } from "../keys/keystore.js";
import { JwtError } from "./errors.js";

export type JwtAlgorithm = "EdDSA" | "HS256";

export interface Signer {
  alg: JwtAlgorithm;
  /** Put in the header; `null` for HS256. */
  kid: string | null;
  sign(data: Buffer): Buffer;
}

/** A verification key as jose takes it. */
export type VerifyKey = KeyObject | webcrypto.CryptoKey;

export interface KeyRing {
  readonly algorithm: JwtAlgorithm;
  readonly purpose: KeyPurpose;
  /** The key to sign with now. Throws `KeyError` when there is no private key. */
  signer(): Signer;
  /** The key a token with this header `kid` must verify with at `nowMs`; `JwtError` otherwise. */
  verificationKey(kid: unknown, nowMs: number): Promise<VerifyKey>;
  /**
   * Until when (epoch ms) something verified with `kid` may be trusted without verifying again:
   * `Infinity` for a current key, `keep_until` for a retired one, `0` when the key is gone.
   */
  keyValidUntil(kid: string | null, nowMs: number): number;
}

interface RingEntry {
  publicKey: KeyObject;
  /** `null` for the current key. */
  keepUntilMs: number | null;
}

export interface Ed25519KeyRingOptions {
  /** How often to re-read the key store (default 5000 ms). 0 re-reads on every use (tests). */
  refreshMs?: number;
}

const MISS_RELOAD_INTERVAL_MS = 1000;

export class Ed25519KeyRing implements KeyRing {
  readonly algorithm = "EdDSA" as const;
  private entries = new Map<string, RingEntry>();
  private loadedAt = Number.NEGATIVE_INFINITY;
  private missReloadAt = Number.NEGATIVE_INFINITY;
  private signing: Signer | null = null;
  private signingLoadedAt = Number.NEGATIVE_INFINITY;
  private readonly refreshMs: number;

  constructor(
    private readonly store: KeyStore,
    readonly purpose: KeyPurpose,
    options: Ed25519KeyRingOptions = {},
  ) {
    this.refreshMs = options.refreshMs ?? 5000;
  }

  signer(): Signer {
    const t = performance.now();
    if (this.signing === null || t - this.signingLoadedAt >= this.refreshMs) {
      const { kid, privateKey } = this.store.signingKey(this.purpose);
      this.signing = { alg: "EdDSA", kid, sign: (data) => edSign(null, data, privateKey) };
      this.signingLoadedAt = t;
    }
    return this.signing;
  }

  async verificationKey(kid: unknown, nowMs: number): Promise<VerifyKey> {
    if (typeof kid !== "string" || kid === "") throw new JwtError("Token has no key id (kid)", "unknown_key");
    let entry = this.lookup(kid);
    if (entry === undefined) throw new JwtError("Unknown key id (kid)", "unknown_key");
    if (entry.keepUntilMs !== null && entry.keepUntilMs <= nowMs) {
      // Maybe re-read: the key may have been reinstated; otherwise it is retired for good.
      entry = this.lookup(kid, true);
      if (entry === undefined || (entry.keepUntilMs !== null && entry.keepUntilMs <= nowMs)) {
        throw new JwtError(`Key ${kid} was retired and no longer verifies`, "unknown_key");
      }
    }
    return entry.publicKey;
  }

  keyValidUntil(kid: string | null, nowMs: number): number {
    if (kid === null) return 0;
    const entry = this.lookup(kid, false, false);
    if (entry === undefined) return 0;
    const until = entry.keepUntilMs ?? Number.POSITIVE_INFINITY;
    return until > nowMs ? until : 0;
  }

  private lookup(kid: string, forceMiss = false, reloadOnMiss = true): RingEntry | undefined {
    const t = performance.now();
    if (t - this.loadedAt >= this.refreshMs) this.reload(t);
    let entry = this.entries.get(kid);
    if (
      (entry === undefined || forceMiss) &&
      reloadOnMiss &&
      t - this.missReloadAt >= MISS_RELOAD_INTERVAL_MS
    ) {
      this.missReloadAt = t;
      this.reload(t);
      entry = this.entries.get(kid);
    }
    return entry;
  }

  private reload(t: number): void {
    // `now = 0` lists every retired key; keep periods are checked per token, at its own time.
    const keys = this.store.verificationKeys(this.purpose, 0);
    const next = new Map<string, RingEntry>();
    for (const k of keys) {
      const keepUntilMs = k.keepUntil === null ? null : Date.parse(k.keepUntil);
      // Keep the same KeyObject for a known kid: jose caches its converted key per object.
      const publicKey = this.entries.get(k.kid)?.publicKey ?? k.publicKey;
      next.set(k.kid, { publicKey, keepUntilMs: Number.isNaN(keepUntilMs) ? 0 : keepUntilMs });
    }
    this.entries = next;
    this.loadedAt = t;
  }
}

/** HS256 with one shared secret (0.9.0): the same secret signs identities and tickets. */
export class HmacKeyRing implements KeyRing {
  readonly algorithm = "HS256" as const;
  private cryptoKey: Promise<webcrypto.CryptoKey> | null = null;

  constructor(
    private readonly secret: Uint8Array,
    readonly purpose: KeyPurpose,
  ) {
    if (secret.length === 0) throw new KeyError("Signing key must not be empty");
  }

  signer(): Signer {
    return {
      alg: "HS256",
      kid: null,
      sign: (data) => createHmac("sha256", this.secret).update(data).digest(),
    };
  }

  verificationKey(): Promise<VerifyKey> {
    // Imported once; WebCrypto's HMAC verify compares in constant time.
    this.cryptoKey ??= webcrypto.subtle.importKey(
      "raw",
      this.secret,
      { name: "HMAC", hash: "SHA-256" },
      false,
      ["verify"],
    );
    return this.cryptoKey;
  }

  keyValidUntil(): number {
    return Number.POSITIVE_INFINITY;
  }
}
