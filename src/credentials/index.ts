/**
 * Credentials (REFERENCE.md §9, DESIGN.md §3, THREATS T1/T9; docs/credentials.md): the agent
 * never holds target credentials. A credential is issued by a vault only for a valid, unused
 * execution ticket, bounded by the action's rendered scope and by the ticket's lifetime, and
 * revoked after use.
 *
 * Wiring (runner, SDK, sidecar):
 * ```ts
 * const vault = projectVault(project);                     // null: no `credentials:` section
 * const resolver = vault && new CredentialResolver({
 *   validator, nonces: backend.nonces, vault,              // the deployment's shared nonce store
 *   actions: (name) => world.actions.get(name)?.def,
 *   strictTemplates: project.profile === "strict",
 * });
 * if (credentialsRequired(actionDef, resolver)) {          // the action declares credentials
 *   const r = await resolver.resolve(token, { expectedAction, expectedTarget, expectedParams });
 *   if (!r.success) refuse(r.error);                       // no fallback to ambient credentials
 *   try { execute(r.ticket.params, r.credential.payload); } // the ticket is redeemed: do not redeem again
 *   finally { await resolver.revoke(r.credential); }
 * }
 * // Or, for a runner that redeems the ticket itself first (src/runner/runner.ts):
 * //   RunnerParts.credentials = new ResolverCredentialProvider(resolver)  // acquire → resolveRedeemed
 * // Before logging anything an execution produced:
 * writer.append(redactAuditInput(event, [r.credential], projectRedactor(project)));
 * ```
 */
export {
  Credential,
  type CredentialInit,
  type Enforcement,
  isCredentialId,
  newCredentialId,
  REDACTED_PAYLOAD,
  type RenderedScope,
} from "./credential.js";
export { DEFAULT_ENV_PREFIX, EnvVarVault, type EnvVarVaultOptions } from "./env-vault.js";
export {
  CredentialConfigError,
  CredentialError,
  type CredentialErrorCode,
  CredentialVaultError,
} from "./errors.js";
export { type CredentialTicket, lifetimeSeconds, ticketDeadlineMs } from "./lifetime.js";
export { type ProvidedCredential, ResolverCredentialProvider } from "./provider.js";
export {
  credentialAuditContext,
  credentialSecrets,
  REDACTED,
  redactAuditInput,
  type SecretDigester,
  scrubSecrets,
} from "./redact.js";
export {
  type CredentialResolution,
  CredentialResolver,
  type CredentialResolverOptions,
  credentialsRequired,
  type RevokeOutcome,
} from "./resolver.js";
export {
  type BuildVaultOptions,
  buildVault,
  projectVault,
  secretSource,
  vaultFromSettings,
} from "./settings.js";
export { type RenderOptions, type RenderResult, renderScope } from "./template.js";
export { type SecretSource, VaultAuth, type VaultAuthConfig, type VaultAuthOptions } from "./vault/auth.js";
export { awsPolicyDocument } from "./vault/aws.js";
export { type EngineSettings, HashiCorpVault, type HashiCorpVaultOptions } from "./vault/client.js";
export { VaultHttp, type VaultHttpOptions, vaultPath } from "./vault/http.js";
export { type KubernetesEngineSettings, type KubernetesScope, kubernetesScope } from "./vault/kubernetes.js";
export type { CredentialVault, VaultHealth } from "./vault.js";
