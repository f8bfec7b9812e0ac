// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${ENV} references and IAM policy variables are what these tests are about
/** The HashiCorp Vault client against the loopback fixture: AppRole, token renewal, failures, TLS. */
import { spawnSync } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { buildVault, type CredentialVaultError, type HashiCorpVault } from "../../src/credentials/index.js";
import { testClock } from "../helpers/tokens.js";
import { hashicorp, ROOT_TOKEN } from "./helpers.js";
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
const _EC2_SCOPE = {
  type: "aws",
  fields: {
    actions: ["ec2:RebootInstances", "ec2:DescribeInstances"],
    resources: ["arn:aws:ec2:eu-west-1:*:instance/i-0abc"],
  },
  ttl: 300,
};
const _K8S_SCOPE = {
  type: "kubernetes",
  fields: { verbs: ["get"], resources: ["secrets"], namespaces: ["payments"], api_groups: [""] },
  ttl: 120,
};

describe("AppRole and token renewal", () => {
  it("logs in with AppRole (secrets from files and ${ENV}) and uses the client token", async () => {
    const f = await fixture({
      approle: { role_id: "role-id-123", secret_id: "secret-id-456", token_ttl: 600 },
      kv: { "secret/x": { password: "kv-secret-value" } },
    });
    const dir = mkdtempSync(join(tmpdir(), "agent-safe-approle-"));
    writeFileSync(join(dir, "role_id"), "role-id-123\n");
    chmodSync(join(dir, "role_id"), 0o600);
    const vault = buildVault(
      {
        type: "hashicorp",
        address: f.url,
        auth: { method: "approle", role_id: "role_id", secret_id: "${SECRET_ID}" },
        roles: { db: { engine: "kv", path: "x" } },
      },
      { root: dir, env: { SECRET_ID: "secret-id-456" } },
    ) as HashiCorpVault;
    await vault.getCredential({ type: "db", fields: {}, ttl: 60 }, ticket(), 60);
    const login = f.requestsTo(/^auth\/approle\/login$/);
    expect(login).toHaveLength(1);
    expect(login[0]).toMatchObject({
      method: "POST",
      token: null,
      body: { role_id: "role-id-123", secret_id: "secret-id-456" },
    });
    const read = f.requestsTo(/^secret\/data\/x$/)[0]!;
    expect(read.token).toMatch(/^hvs\.approle-/);
    expect(vault.auth.stats.logins).toBe(1);
    // A role_id file others can read is refused.
    chmodSync(join(dir, "role_id"), 0o644);
    const loose = buildVault(
      {
        type: "hashicorp",
        address: f.url,
        auth: { method: "approle", role_id: "role_id", secret_id: "${S}" },
        roles: {},
      },
      { root: dir, env: { S: "x" } },
    ) as HashiCorpVault;
    await expect(loose.health()).rejects.toThrow(/role_id: .* is accessible by others/);
  });

  it("renews its own token (renew-self) when a third of its TTL is left", async () => {
    const f = await fixture({
      tokens: { "hvs.short": { ttl: 90 } },
      kv: { "secret/x": { v: "kv-value-1" } },
    });
    const clock = testClock(Date.now());
    const vault = hashicorp(
      f.url,
      { db: { engine: "kv", path: "x" } },
      { auth: { method: "token", token: "${T}" } },
      { env: { T: "hvs.short" }, clock: clock.now },
    );
    await vault.getCredential({ type: "db", fields: {}, ttl: 60 }, ticket(60), 60);
    expect(f.requestsTo(/renew-self/)).toHaveLength(0);
    clock.advance(70);
    await vault.getCredential({ type: "db", fields: {}, ttl: 60 }, ticket(60), 60);
    expect(f.requestsTo(/^auth\/token\/renew-self$/)).toHaveLength(1);
    expect(vault.auth.stats.renewals).toBe(1);
  });

  it("logs in again when an AppRole token is rejected or cannot be renewed", async () => {
    const f = await fixture({
      approle: { role_id: "r", secret_id: "s", token_ttl: 90, renewable: false },
      kv: { "secret/x": { v: "kv-value-2" } },
    });
    const clock = testClock(Date.now());
    const vault = hashicorp(
      f.url,
      { db: { engine: "kv", path: "x" } },
      { auth: { method: "approle", role_id: "${R}", secret_id: "${S}" } },
      { env: { R: "r", S: "s" }, clock: clock.now },
    );
    const scope = { type: "db", fields: {}, ttl: 60 };
    await vault.getCredential(scope, ticket(60), 60);
    clock.advance(70); // not renewable: a new login
    await vault.getCredential(scope, ticket(60), 60);
    expect(vault.auth.stats.logins).toBe(2);
    // Vault revoked the token behind our back: one 403, one re-login, one retry.
    const current = f.requestsTo(/^secret\/data\/x$/).at(-1)!.token!;
    f.expireToken(current);
    await vault.getCredential(scope, ticket(60), 60);
    expect(vault.auth.stats.logins).toBe(3);
    await expect(
      hashicorp(
        f.url,
        {},
        { auth: { method: "approle", role_id: "${R}", secret_id: "${S}" } },
        { env: { R: "r", S: "wrong" } },
      ).health(),
    ).rejects.toThrow("Vault AppRole login failed: invalid role or secret ID");
  });
});

describe("failures are clear, typed, and never carry the token", () => {
  it("unreachable, timeout, rejected token, sealed, redirect", async () => {
    const f = await fixture({ kv: { "secret/x": { v: "kv-value-3" } } });
    const scope = { type: "db", fields: {}, ttl: 60 };
    const roles = { db: { engine: "kv", path: "x" } };
    const errors: CredentialVaultError[] = [];
    const attempt = async (vault: HashiCorpVault) => {
      try {
        await vault.getCredential(scope, ticket(), 60);
      } catch (err) {
        errors.push(err as CredentialVaultError);
        return (err as Error).message;
      }
      throw new Error("expected a failure");
    };
    expect(
      await attempt(hashicorp(f.url, roles, {}, { env: { VAULT_TOKEN: "hvs.wrong-token-value" } })),
    ).toBe("Vault rejected the configured token (lookup-self): permission denied");
    f.delayMs = 3000;
    expect(await attempt(hashicorp(f.url, roles, { timeout_seconds: 0.3 }))).toMatch(
      /^Vault did not answer within 0\.3 s \(GET \/v1\/auth\/token\/lookup-self at http:\/\/127\.0\.0\.1:\d+\)$/,
    );
    f.delayMs = 0;
    f.failNext(307, [], /^secret\//);
    expect(await attempt(hashicorp(f.url, roles))).toMatch(/redirect \(307\).*not followed/);
    f.sealed = true;
    await expect(hashicorp(f.url, roles).health()).rejects.toThrow(/is not serving: sealed/);
    const url = f.url;
    await f.close();
    fixtures.splice(fixtures.indexOf(f), 1);
    expect(await attempt(hashicorp(url, roles))).toMatch(/^Vault unreachable at http:\/\/127\.0\.0\.1:\d+: /);
    for (const e of errors) {
      expect(e.code).toBe("vault");
      expect(e.message).not.toContain(ROOT_TOKEN);
      expect(e.message).not.toContain("hvs.wrong-token-value");
    }
  });

  it("trusts Vault's certificate only through ca_file (https via node:https)", async (ctx) => {
    const dir = mkdtempSync(join(tmpdir(), "agent-safe-tls-"));
    const gen = spawnSync(
      "openssl",
      [
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "1",
        "-subj",
        "/CN=127.0.0.1",
        "-addext",
        "subjectAltName=IP:127.0.0.1",
        "-keyout",
        join(dir, "key.pem"),
        "-out",
        join(dir, "cert.pem"),
      ],
      { encoding: "utf8" },
    );
    if (gen.status !== 0) ctx.skip();
    const tls = {
      key: readFileSync(join(dir, "key.pem"), "utf8"),
      cert: readFileSync(join(dir, "cert.pem"), "utf8"),
    };
    const f = await fixture({ tls, kv: { "secret/x": { v: "tls-kv-value" } } });
    const roles = { db: { engine: "kv", path: "x" } };
    const scope = { type: "db", fields: {}, ttl: 60 };
    const trusted = hashicorp(f.url, roles, { ca_file: "cert.pem" }, { root: dir });
    expect((await trusted.getCredential(scope, ticket(), 60)).payload).toEqual({ v: "tls-kv-value" });
    await expect(hashicorp(f.url, roles).getCredential(scope, ticket(), 60)).rejects.toThrow(
      /Vault unreachable at https:/,
    );
  });
});
