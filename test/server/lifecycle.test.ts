/**
 * The real `agent-safe serve` process: SIGTERM under load (every request that got a response is
 * in the audit log, the process exits 0, the log verifies, and a restart appends to it), SIGHUP
 * reload (a changed policy changes decisions; a broken one keeps the old world), and the
 * start-up refusals (no keys without --insecure-no-auth, a non-loopback host without TLS).
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { cli } from "../helpers/cli.js";
import { readEvents } from "./audit-read.js";
import { http, issueToken, makeProject, serveProcess, sleep } from "./helpers.js";
import { RawHttpClient } from "./raw-http.js";

const staging = { target: "staging/api-server", params: { namespace: "staging", deployment: "api-server" } };
const body = JSON.stringify({ action: "restart-deployment", ...staging });

describe("SIGTERM under load", () => {
  it("drains: every answered decision is in the audit log, exit 0, the log verifies, and a restart appends", async () => {
    const dir = makeProject({ extra: "audit:\n  path: ./audit.jsonl\n  fsync: batch\n" });
    const token = await issueToken(dir, { agentId: "deploy-bot", roles: ["deployer"] });
    const server = await serveProcess(dir);
    const answered: string[] = [];
    const statuses = new Map<number, number>();
    let stop = false;
    const worker = async () => {
      const client = RawHttpClient.fromUrl(server.url);
      while (!stop) {
        try {
          const r = await client.request(
            "POST",
            "/v1/check",
            { "content-type": "application/json", authorization: `Bearer ${token}` },
            body,
          );
          statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
          if (r.status === 200) answered.push((JSON.parse(r.body) as { audit_id: string }).audit_id);
        } catch {
          // Connection closed or refused: the server is going away.
          if (server.child.exitCode !== null) break;
          await sleep(5);
        }
      }
      client.close();
    };
    const workers = Array.from({ length: 24 }, worker);
    await sleep(1500);
    const before = answered.length;
    server.child.kill("SIGTERM");
    const code = await server.exited;
    stop = true;
    await Promise.all(workers);
    expect(code).toBe(0);
    expect(before).toBeGreaterThan(50);
    expect(server.logs.some((l) => l.msg === "stopped: audit log flushed and checkpointed")).toBe(true);

    const events = readEvents(join(dir, "audit.jsonl"));
    const logged = new Set(events.map((e) => e.event_id));
    const missing = answered.filter((id) => !logged.has(id));
    expect(missing).toEqual([]);
    // Flushed and checkpointed: the last event is a signed checkpoint covering everything before it.
    const last = events.at(-1)!;
    expect(last.event_type).toBe("checkpoint");
    expect((last.context as { seq: number }).seq).toBe(last.seq - 1);
    const verify = cli(["audit", "verify", "audit.jsonl", "--json"], { cwd: dir });
    expect(verify.code, verify.stdout + verify.stderr).toBe(0);
    const report = JSON.parse(verify.stdout) as {
      ok: boolean;
      torn: unknown;
      lastSeq: number;
      signing: { status: string; newestSeq: number; unsignedTail: number };
    };
    expect([report.ok, report.torn, report.signing.status, report.signing.unsignedTail]).toEqual([
      true,
      null,
      "signed",
      0,
    ]);
    expect(report.lastSeq).toBe(last.seq);

    const again = await serveProcess(dir);
    const r = await http(again.url, "/v1/check", { body: JSON.parse(body), token });
    expect(r.json.result).toBe("allow");
    expect(await again.stop()).toBe(0);
    expect(cli(["audit", "verify", "audit.jsonl"], { cwd: dir }).code).toBe(0);
    expect(readEvents(join(dir, "audit.jsonl")).some((e) => e.event_id === r.json.audit_id)).toBe(true);
    console.log(
      `SIGTERM under load: ${answered.length} answered (${before} before the signal), statuses ${JSON.stringify([...statuses])}`,
    );
  });
});

describe("SIGHUP", () => {
  it("reloads a changed policy; a broken one is logged and the old world stays", async () => {
    const dir = makeProject();
    const token = await issueToken(dir, { agentId: "deploy-bot", roles: ["deployer"] });
    const server = await serveProcess(dir);
    try {
      const decide = async () =>
        (await http(server.url, "/v1/check", { body: JSON.parse(body), token })).json;
      const first = await decide();
      expect(first.result).toBe("allow");
      const policy = join(dir, "policies", "zz-freeze.yaml");
      writeFileSync(
        policy,
        "rules:\n  - name: freeze-staging\n    priority: 10000\n    match:\n      targets:\n        environments: [staging]\n" +
          "    decision: deny\n    reason: Staging is frozen\n",
      );
      server.child.kill("SIGHUP");
      const reloaded = await server.waitForLog("policy reloaded");
      expect(reloaded.previous_revision).toBe(first.policy_revision);
      const frozen = await decide();
      expect([frozen.result, frozen.reason, frozen.policy_revision]).toEqual([
        "deny",
        "Staging is frozen",
        reloaded.policy_revision,
      ]);

      writeFileSync(policy, "rules: [\n");
      server.child.kill("SIGHUP");
      const failed = await server.waitForLog("policy reload failed; the old policy stays");
      expect(String(failed.error)).toContain("zz-freeze.yaml");
      const still = await decide();
      expect([still.result, still.policy_revision]).toEqual(["deny", reloaded.policy_revision]);
      expect((await http(server.url, "/healthz")).status).toBe(200);
    } finally {
      expect(await server.stop()).toBe(0);
    }
  });
});

describe("start-up refusals (exit 2, a clear reason)", () => {
  it("no keys without --insecure-no-auth; reference profile; a non-loopback host without TLS", () => {
    const noKeys = cli(["serve", "--port", "0"], { cwd: makeProject({ noKeys: true }) });
    expect(noKeys.code).toBe(2);
    expect(noKeys.stderr).toMatch(/no identity keys are configured.*--insecure-no-auth/);
    const reference = cli(["serve", "--port", "0"], { cwd: makeProject({ profile: "reference" }) });
    expect(reference.code).toBe(2);
    expect(reference.stderr).toMatch(/reference profile/);
    const open = cli(["serve", "--port", "0", "--host", "0.0.0.0"], { cwd: makeProject() });
    expect(open.code).toBe(2);
    expect(open.stderr).toMatch(/--tls-cert and --tls-key, or pass --insecure-no-tls/);
    const half = cli(["serve", "--tls-cert", "x.pem"], { cwd: makeProject() });
    expect([half.code, half.stderr]).toEqual([2, "error: give both --tls-cert and --tls-key, or neither\n"]);
  });

  it("a second sidecar on the same audit log is refused (one writer per log)", async () => {
    const dir = makeProject();
    const first = await serveProcess(dir);
    try {
      const second = cli(["serve", "--port", "0"], { cwd: dir });
      expect(second.code).toBe(2);
      expect(second.stderr).toMatch(/locked/);
    } finally {
      await first.stop();
    }
  });

  it("--insecure-no-auth serves without keys: the bearer is an unverified agent id (documented)", async () => {
    const dir = makeProject({ noKeys: true });
    const server = await serveProcess(dir, ["--insecure-no-auth"]);
    try {
      expect(server.logs.find((l) => l.msg === "listening")?.authentication).toBe(
        "none (--insecure-no-auth)",
      );
      const r = await http(server.url, "/v1/check", { body: { action: "get-pod-logs" }, token: "anyone" });
      expect(r.json.caller).toBe("anyone");
      const t = await http(server.url, "/v1/tickets/verify", { body: { token: "x" }, token: "anyone" });
      expect([t.status, t.json.error]).toEqual([501, "not_configured"]);
    } finally {
      await server.stop();
    }
  });
});
