/**
 * What the approval commands open: the project, its approval store and, for commands that change
 * requests, the world (for the policy revision), the token keys (approvers' identities, the
 * ticket) and the audit log (every transition is recorded).
 */
import { existsSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { openApprovalStore, openApprovals } from "../../approvals/open.js";
import { ApprovalService } from "../../approvals/service.js";
import { SqliteApprovalStore } from "../../approvals/sqlite-store.js";
import { auditSettingsFromProject } from "../../audit/settings.js";
import { AuditWriter } from "../../audit/writer.js";
import { openProject } from "../../config/open-project.js";
import type { ProjectConfig } from "../../config/project.js";
import { type CommonOptions, printErr, printWarnings, projectOverrides, UsageError } from "../common.js";
import { openProjectConfig, tokenKeys } from "../tokens/project.js";
import { LazyAudit } from "./audit.js";

export interface ApprovalFlags extends CommonOptions {
  store?: string;
  status?: string;
  tokenFile?: string;
  as?: string;
  reason?: string;
  auditLog?: string;
  by?: string;
  signingKey?: string;
  timeout?: string;
}

export interface Opened {
  service: ApprovalService;
  project: ProjectConfig;
  close(): Promise<void>;
}

/** Read-only: no keys, no audit, nothing created. `null` when a SQLite store does not exist yet. */
export function openForReading(flags: ApprovalFlags): Opened | null {
  const project = openProjectConfig(flags);
  const store = openApprovalStore(project, flags.store);
  if (store instanceof SqliteApprovalStore && !store.exists()) return null;
  const service = new ApprovalService({
    store,
    identity: null,
    tickets: null,
    sealer: null,
    audit: null,
    trusted: false,
    expireOnRead: false,
  });
  return { service, project, close: () => service.close(0) };
}

/** For approve, deny and wait: the world, the keys and the audit log as well. */
export async function openForWriting(flags: ApprovalFlags): Promise<Opened> {
  if (flags.by !== undefined)
    throw new UsageError(
      "--by is not accepted: approvers are identified by their identity token (--token-file or --as)",
    );
  const opened = await openProject({ overrides: projectOverrides(flags), cache: flags.cache !== false });
  printWarnings(opened.warnings);
  const project = opened.project;
  const keys = tokenKeys(project, flags);
  const enabled = project.settings.audit?.enabled !== false;
  const audit = enabled
    ? new LazyAudit(() =>
        AuditWriter.open({
          ...auditSettingsFromProject(project, { withoutShippers: true }),
          ...(flags.auditLog === undefined ? {} : { path: resolve(process.cwd(), flags.auditLog) }),
        }),
      )
    : null;
  const service = openApprovals(project, {
    tokenKeys: keys,
    audit,
    world: () => opened.world,
    trusted: false,
    notify: false,
    ...(flags.store === undefined ? {} : { store: flags.store }),
  });
  return {
    service,
    project,
    close: async () => {
      await service.close(0);
      await audit?.close();
    },
  };
}

/** The identity token from --token-file or --as (null when neither is given). */
export function identityToken(flags: ApprovalFlags): string | null {
  if (flags.tokenFile !== undefined && flags.as !== undefined)
    throw new UsageError("give either --token-file or --as, not both");
  if (flags.as !== undefined) {
    printErr(
      "warning: --as puts the identity token on the command line, where other local users can see it; " +
        "prefer --token-file",
    );
    return flags.as.trim();
  }
  if (flags.tokenFile === undefined) return null;
  const path = resolve(process.cwd(), flags.tokenFile);
  if (!existsSync(path)) throw new UsageError(`--token-file: ${flags.tokenFile} does not exist`);
  try {
    return readFileSync(path, "utf8").trim();
  } catch (err) {
    throw new UsageError(`--token-file: cannot read ${flags.tokenFile} (${(err as Error).message})`);
  }
}
