/**
 * Two `agent-safe serve` processes on different ports sharing Redis (`state: redis://…`, a key
 * prefix of their own): a ticket redeemed on A is refused on B; a rate limit of 100 is shared
 * exactly; the kill switch engaged through one stops both within a second; each writes its own
 * audit log with its own chain id, and each chain verifies (signed checkpoints included).
 */
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cli } from "../helpers/cli.js";
import { deleteRedisPrefix, REDIS_URL, testPrefix } from "../state/helpers.js";
import { readEvents } from "./audit-read.js";
import { http, issueToken, makeProject, type ServeProcess, secretFile, serveProcess } from "./helpers.js";

const staging = { target: "staging/api-server", params: { namespace: "staging", deployment: "api-server" } };
const ADMIN = "replica-admin-token-0123456789abcdef";

let dir: string;
let prefix: string;
let a: ServeProcess;
let b: ServeProcess;
let deployer: string;

beforeAll(async () => {
  prefix = testPrefix();
  dir = makeProject({
    state: REDIS_URL,
    extra:
      `state_options:\n  key_prefix: "${prefix}"\n` +
      "rate_limit:\n  max_requests: 100\n  window_seconds: 60\n" +
      "audit:\n  path: ./audit.jsonl\n",
  });
  const admin = secretFile(dir, "admin.token", ADMIN);
  [a, b] = await Promise.all([
    serveProcess(dir, [
      "--audit-log",
      "audit-a.jsonl",
      "--chain-id",
      "replica-a",
      "--admin-token-file",
      admin,
    ]),
    serveProcess(dir, [
      "--audit-log",
      "audit-b.jsonl",
      "--chain-id",
      "replica-b",
      "--admin-token-file",
      admin,
    ]),
  ]);
  deployer = await issueToken(dir, { agentId: "deploy-bot", roles: ["deployer"] });
});

afterAll(async () => {
  await Promise.all([a?.stop(), b?.stop()]);
  await deleteRedisPrefix(prefix);
});

const check = (s: ServeProcess, token: string) =>
  http(s.url, "/v1/check", { body: { action: "restart-deployment", ...staging }, token });

describe("two replicas sharing Redis", () => {
  it("a ticket redeemed on A is refused on B (and racing redeems: exactly one wins)", async () => {
    const d = await check(a, deployer);
    expect(d.json.result).toBe("allow");
    const ticket = d.json.ticket.token;
    const onA = await http(a.url, "/v1/tickets/redeem", { body: { token: ticket }, token: deployer });
    expect([onA.json.valid, onA.json.redeemed]).toEqual([true, true]);
    const onB = await http(b.url, "/v1/tickets/redeem", { body: { token: ticket }, token: deployer });
    expect([onB.json.valid, onB.json.code]).toEqual([false, "replay"]);
    expect(
      (await http(b.url, "/v1/tickets/verify", { body: { token: ticket }, token: deployer })).json.used,
    ).toBe(true);

    const fresh = (await check(b, deployer)).json.ticket.token;
    const race = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        http(i % 2 === 0 ? a.url : b.url, "/v1/tickets/redeem", { body: { token: fresh }, token: deployer }),
      ),
    );
    expect(race.filter((r) => r.json.valid).length).toBe(1);
  });

  it("a rate limit of 100 is shared exactly across A and B", async () => {
    const token = await issueToken(dir, { agentId: "rate-bot", roles: ["deployer"] });
    const results: string[] = [];
    const lanes = Array.from({ length: 10 }, async (_, lane) => {
      for (let i = 0; i < 15; i++) {
        const r = await check(lane % 2 === 0 ? a : b, token);
        results.push(r.json.code);
      }
    });
    await Promise.all(lanes);
    expect(results.length).toBe(150);
    expect(results.filter((c) => c === "rate_limit").length).toBe(50);
    expect(results.filter((c) => c === "rule").length).toBe(100);
  });

  it("the kill switch engaged through A stops both within 1 s, and releasing it resumes both", async () => {
    const token = await issueToken(dir, { agentId: "ks-bot", roles: ["deployer"] });
    expect((await check(b, token)).json.result).toBe("allow");
    const engaged = await http(a.url, "/v1/admin/kill-switch", {
      token: ADMIN,
      body: { mode: "on", reason: "replica test" },
    });
    expect(engaged.json.engaged).toBe(true);
    const started = performance.now();
    const stopped = new Set<string>();
    while (stopped.size < 2 && performance.now() - started < 1000) {
      for (const [name, s] of [
        ["a", a],
        ["b", b],
      ] as const) {
        const r = await check(s, token);
        if (r.json.code === "kill_switch") stopped.add(name);
      }
    }
    const elapsed = performance.now() - started;
    expect([...stopped].sort()).toEqual(["a", "b"]);
    expect(elapsed).toBeLessThan(1000);
    const d = await check(b, token);
    expect([d.json.result, d.json.reason]).toEqual([
      "deny",
      "Kill switch engaged: all actions are denied (replica test)",
    ]);

    // The CLI reaches the same switch through the same store.
    const status = cli(["kill-switch", "status", "--json"], { cwd: dir });
    expect(JSON.parse(status.stdout).engaged).toBe(true);
    expect(cli(["kill-switch", "off"], { cwd: dir }).code).toBe(0);
    const resumed = await Promise.all([check(a, token), check(b, token)]);
    expect(resumed.map((r) => r.json.result)).toEqual(["allow", "allow"]);
    console.log(`kill switch: both replicas denying ${elapsed.toFixed(0)} ms after it was engaged on A`);
  });

  it("each replica writes its own chain, and each verifies", async () => {
    await Promise.all([a.stop(), b.stop()]);
    const chains = ["a", "b"].map(
      (r) => new Set(readEvents(join(dir, `audit-${r}.jsonl`)).map((e) => e.chain_id)),
    );
    expect(chains.map((c) => [...c])).toEqual([["replica-a"], ["replica-b"]]);
    // One `audit verify` per chain (given several logs at once, `audit verify` reads them as the
    // segments of one chain).
    for (const r of ["a", "b"]) {
      const verify = cli(["audit", "verify", `audit-${r}.jsonl`, "--json"], { cwd: dir });
      expect(verify.code, verify.stdout + verify.stderr).toBe(0);
      const report = JSON.parse(verify.stdout) as {
        ok: boolean;
        chainId: string;
        signing: { status: string };
      };
      expect([report.ok, report.chainId, report.signing.status]).toEqual([true, `replica-${r}`, "signed"]);
    }
  });
});
