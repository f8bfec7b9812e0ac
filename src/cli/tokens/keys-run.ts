/** `keys show|generate|rotate|export`, on the project's key store (`keys.dir`). */
import { renameSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";
import type { ProjectConfig } from "../../config/project.js";
import { MAX_IDENTITY_TTL_SECONDS } from "../../identity/issuer.js";
import { DEFAULT_IDENTITY_TTL_SECONDS, DEFAULT_TICKET_TTL_SECONDS } from "../../jwt/config.js";
import { projectKeyStore } from "../../keys/index.js";
import { KEY_PURPOSES, type KeyPurpose, type KeyStore } from "../../keys/keystore.js";
import { EXIT, print, printJson, UsageError, wantsJson } from "../common.js";
import { openProjectConfig, positiveInt, type TokenFlags } from "./project.js";

const AUDIT_KEEP_SECONDS = 100 * 365 * 24 * 3600;

function purposeOf(text: string): KeyPurpose {
  if (!(KEY_PURPOSES as readonly string[]).includes(text)) {
    throw new UsageError(`unknown key purpose '${text}'; use one of: ${KEY_PURPOSES.join(", ")}`);
  }
  return text as KeyPurpose;
}

function open(flags: TokenFlags) {
  const project = openProjectConfig(flags);
  return { project, store: projectKeyStore(project) };
}

interface KeyRow {
  purpose: KeyPurpose;
  kid: string | null;
  status: "current" | "retired" | "expired" | "missing";
  private_key: boolean;
  retired_at: string | null;
  keep_until: string | null;
}

function rows(store: KeyStore, now: number): KeyRow[] {
  const out: KeyRow[] = [];
  for (const purpose of KEY_PURPOSES) {
    const keys = store.has(purpose) ? store.verificationKeys(purpose, 0) : [];
    if (keys.length === 0) {
      out.push({
        purpose,
        kid: null,
        status: "missing",
        private_key: false,
        retired_at: null,
        keep_until: null,
      });
    }
    for (const k of keys) {
      const current = k.keepUntil === null;
      let hasPrivate = false;
      if (current) {
        try {
          hasPrivate = store.signingKey(purpose).kid === k.kid;
        } catch {
          hasPrivate = false;
        }
      }
      const expired = !current && Date.parse(k.keepUntil ?? "") <= now;
      out.push({
        purpose,
        kid: k.kid,
        status: current ? "current" : expired ? "expired" : "retired",
        private_key: hasPrivate,
        retired_at: k.retiredAt,
        keep_until: k.keepUntil,
      });
    }
  }
  return out;
}

export function runKeysShow(options: Record<string, unknown>): void {
  const flags = options as TokenFlags;
  const { project, store } = open(flags);
  const keys = project.settings.keys;
  const algorithm = keys?.algorithm ?? "EdDSA";
  const list = rows(store, Date.now());
  if (wantsJson(flags)) {
    printJson({
      dir: store.dir,
      configured: keys !== null,
      algorithm,
      issuer: keys?.issuer ?? "agent-safe",
      keys: list,
    });
  } else {
    print(
      `Keys in ${store.dir} (tokens: ${keys === null ? "not configured" : `${algorithm}, issuer ${keys.issuer}`})`,
    );
    if (algorithm === "HS256")
      print(
        "  identities and tickets are signed with keys.hmac_secret (HS256); the keys below are not used for them",
      );
    for (const r of list) {
      const what =
        r.status === "missing"
          ? `(none) — create with: agent-safe keys generate ${r.purpose}`
          : r.status === "current"
            ? `${r.kid}  current${r.private_key ? "" : " (public key only)"}`
            : `${r.kid}  ${r.status === "expired" ? "expired" : "retired"} ${r.retired_at}, verifies until ${r.keep_until}`;
      print(`  ${r.purpose.padEnd(17)} ${what}`);
    }
  }
  process.exitCode = EXIT.OK;
}

export function runKeysGenerate(purposeText: string, options: Record<string, unknown>): void {
  const flags = options as TokenFlags;
  const purpose = purposeOf(purposeText);
  const { store } = open(flags);
  const created = store.generate(purpose);
  const kid = store.verificationKeys(purpose)[0]?.kid ?? null;
  if (wantsJson(flags)) printJson({ purpose, created, kid, dir: store.dir });
  else if (created) print(`Created ${purpose} key ${kid} in ${store.dir}`);
  else
    print(`${purpose} key already exists (${kid}); use \`agent-safe keys rotate ${purpose}\` to replace it`);
  process.exitCode = EXIT.OK;
}

/** The default keep period: as long as anything signed by the old key may still be in use. */
function defaultKeep(purpose: KeyPurpose, project: ProjectConfig): number {
  const keys = project.settings.keys;
  const leeway = keys?.leeway_seconds ?? 0;
  if (purpose === "ticket-signing") return (keys?.ticket_ttl_seconds ?? DEFAULT_TICKET_TTL_SECONDS) + leeway;
  if (purpose === "identity-issuer") {
    return (
      Math.min(keys?.identity_ttl_seconds ?? DEFAULT_IDENTITY_TTL_SECONDS, MAX_IDENTITY_TTL_SECONDS) + leeway
    );
  }
  return AUDIT_KEEP_SECONDS;
}

export function runKeysRotate(purposeText: string, options: Record<string, unknown>): void {
  const flags = options as TokenFlags & { keep?: string };
  const purpose = purposeOf(purposeText);
  const { project, store } = open(flags);
  const keep = flags.keep === "0" ? 0 : (positiveInt(flags.keep, "--keep") ?? defaultKeep(purpose, project));
  const now = Date.now();
  const r = store.rotate(purpose, keep, now);
  const keepUntil = new Date(now + keep * 1000).toISOString();
  if (wantsJson(flags)) printJson({ purpose, retired: r.retired, current: r.current, keep_until: keepUntil });
  else print(`Rotated ${purpose}: ${r.retired} → ${r.current}; the old key verifies until ${keepUntil}`);
  process.exitCode = EXIT.OK;
}

export function runKeysExport(options: Record<string, unknown>): void {
  const flags = options as TokenFlags & { jwks?: string };
  const { store } = open(flags);
  const jwks = store.jwks();
  const text = `${JSON.stringify(jwks, null, 2)}\n`;
  if (flags.jwks === undefined) {
    process.stdout.write(text);
  } else {
    const path = resolve(flags.jwks);
    writeFileSync(`${path}.tmp`, text, { mode: 0o644 });
    renameSync(`${path}.tmp`, path);
    if (wantsJson(flags)) printJson({ file: path, keys: jwks.keys.length });
    else print(`Wrote ${jwks.keys.length} public key(s) to ${path}`);
  }
  process.exitCode = EXIT.OK;
}
