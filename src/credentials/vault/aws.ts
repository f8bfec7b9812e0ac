/**
 * AWS secrets engine: `/v1/<mount>/creds/<role>` (IAM user: revocable; Vault deletes the user
 * at lease end or on revoke) or `/v1/<mount>/sts/<role>` (STS: not revocable; AWS requires at
 * least 900 s). The rendered scope `{actions, resources?}` becomes an IAM policy document.
 *
 * What bounds the credential (docs/credentials.md § What is enforced where):
 * - `scope: role`: the Vault role's policy, written by the platform team. Vault's creds/sts
 *   endpoints take no policy document, so the template is *recorded*, not enforced.
 * - `scope: request`: we write a Vault role `<role>-<credential hex>` whose `policy_document` is
 *   the rendered scope (an inline user policy for iam_user, a session policy intersected with
 *   `role_arn`'s permissions for assumed_role/federation_token), read the credential from it,
 *   and delete it on revoke. AWS then enforces exactly the template.
 */
import type { AwsRoleSettings } from "../../config/credentials-schema.js";
import { CredentialConfigError, CredentialError } from "../errors.js";
import {
  type EngineContext,
  forAction,
  type Issued,
  type IssueRequest,
  onlyFields,
  requestRoleName,
  secretOf,
  stringList,
} from "./engine.js";
import { vaultPath } from "./http.js";

const IAM_ACTION = /^[A-Za-z0-9-]+:[A-Za-z0-9*]+$/;

/** The IAM policy document a rendered AWS scope allows. */
export function awsPolicyDocument(fields: Record<string, unknown>, type: string): Record<string, unknown> {
  onlyFields(fields, ["actions", "resources"], type);
  const actions = stringList(fields, "actions", type, true) ?? [];
  const bad = actions.find((a) => !IAM_ACTION.test(a));
  if (bad !== undefined) {
    throw new CredentialError(
      "template",
      `Credential scope action '${bad}' is not an IAM action (service:Action)`,
    );
  }
  const resources = stringList(fields, "resources", type, false);
  if (resources !== null && resources.length === 0) {
    throw new CredentialError("template", `Credential scope fields.resources of type '${type}' is empty`);
  }
  const wrong = (resources ?? []).find((r) => r !== "*" && !r.startsWith("arn:"));
  if (wrong !== undefined) {
    throw new CredentialError("template", `Credential scope resource '${wrong}' is not an ARN`);
  }
  return {
    Version: "2012-10-17",
    Statement: [{ Effect: "Allow", Action: actions, Resource: resources ?? ["*"] }],
  };
}

export async function issueAws(ctx: EngineContext, s: AwsRoleSettings, req: IssueRequest): Promise<Issued> {
  const policy = awsPolicyDocument(req.scope.fields, req.scope.type);
  const base = forAction(s.roles, req.ticket.action, s.role);
  let role = base;
  let cleanupRole: string | null = null;
  const credentialType = s.credential_type ?? (s.endpoint === "creds" ? "iam_user" : "assumed_role");
  if (s.scope === "request") {
    if (s.endpoint === "creds" && credentialType !== "iam_user") {
      throw new CredentialConfigError("credentials.roles: endpoint creds issues iam_user credentials only");
    }
    if (s.endpoint === "sts" && credentialType === "iam_user") {
      throw new CredentialConfigError(
        "credentials.roles: endpoint sts needs assumed_role or federation_token",
      );
    }
    if (credentialType === "assumed_role" && s.role_arn === null) {
      throw new CredentialConfigError("credentials.roles: assumed_role needs role_arn (the role to assume)");
    }
    role = requestRoleName(base, req.credentialId);
    const definition: Record<string, unknown> = {
      credential_type: credentialType,
      policy_document: JSON.stringify(policy),
    };
    if (credentialType === "assumed_role") definition.role_arns = [s.role_arn];
    if (credentialType === "iam_user" && s.permissions_boundary_arn !== null) {
      definition.permissions_boundary_arn = s.permissions_boundary_arn;
    }
    if (credentialType !== "iam_user") {
      definition.default_sts_ttl = req.ttl;
      definition.max_sts_ttl = req.ttl;
    }
    cleanupRole = vaultPath(s.mount, "roles", role);
    await ctx.call("POST", cleanupRole, definition);
  }
  const body: Record<string, unknown> = { ttl: `${req.ttl}s` };
  if (s.endpoint === "sts") {
    if (s.role_arn !== null) body.role_arn = s.role_arn;
    // Names the ticket in CloudTrail: `agent-safe-<nonce prefix>`.
    if (credentialType === "assumed_role")
      body.role_session_name = `agent-safe-${req.ticket.nonce.slice(0, 16)}`;
  }
  let reply: Record<string, unknown>;
  try {
    reply = await ctx.call("POST", vaultPath(s.mount, s.endpoint, role), body);
  } catch (err) {
    if (cleanupRole !== null) await ctx.call("DELETE", cleanupRole).catch(() => undefined);
    throw err;
  }
  const secret = secretOf(reply);
  const { access_key, secret_key, security_token } = secret.data;
  if (typeof access_key !== "string" || typeof secret_key !== "string") {
    if (secret.leaseId !== null) {
      await ctx.call("PUT", "sys/leases/revoke", { lease_id: secret.leaseId }).catch(() => undefined);
    }
    if (cleanupRole !== null) await ctx.call("DELETE", cleanupRole).catch(() => undefined);
    throw new CredentialError("vault", `Vault's ${s.mount}/${s.endpoint}/${role} answer has no access key`);
  }
  // The names the AWS SDK and our AWS executor use (Vault says access_key/secret_key/security_token).
  const payload: Record<string, unknown> = { access_key_id: access_key, secret_access_key: secret_key };
  if (typeof security_token === "string" && security_token !== "") payload.session_token = security_token;
  const metadata: Record<string, string> = {
    vault_path: `${s.mount}/${s.endpoint}/${role}`,
    credential_type: credentialType,
  };
  if (typeof secret.data.arn === "string") metadata.arn = secret.data.arn;
  if (cleanupRole !== null) metadata.vault_role_path = cleanupRole;
  return {
    payload,
    metadata,
    leaseId: secret.leaseId,
    leaseDuration: secret.leaseDuration,
    renewable: secret.renewable,
    enforcement: s.scope === "request" ? "request" : "vault-role",
    source: `vault:${s.mount}/${s.endpoint}`,
    cleanupRole,
  };
}
