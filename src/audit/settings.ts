/**
 * From `agent-safe.yaml` (`audit:` section) to writer options: the log path (default
 * `./audit.jsonl` beside the config), durability, chain id, the checkpoint key (`audit-checkpoint`
 * in the key store, when present), the redaction key, rotation and shippers.
 */
import type { KeyObject } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { expandEnv } from "../config/env.js";
import type { ProjectConfig } from "../config/project.js";
import type { ProjectFile } from "../config/project-schema.js";
import { projectKeyStore } from "../keys/index.js";
import { AuditError } from "./errors.js";
import { Redactor } from "./redact.js";
import { checkpointsPath } from "./segments.js";
import { FilesystemShipper } from "./shippers/filesystem.js";
import { S3Shipper } from "./shippers/s3.js";
import type { ShipTarget } from "./shippers/types.js";
import { WebhookShipper } from "./shippers/webhook.js";
import type { AuditWriterOptions } from "./writer.js";

type AuditSection = NonNullable<ProjectFile["audit"]>;
type ShipperSection = AuditSection["shippers"][number];

/** The audit log path of a project (`audit.path`, default `./audit.jsonl` beside the config). */
export function auditLogPath(project: ProjectConfig): string {
  return resolve(project.root, project.settings.audit?.path ?? "./audit.jsonl");
}

export interface AuditSettingsOptions {
  env?: NodeJS.ProcessEnv;
  /** Leave shippers out (e.g. a short-lived CLI writer that should not ship). */
  withoutShippers?: boolean;
}

/** Writer options for the project: pass them to `AuditWriter.open()`. */
export function auditSettingsFromProject(
  project: ProjectConfig,
  options: AuditSettingsOptions = {},
): AuditWriterOptions {
  const env = options.env ?? process.env;
  const a = project.settings.audit;
  const path = auditLogPath(project);
  const keys = projectKeyStore(project);
  const signingKey = keys.has("audit-checkpoint") ? keys.signingKey("audit-checkpoint") : null;
  return {
    path,
    fsync: a?.fsync ?? "batch",
    chainId: a?.chain_id ?? "main",
    signingKey,
    checkpointEveryEvents: a?.checkpoint_every_events ?? 1000,
    checkpointEverySeconds: a?.checkpoint_every_seconds ?? 60,
    checkpointsFile: a?.checkpoints_path ? resolve(project.root, a.checkpoints_path) : checkpointsPath(path),
    rotateMaxBytes: a?.rotate_max_bytes ?? null,
    rotateMaxAgeSeconds: a?.rotate_max_age_seconds ?? null,
    redactor: projectRedactor(project, env),
    shippers: options.withoutShippers ? [] : (a?.shippers ?? []).map((s) => shipTarget(s, project.root, env)),
  };
}

/**
 * The project's redactor: `audit.redaction_key` (a file, or `${ENV}` holding the key itself),
 * else `<keys.dir>/redaction.key` if it exists, else unkeyed (`[REDACTED]`).
 */
export function projectRedactor(project: ProjectConfig, env: NodeJS.ProcessEnv = process.env): Redactor {
  const setting = project.settings.audit?.redaction_key ?? null;
  if (setting !== null) {
    if (setting.includes("${")) {
      const key = expandEnv(setting, "audit.redaction_key", env);
      return Redactor.withKey(
        /^[0-9a-fA-F]{32,}$/.test(key) && key.length % 2 === 0 ? Buffer.from(key, "hex") : Buffer.from(key),
      );
    }
    return Redactor.fromFile(resolve(project.root, setting));
  }
  const fallback = resolve(projectKeyStore(project).dir, "redaction.key");
  return existsSync(fallback) ? Redactor.fromFile(fallback) : Redactor.unkeyed();
}

/** Every audit public key of the project (current and retired: old checkpoints stay verifiable). */
export function projectAuditPublicKeys(project: ProjectConfig): Map<string, KeyObject> | null {
  const keys = projectKeyStore(project);
  if (!keys.has("audit-checkpoint")) return null;
  // `now = 0`: a retired audit key keeps verifying the checkpoints it signed, whatever its keep period.
  const found = keys.verificationKeys("audit-checkpoint", 0);
  return found.length === 0 ? null : new Map(found.map((k) => [k.kid, k.publicKey]));
}

/** A secret setting: `${ENV}` (the value itself) or a file path relative to `root`. */
export function readSecretSetting(
  value: string,
  where: string,
  root: string,
  env: NodeJS.ProcessEnv,
): Buffer {
  if (value.includes("${")) return Buffer.from(expandEnv(value, where, env), "utf8");
  const path = resolve(root, value);
  try {
    return Buffer.from(readFileSync(path, "utf8").trim(), "utf8");
  } catch (err) {
    throw new AuditError("CONFIG", `${where}: cannot read ${path}`, { cause: err });
  }
}

/** One configured shipper as a destination. */
export function shipTarget(
  s: ShipperSection,
  root: string,
  env: NodeJS.ProcessEnv = process.env,
): ShipTarget {
  const runOptions = { queueSize: s.queue_size, retryMaxMs: s.retry_max_seconds * 1000 };
  const name = s.name ?? undefined;
  switch (s.type) {
    case "filesystem":
      return new FilesystemShipper({ path: resolve(root, s.path), name, runOptions });
    case "webhook": {
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(s.headers))
        headers[k] = expandEnv(v, `audit.shippers webhook header ${k}`, env);
      return new WebhookShipper({
        url: expandEnv(s.url, "audit.shippers webhook url", env),
        headers,
        hmacSecret:
          s.hmac_secret === null
            ? null
            : readSecretSetting(s.hmac_secret, "audit.shippers hmac_secret", root, env),
        timeoutMs: s.timeout_seconds * 1000,
        name,
        runOptions,
      });
    }
    case "s3":
      return new S3Shipper({
        bucket: s.bucket,
        prefix: s.prefix,
        ...(s.region !== null ? { region: s.region } : {}),
        ...(s.endpoint !== null
          ? { endpoint: expandEnv(s.endpoint, "audit.shippers s3 endpoint", env) }
          : {}),
        forcePathStyle: s.force_path_style,
        objectLockMode: s.object_lock_mode,
        objectLockRetainDays: s.object_lock_retain_days,
        name,
        runOptions,
      });
  }
}
