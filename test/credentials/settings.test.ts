// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${ENV} references and IAM policy variables are what these tests are about
/** `credentials:` in agent-safe.yaml: its schema (unknown keys are errors) and projectVault. */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError } from "../../src/config/errors.js";
import { resolveProject } from "../../src/config/project.js";
import { readProjectFile } from "../../src/config/project-file.js";
import { EnvVarVault, HashiCorpVault, projectVault } from "../../src/credentials/index.js";
import { tempDir } from "../helpers/cli.js";

function project(yaml: string) {
  const dir = tempDir("agent-safe-cred-cfg-");
  const file = join(dir, "agent-safe.yaml");
  writeFileSync(file, yaml);
  return resolveProject(file, readProjectFile(file), {}, dir);
}

function configError(yaml: string): string {
  try {
    project(yaml);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).lines().join("\n");
  }
  throw new Error("expected a ConfigError");
}

const FULL = `
credentials:
  type: hashicorp
  address: \${VAULT_ADDR}
  namespace: team-a
  ca_file: null
  timeout_seconds: 5
  auth:
    method: approle
    role_id: \${VAULT_ROLE_ID}
    secret_id: .agent-safe/vault-secret-id
  roles:
    aws:
      engine: aws
      endpoint: sts
      role: agent-safe
      scope: request
      role_arn: arn:aws:iam::123456789012:role/agent-safe-base
      roles:
        ec2-terminate-instance: agent-safe-terminate
    kubernetes:
      engine: kubernetes
      role: agent-safe
      cluster_role_binding: yes
      namespace: agent-safe
    github:
      engine: kv
      mount: kv
      path: agent-safe/github
`;

describe("credentials settings", () => {
  it("parse with defaults, keeping ${ENV} references for later expansion", () => {
    const p = project(FULL);
    expect(p.settings.credentials).toEqual({
      type: "hashicorp",
      address: "${VAULT_ADDR}",
      namespace: "team-a",
      ca_file: null,
      allow_http: false,
      timeout_seconds: 5,
      renew_token: true,
      enforce_ttl: true,
      auth: {
        method: "approle",
        mount: "approle",
        role_id: "${VAULT_ROLE_ID}",
        secret_id: ".agent-safe/vault-secret-id",
      },
      roles: {
        aws: {
          engine: "aws",
          mount: "aws",
          endpoint: "sts",
          role: "agent-safe",
          roles: { "ec2-terminate-instance": "agent-safe-terminate" },
          scope: "request",
          credential_type: null,
          role_arn: "arn:aws:iam::123456789012:role/agent-safe-base",
          permissions_boundary_arn: null,
        },
        kubernetes: {
          engine: "kubernetes",
          mount: "kubernetes",
          role: "agent-safe",
          roles: {},
          scope: "role",
          cluster_role_binding: true,
          namespace: "agent-safe",
          server: null,
          certificate_authority: null,
        },
        github: { engine: "kv", mount: "kv", path: "agent-safe/github", paths: {} },
      },
    });
    const vault = projectVault(p, { env: { VAULT_ADDR: "https://vault.example:8200" } });
    expect(vault).toBeInstanceOf(HashiCorpVault);
    expect(() => projectVault(p, { env: {} })).toThrow(
      "credentials.address: environment variable VAULT_ADDR is not set",
    );
  });

  it("reject unknown keys, unknown engines and types, with file and line", () => {
    expect(configError(FULL.replace("  timeout_seconds: 5", "  timeout_secs: 5"))).toMatch(
      /agent-safe\.yaml:\d+:\d+: credentials.*timeout_secs/,
    );
    expect(configError(FULL.replace("engine: kv", "engine: gcp"))).toMatch(
      /agent-safe\.yaml:\d+:\d+: credentials\.roles\.github\.engine/,
    );
    expect(configError("credentials:\n  type: aws\n")).toMatch(/credentials\.type/);
    expect(configError("credentials:\n  type: env\n  address: x\n")).toMatch(/address/);
    expect(configError(FULL.replace("      role: agent-safe\n      cluster", "      cluster"))).toMatch(
      /role/,
    );
  });

  it("env vault and no vault", () => {
    expect(projectVault(project("credentials:\n  type: env\n  env_prefix: MY_\n"))).toBeInstanceOf(
      EnvVarVault,
    );
    expect(projectVault(project("profile: strict\n"))).toBeNull();
  });
});
