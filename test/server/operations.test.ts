/**
 * Operating the sidecar: readiness follows the state store (a real redis-server killed and
 * restarted) and the audit log, decisions fail closed while the store is down, the ops listener
 * serves only probes and metrics, the shipper lag metric follows a live shipper, and the
 * `server:` section of agent-safe.yaml configures `serve` (flags win; a bad section is exit 2).
 */
import { existsSync, rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { Sidecar } from "../../src/server/index.js";
import { cli } from "../helpers/cli.js";
import { PrivateRedis } from "../state/helpers.js";
import { http, issueToken, makeProject, secretFile, serveProcess, sleep, startInProcess } from "./helpers.js";

const staging = { target: "staging/api-server", params: { namespace: "staging", deployment: "api-server" } };
const ADMIN = "ops-admin-token-0123456789abcdef0123";

/** Polls `f` until it returns true (or fails after `ms`). */
async function eventually(f: () => Promise<boolean>, ms: number, what: string): Promise<number> {
  const started = performance.now();
  while (performance.now() - started < ms) {
    if (await f()) return performance.now() - started;
    await sleep(100);
  }
  throw new Error(`not within ${ms} ms: ${what}`);
}

const cleanups: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
});

describe("readiness and the state store", () => {
  it("/readyz is 503 while Redis is down and decisions fail closed; both recover when it returns", async () => {
    const redis = await PrivateRedis.start();
    cleanups.push(() => redis.kill());
    const dir = makeProject({
      state: redis.url,
      extra: "state_options:\n  timeout_ms: 300\nrate_limit:\n  max_requests: 1000\n  window_seconds: 60\n",
    });
    const sidecar: Sidecar = await startInProcess(dir);
    cleanups.push(() => sidecar.close());
    const token = await issueToken(dir, { agentId: "deploy-bot", roles: ["deployer"] });
    const decide = () =>
      http(sidecar.url, "/v1/check", { body: { action: "restart-deployment", ...staging }, token });

    expect((await http(sidecar.url, "/readyz")).status).toBe(200);
    const before = await decide();
    expect(before.json.result).toBe("allow");
    const ticket = before.json.ticket.token as string;

    await redis.kill();
    const ready = await http(sidecar.url, "/readyz");
    expect(ready.status).toBe(503);
    expect(ready.json.status).toBe("not_ready");
    expect(ready.json.checks.state.ok).toBe(false);
    expect(ready.json.checks.state.message).toMatch(/^state store redis:/);
    expect(ready.json.checks.audit).toEqual({ ok: true });
    // Liveness is unaffected: the process is fine, it is the store that is not.
    expect((await http(sidecar.url, "/healthz")).status).toBe(200);

    const denied = await decide();
    expect([denied.status, denied.json.result, denied.json.code, denied.json.ticket]).toEqual([
      200,
      "deny",
      "state_unavailable",
      null,
    ]);
    const redeem = await http(sidecar.url, "/v1/tickets/redeem", { body: { token: ticket }, token });
    expect([redeem.status, redeem.json.valid, redeem.json.code]).toEqual([200, false, "state_unavailable"]);
    const metrics = (await http(sidecar.url, "/metrics")).text;
    for (const source of ["readiness", "decision", "ticket"]) {
      expect(metrics).toMatch(new RegExp(`agent_safe_state_errors_total\\{source="${source}"\\} [1-9]`));
    }

    await redis.start();
    const recovered = await eventually(
      async () => (await http(sidecar.url, "/readyz")).status === 200,
      10_000,
      "/readyz back to 200",
    );
    expect((await decide()).json.result).toBe("allow");
    // The ticket was never redeemed: it still can be, exactly once.
    const late = await http(sidecar.url, "/v1/tickets/redeem", { body: { token: ticket }, token });
    expect(late.json.valid).toBe(true);
    console.log(`readiness: ready again ${recovered.toFixed(0)} ms after Redis restarted`);
  });

  it("/readyz is 503 when the audit log is gone (deleted or its volume lost)", async () => {
    const dir = makeProject({ extra: "audit:\n  path: ./audit.jsonl\n" });
    const sidecar = await startInProcess(dir);
    cleanups.push(() => sidecar.close());
    const ok = await http(sidecar.url, "/readyz");
    expect(ok.json.checks.audit).toEqual({ ok: true });
    rmSync(join(dir, "audit.jsonl"));
    const gone = await http(sidecar.url, "/readyz");
    expect(gone.status).toBe(503);
    expect(gone.json.checks.audit.ok).toBe(false);
    expect(gone.json.checks.audit.message).toMatch(/audit\.jsonl is not writable/);
    expect(gone.json.checks.state).toEqual({ ok: true });
  });
});

describe("the ops listener (--ops-port)", () => {
  it("serves /healthz, /readyz and /metrics, and nothing else", async () => {
    const dir = makeProject();
    const sidecar = await startInProcess(dir, { opsPort: 0, opsHost: "127.0.0.1" });
    cleanups.push(() => sidecar.close());
    expect(sidecar.opsUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const ops = sidecar.opsUrl!;
    expect((await http(ops, "/healthz")).json).toEqual({ status: "ok" });
    expect((await http(ops, "/readyz")).json.status).toBe("ready");
    expect((await http(ops, "/metrics")).text).toContain("agent_safe_decisions_total");
    for (const path of ["/v1/check", "/v1/tickets/redeem", "/v1/delegations"]) {
      const r = await http(ops, path, { body: { action: "restart-deployment" } });
      expect([r.status, r.json.error], path).toEqual([404, "not_found"]);
    }
    expect((await http(ops, "/openapi.json")).status).toBe(404);
    expect((await http(ops, "/.well-known/jwks.json")).status).toBe(404);
  });
});

describe("shipper lag", () => {
  it("/metrics shows each destination's lag, back to 0 once it has caught up", async () => {
    const dir = makeProject({
      extra:
        "audit:\n  path: ./audit.jsonl\n  shippers:\n    - type: filesystem\n      path: ./shipped.jsonl\n      name: siem\n",
    });
    const sidecar = await startInProcess(dir);
    cleanups.push(() => sidecar.close());
    const token = await issueToken(dir, { agentId: "deploy-bot", roles: ["deployer"] });
    for (let i = 0; i < 5; i++) {
      await http(sidecar.url, "/v1/check", { body: { action: "restart-deployment", ...staging }, token });
    }
    await eventually(
      async () =>
        /agent_safe_audit_shipper_lag_events\{shipper="siem"\} 0\n/.test(
          (await http(sidecar.url, "/metrics")).text,
        ),
      5000,
      "shipper lag 0",
    );
    const text = (await http(sidecar.url, "/metrics")).text;
    expect(text).toMatch(/agent_safe_audit_shipper_lag_seconds\{shipper="siem"\} 0\n/);
    expect(text).toMatch(/agent_safe_audit_durable_seq [1-9]/);
    expect(existsSync(join(dir, "shipped.jsonl"))).toBe(true);
  });
});

describe("the server: section of agent-safe.yaml", () => {
  it("configures serve (ops listener, admin token, limits); a flag wins over it", async () => {
    const dir = makeProject({
      extra:
        "server:\n  port: 0\n  ops_port: 0\n  ops_host: 127.0.0.1\n  admin_token_file: admin.token\n" +
        "  body_limit: 2048\n  log_level: info\n",
    });
    secretFile(dir, "admin.token", `${ADMIN}\n`);
    const server = await serveProcess(dir);
    try {
      const listening = server.logs.find((l) => l.msg === "listening")!;
      expect(listening.ops_url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect((await http(String(listening.ops_url), "/healthz")).status).toBe(200);
      const status = await http(server.url, "/v1/admin/kill-switch", { token: ADMIN });
      expect([status.status, status.json.engaged]).toEqual([200, false]);
      const big = await http(server.url, "/v1/check", {
        body: { action: "x", params: { b: "x".repeat(3000) } },
      });
      expect([big.status, big.json.message]).toEqual([413, "The body is over 2048 bytes"]);
    } finally {
      expect(await server.stop()).toBe(0);
    }
    const flagged = await serveProcess(dir, ["--body-limit", "65536"]);
    try {
      const big = await http(flagged.url, "/v1/check", {
        body: { action: "x", params: { b: "x".repeat(3000) } },
      });
      expect(big.status).toBe(200);
    } finally {
      await flagged.stop();
    }
  });

  it("a bad server: section is a configuration error (exit 2) naming the key", () => {
    const dir = makeProject({ extra: "server:\n  port: eighty\n" });
    const r = cli(["serve"], { cwd: dir });
    expect(r.code).toBe(2);
    // Validated with the rest of the file when the project loads: file:line:col and the field.
    expect(r.stderr).toMatch(/agent-safe\.yaml:\d+:\d+: server\.port: expected a number, got str 'eighty'/);
    const half = cli(["serve"], { cwd: makeProject({ extra: "server:\n  tls_cert: tls.crt\n" }) });
    expect([half.code, half.stderr]).toEqual([2, expect.stringMatching(/give both tls_cert and tls_key/)]);
    const unknown = cli(["serve"], { cwd: makeProject({ extra: "server:\n  prot: 8420\n" }) });
    expect([unknown.code, unknown.stderr]).toEqual([
      2,
      expect.stringMatching(/server\.prot: unknown key 'prot' \(did you mean 'port'\?\)/),
    ]);
  });
});
