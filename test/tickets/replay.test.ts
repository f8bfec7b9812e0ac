/**
 * THREATS.md T13: one ticket redeemed many ways — the same validator twice, a new validator, two
 * other OS processes, SDK `execute` twice, the `ticket redeem` CLI twice — is accepted exactly once, with the real
 * SQLite (one machine) and Redis (replicas) nonce stores of src/state. 0.9.0 accepted it at every
 * validator instance. Needs the build (`npm test` builds first) for the CLI legs.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { AgentSafe } from "../../src/index.js";
import { ed25519TokenKeys } from "../../src/jwt/config.js";
import { KeyStore } from "../../src/keys/keystore.js";
import { openStateBackend } from "../../src/state/index.js";
import type { StateBackend } from "../../src/state/interfaces.js";
import { ticketServices } from "../../src/tickets/index.js";
import { cliAsync, ROOT } from "../helpers/cli.js";
import { REDIS_URL } from "../state/helpers.js";

const run = promisify(execFile);
const CHILD = join(ROOT, "test", "tickets", "fixtures", "redeem-child.ts");

function project(state: (dir: string) => string) {
  const dir = mkdtempSync(join(tmpdir(), "agent-safe-replay-"));
  const keysDir = join(dir, ".agent-safe", "keys");
  const store = new KeyStore(keysDir);
  store.generate("ticket-signing");
  store.generate("identity-issuer");
  const stateUrl = state(dir);
  writeFileSync(join(dir, "agent-safe.yaml"), `state: ${stateUrl}\nkeys:\n  dir: .agent-safe/keys\n`);
  return { dir, keysDir, stateUrl, keys: ed25519TokenKeys(store) };
}

function mint(keys: ReturnType<typeof project>["keys"], nonces: StateBackend["nonces"]) {
  return ticketServices(keys, nonces).issuer.issue({
    decision: {
      result: "allow",
      action: "restart-deployment",
      target: "dev/test-app",
      caller: "deploy-bot",
      audit_id: "evt-0123456789ab",
    },
    params: { namespace: "dev", deployment: "test-app" },
    actionDef: { name: "restart-deployment", parameters: [] },
  }).token;
}

async function childRedeem(
  keysDir: string,
  stateUrl: string,
  token: string,
  startAt?: number,
): Promise<boolean> {
  const args = [
    "--import",
    "tsx",
    CHILD,
    keysDir,
    stateUrl,
    token,
    ...(startAt === undefined ? [] : [String(startAt)]),
  ];
  const { stdout } = await run(process.execPath, args, { cwd: ROOT });
  return (JSON.parse(stdout) as { valid: boolean }).valid;
}

async function cliRedeem(dir: string, token: string): Promise<boolean> {
  const r = await cliAsync(["ticket", "redeem", token], { cwd: dir });
  expect([0, 1]).toContain(r.code);
  expect(r.stdout).toMatch(
    r.code === 0
      ? /^REDEEMED — Ticket is valid/
      : /^INVALID — Ticket has already been used \(replay detected\)/,
  );
  return r.code === 0;
}

const backends: StateBackend[] = [];
afterAll(async () => {
  for (const b of backends) await b.close();
});

const STORES: [string, (dir: string) => string][] = [
  ["SQLite file", (dir) => `sqlite:${join(dir, ".agent-safe", "state.db")}`],
  ["Redis", () => REDIS_URL],
];

describe.each(STORES)("one ticket redeemed many ways (%s)", (_name, state) => {
  it("is accepted exactly once, in sequence", async () => {
    const p = project(state);
    const a = await openStateBackend(p.stateUrl);
    const b = await openStateBackend(p.stateUrl);
    backends.push(a, b);
    const token = mint(p.keys, a.nonces);
    const validatorA = ticketServices(p.keys, a.nonces).validator;
    const outcomes: [string, boolean][] = [];
    outcomes.push(["same validator", (await validatorA.redeem(token)).valid]);
    outcomes.push(["same validator again", (await validatorA.redeem(token)).valid]);
    outcomes.push([
      "new validator, new connection",
      (await ticketServices(p.keys, b.nonces).validator.redeem(token)).valid,
    ]);
    const [c1, c2] = await Promise.all([
      childRedeem(p.keysDir, p.stateUrl, token),
      childRedeem(p.keysDir, p.stateUrl, token),
    ]);
    outcomes.push(["process 1", c1], ["process 2", c2]);
    const sdk = await AgentSafe.open({
      cwd: p.dir,
      overrides: { actions: join(ROOT, "actions"), policies: join(ROOT, "policies") },
    });
    try {
      for (const way of ["SDK execute", "SDK execute again"]) {
        const run = await sdk.execute(token, { executor: "dry-run" });
        if (run.status !== "success") expect(run.error).toMatch(/already been used/);
        outcomes.push([way, run.status === "success"]);
      }
    } finally {
      await sdk.close();
    }
    outcomes.push(["CLI", await cliRedeem(p.dir, token)], ["CLI again", await cliRedeem(p.dir, token)]);
    expect(outcomes).toHaveLength(9);
    expect(outcomes.filter(([, ok]) => ok).map(([way]) => way)).toEqual(["same validator"]);
    // Inspection afterwards reports the use and consumes nothing.
    expect(await validatorA.verify(token)).toMatchObject({ valid: false, used: true, code: "replay" });
  });

  it("is accepted exactly once when every way races at the same instant", async () => {
    const p = project(state);
    const a = await openStateBackend(p.stateUrl);
    backends.push(a);
    const token = mint(p.keys, a.nonces);
    const validator = ticketServices(p.keys, a.nonces).validator;
    const startAt = Date.now() + 2500;
    const results = await Promise.all([
      childRedeem(p.keysDir, p.stateUrl, token, startAt),
      childRedeem(p.keysDir, p.stateUrl, token, startAt),
      childRedeem(p.keysDir, p.stateUrl, token, startAt),
      cliRedeem(p.dir, token),
      cliRedeem(p.dir, token),
      (async () => {
        await new Promise((r) => setTimeout(r, startAt - Date.now()));
        const rs = await Promise.all([validator.redeem(token), validator.redeem(token)]);
        return rs.filter((r) => r.valid).length;
      })(),
    ]);
    const accepted = results.reduce<number>((n, r) => n + Number(r), 0);
    expect(accepted).toBe(1);
  });
});
