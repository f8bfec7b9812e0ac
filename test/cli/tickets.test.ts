/** `ticket verify|redeem` and `keys rotate` as real processes (needs the build). */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ed25519TokenKeys } from "../../src/jwt/config.js";
import { KeyStore } from "../../src/keys/keystore.js";
import { TicketIssuer } from "../../src/tickets/issuer.js";
import { cli } from "../helpers/cli.js";

function newProject(state = "sqlite:.agent-safe/state.db") {
  const dir = mkdtempSync(join(tmpdir(), "agent-safe-cli-tk-"));
  writeFileSync(join(dir, "agent-safe.yaml"), `state: ${state}\nkeys:\n  dir: .agent-safe/keys\n`);
  const store = new KeyStore(join(dir, ".agent-safe", "keys"));
  store.generate("ticket-signing");
  // A fresh ring each time, so a rotation is seen at once.
  const mint = (
    params: Record<string, unknown> = { namespace: "dev", deployment: "test-app", token: "s3cr3t-value" },
  ) => {
    const keys = ed25519TokenKeys(store, {}, { refreshMs: 0 });
    return new TicketIssuer(keys.tickets, keys.settings).issue({
      decision: {
        result: "allow",
        action: "restart-deployment",
        target: "dev/test-app",
        caller: "deploy-bot",
        audit_id: "evt-0123456789ab",
      },
      params,
      actionDef: {
        name: "restart-deployment",
        parameters: [
          {
            name: "token",
            type: "string",
            required: false,
            description: "",
            default: null,
            sensitive: true,
            constraints: null,
          },
        ],
      },
    });
  };
  return { dir, store, mint };
}

const PARAMS = '{"deployment":"test-app","namespace":"dev","token":"s3cr3t-value"}';

describe("ticket verify / redeem", () => {
  it("verify inspects (exit 0, repeatable); redeem consumes once; both exit 1 after", () => {
    const p = newProject();
    const t = p.mint();
    for (let i = 0; i < 2; i++) {
      const v = cli(
        ["ticket", "verify", t.token, "--action", "restart-deployment", "--target", "dev/test-app"],
        { cwd: p.dir },
      );
      expect(v.code).toBe(0);
      expect(v.stdout).toBe(
        [
          "VALID — Ticket is valid",
          "  action: restart-deployment",
          "  target: dev/test-app",
          "  caller: deploy-bot",
          "  audit:  evt-0123456789ab",
          `  nonce:  ${t.nonce}`,
          `  expires: ${v.stdout.match(/expires: (\S+)/)![1]}`,
          "  params: not checked (given as digests: token)",
          "  used:   no",
          "",
        ].join("\n"),
      );
      expect(v.stdout).toMatch(/expires: \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00/);
    }
    const ok = cli(["ticket", "verify", t.token, "--params", PARAMS, "--json"], { cwd: p.dir });
    expect(JSON.parse(ok.stdout).ticket).toMatchObject({
      params_checked: true,
      params: { namespace: "dev", token: t.params.token },
    });
    const r = cli(["ticket", "redeem", t.token, "--params", PARAMS], { cwd: p.dir });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^REDEEMED — Ticket is valid\n[\s\S]* {2}params: match the ticket's digest\n$/);
    for (const cmd of ["verify", "redeem"]) {
      expect(cli(["ticket", cmd, t.token], { cwd: p.dir })).toMatchObject({
        code: 1,
        stdout: "INVALID — Ticket has already been used (replay detected)\n",
      });
    }
    // --json exits 1 on failure too (0.9.0 exited 0).
    const j = cli(["ticket", "verify", t.token, "--json"], { cwd: p.dir });
    expect(j.code).toBe(1);
    expect(JSON.parse(j.stdout)).toEqual({
      valid: false,
      reason: "Ticket has already been used (replay detected)",
      code: "replay",
      ticket: null,
      used: true,
      redeemed: false,
    });
    // Never the sensitive value, in any output.
    expect(ok.stdout + r.stdout + j.stdout).not.toContain("s3cr3t-value");
  });

  it("refuses other actions, targets and params, and does not consume on a refusal", () => {
    const p = newProject();
    const t = p.mint();
    const refuse = (args: string[], reason: string) =>
      expect(cli(["ticket", "redeem", t.token, ...args], { cwd: p.dir })).toMatchObject({
        code: 1,
        stdout: `INVALID — ${reason}\n`,
      });
    refuse(
      ["--action", "delete-namespace"],
      "Action mismatch: ticket is for 'restart-deployment', expected 'delete-namespace'",
    );
    refuse(
      ["--target", "prod/api-server"],
      "Target mismatch: ticket is for 'dev/test-app', expected 'prod/api-server'",
    );
    refuse(
      ["--params", PARAMS.replace("test-app", "api-server")],
      "Params mismatch: the params differ from those the ticket was issued for",
    );
    refuse(
      ["--params", '{"namespace":"dev","deployment":"test-app"}'],
      "Params mismatch: the params differ from those the ticket was issued for",
    );
    expect(cli(["ticket", "redeem", t.token, "--params", PARAMS], { cwd: p.dir }).code).toBe(0);
    expect(cli(["ticket", "verify", "--params", "[1]", t.token], { cwd: p.dir }).code).toBe(2);
    expect(cli(["ticket", "verify", "not.a.ticket"], { cwd: p.dir })).toMatchObject({
      code: 1,
      stdout: "INVALID — Invalid ticket: Invalid header string: not valid JSON\n",
    });
  });

  it("a ticket signed before `keys rotate` verifies until keep_until, not after", async () => {
    const p = newProject();
    const old = p.mint();
    const rot = cli(["keys", "rotate", "ticket-signing", "--keep", "3"], { cwd: p.dir });
    expect(rot.code).toBe(0);
    const fresh = p.mint();
    expect(cli(["ticket", "verify", old.token], { cwd: p.dir }).code).toBe(0);
    expect(cli(["ticket", "verify", fresh.token], { cwd: p.dir }).code).toBe(0);
    await new Promise((r) => setTimeout(r, 3200));
    const after = cli(["ticket", "verify", old.token], { cwd: p.dir });
    expect(after.code).toBe(1);
    expect(after.stdout).toMatch(
      /^INVALID — Invalid ticket: Key [\w-]{43} was retired and no longer verifies\n$/,
    );
    expect(cli(["ticket", "verify", fresh.token], { cwd: p.dir }).code).toBe(0);
  });

  it("refuses a process-local nonce store", () => {
    const p = newProject("memory");
    const r = cli(["ticket", "redeem", p.mint().token], { cwd: p.dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/private to one process: single use cannot be enforced/);
  });
});
