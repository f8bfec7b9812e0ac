/**
 * `credential resolve|test-vault` as real processes (needs the build) against the loopback Vault
 * fixture. Every run's stdout, stderr, audit log and shipped copy are grepped for every secret
 * the fixture issued and for the Vault token (THREATS T9).
 */
import { randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ed25519TokenKeys } from "../../src/jwt/config.js";
import { KeyStore } from "../../src/keys/keystore.js";
import { TicketIssuer } from "../../src/tickets/issuer.js";
import { VaultFixture } from "../credentials/vault-fixture.js";
import { type CliResult, cliAsync, ROOT, tempDir } from "../helpers/cli.js";
import { shippedWorld } from "../helpers/world.js";

const TOKEN = "hvs.cli-test-root-token-0123456789";
let fixture: VaultFixture;
beforeAll(async () => {
  fixture = await VaultFixture.start({
    tokens: { [TOKEN]: { ttl: 0 } },
    // Shorter than the tickets (300 s): with enforce_ttl, a longer IAM-user lease is refused.
    awsIamUserLeaseSeconds: 120,
    k8sRoles: { "agent-safe": { allowed_kubernetes_namespaces: ["payments"] } },
  });
});
afterAll(async () => {
  await fixture.close();
});

function project(address = fixture.url, extra = "") {
  const dir = tempDir("agent-safe-cli-cred-");
  const keysDir = join(dir, ".agent-safe", "keys");
  mkdirSync(keysDir, { recursive: true });
  const store = new KeyStore(keysDir);
  store.generate("ticket-signing");
  writeFileSync(join(keysDir, "redaction.key"), randomBytes(32).toString("hex"));
  chmodSync(join(keysDir, "redaction.key"), 0o600);
  writeFileSync(
    join(dir, "agent-safe.yaml"),
    [
      `actions: ${join(ROOT, "actions")}`,
      `policies: ${join(ROOT, "policies")}`,
      "inventory: null",
      "keys:",
      "  dir: .agent-safe/keys",
      "audit:",
      "  path: audit.jsonl",
      "  shippers:",
      "    - type: filesystem",
      "      path: shipped.jsonl",
      "credentials:",
      "  type: hashicorp",
      `  address: ${address}`,
      "  auth:",
      "    method: token",
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a ${ENV} reference in agent-safe.yaml
      "    token: ${VAULT_TOKEN}",
      "  timeout_seconds: 2",
      "  roles:",
      "    aws:",
      "      engine: aws",
      "      role: agent-safe",
      "      scope: request",
      "    kubernetes:",
      "      engine: kubernetes",
      "      role: agent-safe",
      extra,
      "",
    ].join("\n"),
  );
  const mint = (action: string, target: string, params: Record<string, unknown>, ageSeconds = 0) => {
    const keys = ed25519TokenKeys(store, {}, { refreshMs: 0 });
    const at = Date.now() - ageSeconds * 1000;
    return new TicketIssuer(keys.tickets, keys.settings, { clock: () => at }).issue({
      decision: { result: "allow", action, target, caller: "deploy-bot", audit_id: "evt-0123456789ab" },
      params,
      actionDef: shippedWorld().actions.get(action)!.def,
    });
  };
  const run = async (args: string[]): Promise<CliResult> => {
    const r = await cliAsync(args, { cwd: dir, env: { VAULT_TOKEN: TOKEN } });
    leakCheck(dir, r);
    return r;
  };
  return { dir, mint, run };
}

/** No issued secret and no Vault token in the output, the audit log or the shipped copy. */
function leakCheck(dir: string, r: CliResult, allowStdout = false): void {
  const files = ["audit.jsonl", "shipped.jsonl"].map((f) => join(dir, f)).filter((p) => existsSync(p));
  const texts = [r.stderr, ...files.map((p) => readFileSync(p, "utf8"))];
  if (!allowStdout) texts.push(r.stdout);
  for (const text of texts) {
    expect(text).not.toContain(TOKEN);
    for (const s of fixture.issuedSecrets()) expect(text).not.toContain(s);
  }
}

const EC2 = { instance_id: "i-0abc123", region: "eu-west-1" };

describe("credential resolve", () => {
  it("prints metadata only, audits the issuance, and the credential is scoped by the rendered template", async () => {
    const p = project();
    const t = p.mint("ec2-reboot-instance", "aws/i-0abc123", EC2);
    const writes = fixture.roleWrites.length;
    const r = await p.run([
      "credential",
      "resolve",
      t.token,
      "--action",
      "ec2-reboot-instance",
      "--target",
      "aws/i-0abc123",
      "--params",
      JSON.stringify(EC2),
    ]);
    expect(r.code).toBe(0);
    const id = /id: {6}(cred-[0-9a-f]{12})/.exec(r.stdout)?.[1];
    expect(id).toBeDefined();
    expect(r.stdout).toBe(
      [
        "OK — credential resolved for ec2-reboot-instance",
        `  id:      ${id}`,
        "  type:    aws",
        `  expires: ${/expires: (\S+)/.exec(r.stdout)?.[1]}`,
        `  lease:   ${/lease: {3}(\S+)/.exec(r.stdout)?.[1]}`,
        "  scope:   enforced by a Vault role written from the rendered scope",
        `  nonce:   ${t.nonce}`,
        "",
      ].join("\n"),
    );
    expect(r.stdout).toMatch(/lease: {3}aws\/creds\/agent-safe-[0-9a-f]{12}\//);
    const write = fixture.roleWrites[writes]!;
    expect(write.path).toBe(`aws/roles/agent-safe-${id!.slice(5)}`);
    expect(JSON.parse(String(write.body.policy_document)).Statement[0]).toEqual({
      Effect: "Allow",
      Action: ["ec2:RebootInstances", "ec2:DescribeInstances"],
      Resource: ["arn:aws:ec2:eu-west-1:*:instance/i-0abc123"],
    });
    const events = readFileSync(join(p.dir, "audit.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    const event = events.find((e) => e.event_type === "credential");
    expect(event).toMatchObject({
      action: "ec2-reboot-instance",
      target: "aws/i-0abc123",
      caller: "deploy-bot",
      decision: "allow",
      reason: `Credential issued: ${id}`,
      correlation_id: "evt-0123456789ab",
      context: {
        via: "cli",
        code: "ok",
        ticket_redeemed: true,
        credential: { credential_id: id, payload: "[REDACTED]" },
      },
    });
    // Replayed: refused, audited, no second credential.
    const again = await p.run(["credential", "resolve", t.token]);
    expect(again.code).toBe(1);
    expect(again.stdout).toBe("INVALID TICKET — Ticket has already been used (replay detected)\n");
    expect(fixture.roleWrites.length).toBe(writes + 1);
  });

  it("--json: metadata with the payload redacted; exit 1 on refusal", async () => {
    const p = project();
    const t = p.mint("get-secret", "prod/db", { namespace: "payments", secret: "db" });
    const r = await p.run(["credential", "resolve", t.token, "--json"]);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out).toMatchObject({
      success: true,
      code: "ok",
      action: "get-secret",
      ticket_redeemed: true,
      credential: {
        type: "kubernetes",
        payload: "[REDACTED]",
        enforcement: "vault-role",
        metadata: { namespace: "payments", vault_path: "kubernetes/creds/agent-safe" },
        scope: { fields: { namespaces: ["payments"], verbs: ["get"], resources: ["secrets"] } },
      },
    });
    expect(fixture.requestsTo(/^kubernetes\/creds\//).at(-1)?.body).toMatchObject({
      kubernetes_namespace: "payments",
    });
    const bad = await p.run(["credential", "resolve", t.token, "--json"]);
    expect(bad.code).toBe(1);
    expect(JSON.parse(bad.stdout)).toMatchObject({ success: false, code: "ticket", credential: null });
  });

  it("refuses another action or target and an expired ticket, without asking Vault", async () => {
    const p = project();
    const before = fixture.requests.length;
    const t = p.mint("ec2-reboot-instance", "aws/i-0abc123", EC2);
    const action = await p.run(["credential", "resolve", t.token, "--action", "ec2-terminate-instance"]);
    expect(action.code).toBe(1);
    expect(action.stdout).toBe(
      "INVALID TICKET — Action mismatch: ticket is for 'ec2-reboot-instance', expected 'ec2-terminate-instance'\n",
    );
    const target = await p.run(["credential", "resolve", t.token, "--target", "aws/i-other"]);
    expect(target.stdout).toBe(
      "INVALID TICKET — Target mismatch: ticket is for 'aws/i-0abc123', expected 'aws/i-other'\n",
    );
    const old = p.mint("ec2-reboot-instance", "aws/i-0abc123", EC2, 600);
    const expired = await p.run(["credential", "resolve", old.token]);
    expect(expired.code).toBe(1);
    expect(expired.stdout).toBe("INVALID TICKET — Ticket has expired\n");
    expect(fixture.requests.length).toBe(before);
    const audit = readFileSync(join(p.dir, "audit.jsonl"), "utf8");
    expect(audit.match(/"event_type":"credential"/g)).toHaveLength(3);
    expect(audit).toContain("Credential refused: Ticket has expired");
  });

  it("an unreachable Vault: FAILED, exit 1, no credential", async () => {
    const port = await new Promise<number>((resolve) => {
      const s = createServer().listen(0, "127.0.0.1", () => {
        const n = (s.address() as { port: number }).port;
        s.close(() => resolve(n));
      });
    });
    const p = project(`http://127.0.0.1:${port}`);
    const r = await p.run([
      "credential",
      "resolve",
      p.mint("ec2-reboot-instance", "aws/i-0abc123", EC2).token,
    ]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(
      new RegExp(
        `^FAILED — Vault error: Vault unreachable at http://127\\.0\\.0\\.1:${port}: connect ECONNREFUSED`,
      ),
    );
  });

  it("--show-secret prints the secret to stdout only, with a warning on stderr", async () => {
    const p = project();
    const r = await cliAsync(
      [
        "credential",
        "resolve",
        p.mint("get-secret", "prod/db", { namespace: "payments", secret: "db" }).token,
        "--show-secret",
      ],
      { cwd: p.dir, env: { VAULT_TOKEN: TOKEN } },
    );
    leakCheck(p.dir, r, true);
    expect(r.code).toBe(0);
    const token = /^ {4}token: (\S+)$/m.exec(r.stdout)?.[1];
    expect(fixture.issuedSecrets()).toContain(token);
    expect(r.stderr).toMatch(/warning: --show-secret: the credential's secret is printed in clear/);
  });

  it("--vault-cred is for the env vault only; malformed values are not echoed", async () => {
    const p = project();
    const t = p.mint("ec2-reboot-instance", "aws/i-0abc123", EC2).token;
    const mixed = await p.run(["credential", "resolve", t, "--vault-cred", "aws=AKIAFROMCLI"]);
    expect(mixed.code).toBe(2);
    expect(mixed.stderr).toContain("--vault-cred supplies env-vault credentials");
    const bad = await p.run(["credential", "test-vault", "--vault-cred", "justasecretvalue"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).not.toContain("justasecretvalue");
  });
});

describe("credential test-vault", () => {
  it("authenticates, issues a 60 s credential and revokes it", async () => {
    const p = project(fixture.url, "  renew_token: false");
    const before = new Set(fixture.leases.keys());
    const r = await p.run(["credential", "test-vault", "--scope", '{"namespaces": ["payments"]}']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(
      /^OK — vault returned credential: cred-[0-9a-f]{12}\n {2}vault: {3}http:\/\/127\.0\.0\.1:\d+ \(Vault 1\.17\.0\+fixture\)\n {2}type: {4}kubernetes\n {2}expires: \S+\n {2}lease: {3}kubernetes\/creds\/agent-safe\/\S+\n {2}revoke: {2}OK\n$/,
    );
    const created = [...fixture.leases.values()].filter((l) => !before.has(l.lease_id));
    expect(created).toHaveLength(1);
    expect(created[0]).toMatchObject({ path: "kubernetes/creds/agent-safe", ttl: 60, revoked: true });
    // IAM-user leases are the mount's (120 s here), whatever is asked: a 60 s test is refused.
    const short = await p.run(["credential", "test-vault", "--cred-type", "aws"]);
    expect(short.code).toBe(1);
    expect(short.stdout).toMatch(
      /^FAILED — Vault issued a 120 s lease .* longer than the 60 s the ticket allows; it was revoked/,
    );
    const aws = await p.run(["credential", "test-vault", "--cred-type", "aws", "--ttl", "120", "--json"]);
    expect(aws.code).toBe(0);
    expect(JSON.parse(aws.stdout)).toMatchObject({
      ok: true,
      revoked: true,
      credential: { type: "aws", payload: "[REDACTED]" },
    });
    const none = await p.run(["credential", "test-vault", "--cred-type", "github"]);
    expect(none.code).toBe(1);
    expect(none.stdout).toBe(
      "FAILED — No Vault role configured for credential type 'github' (add credentials.roles.github to agent-safe.yaml)\n",
    );
  });

  it("a rejected token: FAILED, exit 1, the token not shown", async () => {
    const p = project();
    const r = await cliAsync(["credential", "test-vault"], {
      cwd: p.dir,
      env: { VAULT_TOKEN: "hvs.not-a-valid-token" },
    });
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("FAILED — Vault rejected the configured token (lookup-self): permission denied\n");
    expect(r.stdout + r.stderr).not.toContain("hvs.not-a-valid-token");
  });
});
