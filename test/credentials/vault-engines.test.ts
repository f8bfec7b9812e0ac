// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${ENV} references are what these tests are about
/** The HashiCorp Vault client against the loopback fixture: the engines, per-request roles, TTLs, leases. */
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { testClock } from "../helpers/tokens.js";
import { AWS_ROLE, hashicorp, K8S_ROLE, ROOT_TOKEN } from "./helpers.js";
import { VaultFixture, type VaultFixtureOptions } from "./vault-fixture.js";

const fixtures: VaultFixture[] = [];
async function fixture(options: VaultFixtureOptions = {}): Promise<VaultFixture> {
  const f = await VaultFixture.start({ tokens: { [ROOT_TOKEN]: { ttl: 0 } }, ...options });
  fixtures.push(f);
  return f;
}
afterEach(async () => {
  for (const f of fixtures.splice(0)) await f.close();
});

const inMinutes = (m: number) => new Date(Date.now() + m * 60_000).toISOString();
const ticket = (minutes = 5, action = "ec2-reboot-instance") => ({
  action,
  target: "aws/i-0abc",
  nonce: "0123456789abcdef0123456789abcdef",
  expires_at: inMinutes(minutes),
});
const EC2_SCOPE = {
  type: "aws",
  fields: {
    actions: ["ec2:RebootInstances", "ec2:DescribeInstances"],
    resources: ["arn:aws:ec2:eu-west-1:*:instance/i-0abc"],
  },
  ttl: 300,
};
const K8S_SCOPE = {
  type: "kubernetes",
  fields: { verbs: ["get"], resources: ["secrets"], namespaces: ["payments"], api_groups: [""] },
  ttl: 120,
};

describe("token auth and the engines, scope: role", () => {
  it("issues AWS IAM-user credentials from /v1/aws/creds/<role>, token in the header only", async () => {
    const f = await fixture({
      awsRoles: { "agent-safe-ec2": { credential_type: "iam_user" } },
      awsIamUserLeaseSeconds: 60,
    });
    const vault = hashicorp(f.url, { aws: AWS_ROLE });
    const c = await vault.getCredential(EC2_SCOPE, ticket(10), 300);
    const creds = f.requestsTo(/^aws\/creds\//);
    expect(creds).toHaveLength(1);
    expect(creds[0]).toMatchObject({
      method: "POST",
      path: "aws/creds/agent-safe-ec2",
      token: ROOT_TOKEN,
      body: { ttl: "300s" },
    });
    expect(f.requestsTo(/lookup-self/)).toHaveLength(1);
    expect(c.payload).toEqual({
      access_key_id: expect.stringMatching(/^AKIA/),
      secret_access_key: expect.any(String),
    });
    expect(c.lease_id).toMatch(/^aws\/creds\/agent-safe-ec2\//);
    expect(c.enforcement).toBe("vault-role");
    expect(c.source).toBe("vault:aws/creds");
    expect(c.scope).toEqual(EC2_SCOPE);
    expect(Date.parse(c.expires_at) - Date.now()).toBeLessThanOrEqual(60_000);
    // The token is never in a URL or a body.
    for (const r of f.requests) {
      expect(r.path).not.toContain(ROOT_TOKEN);
      expect(JSON.stringify(r.body ?? {})).not.toContain(ROOT_TOKEN);
    }
    await vault.revoke(c);
    expect(f.requestsTo(/^sys\/leases\/revoke$/)[0]?.body).toEqual({ lease_id: c.lease_id });
    expect(f.leases.get(c.lease_id!)?.revoked).toBe(true);
  });

  it("per-action role overrides, and a Kubernetes credential for the scope's one namespace", async () => {
    const f = await fixture({
      k8sRoles: {
        "agent-safe": { allowed_kubernetes_namespaces: ["payments"] },
        "secret-reader": { allowed_kubernetes_namespaces: ["payments"] },
      },
    });
    const vault = hashicorp(f.url, { kubernetes: { ...K8S_ROLE, roles: { "get-secret": "secret-reader" } } });
    const c = await vault.getCredential(K8S_SCOPE, ticket(5, "get-secret"), 120);
    expect(f.requestsTo(/^kubernetes\/creds\//)[0]).toMatchObject({
      method: "POST",
      path: "kubernetes/creds/secret-reader",
      body: { kubernetes_namespace: "payments", ttl: "120s" },
    });
    expect(Object.keys(c.payload)).toEqual(["token"]);
    expect(c.metadata).toMatchObject({ namespace: "payments", service_account_namespace: "payments" });
    expect(c.metadata.service_account_name).toMatch(/^v-token-/);
    // A namespace the Vault role does not allow is refused by Vault.
    await expect(
      vault.getCredential(
        { ...K8S_SCOPE, fields: { ...K8S_SCOPE.fields, namespaces: ["kube-system"] } },
        ticket(5, "x"),
        120,
      ),
    ).rejects.toThrow(
      /kubernetes_namespace 'kube-system' is not present in role's allowed_kubernetes_namespaces/,
    );
  });

  it("hands executors the API server and cluster CA with the token; only the token is a secret", async () => {
    const f = await fixture({ k8sRoles: { "agent-safe": { allowed_kubernetes_namespaces: ["payments"] } } });
    const dir = mkdtempSync(join(tmpdir(), "agent-safe-k8s-ca-"));
    writeFileSync(join(dir, "ca.pem"), "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n");
    const vault = hashicorp(
      f.url,
      { kubernetes: { ...K8S_ROLE, server: "${K8S_API}", certificate_authority: "ca.pem" } },
      {},
      { root: dir, env: { K8S_API: "https://k8s.example:6443" } },
    );
    const c = await vault.getCredential(K8S_SCOPE, ticket(), 120);
    expect(c.payload).toEqual({
      token: expect.stringMatching(/^eyJ/),
      server: "https://k8s.example:6443",
      certificate_authority_data: Buffer.from(readFileSync(join(dir, "ca.pem"), "utf8")).toString("base64"),
    });
    expect(c.secrets()).toEqual([c.payload.token]);
  });

  it("refuses Kubernetes scopes with several namespaces, and cluster-wide ones unless configured", async () => {
    const f = await fixture({
      k8sRoles: {
        admin: { allowed_kubernetes_namespaces: ["agent-safe"], kubernetes_role_type: "ClusterRole" },
      },
    });
    const scope = {
      type: "kubernetes",
      fields: { verbs: ["delete"], resources: ["namespaces"], api_groups: [""] },
      ttl: 120,
    };
    await expect(
      hashicorp(f.url, { kubernetes: { engine: "kubernetes", role: "admin" } }).getCredential(
        scope,
        ticket(),
        120,
      ),
    ).rejects.toMatchObject({
      code: "template",
      message: expect.stringContaining("names no namespace, so it would be cluster-wide"),
    });
    await expect(
      hashicorp(f.url, { kubernetes: K8S_ROLE }).getCredential(
        { ...K8S_SCOPE, fields: { ...K8S_SCOPE.fields, namespaces: ["a", "b"] } },
        ticket(),
        120,
      ),
    ).rejects.toThrow("Kubernetes credentials are issued for one namespace; the scope names 2");
    const vault = hashicorp(f.url, {
      kubernetes: {
        engine: "kubernetes",
        role: "admin",
        cluster_role_binding: true,
        namespace: "agent-safe",
      },
    });
    await vault.getCredential(scope, ticket(), 120);
    expect(f.requestsTo(/^kubernetes\/creds\//)[0]?.body).toEqual({
      kubernetes_namespace: "agent-safe",
      ttl: "120s",
      cluster_role_binding: true,
    });
    expect(f.requestsTo(/^kubernetes\/creds\//)).toHaveLength(1);
  });

  it("reads KV v2 secrets (static, not scoped)", async () => {
    const f = await fixture({ kv: { "secret/agent-safe/github": { token: "ghp_examplesecret000" } } });
    const vault = hashicorp(
      f.url,
      { github: { engine: "kv", path: "agent-safe/github" } },
      { namespace: "team-a" },
    );
    const c = await vault.getCredential({ type: "github", fields: {}, ttl: 300 }, ticket(), 300);
    expect(f.requestsTo(/data/)[0]).toMatchObject({ method: "GET", path: "secret/data/agent-safe/github" });
    expect(f.requests.every((r) => r.namespace === "team-a")).toBe(true);
    expect(c.payload).toEqual({ token: "ghp_examplesecret000" });
    expect(c.enforcement).toBe("none");
    expect(c.lease_id).toBeNull();
    expect(c.metadata.version).toBe("3");
    await vault.revoke(c); // nothing to revoke: no request
    expect(f.requestsTo(/revoke/)).toHaveLength(0);
  });

  it("names a missing role mapping", async () => {
    const f = await fixture();
    await expect(hashicorp(f.url, {}).getCredential(EC2_SCOPE, ticket(), 300)).rejects.toThrow(
      "No Vault role configured for credential type 'aws' (add credentials.roles.aws to agent-safe.yaml)",
    );
    expect(f.requests).toHaveLength(0);
  });
});

describe("scope: request — the rendered template is what Vault enforces", () => {
  it("AWS STS: writes a role whose policy_document is the rendered scope, then deletes it on revoke", async () => {
    const f = await fixture();
    const vault = hashicorp(f.url, {
      aws: {
        engine: "aws",
        endpoint: "sts",
        role: "agent-safe",
        scope: "request",
        role_arn: "arn:aws:iam::123456789012:role/agent-safe-base",
      },
    });
    const c = await vault.getCredential(EC2_SCOPE, ticket(20), 1000);
    const hexId = c.credential_id.slice(5);
    expect(f.roleWrites).toHaveLength(1);
    const write = f.roleWrites[0]!;
    expect(write.path).toBe(`aws/roles/agent-safe-${hexId}`);
    expect(write.body).toMatchObject({
      credential_type: "assumed_role",
      role_arns: ["arn:aws:iam::123456789012:role/agent-safe-base"],
      default_sts_ttl: 1000,
      max_sts_ttl: 1000,
    });
    expect(JSON.parse(String(write.body.policy_document))).toEqual({
      Version: "2012-10-17",
      Statement: [
        {
          Effect: "Allow",
          Action: ["ec2:RebootInstances", "ec2:DescribeInstances"],
          Resource: ["arn:aws:ec2:eu-west-1:*:instance/i-0abc"],
        },
      ],
    });
    expect(f.requestsTo(/^aws\/sts\//)[0]).toMatchObject({
      method: "POST",
      path: `aws/sts/agent-safe-${hexId}`,
      body: {
        ttl: "1000s",
        role_arn: "arn:aws:iam::123456789012:role/agent-safe-base",
        role_session_name: "agent-safe-0123456789abcdef",
      },
    });
    expect(c.payload).toEqual({
      access_key_id: expect.stringMatching(/^ASIA/),
      secret_access_key: expect.any(String),
      session_token: expect.any(String),
    });
    expect(c.enforcement).toBe("request");
    expect(c.renewable).toBe(false);
    await vault.revoke(c);
    expect(f.deletedRoles).toEqual([`aws/roles/agent-safe-${hexId}`]);
    expect(f.awsRoles.size).toBe(0);
  });

  it("AWS IAM user: inline policy plus the permissions boundary", async () => {
    const f = await fixture({ awsIamUserLeaseSeconds: 300 });
    const vault = hashicorp(f.url, {
      aws: {
        engine: "aws",
        role: "as",
        scope: "request",
        permissions_boundary_arn: "arn:aws:iam::123456789012:policy/boundary",
      },
    });
    const s3 = {
      type: "aws",
      fields: { actions: ["s3:DeleteObject"], resources: ["arn:aws:s3:::b/k"] },
      ttl: 300,
    };
    const c = await vault.getCredential(s3, ticket(), 300);
    expect(f.roleWrites[0]?.body).toMatchObject({
      credential_type: "iam_user",
      permissions_boundary_arn: "arn:aws:iam::123456789012:policy/boundary",
    });
    expect(f.requestsTo(/^aws\/creds\//)[0]?.path).toBe(`aws/creds/as-${c.credential_id.slice(5)}`);
    // A rendered scope without resources is limited to its actions on "*".
    await vault.getCredential(
      { type: "aws", fields: { actions: ["ecs:StopTask"] }, ttl: 300 },
      ticket(),
      300,
    );
    expect(JSON.parse(String(f.roleWrites[1]?.body.policy_document)).Statement[0].Resource).toEqual(["*"]);
    // Fields the engine cannot enforce are refused, not dropped.
    await expect(
      vault.getCredential(
        { type: "aws", fields: { actions: ["s3:GetObject"], conditions: {} }, ttl: 300 },
        ticket(),
        300,
      ),
    ).rejects.toThrow("has fields this vault cannot enforce: conditions");
  });

  it("Kubernetes: generated_role_rules from the rendered scope, one allowed namespace", async () => {
    const f = await fixture();
    const vault = hashicorp(f.url, { kubernetes: { ...K8S_ROLE, scope: "request" } });
    const c = await vault.getCredential(K8S_SCOPE, ticket(), 120);
    const name = `agent-safe-${c.credential_id.slice(5)}`;
    expect(f.roleWrites[0]).toEqual({
      path: `kubernetes/roles/${name}`,
      body: {
        allowed_kubernetes_namespaces: ["payments"],
        generated_role_rules: JSON.stringify({
          rules: [{ apiGroups: [""], resources: ["secrets"], verbs: ["get"] }],
        }),
        kubernetes_role_type: "Role",
        token_default_ttl: 120,
        token_max_ttl: 120,
      },
    });
    expect(f.requestsTo(/^kubernetes\/creds\//)[0]?.path).toBe(`kubernetes/creds/${name}`);
    await vault.revoke(c);
    expect(f.leases.get(c.lease_id!)?.revoked).toBe(true);
    expect(f.deletedRoles).toEqual([`kubernetes/roles/${name}`]);
  });

  it("deletes the per-request role when issuing fails", async () => {
    const f = await fixture();
    f.failNext(500, ["internal error"], /^kubernetes\/creds\//);
    const vault = hashicorp(f.url, { kubernetes: { ...K8S_ROLE, scope: "request" } });
    await expect(vault.getCredential(K8S_SCOPE, ticket(), 120)).rejects.toThrow(/internal error/);
    expect(f.deletedRoles).toHaveLength(1);
    expect(f.k8sRoles.size).toBe(0);
  });
});

describe("TTLs and leases", () => {
  it("asks for min(ttl, ticket time left), and refuses an expired ticket without calling Vault", async () => {
    const f = await fixture({ k8sRoles: { "agent-safe": { allowed_kubernetes_namespaces: ["*"] } } });
    const vault = hashicorp(f.url, { kubernetes: K8S_ROLE });
    await vault.getCredential(
      K8S_SCOPE,
      { ...ticket(), expires_at: new Date(Date.now() + 45_500).toISOString() },
      120,
    );
    expect(f.requestsTo(/creds/)[0]?.body).toMatchObject({ ttl: "45s" });
    const n = f.requests.length;
    await expect(vault.getCredential(K8S_SCOPE, ticket(-1), 120)).rejects.toMatchObject({ code: "lifetime" });
    expect(f.requests).toHaveLength(n);
  });

  it("revokes and refuses a lease longer than the ticket allows (enforce_ttl), or records it when off", async () => {
    const f = await fixture({
      awsRoles: { "agent-safe-ec2": { credential_type: "iam_user" } },
      awsIamUserLeaseSeconds: 3600,
    });
    const strict = hashicorp(f.url, { aws: AWS_ROLE });
    await expect(strict.getCredential(EC2_SCOPE, ticket(), 300)).rejects.toThrow(
      /Vault issued a 3600 s lease \(aws\/creds\/agent-safe-ec2\), longer than the 300 s the ticket allows; it was revoked/,
    );
    expect(f.activeLeases()).toHaveLength(0);
    const lenient = hashicorp(f.url, { aws: AWS_ROLE }, { enforce_ttl: false });
    const c = await lenient.getCredential(EC2_SCOPE, ticket(), 300);
    expect(Date.parse(c.expires_at) - Date.now()).toBeGreaterThan(3500_000);
    expect(c.metadata.lease_duration).toBe("3600");
  });

  it("renews a lease, never past the ticket's expiry", async () => {
    const f = await fixture({
      awsRoles: { "agent-safe-ec2": { credential_type: "iam_user" } },
      awsIamUserLeaseSeconds: 30,
    });
    const vault = hashicorp(f.url, { aws: AWS_ROLE });
    const t = { ...ticket(), expires_at: new Date(Date.now() + 90_000).toISOString() };
    const c = await vault.getCredential(EC2_SCOPE, t, 300);
    expect(c.renewable).toBe(true);
    const renewed = await vault.renew(c, 600);
    const sent = f.requestsTo(/^sys\/leases\/renew$/)[0]?.body as { lease_id: string; increment: number };
    expect(sent.lease_id).toBe(c.lease_id);
    expect(sent.increment).toBeGreaterThanOrEqual(88);
    expect(sent.increment).toBeLessThanOrEqual(90);
    expect(renewed.credential_id).toBe(c.credential_id);
    expect(renewed.payload).toEqual(c.payload);
    expect(Date.parse(renewed.expires_at)).toBeLessThanOrEqual(Date.parse(t.expires_at));
    // At the ticket's expiry a renewal is refused.
    const clock = testClock(Date.now() + 91_000);
    const late = hashicorp(f.url, { aws: AWS_ROLE }, {}, { clock: clock.now });
    await expect(late.renew(c)).rejects.toThrow(/has reached its ticket's expiry; it cannot be renewed/);
  });
});
