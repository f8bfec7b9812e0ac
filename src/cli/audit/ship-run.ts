/** `audit ship`: replay the log to one destination from its cursor. */
import { existsSync, readFileSync } from "node:fs";
import { AuditError } from "../../audit/errors.js";
import { expandLogPaths } from "../../audit/segments.js";
import { FilesystemShipper } from "../../audit/shippers/filesystem.js";
import { S3Shipper } from "../../audit/shippers/s3.js";
import { shipLog } from "../../audit/shippers/ship-log.js";
import type { ShipTarget } from "../../audit/shippers/types.js";
import { WebhookShipper } from "../../audit/shippers/webhook.js";
import { EXIT, print, printErr, printJson, UsageError } from "../common.js";
import {
  type AuditFlags,
  auditProject,
  logPathOf,
  reportAuditError,
  wantsJson,
  wholeNumber,
} from "./common.js";

interface ShipFlags extends AuditFlags {
  backend?: string;
  path?: string;
  url?: string;
  header?: string[];
  hmacSecretFile?: string;
  bucket?: string;
  prefix?: string;
  region?: string;
  endpoint?: string;
  forcePathStyle?: boolean;
  objectLockMode?: "GOVERNANCE" | "COMPLIANCE";
  objectLockDays?: string;
  name?: string;
  attempts?: string;
}

export async function runAuditShip(log: string | undefined, flags: ShipFlags): Promise<void> {
  try {
    await ship(log, flags);
  } catch (err) {
    reportAuditError(err, flags);
  }
}

function need(value: string | undefined, flag: string, backend: string): string {
  if (value === undefined || value === "")
    throw new UsageError(`${flag} is required for the ${backend} backend`);
  return value;
}

function targetOf(flags: ShipFlags): ShipTarget {
  const name = flags.name;
  switch (flags.backend) {
    case "filesystem":
      return new FilesystemShipper({
        path: need(flags.path, "--path", "filesystem"),
        ...(name ? { name } : {}),
      });
    case "webhook": {
      const headers: Record<string, string> = {};
      for (const h of flags.header ?? []) {
        const eq = h.indexOf("=");
        if (eq <= 0) throw new UsageError(`--header must be NAME=VALUE, got '${h.slice(0, 40)}'`);
        headers[h.slice(0, eq).trim()] = h.slice(eq + 1);
      }
      let secret: Buffer | null = null;
      if (flags.hmacSecretFile !== undefined) {
        try {
          secret = Buffer.from(readFileSync(flags.hmacSecretFile, "utf8").trim(), "utf8");
        } catch {
          throw new UsageError(`cannot read --hmac-secret-file ${flags.hmacSecretFile}`);
        }
      }
      return new WebhookShipper({
        url: need(flags.url, "--url", "webhook"),
        headers,
        hmacSecret: secret,
        ...(name ? { name } : {}),
      });
    }
    case "s3": {
      const days = wholeNumber(flags.objectLockDays, "--object-lock-days", 1);
      if ((flags.objectLockMode === undefined) !== (days === undefined)) {
        throw new UsageError("--object-lock-mode and --object-lock-days go together");
      }
      return new S3Shipper({
        bucket: need(flags.bucket, "--bucket", "s3"),
        prefix: flags.prefix ?? "audit-logs/",
        ...(flags.region ? { region: flags.region } : {}),
        ...(flags.endpoint ? { endpoint: flags.endpoint } : {}),
        forcePathStyle: flags.forcePathStyle === true,
        objectLockMode: flags.objectLockMode ?? null,
        objectLockRetainDays: days ?? null,
        ...(name ? { name } : {}),
      });
    }
    default:
      throw new UsageError("--backend is required: filesystem, webhook or s3");
  }
}

async function ship(log: string | undefined, flags: ShipFlags): Promise<void> {
  const target = targetOf(flags);
  const attempts = wholeNumber(flags.attempts, "--attempts", 1);
  const path = logPathOf(log, flags, await auditProject(flags));
  for (const s of expandLogPaths([path]))
    if (!existsSync(s)) throw new AuditError("NOT_FOUND", `Audit log not found: ${s}`);
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  try {
    const r = await shipLog({
      path,
      target,
      signal: stop.signal,
      ...(attempts ? { attempts } : {}),
      onRetry: (item, message) => {
        if (!wantsJson(flags))
          printErr(`  retrying ${item.record.event_id} (seq ${item.record.seq}): ${message}`);
      },
    });
    if (wantsJson(flags)) {
      printJson({ ok: r.failed === null, backend: target.kind, destination: target.describe, ...r });
    } else {
      if (r.failed !== null) printErr(`  Error shipping ${r.failed.eventId}: ${r.failed.message}`);
      if (r.shipped === 0 && r.failed === null) print(`No new events to ship (cursor at seq ${r.cursor}).`);
      else {
        const range = r.firstSeq === null ? "" : ` (seq ${r.firstSeq}–${r.lastSeq})`;
        const errors = r.failed === null ? "" : ", 1 error(s)";
        print(`Shipped ${r.shipped} event(s)${errors} via ${target.kind}${range}.`);
        if (r.failed !== null || r.interrupted) print(`Re-run to resume from seq ${r.cursor + 1}.`);
      }
    }
    process.exitCode = r.failed === null && !r.interrupted ? EXIT.OK : EXIT.FAILED;
  } finally {
    process.removeListener("SIGINT", onSignal);
    process.removeListener("SIGTERM", onSignal);
  }
}
