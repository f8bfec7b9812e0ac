// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${ENV} references and IAM policy variables are what these tests are about
/** REFERENCE.md §9: EnvVarVault and build_vault; and the Credential object's safe faces. */
import { inspect } from "node:util";
import { describe, expect, it } from "vitest";
import {
  buildVault,
  Credential,
  CredentialConfigError,
  CredentialVaultError,
  credentialSecrets,
  EnvVarVault,
  REDACTED,
  scrubSecrets,
} from "../../src/credentials/index.js";

const NOW = Date.parse("2026-03-02T10:00:00Z");
const TICKET = {
  action: "get-secret",
  target: "dev/app",
  nonce: "a".repeat(32),
  expires_at: "2026-03-02T10:05:00Z",
};
const SCOPE = { type: "kubernetes", fields: { verbs: ["get"] }, ttl: 120 };

describe("EnvVarVault", () => {
  it("uses the static map first, exactly by type", async () => {
    const vault = new EnvVarVault({
      credentials: { kubernetes: { token: "static-token-value" } },
      env: { AGENT_SAFE_CRED_KUBERNETES: "env-token-value" },
      clock: () => NOW,
    });
    const c = await vault.getCredential(SCOPE, TICKET, 120);
    expect(c.payload).toEqual({ token: "static-token-value" });
    expect(c.source).toBe("static");
    expect(c.credential_id).toMatch(/^cred-[0-9a-f]{12}$/);
    expect(c.expires_at).toBe("2026-03-02T10:02:00.000Z");
    expect(c.ticket_nonce).toBe(TICKET.nonce);
    expect(c.enforcement).toBe("none");
    expect(c.scope).toEqual(SCOPE);
  });

  it("falls back to <prefix><TYPE upper-cased, '-' → '_'> as {token}", async () => {
    const vault = new EnvVarVault({ env: { X_AWS_PROD: "env-secret-1" }, envPrefix: "X_", clock: () => NOW });
    expect(vault.envVarFor("aws-prod")).toBe("X_AWS_PROD");
    const c = await vault.getCredential({ ...SCOPE, type: "aws-prod" }, TICKET, 300);
    expect(c.payload).toEqual({ token: "env-secret-1" });
    expect(c.source).toBe("env");
  });

  it("errors with 0.9.0's message when nothing is configured", async () => {
    const vault = new EnvVarVault({ env: {}, clock: () => NOW });
    await expect(vault.getCredential(SCOPE, TICKET, 120)).rejects.toThrow(
      new CredentialVaultError(
        "No credential configured for type 'kubernetes'. Set AGENT_SAFE_CRED_KUBERNETES or pass credentials={'kubernetes': {...}} to EnvVarVault().",
      ),
    );
  });

  it("never outlives the ticket, and refuses an expired one", async () => {
    const vault = new EnvVarVault({ env: { AGENT_SAFE_CRED_KUBERNETES: "t0k3n-value" }, clock: () => NOW });
    const c = await vault.getCredential(SCOPE, { ...TICKET, expires_at: "2026-03-02T10:00:30Z" }, 120);
    expect(c.expires_at).toBe("2026-03-02T10:00:30.000Z");
    await expect(
      vault.getCredential(SCOPE, { ...TICKET, expires_at: "2026-03-02T09:59:59Z" }, 120),
    ).rejects.toMatchObject({ code: "lifetime" });
    await expect(vault.renew(c, 600)).resolves.toMatchObject({ expires_at: "2026-03-02T10:00:30.000Z" });
    await vault.revoke(c);
    await expect(vault.renew(c)).rejects.toThrow(/Unknown or revoked credential/);
  });

  it("says it is not scoped", async () => {
    const vault = new EnvVarVault({ env: {} });
    expect(vault.scoped).toBe(false);
    expect((await vault.health()).description).toContain("not scoped: development only");
  });
});

describe("buildVault", () => {
  it("defaults to env with credentials and env_prefix", async () => {
    const vault = buildVault(
      { credentials: { aws: { access_key: "AKIAEXAMPLE" } }, env_prefix: "P_" },
      { env: {} },
    );
    expect(vault).toBeInstanceOf(EnvVarVault);
    expect((vault as EnvVarVault).envVarFor("k")).toBe("P_K");
    expect(buildVault()).toBeInstanceOf(EnvVarVault);
  });

  it("rejects unknown types and unknown keys", () => {
    expect(() => buildVault({ type: "aws" })).toThrow(
      new CredentialConfigError("Unknown vault type: aws. Available: 'env', 'hashicorp'."),
    );
    expect(() => buildVault({ type: "env", bogus: 1 })).toThrow(/Unknown env vault settings: bogus/);
    expect(() => buildVault({ type: "hashicorp", address: "https://v", auth: { method: "token" } })).toThrow(
      /credentials\.auth\.token/,
    );
    expect(() =>
      buildVault({ type: "hashicorp", address: "https://v", auth: { method: "token", token: "t" }, typo: 1 }),
    ).toThrow(CredentialConfigError);
  });

  it("refuses http:// to a remote Vault (the token would travel in clear)", () => {
    const cfg = { type: "hashicorp", auth: { method: "token", token: "${T}" } };
    expect(() => buildVault({ ...cfg, address: "http://vault.example:8200" }, { env: { T: "x" } })).toThrow(
      /http:\/\/ would send the Vault token in clear/,
    );
    expect(() => buildVault({ ...cfg, address: "http://127.0.0.1:8200" }, { env: { T: "x" } })).not.toThrow();
    expect(() =>
      buildVault({ ...cfg, address: "http://vault.example:8200", allow_http: true }, { env: { T: "x" } }),
    ).not.toThrow();
    expect(() => buildVault({ ...cfg, address: "https://u:p@vault.example" }, { env: { T: "x" } })).toThrow(
      /must not carry credentials/,
    );
  });
});

describe("Credential", () => {
  const make = () =>
    new Credential({
      type: "aws",
      payload: { access_key: "AKIAEXAMPLE123", secret_key: "wJalrXUtnFEMI/K7MDENG", nested: { pin: 98765 } },
      expiresAtMs: NOW + 300_000,
      deadlineMs: NOW + 300_000,
      scope: { type: "aws", fields: { actions: ["s3:GetObject"] }, ttl: 300 },
      ticket_nonce: "b".repeat(32),
      lease_id: "aws/creds/x/abc",
      source: "vault:aws/creds",
      enforcement: "vault-role",
    });

  it("never serialises its payload: JSON, spread, structuredClone, inspect, String", () => {
    const c = make();
    const outputs = [
      JSON.stringify(c),
      JSON.stringify({ ...c }),
      JSON.stringify(structuredClone({ ...c })),
      inspect(c, { depth: 10 }),
      inspect({ wrapped: c }, { depth: 10 }),
      String(c),
      `${c}`,
    ];
    for (const out of outputs) {
      for (const s of ["AKIAEXAMPLE123", "wJalrXUtnFEMI/K7MDENG", "98765"]) expect(out).not.toContain(s);
    }
    expect(JSON.parse(JSON.stringify(c))).toMatchObject({
      credential_id: c.credential_id,
      type: "aws",
      lease_id: "aws/creds/x/abc",
      payload: "[REDACTED]",
    });
    expect(c.payload.access_key).toBe("AKIAEXAMPLE123");
    expect(Object.isFrozen(c.payload)).toBe(true);
  });

  it("lists its secrets, longest first, and they scrub out of any value", () => {
    const c = make();
    expect(credentialSecrets(c, null)).toEqual(["wJalrXUtnFEMI/K7MDENG", "AKIAEXAMPLE123", "98765"]);
    const value = {
      output: "export AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG\nkey AKIAEXAMPLE123",
      list: ["AKIAEXAMPLE123", 1],
      crafted: "hmac-sha256:AKIAEXAMPLE123",
      digest: `hmac-sha256:${"ab".repeat(32)}`,
    };
    const scrubbed = scrubSecrets(value, credentialSecrets(c));
    expect(scrubbed).toEqual({
      output: `export AWS_SECRET_ACCESS_KEY=${REDACTED}\nkey ${REDACTED}`,
      list: [REDACTED, 1],
      crafted: `hmac-sha256:${REDACTED}`,
      digest: `hmac-sha256:${"ab".repeat(32)}`,
    });
    expect(scrubSecrets("no secrets here", credentialSecrets(c))).toBe("no secrets here");
  });
});
