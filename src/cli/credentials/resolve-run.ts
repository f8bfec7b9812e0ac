/**
 * `credential resolve TOKEN`: verify, redeem and obtain a credential. Prints metadata only; the
 * secret only with --show-secret (stdout, with a warning on stderr). The issuance or refusal is
 * an audit event (`event_type: credential`), scrubbed of the credential's secrets.
 */
import type { AuditInput } from "../../audit/types.js";
import { openProject } from "../../config/open-project.js";
import type { ProjectConfig } from "../../config/project.js";
import {
  type Credential,
  type CredentialResolution,
  CredentialResolver,
  credentialAuditContext,
  redactAuditInput,
} from "../../credentials/index.js";
import { pythonIsoformat } from "../../jwt/claims.js";
import { openProjectNonceStore } from "../../tickets/nonce-store.js";
import { TicketValidator } from "../../tickets/validator.js";
import {
  type CommonOptions,
  EXIT,
  print,
  printErr,
  printJson,
  printWarnings,
  projectOverrides,
  wantsJson,
} from "../common.js";
import { parseParamsFlag } from "../request-input.js";
import { type TokenFlags, tokenKeys } from "../tokens/project.js";
import { cliVault } from "./vault.js";

interface ResolveFlags extends CommonOptions, TokenFlags {
  action?: string;
  target?: string;
  params?: string;
  showSecret?: boolean;
  vaultCred?: string[];
}

export async function runCredentialResolve(token: string, options: Record<string, unknown>): Promise<void> {
  const flags = options as ResolveFlags;
  const expectedParams = parseParamsFlag(flags.params);
  const opened = await openProject({ overrides: projectOverrides(flags), cache: flags.cache !== false });
  printWarnings(opened.warnings);
  const { project, world } = opened;
  const keys = tokenKeys(project, flags);
  const vault = cliVault(project, flags.vaultCred);
  const closers: (() => Promise<void>)[] = [() => vault.close()];
  try {
    const store = await openProjectNonceStore(project);
    closers.unshift(() => store.close());
    // Opened before the ticket is touched: a log we cannot write must not cost the ticket.
    const audit = await openAudit(opened.project);
    if (audit !== null) closers.unshift(() => audit.close());
    const resolver = new CredentialResolver({
      validator: new TicketValidator(keys.tickets, keys.settings, store.nonces),
      nonces: store.nonces,
      vault,
      actions: (name) => world.actions.get(name)?.def,
      strictTemplates: project.profile === "strict",
    });
    const r = await resolver.resolve(token, {
      expectedAction: flags.action ?? null,
      expectedTarget: flags.target ?? null,
      ...(expectedParams === null ? {} : { expectedParams }),
    });
    if (audit !== null) await audit.append(redactAuditInput(auditEvent(r), [r.credential], audit.redactor));
    report(r, flags);
    process.exitCode = r.success ? EXIT.OK : EXIT.FAILED;
  } finally {
    for (const close of closers) await close();
  }
}

async function openAudit(project: ProjectConfig) {
  if (project.settings.audit?.enabled === false) return null;
  const { AuditWriter, auditSettingsFromProject } = await import("../../audit/index.js");
  const settings = auditSettingsFromProject(project);
  const writer = await AuditWriter.open(settings);
  return {
    redactor: settings.redactor ?? null,
    append: (input: AuditInput) => writer.append(input),
    close: () => writer.close(),
  };
}

function auditEvent(r: CredentialResolution): AuditInput {
  const c = r.credential;
  return {
    event_type: "credential",
    action: r.action,
    target: r.target,
    caller: r.ticket?.caller ?? "unknown",
    decision: r.success ? "allow" : "deny",
    reason: r.success && c ? `Credential issued: ${c.credential_id}` : `Credential refused: ${r.error}`,
    correlation_id: r.ticket?.audit_id ?? null,
    context: {
      via: "cli",
      code: r.code,
      ticket_nonce: r.ticket_nonce === "" ? null : r.ticket_nonce,
      ticket_redeemed: r.redeemed,
      credential: c ? credentialAuditContext(c) : null,
    },
  };
}

function report(r: CredentialResolution, flags: ResolveFlags): void {
  const c = r.credential;
  const show = flags.showSecret === true && c !== null;
  if (show) {
    printErr(
      `warning: --show-secret: the credential's secret is printed in clear; until it expires (${c.expires_at}) ` +
        "it is outside the vault's control. Do not paste it anywhere.",
    );
  }
  if (wantsJson(flags)) {
    printJson({
      success: r.success,
      code: r.code,
      error: r.error,
      action: r.action,
      target: r.target,
      ticket_nonce: r.ticket_nonce,
      ticket_redeemed: r.redeemed,
      credential: c === null ? null : show ? { ...c.toJSON(), payload: c.payload } : c.toJSON(),
    });
    return;
  }
  if (!r.success || c === null) {
    print(r.code === "ticket" && !r.redeemed ? `INVALID TICKET — ${r.error}` : `FAILED — ${r.error}`);
    return;
  }
  print(`OK — credential resolved for ${r.action}`);
  print(`  id:      ${c.credential_id}`);
  print(`  type:    ${c.type}`);
  print(`  expires: ${pythonIsoformat(c.expiresAtMs)}`);
  print(`  lease:   ${c.lease_id ?? "none"}`);
  print(`  scope:   ${enforcementText(c)}`);
  print(`  nonce:   ${c.ticket_nonce}`);
  if (show) {
    print("  payload:");
    for (const [k, v] of Object.entries(c.payload))
      print(`    ${k}: ${typeof v === "string" ? v : JSON.stringify(v)}`);
  }
}

function enforcementText(c: Credential): string {
  switch (c.enforcement) {
    case "request":
      return "enforced by a Vault role written from the rendered scope";
    case "vault-role":
      return `bounded by the Vault role (${c.metadata.vault_path ?? c.source}), not by the template`;
    default:
      return c.source === "vault:kv"
        ? "not scoped (a static secret)"
        : "NOT scoped (env vault: development only)";
  }
}
