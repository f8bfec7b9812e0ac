/**
 * Kubernetes secrets engine: `POST /v1/<mount>/creds/<role>` with `kubernetes_namespace` taken
 * from the rendered scope and `ttl`. The scope `{verbs, resources, api_groups?, namespaces?,
 * resource_names?}` names one namespace (Kubernetes credentials are issued per namespace); a
 * scope with none is cluster-wide and allowed only where the mapping says `cluster_role_binding`.
 *
 * What bounds the credential:
 * - `scope: role`: the Vault role (its Role/ClusterRole and `allowed_kubernetes_namespaces`),
 *   configured by the platform team, plus the namespace from the template: Vault refuses a
 *   namespace the role does not allow. The template's verbs/resources are recorded, not enforced.
 * - `scope: request`: we write a Vault role `<role>-<credential hex>` with
 *   `generated_role_rules` = the rendered rules and `allowed_kubernetes_namespaces` = the one
 *   namespace; Vault creates a Role, RoleBinding and ServiceAccount for exactly that, and deletes
 *   them when the lease is revoked or ends. We delete the Vault role on revoke.
 */
import type { KubernetesRoleSettings } from "../../config/credentials-schema.js";
import { CredentialError } from "../errors.js";
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

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

/** The mapping's settings, with the cluster CA read from `certificate_authority` (PEM text). */
export type KubernetesEngineSettings = KubernetesRoleSettings & { caPem?: string | null };

export interface KubernetesScope {
  namespace: string;
  clusterWide: boolean;
  rules: { apiGroups: string[]; resources: string[]; verbs: string[]; resourceNames?: string[] }[];
}

/** The namespace and RBAC rules a rendered Kubernetes scope allows. */
export function kubernetesScope(
  fields: Record<string, unknown>,
  type: string,
  s: Pick<KubernetesRoleSettings, "cluster_role_binding" | "namespace">,
): KubernetesScope {
  onlyFields(fields, ["verbs", "resources", "api_groups", "namespaces", "resource_names"], type);
  const verbs = stringList(fields, "verbs", type, true) ?? [];
  const resources = stringList(fields, "resources", type, true) ?? [];
  // `""` is the core API group.
  const apiGroups = stringList(fields, "api_groups", type, false, true) ?? [""];
  const names = stringList(fields, "resource_names", type, false);
  const namespaces = stringList(fields, "namespaces", type, false) ?? [];
  const rule = { apiGroups, resources, verbs, ...(names === null ? {} : { resourceNames: names }) };
  if (namespaces.length > 1) {
    throw new CredentialError(
      "template",
      `Kubernetes credentials are issued for one namespace; the scope names ${namespaces.length}`,
    );
  }
  const namespace = namespaces[0];
  if (namespace !== undefined) {
    if (!DNS_LABEL.test(namespace)) {
      throw new CredentialError(
        "template",
        `Credential scope namespace '${namespace}' is not a valid namespace name`,
      );
    }
    return { namespace, clusterWide: false, rules: [rule] };
  }
  if (!s.cluster_role_binding || s.namespace === null) {
    throw new CredentialError(
      "template",
      `Credential scope of type '${type}' names no namespace, so it would be cluster-wide; allow that with ` +
        `credentials.roles.${type}.cluster_role_binding: true and a namespace for the service account`,
    );
  }
  return { namespace: s.namespace, clusterWide: true, rules: [rule] };
}

export async function issueKubernetes(
  ctx: EngineContext,
  s: KubernetesEngineSettings,
  req: IssueRequest,
): Promise<Issued> {
  const k = kubernetesScope(req.scope.fields, req.scope.type, s);
  const base = forAction(s.roles, req.ticket.action, s.role);
  let role = base;
  let cleanupRole: string | null = null;
  if (s.scope === "request") {
    role = requestRoleName(base, req.credentialId);
    cleanupRole = vaultPath(s.mount, "roles", role);
    await ctx.call("POST", cleanupRole, {
      allowed_kubernetes_namespaces: [k.namespace],
      generated_role_rules: JSON.stringify({ rules: k.rules }),
      kubernetes_role_type: k.clusterWide ? "ClusterRole" : "Role",
      token_default_ttl: req.ttl,
      token_max_ttl: req.ttl,
    });
  }
  const body: Record<string, unknown> = { kubernetes_namespace: k.namespace, ttl: `${req.ttl}s` };
  if (k.clusterWide) body.cluster_role_binding = true;
  let reply: Record<string, unknown>;
  try {
    reply = await ctx.call("POST", vaultPath(s.mount, "creds", role), body);
  } catch (err) {
    if (cleanupRole !== null) await ctx.call("DELETE", cleanupRole).catch(() => undefined);
    throw err;
  }
  const secret = secretOf(reply);
  const token = secret.data.service_account_token;
  if (typeof token !== "string" || token === "") {
    if (secret.leaseId !== null) {
      await ctx.call("PUT", "sys/leases/revoke", { lease_id: secret.leaseId }).catch(() => undefined);
    }
    if (cleanupRole !== null) await ctx.call("DELETE", cleanupRole).catch(() => undefined);
    throw new CredentialError(
      "vault",
      `Vault's ${s.mount}/creds/${role} answer has no service account token`,
    );
  }
  const metadata: Record<string, string> = {
    vault_path: `${s.mount}/creds/${role}`,
    namespace: k.namespace,
    cluster_wide: String(k.clusterWide),
  };
  for (const key of ["service_account_name", "service_account_namespace"] as const) {
    const v = secret.data[key];
    if (typeof v === "string") metadata[key] = v;
  }
  if (cleanupRole !== null) metadata.vault_role_path = cleanupRole;
  // What the Kubernetes executors read: `token` + `server` (+ the cluster CA).
  const payload: Record<string, unknown> = { token };
  const publicKeys: string[] = [];
  if (s.server !== null) {
    payload.server = s.server;
    publicKeys.push("server");
  }
  if (s.caPem) {
    payload.certificate_authority_data = Buffer.from(s.caPem, "utf8").toString("base64");
    publicKeys.push("certificate_authority_data");
  }
  return {
    payload,
    publicKeys,
    metadata,
    leaseId: secret.leaseId,
    leaseDuration: secret.leaseDuration,
    renewable: secret.renewable,
    enforcement: s.scope === "request" ? "request" : "vault-role",
    source: `vault:${s.mount}/creds`,
    cleanupRole,
  };
}
