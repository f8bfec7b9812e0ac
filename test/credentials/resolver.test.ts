/**
 * The resolver (issue 5 acceptance, THREATS T1): the Vault fixture issues AWS and Kubernetes
 * credentials scoped by the rendered template; a ticket for another action or target, an expired
 * ticket, a replayed ticket and an unreachable Vault each yield no credential and a clear error;
 * leases are revoked after use.
 */
import { createServer } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import {
  CredentialResolver,
  type CredentialVault,
  credentialsRequired,
  EnvVarVault,
  ResolverCredentialProvider,
} from "../../src/credentials/index.js";
import { AWS_ROLE, hashicorp, K8S_ROLE, ROOT_TOKEN, registry, type TicketKit, ticketKit } from "./helpers.js";
import { VaultFixture } from "./vault-fixture.js";

const fixtures: VaultFixture[] = [];
afterEach(async () => {
  for (const f of fixtures.splice(0)) await f.close();
});

async function setup(options: { scope?: "role" | "request"; profile?: "strict" | "reference" } = {}) {
  const f = await VaultFixture.start({
    tokens: { [ROOT_TOKEN]: { ttl: 0 } },
    awsRoles: { "agent-safe-ec2": { credential_type: "iam_user" } },
    awsIamUserLeaseSeconds: 120,
    k8sRoles: { "agent-safe": { allowed_kubernetes_namespaces: ["payments", "dev"] } },
  });
  fixtures.push(f);
  const scope = options.scope ?? "role";
  const vault = hashicorp(f.url, {
    aws: { ...AWS_ROLE, scope, ...(scope === "request" ? { role: "as" } : {}) },
    kubernetes: { ...K8S_ROLE, scope },
  });
  const kit = ticketKit();
  return { f, vault, kit, resolver: resolverFor(kit, vault, options.profile) };
}

function resolverFor(kit: TicketKit, vault: CredentialVault, profile: "strict" | "reference" = "strict") {
  return new CredentialResolver({
    validator: kit.validator,
    nonces: kit.nonces,
    vault,
    actions: (name) => registry().actions.get(name)?.def,
    strictTemplates: profile === "strict",
  });
}

const EC2 = { instance_id: "i-0abc123", region: "eu-west-1" };
const EC2_EXPECT = {
  expectedAction: "ec2-reboot-instance",
  expectedTarget: "aws/i-0abc123",
  expectedParams: EC2,
};

describe("credentials scoped by the rendered template", () => {
  it("AWS: the per-request Vault role carries the rendered policy; revoked after use", async () => {
    const { f, kit, resolver } = await setup({ scope: "request" });
    const t = kit.mint("ec2-reboot-instance", "aws/i-0abc123", EC2);
    const r = await resolver.resolve(t.token, EC2_EXPECT);
    expect(r).toMatchObject({
      success: true,
      code: "ok",
      error: null,
      action: "ec2-reboot-instance",
      target: "aws/i-0abc123",
      ticket_nonce: t.nonce,
      redeemed: true,
    });
    const c = r.credential!;
    expect(r.ticket?.params).toEqual(EC2);
    expect(c.scope).toEqual({
      type: "aws",
      fields: {
        actions: ["ec2:RebootInstances", "ec2:DescribeInstances"],
        resources: ["arn:aws:ec2:eu-west-1:*:instance/i-0abc123"],
      },
      ttl: 300,
    });
    const policy = JSON.parse(String(f.roleWrites[0]?.body.policy_document));
    expect(policy.Statement[0].Resource).toEqual(["arn:aws:ec2:eu-west-1:*:instance/i-0abc123"]);
    expect(policy.Statement[0].Action).toEqual(["ec2:RebootInstances", "ec2:DescribeInstances"]);
    // The credential lives no longer than the ticket.
    expect(Date.parse(c.expires_at)).toBeLessThanOrEqual(Date.parse(t.expires_at));
    expect(f.activeLeases()).toHaveLength(1);
    expect(await resolver.revoke(c)).toEqual({ revoked: true, warning: null });
    expect(f.activeLeases()).toHaveLength(0);
    expect(f.awsRoles.size).toBe(1); // only the pre-configured one: the per-request role is gone
    // The ticket is spent: the runner must not (and cannot) redeem it again.
    expect((await kit.validator.redeem(t.token, EC2_EXPECT)).code).toBe("replay");
  });

  it("Kubernetes: kubernetes_namespace and the rules come from the ticket's params", async () => {
    const { f, kit, resolver } = await setup();
    const params = { namespace: "payments", deployment: "api", replicas: 3 };
    const t = kit.mint("scale-deployment", "prod/api", params);
    const r = await resolver.resolve(t.token, { expectedAction: "scale-deployment", expectedParams: params });
    expect(r.success).toBe(true);
    expect(f.requestsTo(/^kubernetes\/creds\//)[0]).toMatchObject({
      path: "kubernetes/creds/agent-safe",
      body: { kubernetes_namespace: "payments", ttl: expect.stringMatching(/^(299|300)s$/) },
    });
    expect(r.credential?.scope.fields).toEqual({
      verbs: ["get", "patch"],
      resources: ["deployments", "deployments/scale"],
      namespaces: ["payments"],
      api_groups: ["apps"],
    });
    await resolver.revoke(r.credential!);
    expect(f.leases.get(r.credential!.lease_id!)?.revoked).toBe(true);
  });

  it("withCredential revokes after use, even when the execution throws", async () => {
    const { f, kit, resolver } = await setup();
    const t = kit.mint("get-pod-logs", "dev/api", { namespace: "dev", pod: "api-1" });
    await expect(
      resolver.withCredential(t.token, { expectedAction: "get-pod-logs" }, async (c) => {
        expect(c.payload.token).toMatch(/^eyJ/);
        throw new Error("executor failed");
      }),
    ).rejects.toThrow("executor failed");
    expect(f.leases.size).toBe(1);
    expect(f.activeLeases()).toHaveLength(0);
  });
});

describe("no credential, and a clear error", () => {
  it("for a ticket for another action or target — the vault is never asked, nothing is consumed", async () => {
    const { f, kit, resolver } = await setup();
    const t = kit.mint("ec2-reboot-instance", "aws/i-0abc123", EC2);
    const other = await resolver.resolve(t.token, {
      ...EC2_EXPECT,
      expectedAction: "ec2-terminate-instance",
    });
    expect(other).toMatchObject({
      success: false,
      code: "ticket",
      ticket_code: "action_mismatch",
      error: "Action mismatch: ticket is for 'ec2-reboot-instance', expected 'ec2-terminate-instance'",
      credential: null,
      redeemed: false,
    });
    const target = await resolver.resolve(t.token, { ...EC2_EXPECT, expectedTarget: "aws/i-other" });
    expect(target.error).toBe("Target mismatch: ticket is for 'aws/i-0abc123', expected 'aws/i-other'");
    const params = await resolver.resolve(t.token, {
      ...EC2_EXPECT,
      expectedParams: { ...EC2, instance_id: "i-x" },
    });
    expect(params.ticket_code).toBe("params_mismatch");
    expect(f.requests).toHaveLength(0);
    expect((await resolver.resolve(t.token, EC2_EXPECT)).success).toBe(true);
  });

  it("for an expired ticket", async () => {
    const { f, kit, resolver } = await setup();
    const t = kit.mint("ec2-reboot-instance", "aws/i-0abc123", EC2, { ageSeconds: 600 });
    const r = await resolver.resolve(t.token, EC2_EXPECT);
    expect(r).toMatchObject({
      success: false,
      ticket_code: "expired",
      error: "Ticket has expired",
      credential: null,
    });
    expect(f.requests).toHaveLength(0);
  });

  it("for a replayed ticket: resolved twice, or redeemed by the runner first", async () => {
    const { f, kit, resolver } = await setup();
    const t = kit.mint("ec2-reboot-instance", "aws/i-0abc123", EC2);
    expect((await resolver.resolve(t.token, EC2_EXPECT)).success).toBe(true);
    const again = await resolver.resolve(t.token, EC2_EXPECT);
    expect(again).toMatchObject({
      success: false,
      ticket_code: "replay",
      error: "Ticket has already been used (replay detected)",
      credential: null,
    });
    const u = kit.mint("ec2-reboot-instance", "aws/i-0abc123", EC2);
    expect((await kit.validator.redeem(u.token, EC2_EXPECT)).redeemed).toBe(true);
    expect((await resolver.resolve(u.token, EC2_EXPECT)).ticket_code).toBe("replay");
    expect(f.requestsTo(/creds/)).toHaveLength(1);
    // Concurrent resolutions of one ticket: exactly one credential.
    const w = kit.mint("ec2-reboot-instance", "aws/i-0abc123", EC2);
    const results = await Promise.all(Array.from({ length: 8 }, () => resolver.resolve(w.token, EC2_EXPECT)));
    expect(results.filter((r) => r.success)).toHaveLength(1);
    expect(f.requestsTo(/creds/)).toHaveLength(2);
  });

  it("for an unreachable Vault (the ticket is then spent: fail closed)", async () => {
    const port = await new Promise<number>((resolve) => {
      const s = createServer().listen(0, "127.0.0.1", () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => resolve(p));
      });
    });
    const kit = ticketKit();
    const vault = hashicorp(`http://127.0.0.1:${port}`, { aws: AWS_ROLE });
    const resolver = resolverFor(kit, vault);
    const t = kit.mint("ec2-reboot-instance", "aws/i-0abc123", EC2);
    const r = await resolver.resolve(t.token, EC2_EXPECT);
    expect(r).toMatchObject({ success: false, code: "vault", credential: null, redeemed: true });
    expect(r.error).toMatch(
      new RegExp(`^Vault error: Vault unreachable at http://127\\.0\\.0\\.1:${port}: connect ECONNREFUSED`),
    );
    expect(r.error).not.toContain(ROOT_TOKEN);
    expect((await resolver.resolve(t.token, EC2_EXPECT)).ticket_code).toBe("replay");
  });

  it("for unknown actions, actions without credentials, and unsafe templates — before spending the ticket", async () => {
    const { f, kit, resolver } = await setup();
    const t = kit.mint("cordon-node", "node-1", { node: "node-1" });
    const none = await resolver.resolve(t.token);
    expect(none).toMatchObject({
      code: "no_credentials",
      error: "Action 'cordon-node' does not declare a credentials block",
    });
    expect((await kit.validator.verify(t.token)).used).toBe(false);
    const blind = new CredentialResolver({
      validator: kit.validator,
      nonces: kit.nonces,
      vault: new EnvVarVault(),
      actions: () => undefined,
    });
    expect((await blind.resolve(t.token)).error).toBe("Action not found in registry: cordon-node");
    const wild = kit.mint("ec2-reboot-instance", "aws/i-0abc123", { instance_id: "*", region: "eu-west-1" });
    const w = await resolver.resolve(wild.token);
    expect(w.code).toBe("template");
    expect(w.error).toContain("Param 'instance_id' cannot be used in credential scope");
    expect((await kit.validator.verify(wild.token)).used).toBe(false);
    expect(f.requests).toHaveLength(0);
  });
});

describe("the runner contract", () => {
  it("resolveRedeemed: after the runner's own redemption, one credential per ticket, ever", async () => {
    const { f, kit, resolver } = await setup();
    const t = kit.mint("ec2-reboot-instance", "aws/i-0abc123", EC2);
    const before = await resolver.resolveRedeemed(t.token, await kit.validator.verify(t.token, EC2_EXPECT));
    expect(before.error).toBe("Not a successful redemption: resolve() redeems the ticket itself");
    const redemption = await kit.validator.redeem(t.token, EC2_EXPECT);
    const r = await resolver.resolveRedeemed(t.token, redemption, EC2_EXPECT);
    expect(r.success).toBe(true);
    const again = await resolver.resolveRedeemed(t.token, redemption, EC2_EXPECT);
    expect(again.error).toBe("A credential was already issued for this ticket (replay detected)");
    expect((await resolver.resolve(t.token, EC2_EXPECT)).ticket_code).toBe("replay");
    // A redemption of another ticket does not unlock this one.
    const u = kit.mint("ec2-reboot-instance", "aws/i-0abc123", EC2);
    const other = await kit.validator.redeem(kit.mint("ec2-reboot-instance", "aws/i-0abc123", EC2).token);
    await kit.validator.redeem(u.token);
    expect((await resolver.resolveRedeemed(u.token, other)).error).toBe(
      "The redemption does not belong to this ticket",
    );
    expect(f.requestsTo(/creds/)).toHaveLength(1);
  });

  it("resolveRedeemed trusts only what the token proves: a doctored ticket object widens nothing", async () => {
    const { kit, resolver } = await setup();
    const t = kit.mint("ec2-reboot-instance", "aws/i-0abc123", EC2);
    const redeemed = (await kit.validator.redeem(t.token)).ticket!;
    // Unchecked params: the token's own are used, not the object's.
    const r = await resolver.resolveRedeemed(t.token, {
      ...redeemed,
      params: { ...EC2, instance_id: "i-victim" },
    });
    expect(r.credential?.scope.fields.resources).toEqual(["arn:aws:ec2:eu-west-1:*:instance/i-0abc123"]);
    // "Checked" params that are not the ticket's: the digest check refuses them.
    const u = kit.mint("ec2-reboot-instance", "aws/i-0abc123", EC2);
    const v = (await kit.validator.redeem(u.token, EC2_EXPECT)).ticket!;
    const forged = await resolver.resolveRedeemed(u.token, {
      ...v,
      params: { ...EC2, instance_id: "i-victim" },
    });
    expect(forged).toMatchObject({ success: false, ticket_code: "params_mismatch", credential: null });
    const other = await resolver.resolveRedeemed(u.token, { ...v, action: "ec2-terminate-instance" });
    expect(other).toMatchObject({ success: false, ticket_code: "action_mismatch" });
  });

  it("ResolverCredentialProvider: the runner's acquire/release after its own redemption", async () => {
    const { f, kit, resolver } = await setup();
    const provider = new ResolverCredentialProvider(resolver);
    const action = registry().actions.get("ec2-reboot-instance")!.def;
    const t = kit.mint("ec2-reboot-instance", "aws/i-0abc123", EC2);
    const redeemed = await kit.validator.redeem(t.token, EC2_EXPECT);
    const c = await provider.acquire(action, redeemed.ticket!, t.token);
    expect(Object.keys(c.payload).sort()).toEqual(["access_key_id", "secret_access_key"]);
    expect(provider.secretsFor(c)).toEqual(c.secrets());
    expect(JSON.stringify({ credential: c })).not.toContain(String(c.payload.secret_access_key));
    await expect(provider.acquire(action, redeemed.ticket!, t.token)).rejects.toThrow(
      "A credential was already issued for this ticket (replay detected)",
    );
    const other = registry().actions.get("ec2-terminate-instance")!.def;
    const u = kit.mint("ec2-reboot-instance", "aws/i-0abc123", EC2);
    const v = await kit.validator.redeem(u.token);
    await expect(provider.acquire(other, v.ticket!, u.token)).rejects.toThrow(/Action mismatch/);
    await provider.release(c);
    expect(f.leases.get(c.lease_id!)?.revoked).toBe(true);
    await expect(provider.release(c)).rejects.toThrow(/Unknown credential/);
  });

  it("required(): an action that declares credentials never runs without one when a vault is configured", async () => {
    const { resolver } = await setup();
    const reboot = registry().actions.get("ec2-reboot-instance")!.def;
    const cordon = registry().actions.get("cordon-node")!.def;
    expect(resolver.required(reboot)).toBe(true);
    expect(resolver.required(cordon)).toBe(false);
    expect(credentialsRequired(reboot, resolver)).toBe(true);
    expect(credentialsRequired(reboot, null)).toBe(false);
  });

  it("reference profile keeps unknown placeholders verbatim (0.9.0); strict refuses", async () => {
    const kit = ticketKit();
    const vault = new EnvVarVault({ env: { AGENT_SAFE_CRED_AWS: "env-token-123" } });
    // s3-delete-object uses params.bucket and params.key; a ticket without `key` (0.9.0 allowed it).
    const params = { bucket: "b", region: "us-east-1" };
    const strict = await resolverFor(kit, vault, "strict").resolve(
      kit.mint("s3-delete-object", "s3/b", params).token,
    );
    expect(strict.error).toBe(
      "Credential scope of type 'aws' references param 'key', which the ticket does not carry",
    );
    const ref = await resolverFor(kit, vault, "reference").resolve(
      kit.mint("s3-delete-object", "s3/b", params).token,
    );
    expect(ref.credential?.scope.fields.resources).toEqual(["arn:aws:s3:::b/{{ params.key }}"]);
    expect(ref.credential?.enforcement).toBe("none");
  });
});
