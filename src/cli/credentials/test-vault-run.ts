/**
 * `credential test-vault`: reach the vault, authenticate, request a 60 s credential for a dummy
 * ticket and revoke it at once (REFERENCE.md §12.2). Prints metadata only.
 */
import { randomBytes } from "node:crypto";
import { isPlainObject } from "../../core/pyvalue.js";
import {
  type Credential,
  type CredentialVault,
  HashiCorpVault,
  type VaultHealth,
} from "../../credentials/index.js";
import { pythonIsoformat } from "../../jwt/claims.js";
import { EXIT, print, printJson, UsageError, wantsJson } from "../common.js";
import { openProjectConfig, positiveInt } from "../tokens/project.js";
import { cliVault } from "./vault.js";

interface TestVaultFlags {
  config?: string;
  json?: boolean;
  jsonOutput?: boolean;
  credType?: string;
  scope?: string;
  ttl?: string;
  vaultCred?: string[];
}

const DEFAULT_TTL = 60;

export async function runTestVault(options: Record<string, unknown>): Promise<void> {
  const flags = options as TestVaultFlags;
  const type = flags.credType ?? "kubernetes";
  const overrides = parseScope(flags.scope);
  const ttl = positiveInt(flags.ttl, "--ttl") ?? DEFAULT_TTL;
  const project = openProjectConfig(flags);
  const vault = cliVault(project, flags.vaultCred);
  let health: VaultHealth | null = null;
  let credential: Credential | null = null;
  let error: string | null = null;
  let revokeError: string | null = null;
  try {
    health = await vault.health();
    const ticket = {
      action: "agent-safe:test-vault",
      target: "vault-test",
      nonce: randomBytes(16).toString("hex"),
      // A second of margin, so that the whole `ttl` fits before the dummy ticket expires.
      expires_at: new Date(Date.now() + (ttl + 1) * 1000).toISOString(),
    };
    const fields = { ...defaultFields(vault, type), ...overrides };
    credential = await vault.getCredential({ type, fields, ttl }, ticket, ttl);
    try {
      await vault.revoke(credential);
    } catch (err) {
      revokeError = err instanceof Error ? err.message : String(err);
    }
  } catch (err) {
    if (err instanceof UsageError) throw err;
    error = err instanceof Error ? err.message : String(err);
  } finally {
    await vault.close();
  }
  const ok = error === null && revokeError === null;
  if (wantsJson(flags)) {
    printJson({
      ok,
      error: error ?? (revokeError === null ? null : `revoke failed: ${revokeError}`),
      vault: health,
      credential: credential?.toJSON() ?? null,
      revoked: credential !== null && revokeError === null,
    });
  } else if (error !== null || credential === null) {
    print(`FAILED — ${error}`);
  } else {
    print(`OK — vault returned credential: ${credential.credential_id}`);
    if (health !== null) print(`  vault:   ${health.description}`);
    print(`  type:    ${credential.type}`);
    print(`  expires: ${pythonIsoformat(credential.expiresAtMs)}`);
    print(`  lease:   ${credential.lease_id ?? "none"}`);
    print(`  revoke:  ${revokeError === null ? "OK" : `FAILED — ${revokeError}`}`);
  }
  process.exitCode = ok ? EXIT.OK : EXIT.FAILED;
}

function parseScope(text: string | undefined): Record<string, unknown> {
  if (text === undefined) return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new UsageError(`invalid JSON in --scope: ${(err as Error).message}`);
  }
  if (!isPlainObject(value)) throw new UsageError("--scope must be a JSON object of scope fields");
  return value;
}

/** A harmless scope for the type's engine; `--scope` fields override it. */
function defaultFields(vault: CredentialVault, type: string): Record<string, unknown> {
  if (!(vault instanceof HashiCorpVault)) return {};
  const engine = vault.roleFor(type).engine;
  if (engine === "aws") return { actions: ["sts:GetCallerIdentity"] };
  if (engine === "kubernetes") {
    return { verbs: ["get"], resources: ["pods"], namespaces: ["default"], api_groups: [""] };
  }
  return {};
}
