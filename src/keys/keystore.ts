/**
 * The project's Ed25519 keys, one per purpose, in `.agent-safe/keys/` (mode 0600). Rotation
 * retires the old public key, which stays available for verification until tokens it signed
 * have expired (`keep_until`). Key ids are RFC 7638 JWK thumbprints.
 */
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
} from "node:crypto";
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";

export const KEY_PURPOSES = ["ticket-signing", "audit-checkpoint", "identity-issuer"] as const;
export type KeyPurpose = (typeof KEY_PURPOSES)[number];

export class KeyError extends Error {
  override name = "KeyError";
}

export interface SigningKey {
  purpose: KeyPurpose;
  kid: string;
  privateKey: KeyObject;
  publicKey: KeyObject;
}

export interface VerificationKey {
  purpose: KeyPurpose;
  kid: string;
  publicKey: KeyObject;
  /** `null` for the current key. */
  retiredAt: string | null;
  /** After this instant the retired key no longer verifies anything. */
  keepUntil: string | null;
}

export interface PublicJwk {
  kty: "OKP";
  crv: "Ed25519";
  x: string;
  kid: string;
  alg: "EdDSA";
  use: "sig";
}

interface RetiredMeta {
  kid: string;
  retired_at: string;
  keep_until: string;
}

/** RFC 7638 thumbprint of an Ed25519 public key. */
export function keyId(publicKey: KeyObject): string {
  const jwk = publicKey.export({ format: "jwk" }) as { crv: string; kty: string; x: string };
  const canonical = `{"crv":"${jwk.crv}","kty":"${jwk.kty}","x":"${jwk.x}"}`;
  return createHash("sha256").update(canonical).digest("base64url");
}

export function publicJwk(publicKey: KeyObject): PublicJwk {
  const jwk = publicKey.export({ format: "jwk" }) as { x: string };
  return { kty: "OKP", crv: "Ed25519", x: jwk.x, kid: keyId(publicKey), alg: "EdDSA", use: "sig" };
}

export class KeyStore {
  constructor(readonly dir: string) {}

  private privatePath(purpose: KeyPurpose): string {
    return join(this.dir, `${purpose}.pem`);
  }

  private publicPath(purpose: KeyPurpose): string {
    return join(this.dir, `${purpose}.pub.pem`);
  }

  has(purpose: KeyPurpose): boolean {
    return existsSync(this.privatePath(purpose)) || existsSync(this.publicPath(purpose));
  }

  /** The current private key. Refuses a key file that others can read. */
  signingKey(purpose: KeyPurpose): SigningKey {
    const path = this.privatePath(purpose);
    let pem: string;
    try {
      const mode = statSync(path).mode & 0o777;
      if ((mode & 0o077) !== 0) {
        throw new KeyError(
          `Key file ${path} is accessible by others (mode ${mode.toString(8)}); run: chmod 600 ${path}`,
        );
      }
      pem = readFileSync(path, "utf8");
    } catch (err) {
      if (err instanceof KeyError) throw err;
      throw new KeyError(
        `No ${purpose} key: cannot read ${path} (create one with: agent-safe keys generate ${purpose})`,
      );
    }
    const privateKey = createPrivateKey(pem);
    if (privateKey.asymmetricKeyType !== "ed25519")
      throw new KeyError(`${path} is not an Ed25519 private key`);
    const publicKey = createPublicKey(privateKey);
    return { purpose, kid: keyId(publicKey), privateKey, publicKey };
  }

  /** The current public key, plus retired ones still within their keep period at `now`. */
  verificationKeys(purpose: KeyPurpose, now: number = Date.now()): VerificationKey[] {
    const keys: VerificationKey[] = [];
    const current = this.currentPublicKey(purpose);
    if (current !== null)
      keys.push({ purpose, kid: keyId(current), publicKey: current, retiredAt: null, keepUntil: null });
    for (const meta of this.retired(purpose)) {
      if (Date.parse(meta.keep_until) <= now) continue;
      const pem = readFileSync(join(this.dir, "retired", `${purpose}.${meta.kid}.pub.pem`), "utf8");
      keys.push({
        purpose,
        kid: meta.kid,
        publicKey: createPublicKey(pem),
        retiredAt: meta.retired_at,
        keepUntil: meta.keep_until,
      });
    }
    return keys;
  }

  private currentPublicKey(purpose: KeyPurpose): KeyObject | null {
    if (existsSync(this.publicPath(purpose)))
      return createPublicKey(readFileSync(this.publicPath(purpose), "utf8"));
    if (existsSync(this.privatePath(purpose))) return this.signingKey(purpose).publicKey;
    return null;
  }

  private retired(purpose: KeyPurpose): RetiredMeta[] {
    const dir = join(this.dir, "retired");
    if (!existsSync(dir)) return [];
    return readdirSync(dir)
      .filter((n) => n.startsWith(`${purpose}.`) && n.endsWith(".json"))
      .map((n) => JSON.parse(readFileSync(join(dir, n), "utf8")) as RetiredMeta);
  }

  /** Creates the key if there is none; never overwrites. Returns whether it created one. */
  generate(purpose: KeyPurpose): boolean {
    if (this.has(purpose)) return false;
    this.writePair(purpose);
    return true;
  }

  /**
   * Replaces the current key with a new one. The old public key keeps verifying for
   * `keepSeconds` (the longest lifetime of anything it signed), then is ignored.
   */
  rotate(
    purpose: KeyPurpose,
    keepSeconds: number,
    now: number = Date.now(),
  ): { retired: string; current: string } {
    const old = this.signingKey(purpose);
    const retiredDir = join(this.dir, "retired");
    mkdirSync(retiredDir, { recursive: true, mode: 0o700 });
    writeFileSync(
      join(retiredDir, `${purpose}.${old.kid}.pub.pem`),
      old.publicKey.export({ type: "spki", format: "pem" }),
    );
    const meta: RetiredMeta = {
      kid: old.kid,
      retired_at: new Date(now).toISOString(),
      keep_until: new Date(now + keepSeconds * 1000).toISOString(),
    };
    writeFileSync(join(retiredDir, `${purpose}.${old.kid}.json`), `${JSON.stringify(meta, null, 2)}\n`);
    const current = this.writePair(purpose, true);
    return { retired: old.kid, current };
  }

  private writePair(purpose: KeyPurpose, replace = false): string {
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    const { privateKey, publicKey } = generateKeyPairSync("ed25519");
    const pem = privateKey.export({ type: "pkcs8", format: "pem" }) as string;
    const pub = publicKey.export({ type: "spki", format: "pem" }) as string;
    // Written aside and renamed, so a reader never sees half a key.
    const tmp = `${this.privatePath(purpose)}.tmp`;
    writeFileSync(tmp, pem, { mode: 0o600, flag: replace ? "w" : "wx" });
    writeFileSync(`${this.publicPath(purpose)}.tmp`, pub, { mode: 0o644 });
    renameSync(tmp, this.privatePath(purpose));
    renameSync(`${this.publicPath(purpose)}.tmp`, this.publicPath(purpose));
    return keyId(publicKey);
  }

  /** A JWKS of every verification key of the given purposes. */
  jwks(
    purposes: readonly KeyPurpose[] = KEY_PURPOSES,
    now: number = Date.now(),
  ): { keys: (PublicJwk & { purpose: KeyPurpose })[] } {
    return {
      keys: purposes.flatMap((purpose) =>
        this.verificationKeys(purpose, now).map((k) => ({ ...publicJwk(k.publicKey), purpose })),
      ),
    };
  }
}
