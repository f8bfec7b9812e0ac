/**
 * The minted ticket's token waits in the store, sealed, until the requester collects it: a copy of
 * the database (a PostgreSQL replica, a backup) holds nothing anyone can execute with.
 *
 * Sealing is AES-256-GCM with a random IV, the request id as additional data (a sealed token moved
 * to another request does not open). The key is derived with HKDF-SHA256 from the deployment's
 * ticket-signing key: from the signature of a fixed label that no JWT signing input can equal
 * (Ed25519 and HMAC are deterministic, so every replica holding the key derives the same key, and
 * nobody without it can). A key tag in the sealed text tells "the ticket key was rotated since"
 * from tampering.
 */
import { createCipheriv, createDecipheriv, createHash, hkdfSync, randomBytes } from "node:crypto";
import type { KeyRing } from "../jwt/keyring.js";
import { ApprovalError } from "./errors.js";

export interface TicketSealer {
  seal(token: string, requestId: string): string;
  /** Throws `ApprovalError("ticket_unavailable")` when it cannot be opened. */
  open(sealed: string, requestId: string): string;
}

const LABEL = Buffer.from("agent-safe approvals: ticket seal key v1 (not a JWT)", "utf8");
const VERSION = "s1";

/** A sealer with a fixed 32-byte key (tests, and keys derived elsewhere). */
export function sealerWithKey(key: Buffer): TicketSealer {
  if (key.length !== 32) throw new ApprovalError("The ticket seal key must be 32 bytes", "config");
  const tag = createHash("sha256").update(key).digest("hex").slice(0, 8);
  return {
    seal(token, requestId) {
      const iv = randomBytes(12);
      const cipher = createCipheriv("aes-256-gcm", key, iv);
      cipher.setAAD(Buffer.from(requestId, "utf8"));
      const body = Buffer.concat([cipher.update(token, "utf8"), cipher.final()]);
      return `${VERSION}.${tag}.${Buffer.concat([iv, body, cipher.getAuthTag()]).toString("base64url")}`;
    },
    open(sealed, requestId) {
      const [version, keyTag, data] = sealed.split(".");
      if (version !== VERSION || data === undefined)
        throw new ApprovalError(
          `The stored ticket of ${requestId} is not in a known format`,
          "ticket_unavailable",
        );
      if (keyTag !== tag)
        throw new ApprovalError(
          `The ticket of ${requestId} was sealed with a ticket-signing key that has since been rotated; ` +
            "it cannot be delivered: make the request again",
          "ticket_unavailable",
        );
      const raw = Buffer.from(data, "base64url");
      try {
        const decipher = createDecipheriv("aes-256-gcm", key, raw.subarray(0, 12));
        decipher.setAAD(Buffer.from(requestId, "utf8"));
        decipher.setAuthTag(raw.subarray(raw.length - 16));
        return Buffer.concat([decipher.update(raw.subarray(12, raw.length - 16)), decipher.final()]).toString(
          "utf8",
        );
      } catch (err) {
        throw new ApprovalError(
          `The stored ticket of ${requestId} does not open (tampered?)`,
          "ticket_unavailable",
          {
            cause: err,
          },
        );
      }
    },
  };
}

/** The sealer of a deployment, keyed from its ticket-signing key ring (re-derived on each use: rotation-aware). */
export function sealerFromRing(ring: KeyRing): TicketSealer {
  const current = (): TicketSealer => {
    const ikm = ring.signer().sign(LABEL);
    const key = Buffer.from(hkdfSync("sha256", ikm, Buffer.alloc(0), "agent-safe approvals ticket seal", 32));
    return sealerWithKey(key);
  };
  return {
    seal: (token, requestId) => current().seal(token, requestId),
    open: (sealed, requestId) => current().open(sealed, requestId),
  };
}
