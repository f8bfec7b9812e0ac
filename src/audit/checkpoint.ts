/**
 * Signed checkpoints. A checkpoint says "event `seq` of chain `chain_id` has entry_hash
 * `last_hash`", signed with the audit Ed25519 key (`kid` = its RFC 7638 thumbprint). The signature
 * is base64url over the RFC 8785 canonical JSON of `{chain_id, kid, last_hash, seq}`.
 *
 * The writer appends each checkpoint to the log (a `checkpoint` event at `seq + 1`), to the side
 * file `<log>.checkpoints.jsonl` and to every shipper. A copy kept off the host lets `audit verify
 * --checkpoints` prove that the log still reaches the newest checkpoint: cutting the tail or
 * rewriting the chain (possible for anyone who can write the file, since the hash is unkeyed) is
 * detected, because nobody without the key can sign a checkpoint for the forged chain.
 */
import { createPublicKey, type KeyObject, sign, verify } from "node:crypto";
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, writeSync } from "node:fs";
import { canonicalize } from "../codec/jcs.js";
import { keyId, type SigningKey } from "../keys/keystore.js";
import { AuditError } from "./errors.js";
import type { AuditInput, Checkpoint, CheckpointPayload } from "./types.js";

export function checkpointPayload(cp: CheckpointPayload): CheckpointPayload {
  return { chain_id: cp.chain_id, kid: cp.kid, last_hash: cp.last_hash, seq: cp.seq };
}

export function signCheckpoint(key: SigningKey, payload: CheckpointPayload): string {
  return sign(null, Buffer.from(canonicalize(checkpointPayload(payload)), "utf8"), key.privateKey).toString(
    "base64url",
  );
}

export function verifyCheckpointSignature(
  publicKey: KeyObject,
  cp: CheckpointPayload,
  signature: string,
): boolean {
  if (typeof signature !== "string" || !/^[A-Za-z0-9_-]+$/.test(signature)) return false;
  try {
    return verify(
      null,
      Buffer.from(canonicalize(checkpointPayload(cp)), "utf8"),
      publicKey,
      Buffer.from(signature, "base64url"),
    );
  } catch {
    return false;
  }
}

/** The log event that carries a checkpoint. */
export function checkpointEvent(cp: Checkpoint): AuditInput {
  return {
    event_type: "checkpoint",
    timestamp: cp.timestamp,
    action: "audit-checkpoint",
    target: cp.chain_id,
    caller: "agent-safe",
    reason: `Checkpoint at seq ${cp.seq}`,
    context: {
      type: "checkpoint",
      seq: cp.seq,
      last_hash: cp.last_hash,
      chain_id: cp.chain_id,
      kid: cp.kid,
      signature: cp.signature,
    },
  };
}

/** Reads a checkpoint back from an event's context (null when it is not one). */
export function checkpointFromContext(context: unknown, timestamp: string): Checkpoint | null {
  if (context === null || typeof context !== "object") return null;
  const c = context as Record<string, unknown>;
  if (
    typeof c.seq !== "number" ||
    typeof c.last_hash !== "string" ||
    typeof c.chain_id !== "string" ||
    typeof c.kid !== "string" ||
    typeof c.signature !== "string"
  ) {
    return null;
  }
  return {
    seq: c.seq,
    last_hash: c.last_hash,
    chain_id: c.chain_id,
    kid: c.kid,
    signature: c.signature,
    timestamp,
  };
}

/** Appends one checkpoint to the side file and fsyncs it. */
export function appendCheckpointFile(path: string, cp: Checkpoint): void {
  const fd = openSync(path, "a", 0o644);
  try {
    const line = Buffer.from(`${canonicalize(cp)}\n`, "utf8");
    let done = 0;
    while (done < line.length) done += writeSync(fd, line, done, line.length - done);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Parses a checkpoints file (the side file or a shipped copy). Bad lines are reported, not fatal. */
export function readCheckpointFile(path: string): { checkpoints: Checkpoint[]; problems: string[] } {
  if (!existsSync(path)) throw new AuditError("NOT_FOUND", `Checkpoints file not found: ${path}`);
  const checkpoints: Checkpoint[] = [];
  const problems: string[] = [];
  const lines = readFileSync(path, "utf8").split("\n");
  lines.forEach((text, i) => {
    if (text.trim() === "") return;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      problems.push(`${path} line ${i + 1}: not JSON`);
      return;
    }
    // A shipped event line carries the checkpoint in its context.
    const v = value as Record<string, unknown>;
    const cp =
      v.event_type === "checkpoint"
        ? checkpointFromContext(v.context, String(v.timestamp ?? ""))
        : checkpointFromContext(v, String(v.timestamp ?? ""));
    if (cp === null) problems.push(`${path} line ${i + 1}: not a checkpoint`);
    else checkpoints.push(cp);
  });
  return { checkpoints, problems };
}

/**
 * Public keys for checkpoint signatures, by kid, from a file: one or more PEM public keys, a JWK,
 * or a JWKS (`{"keys": [...]}`, e.g. `agent-safe keys export`).
 */
export function readPublicKeys(path: string): Map<string, KeyObject> {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    throw new AuditError("NOT_FOUND", `Public key file not found: ${path}`, { cause: err });
  }
  const keys = new Map<string, KeyObject>();
  const add = (k: KeyObject) => {
    if (k.asymmetricKeyType !== "ed25519") throw new AuditError("CONFIG", `${path}: not an Ed25519 key`);
    keys.set(keyId(k), k);
  };
  try {
    if (text.trimStart().startsWith("{")) {
      const json = JSON.parse(text) as { keys?: unknown[] };
      const jwks = Array.isArray(json.keys) ? json.keys : [json];
      for (const jwk of jwks) {
        const j = jwk as { kty?: string; crv?: string; x?: string };
        if (j.kty !== "OKP" || j.crv !== "Ed25519" || typeof j.x !== "string") continue;
        add(createPublicKey({ key: { kty: "OKP", crv: "Ed25519", x: j.x }, format: "jwk" }));
      }
    } else {
      const pems = text.match(/-----BEGIN [A-Z ]+-----[\s\S]+?-----END [A-Z ]+-----/g) ?? [];
      for (const pem of pems) add(createPublicKey(pem));
    }
  } catch (err) {
    if (err instanceof AuditError) throw err;
    throw new AuditError("CONFIG", `${path}: cannot read a public key (${(err as Error).message})`, {
      cause: err,
    });
  }
  if (keys.size === 0) throw new AuditError("CONFIG", `${path}: no Ed25519 public key found`);
  return keys;
}
