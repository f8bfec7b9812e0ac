/** `keys`, `identity issue`, `delegation create|verify` as real processes (needs the build). */
import { chmodSync, existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { jwtVerify } from "jose";
import { beforeAll, describe, expect, it } from "vitest";
import { cli } from "../helpers/cli.js";

function newProject(config = "keys:\n  dir: .agent-safe/keys\n"): string {
  const dir = mkdtempSync(join(tmpdir(), "agent-safe-cli-id-"));
  writeFileSync(join(dir, "agent-safe.yaml"), config);
  return dir;
}

const payload = (token: string) =>
  JSON.parse(Buffer.from(token.split(".")[1]!, "base64url").toString("utf8"));

describe("keys", () => {
  it("generate, show, export (JWKS), rotate", () => {
    const dir = newProject();
    const gen = cli(["keys", "generate", "identity-issuer"], { cwd: dir });
    expect(gen.code).toBe(0);
    expect(gen.stdout).toMatch(/^Created identity-issuer key [\w-]{43} in /);
    const key = join(dir, ".agent-safe", "keys", "identity-issuer.pem");
    expect(statSync(key).mode & 0o777).toBe(0o600);
    expect(cli(["keys", "generate", "identity-issuer"], { cwd: dir }).stdout).toMatch(/already exists/);
    expect(cli(["keys", "generate", "ticket-signing", "--json"], { cwd: dir }).stdout).toMatch(
      /"created": true/,
    );
    expect(cli(["keys", "generate", "bogus"], { cwd: dir })).toMatchObject({ code: 2 });

    const show = cli(["keys"], { cwd: dir });
    expect(show.code).toBe(0);
    expect(show.stdout).toMatch(/identity-issuer\s+[\w-]{43} {2}current/);
    expect(show.stdout).toMatch(
      /audit-checkpoint\s+\(none\) — create with: agent-safe keys generate audit-checkpoint/,
    );

    const before = JSON.parse(cli(["keys", "export"], { cwd: dir }).stdout) as {
      keys: { kid: string; purpose: string; d?: string }[];
    };
    expect(before.keys.map((k) => k.purpose).sort()).toEqual(["identity-issuer", "ticket-signing"]);
    expect(before.keys.every((k) => k.d === undefined)).toBe(true);

    const rot = cli(["keys", "rotate", "ticket-signing", "--keep", "600", "--json"], { cwd: dir });
    expect(rot.code).toBe(0);
    const r = JSON.parse(rot.stdout) as { retired: string; current: string };
    const file = join(dir, "jwks.json");
    expect(cli(["keys", "export", "--jwks", file], { cwd: dir }).stdout).toBe(
      `Wrote 3 public key(s) to ${file}\n`,
    );
    const kids = (JSON.parse(readFileSync(file, "utf8")) as { keys: { kid: string }[] }).keys.map(
      (k) => k.kid,
    );
    expect(kids).toEqual(expect.arrayContaining([r.retired, r.current]));
    expect(cli(["keys", "show"], { cwd: dir }).stdout).toContain(`${r.retired}  retired`);
    expect(cli(["keys", "rotate", "audit-checkpoint"], { cwd: dir }).code).toBe(2);
  });
});

describe("identity issue and delegation", () => {
  let dir: string;
  beforeAll(() => {
    dir = newProject();
    expect(cli(["keys", "generate", "identity-issuer"], { cwd: dir }).code).toBe(0);
  });

  it("prints the token alone on stdout, nothing on stderr; --json gives its details", async () => {
    const r = cli(
      [
        "identity",
        "issue",
        "--agent-id",
        "deploy-bot",
        "--roles",
        "deployer, reader",
        "--groups",
        "sre",
        "--ttl",
        "900",
      ],
      { cwd: dir },
    );
    expect(r.code).toBe(0);
    expect(r.stderr).toBe("");
    expect(r.stdout).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+\n$/);
    const p = payload(r.stdout.trim());
    expect(p).toMatchObject({
      agent_id: "deploy-bot",
      roles: ["deployer", "reader"],
      groups: ["sre"],
      iss: "agent-safe",
    });
    expect(p.exp - p.iat).toBe(900);
    const j = JSON.parse(cli(["identity", "issue", "--agent-id", "x", "--json"], { cwd: dir }).stdout);
    expect(j).toMatchObject({
      agent_id: "x",
      algorithm: "EdDSA",
      kid: expect.any(String),
      token: expect.any(String),
    });
    expect(cli(["identity", "issue"], { cwd: dir })).toMatchObject({
      code: 2,
      stderr: "error: --agent-id is required\n",
    });
    expect(cli(["identity", "issue", "--agent-id", "x", "--ttl", "soon"], { cwd: dir }).code).toBe(2);
  });

  it("delegation create and verify in 0.9.0's formats, with exit codes", () => {
    const parent = cli(
      [
        "identity",
        "issue",
        "--agent-id",
        "orchestrator",
        "--name",
        "Orch",
        "--roles",
        "deployer,reader",
        "--groups",
        "sre",
      ],
      { cwd: dir },
    ).stdout.trim();
    const text = cli(["delegation", "create", parent, "--child-id", "worker-1", "--roles", "reader"], {
      cwd: dir,
    });
    expect(text.code).toBe(0);
    expect(text.stdout).toBe(
      `OK — delegation token created for worker-1\n  depth: 1\n  roles: ['reader']\n  chain: ['orchestrator']\n  token: ${text.stdout.match(/token: (.{40})\.\.\./)![1]}...\n`,
    );
    const json = JSON.parse(
      cli(["delegation", "create", parent, "--child-id", "worker-1", "--roles", "reader", "--json"], {
        cwd: dir,
      }).stdout,
    );
    expect(json).toMatchObject({
      child_agent_id: "worker-1",
      delegation_depth: 1,
      delegated_roles: ["reader"],
      delegation_chain: [{ agent_id: "orchestrator", agent_name: "Orch" }],
    });

    const verify = cli(["delegation", "verify", json.token], { cwd: dir });
    expect(verify.code).toBe(0);
    expect(verify.stdout).toMatch(
      /^DELEGATED — worker-1\n {2}name: {3}\n {2}roles: {2}\['reader'\]\n {2}groups: \[\]\n {2}depth: {2}1\n {2}chain:\n {4}\[0\] orchestrator \(Orch\) {2}roles=\['deployer', 'reader'\] {2}at=\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\n/,
    );
    expect(cli(["delegation", "verify", parent], { cwd: dir }).stdout).toMatch(/^DIRECT — orchestrator\n/);
    const vj = JSON.parse(cli(["delegation", "verify", json.token, "--json"], { cwd: dir }).stdout);
    expect(vj).toMatchObject({
      valid: true,
      agent_id: "worker-1",
      delegation_chain: [{ agent_id: "orchestrator", delegated_at: expect.stringMatching(/\+00:00$/) }],
    });

    const widen = cli(["delegation", "create", parent, "--child-id", "w", "--roles", "admin"], { cwd: dir });
    expect(widen).toMatchObject({
      code: 1,
      stdout: "ERROR — Cannot delegate roles not held by parent: ['admin']\n",
    });
    expect(cli(["delegation", "create", parent, "--child-id", "orchestrator"], { cwd: dir }).stdout).toBe(
      "ERROR — Self-delegation is not allowed: 'orchestrator' cannot delegate to itself\n",
    );
    const bad = cli(["delegation", "verify", `${json.token.slice(0, -3)}AAA`], { cwd: dir });
    expect(bad).toMatchObject({
      code: 1,
      stdout:
        "INVALID — token is invalid or expired\n  reason: Invalid token: Signature verification failed\n",
    });
    expect(JSON.parse(cli(["delegation", "verify", "nope", "--json"], { cwd: dir }).stdout)).toEqual({
      valid: false,
      reason: "Invalid token: Not enough segments",
      code: "malformed",
    });
  });

  it("--max-depth can lower the server's limit, not raise it", () => {
    const d = newProject("keys:\n  dir: .agent-safe/keys\n  max_delegation_depth: 1\n");
    cli(["keys", "generate", "identity-issuer"], { cwd: d });
    const root = cli(["identity", "issue", "--agent-id", "a"], { cwd: d }).stdout.trim();
    const child = JSON.parse(
      cli(["delegation", "create", root, "--child-id", "b", "--json"], { cwd: d }).stdout,
    ).token as string;
    expect(
      cli(["delegation", "create", child, "--child-id", "c", "--max-depth", "9"], { cwd: d }).stdout,
    ).toBe("ERROR — Delegation depth 2 exceeds max depth 1\n");
  });
});

describe("HS256 (0.9.0 compatibility)", () => {
  it("keys.hmac_secret from a 0600 file or an env reference; --signing-key still works, with a warning", async () => {
    const dir = newProject("keys:\n  algorithm: HS256\n  hmac_secret: secret.txt\n");
    writeFileSync(join(dir, "secret.txt"), "s3cret\n", { mode: 0o600 });
    const token = cli(["identity", "issue", "--agent-id", "legacy"], { cwd: dir }).stdout.trim();
    const { payload: p, protectedHeader } = await jwtVerify(token, new TextEncoder().encode("s3cret"), {
      algorithms: ["HS256"],
    });
    expect(protectedHeader).toEqual({ alg: "HS256", typ: "JWT" });
    expect(p.agent_id).toBe("legacy");
    chmodSync(join(dir, "secret.txt"), 0o644);
    expect(cli(["identity", "issue", "--agent-id", "x"], { cwd: dir }).stderr).toMatch(
      /accessible by others.*chmod 600/,
    );

    const env = newProject("keys:\n  algorithm: HS256\n  hmac_secret: $" + "{AS_TEST_SECRET}\n");
    const t2 = cli(["identity", "issue", "--agent-id", "e"], {
      cwd: env,
      env: { AS_TEST_SECRET: "from-env" },
    }).stdout.trim();
    await expect(
      jwtVerify(t2, new TextEncoder().encode("from-env"), { algorithms: ["HS256"] }),
    ).resolves.toBeDefined();
    expect(cli(["identity", "issue", "--agent-id", "e"], { cwd: env }).stderr).toMatch(
      /AS_TEST_SECRET is not set/,
    );

    const bare = newProject("profile: strict\n");
    const v = cli(["delegation", "verify", t2, "--signing-key", "from-env"], { cwd: bare });
    expect(v.code).toBe(0);
    expect(v.stderr).toMatch(/^warning: --signing-key puts the secret on the command line/);
    expect(cli(["delegation", "verify", t2], { cwd: bare })).toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/no keys configured/),
    });
    expect(existsSync(join(bare, ".agent-safe"))).toBe(false);
  });
});
