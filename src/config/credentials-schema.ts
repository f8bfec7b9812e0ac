/**
 * `credentials:` in agent-safe.yaml: the vault that issues credentials to executions
 * (docs/credentials.md). Unknown keys are errors. Secret values (the Vault token, the AppRole
 * role_id/secret_id) are a file path (relative to the config, not readable by others) or a
 * `${ENV}` reference, read when used and never logged.
 */
import * as z from "zod";
import { enumOf, laxBool, laxFloat, str } from "./coerce.js";

const positive = () => laxFloat().refine((n) => n > 0, "must be greater than 0");
const secret = (what: string) =>
  str().describe(`${what}: a file holding it (mode 0600), or a \${ENV} reference. Never a literal.`);
const perAction = (what: string) =>
  z
    .record(z.string(), str())
    .default({})
    .describe(`Per-action override of ${what}: {<action name>: <value>}.`);
const mount = (name: string) =>
  str().default(name).describe(`Where the secrets engine is mounted (default ${name}).`);

const scopeMode = enumOf(["role", "request"] as const)
  .default("role")
  .describe(
    "role: the pre-configured Vault role bounds the credential (Vault enforces the role, not the action's template); " +
      "request: a short-lived Vault role is written from the rendered template for each credential, and deleted on revoke.",
  );

export const awsRoleSchema = z.strictObject({
  engine: z.literal("aws"),
  mount: mount("aws"),
  endpoint: enumOf(["creds", "sts"] as const)
    .default("creds")
    .describe(
      "creds: /v1/<mount>/creds/<role> (IAM user, revocable); sts: /v1/<mount>/sts/<role> (STS, not revocable, AWS minimum 900 s).",
    ),
  role: str().describe(
    "The Vault role (scope: role), or the name prefix of per-request roles (scope: request).",
  ),
  roles: perAction("role"),
  scope: scopeMode,
  credential_type: enumOf(["iam_user", "assumed_role", "federation_token"] as const)
    .nullable()
    .default(null)
    .describe("scope: request only; default iam_user for creds, assumed_role for sts."),
  role_arn: str()
    .nullable()
    .default(null)
    .describe("sts with assumed_role: the AWS role to assume (the per-request role's role_arns)."),
  permissions_boundary_arn: str()
    .nullable()
    .default(null)
    .describe("scope: request with iam_user: a permissions boundary attached to every generated user."),
});

export const kubernetesRoleSchema = z.strictObject({
  engine: z.literal("kubernetes"),
  mount: mount("kubernetes"),
  role: str().describe(
    "The Vault role (scope: role), or the name prefix of per-request roles (scope: request).",
  ),
  roles: perAction("role"),
  scope: scopeMode,
  cluster_role_binding: laxBool()
    .default(false)
    .describe(
      "For scopes that name no namespace (cluster-wide actions): bind cluster-wide. Never used when the scope names a namespace.",
    ),
  namespace: str()
    .nullable()
    .default(null)
    .describe("With cluster_role_binding: the namespace the service account is created in."),
  server: str()
    .nullable()
    .default(null)
    .describe(
      "The API server URL handed to executors with the token (https://host:6443; $" + "{ENV} expanded).",
    ),
  certificate_authority: str()
    .nullable()
    .default(null)
    .describe("PEM file of the cluster's CA, handed to executors with the token."),
});

export const kvRoleSchema = z.strictObject({
  engine: z.literal("kv"),
  mount: mount("secret"),
  path: str().describe(
    "The KV v2 secret path under the mount (read at /v1/<mount>/data/<path>). Not templated.",
  ),
  paths: perAction("path"),
});

export const vaultRoleSchema = z.discriminatedUnion("engine", [
  awsRoleSchema,
  kubernetesRoleSchema,
  kvRoleSchema,
]);

export const vaultAuthSchema = z.discriminatedUnion("method", [
  z.strictObject({
    method: z.literal("token"),
    token: secret("The Vault token"),
  }),
  z.strictObject({
    method: z.literal("approle"),
    mount: str().default("approle").describe("Where the AppRole auth method is mounted."),
    role_id: secret("The AppRole role_id"),
    secret_id: secret("The AppRole secret_id"),
  }),
]);

export const envVaultSchema = z.strictObject({
  type: z.literal("env"),
  env_prefix: str()
    .default("AGENT_SAFE_CRED_")
    .describe("Credentials come from <prefix><TYPE>. Not scoped: development only."),
});

export const hashicorpVaultSchema = z.strictObject({
  type: z.literal("hashicorp"),
  address: str().describe("https://vault.example:8200; $" + "{ENV} references are expanded when used."),
  namespace: str().nullable().default(null).describe("Vault Enterprise namespace (X-Vault-Namespace)."),
  auth: vaultAuthSchema,
  ca_file: str().nullable().default(null).describe("PEM file of the CA that signed Vault's certificate."),
  allow_http: laxBool()
    .default(false)
    .describe("Allow http:// to a non-loopback address (sends the token in clear). Default false."),
  timeout_seconds: positive().default(10).describe("Per request to Vault."),
  renew_token: laxBool()
    .default(true)
    .describe("Renew Agent-Safe's own Vault token (renew-self) when it nears expiry."),
  enforce_ttl: laxBool()
    .default(true)
    .describe("Refuse (and revoke) a lease Vault issues for longer than the ticket allows. Default true."),
  roles: z
    .record(z.string(), vaultRoleSchema)
    .default({})
    .describe("Credential type (an action's credentials.type) → how Vault issues it."),
});

export const credentialsSchema = z.discriminatedUnion("type", [envVaultSchema, hashicorpVaultSchema]);

export type CredentialsSettings = z.output<typeof credentialsSchema>;
export type HashicorpSettings = z.output<typeof hashicorpVaultSchema>;
export type VaultRoleSettings = z.output<typeof vaultRoleSchema>;
export type AwsRoleSettings = z.output<typeof awsRoleSchema>;
export type KubernetesRoleSettings = z.output<typeof kubernetesRoleSchema>;
export type KvRoleSettings = z.output<typeof kvRoleSchema>;
export type VaultAuthSettings = z.output<typeof vaultAuthSchema>;
