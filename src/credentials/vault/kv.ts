/**
 * KV v2 reads (`GET /v1/<mount>/data/<path>`): a static secret, for credential types no dynamic
 * engine covers (an API token, a webhook secret). Not scoped and not revocable: the secret is
 * whatever it is, for as long as it is valid; we only bound how long we *say* it may be used.
 * The path comes from configuration, never from the template (a param cannot choose a secret).
 */
import type { KvRoleSettings } from "../../config/credentials-schema.js";
import { CredentialError } from "../errors.js";
import { type EngineContext, forAction, type Issued, type IssueRequest } from "./engine.js";
import { vaultPath } from "./http.js";

export async function issueKv(ctx: EngineContext, s: KvRoleSettings, req: IssueRequest): Promise<Issued> {
  const secretPath = forAction(s.paths, req.ticket.action, s.path);
  const path = vaultPath(s.mount, "data", secretPath);
  const reply = await ctx.call("GET", path);
  const outer = reply.data as Record<string, unknown> | undefined;
  const data = outer?.data;
  if (data === null || typeof data !== "object" || Array.isArray(data) || Object.keys(data).length === 0) {
    throw new CredentialError(
      "vault",
      `Vault KV secret ${s.mount}/${secretPath} has no data (deleted or empty)`,
    );
  }
  const meta = (outer?.metadata ?? {}) as Record<string, unknown>;
  const metadata: Record<string, string> = { vault_path: `${s.mount}/data/${secretPath}` };
  if (typeof meta.version === "number") metadata.version = String(meta.version);
  return {
    payload: data as Record<string, unknown>,
    metadata,
    leaseId: null,
    leaseDuration: 0,
    renewable: false,
    enforcement: "none",
    source: "vault:kv",
    cleanupRole: null,
  };
}
