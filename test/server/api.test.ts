/**
 * Every endpoint of the sidecar end to end, over real HTTP on loopback: decisions, plans, tickets,
 * delegations, health, readiness, metrics, JWKS, OpenAPI and the admin reload; the error shapes;
 * and every response checked against the schema the OpenAPI document publishes.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as z from "zod";
import { type Sidecar, schemas } from "../../src/server/index.js";
import { readEvents } from "./audit-read.js";
import { http, issueToken, makeProject, secretFile, startInProcess } from "./helpers.js";

const staging = { target: "staging/api-server", params: { namespace: "staging", deployment: "api-server" } };
const ADMIN = "admin-token-0123456789abcdef0123456789";

let dir: string;
let sidecar: Sidecar;
let url: string;
let deployer: string;

beforeAll(async () => {
  dir = makeProject({ extra: "audit:\n  path: ./audit.jsonl\n" });
  sidecar = await startInProcess(dir, { adminTokenFile: secretFile(dir, "admin.token", `${ADMIN}\n`) });
  url = sidecar.url;
  deployer = await issueToken(dir, { agentId: "deploy-bot", roles: ["deployer"] });
});

afterAll(async () => {
  await sidecar?.close();
});

function check(body: unknown, token?: string | null) {
  return http(url, "/v1/check", { body, token: token ?? null });
}

describe("POST /v1/check", () => {
  it("decides for the bearer, with a ticket on ALLOW, recorded in the audit log before the response", async () => {
    const r = await check({ action: "restart-deployment", ...staging }, deployer);
    expect(r.status).toBe(200);
    expect(schemas.decisionSchema.parse(r.json)).toBeTruthy();
    expect([r.json.result, r.json.caller, r.json.policy_matched, r.json.code]).toEqual([
      "allow",
      "deploy-bot",
      "allow-deployer-staging",
      "rule",
    ]);
    expect(r.json.ticket.audit_id).toBe(r.json.audit_id);
    const events = readEvents(join(dir, "audit.jsonl"));
    expect(events.some((e) => e.event_id === r.json.audit_id)).toBe(true);
  });

  it("an unauthenticated caller is a DENY decision (audited), with WWW-Authenticate", async () => {
    for (const token of [null, `${deployer.slice(0, -6)}AAAAAA`, "deploy-bot"]) {
      const r = await check({ action: "restart-deployment", ...staging }, token);
      expect(r.status).toBe(200);
      expect([r.json.result, r.json.code, r.json.caller, r.json.ticket]).toEqual([
        "deny",
        "unauthenticated",
        "anonymous",
        null,
      ]);
      expect(r.json.reason).toMatch(/^Unauthenticated caller: /);
      expect(r.headers.get("www-authenticate")).toBe('Bearer realm="agent-safe"');
      expect(readEvents(join(dir, "audit.jsonl")).some((e) => e.event_id === r.json.audit_id)).toBe(true);
    }
  });

  it("REQUIRE_APPROVAL and rule DENYs come back as decisions", async () => {
    const prod = await check(
      {
        action: "restart-deployment",
        target: "prod/api-server",
        params: { namespace: "prod", deployment: "api-server" },
      },
      deployer,
    );
    expect([prod.status, prod.json.result, prod.json.ticket]).toEqual([200, "require_approval", null]);
    const unknown = await check({ action: "no-such-action" }, deployer);
    expect([unknown.json.result, unknown.json.code]).toEqual(["deny", "unknown_action"]);
  });

  it("refuses a body that names a caller or a time, or has unknown fields or wrong types (400)", async () => {
    const cases: [unknown, RegExp][] = [
      [
        { action: "x", caller: "admin" },
        /^caller: the caller is identified only by the Authorization header/,
      ],
      [{ action: "x", timestamp: "2025-01-01T00:00:00Z" }, /^timestamp: the sidecar decides at its own time/],
      [{ action: "x", extra: 1 }, /Unrecognized key/],
      [{ action: 5 }, /^action: expected string/],
      [{ action: "x", params: [] }, /^params: expected record/],
      [{ action: "x", target: 7 }, /^target: /],
      [[{ action: "x" }], /^The body must be a JSON object$/],
    ];
    for (const [body, message] of cases) {
      const r = await check(body, deployer);
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.json.error).toBe("invalid_request");
      expect(r.json.message).toMatch(message);
      expect(schemas.errorSchema.parse(r.json)).toBeTruthy();
    }
  });
});

describe("POST /v1/check-plan", () => {
  it("decides every step in order, without short-circuit, for the bearer", async () => {
    const r = await http(url, "/v1/check-plan", {
      token: deployer,
      body: {
        steps: [
          { action: "restart-deployment", ...staging },
          { action: "no-such-action" },
          {
            action: "get-pod-logs",
            target: "staging/api-server",
            params: { namespace: "staging", pod: "api-0" },
          },
        ],
        correlation_id: "plan-1",
      },
    });
    expect(r.status).toBe(200);
    schemas.checkPlanResponseSchema.parse(r.json);
    expect(r.json.decisions.map((d: { result: string }) => d.result)).toEqual(["allow", "deny", "allow"]);
    expect(new Set(r.json.decisions.map((d: { caller: string }) => d.caller))).toEqual(
      new Set(["deploy-bot"]),
    );
    const events = readEvents(join(dir, "audit.jsonl"));
    const ids = r.json.decisions.map((d: { audit_id: string }) => d.audit_id);
    expect(events.filter((e) => ids.includes(e.event_id)).map((e) => e.correlation_id)).toEqual([
      "plan-1",
      "plan-1",
      "plan-1",
    ]);
  });

  it("refuses a caller or a timestamp inside a step, and an empty plan", async () => {
    const named = await http(url, "/v1/check-plan", {
      token: deployer,
      body: { steps: [{ action: "x", caller: "a" }] },
    });
    expect([named.status, named.json.message]).toEqual([400, expect.stringMatching(/^steps\[0\]\.caller: /)]);
    const empty = await http(url, "/v1/check-plan", { token: deployer, body: { steps: [] } });
    expect(empty.status).toBe(400);
  });
});

describe("tickets", () => {
  it("verify inspects, redeem consumes exactly once, mismatches are refused — results, not errors", async () => {
    const d = await check({ action: "restart-deployment", ...staging }, deployer);
    const token = d.json.ticket.token as string;
    const post = (mode: string, body: unknown, bearer: string | null = deployer) =>
      http(url, `/v1/tickets/${mode}`, { body, token: bearer });

    const v = await post("verify", { token, expected_action: "restart-deployment" });
    expect(v.status).toBe(200);
    schemas.ticketResultSchema.parse(v.json);
    expect([v.json.valid, v.json.used, v.json.redeemed]).toEqual([true, false, false]);

    const wrong = await post("redeem", {
      token,
      expected_params: { namespace: "prod", deployment: "api-server" },
    });
    expect([wrong.json.valid, wrong.json.code]).toEqual([false, "params_mismatch"]);

    const first = await post("redeem", {
      token,
      expected_action: "restart-deployment",
      expected_params: staging.params,
    });
    expect([first.json.valid, first.json.redeemed, first.json.ticket.params_checked]).toEqual([
      true,
      true,
      true,
    ]);
    const again = await post("redeem", { token });
    expect([again.json.valid, again.json.code, again.json.reason]).toEqual([
      false,
      "replay",
      "Ticket has already been used (replay detected)",
    ]);
    const after = await post("verify", { token });
    expect(after.json.used).toBe(true);
  });

  it("need a verified identity (401), and a well-formed body (400)", async () => {
    const none = await http(url, "/v1/tickets/verify", { body: { token: "x" } });
    expect([none.status, none.json.error]).toEqual([401, "unauthenticated"]);
    expect(none.headers.get("www-authenticate")).toMatch(/^Bearer/);
    const forged = await http(url, "/v1/tickets/redeem", { body: { token: "x" }, token: `${deployer}x` });
    expect(forged.status).toBe(401);
    const bad = await http(url, "/v1/tickets/verify", { body: { token: 5 }, token: deployer });
    expect(bad.status).toBe(400);
  });
});

describe("POST /v1/delegations", () => {
  it("mints a child token for the bearer; the child decides as itself, within the parent's roles", async () => {
    const r = await http(url, "/v1/delegations", {
      token: deployer,
      body: { child_agent_id: "deploy-helper", roles: ["deployer"], ttl_seconds: 600 },
    });
    expect(r.status).toBe(200);
    schemas.delegationTokenSchema.parse(r.json);
    expect([r.json.parent_agent_id, r.json.child_agent_id, r.json.delegation_depth]).toEqual([
      "deploy-bot",
      "deploy-helper",
      1,
    ]);
    const d = await check({ action: "restart-deployment", ...staging }, r.json.token);
    expect([d.json.result, d.json.caller]).toEqual(["allow", "deploy-helper"]);
  });

  it("refuses a widening (403 with the reason and code), and an unauthenticated parent (401)", async () => {
    const wider = await http(url, "/v1/delegations", {
      token: deployer,
      body: { child_agent_id: "x", roles: ["admin"] },
    });
    expect([wider.status, wider.json.error, wider.json.code]).toEqual([
      403,
      "delegation_refused",
      "invalid_request",
    ]);
    expect(wider.json.message).toBe("Cannot delegate roles not held by parent: ['admin']");
    const self = await http(url, "/v1/delegations", {
      token: deployer,
      body: { child_agent_id: "deploy-bot" },
    });
    expect(self.status).toBe(403);
    const anon = await http(url, "/v1/delegations", { body: { child_agent_id: "x" } });
    expect(anon.status).toBe(401);
  });
});

describe("operations and metadata", () => {
  it("GET /healthz and /readyz", async () => {
    const h = await http(url, "/healthz");
    expect([h.status, h.json]).toEqual([200, { status: "ok" }]);
    const r = await http(url, "/readyz");
    expect(r.status).toBe(200);
    expect(schemas.readySchema.parse(r.json)).toEqual({
      status: "ready",
      checks: { state: { ok: true }, audit: { ok: true }, approvals: { ok: true } },
    });
  });

  it("GET /metrics: decisions by result and rule, latency histogram, audit queue depth", async () => {
    const r = await http(url, "/metrics");
    expect(r.status).toBe(200);
    expect(r.headers.get("content-type")).toMatch(/^text\/plain/);
    expect(r.text).toMatch(
      /agent_safe_decisions_total\{result="allow",rule="allow-deployer-staging",code="rule"\} \d+/,
    );
    expect(r.text).toMatch(/agent_safe_decisions_total\{result="deny",rule="",code="unauthenticated"\} \d+/);
    expect(r.text).toMatch(/agent_safe_decision_duration_seconds_bucket\{le="0.01"\} \d+/);
    expect(r.text).toMatch(/agent_safe_audit_queue_depth \d+/);
    expect(r.text).toMatch(/agent_safe_state_errors_total/);
    expect(r.text).toMatch(
      /agent_safe_http_requests_total\{route="\/v1\/check",method="POST",status="200"\} \d+/,
    );
    expect(r.text).not.toContain(deployer);
  });

  it("GET /.well-known/jwks.json: the ticket, identity and audit-checkpoint public keys, no private key", async () => {
    const r = await http(url, "/.well-known/jwks.json");
    expect(r.status).toBe(200);
    const jwks = schemas.jwksSchema.parse(r.json);
    expect(jwks.keys.map((k) => k.purpose).sort()).toEqual([
      "audit-checkpoint",
      "identity-issuer",
      "ticket-signing",
    ]);
    expect(r.text).not.toMatch(/"d"\s*:/);
    // The ticket key in the set verifies a ticket this sidecar signed.
    const d = await check({ action: "restart-deployment", ...staging }, deployer);
    const [h, p, s] = (d.json.ticket.token as string).split(".") as [string, string, string];
    const kid = JSON.parse(Buffer.from(h, "base64url").toString()).kid;
    const jwk = jwks.keys.find((k) => k.kid === kid)!;
    const { createPublicKey, verify } = await import("node:crypto");
    const key = createPublicKey({ key: { kty: jwk.kty, crv: jwk.crv, x: jwk.x }, format: "jwk" });
    expect(verify(null, Buffer.from(`${h}.${p}`), key, Buffer.from(s, "base64url"))).toBe(true);
  });

  it("GET /openapi.json: OpenAPI 3.1 from the very schemas that validate the bodies", async () => {
    const r = await http(url, "/openapi.json");
    expect(r.status).toBe(200);
    const doc = r.json;
    expect(doc.openapi).toBe("3.1.0");
    expect(Object.keys(doc.paths).sort()).toEqual(
      [
        "/.well-known/jwks.json",
        "/healthz",
        "/metrics",
        "/openapi.json",
        "/readyz",
        "/v1/admin/kill-switch",
        "/v1/admin/reload",
        "/v1/approvals",
        "/v1/approvals/{id}",
        "/v1/approvals/{id}/approve",
        "/v1/approvals/{id}/deny",
        "/v1/approvals/{id}/wait",
        "/v1/check",
        "/v1/check-plan",
        "/v1/delegations",
        "/v1/execute",
        "/v1/tickets/redeem",
        "/v1/tickets/verify",
      ].sort(),
    );
    const { $schema: _s, ...expected } = z.toJSONSchema(schemas.checkRequestSchema, {
      target: "draft-2020-12",
      io: "input",
    }) as Record<string, unknown>;
    expect(doc.components.schemas.CheckRequest).toEqual(expected);
    expect(doc.paths["/v1/check"].post.requestBody.content["application/json"].schema).toEqual({
      $ref: "#/components/schemas/CheckRequest",
    });
    // Every $ref resolves.
    for (const ref of r.text.matchAll(/"\$ref":"#\/components\/schemas\/([A-Za-z]+)"/g)) {
      expect(doc.components.schemas[ref[1]!], ref[1]).toBeDefined();
    }
  });
});

describe("HTTP errors: JSON {error, message} with the right status", () => {
  it("404, 405 (with Allow), 415, 400 invalid JSON, 413, 401 for another scheme", async () => {
    const nf = await http(url, "/v1/nope");
    expect([nf.status, nf.json.error]).toEqual([404, "not_found"]);
    const na = await http(url, "/v1/check", { method: "GET" });
    expect([na.status, na.json.error, na.headers.get("allow")]).toEqual([405, "method_not_allowed", "POST"]);
    const text = await http(url, "/v1/check", { raw: "action=x", headers: { "content-type": "text/plain" } });
    expect([text.status, text.json.error]).toEqual([415, "unsupported_media_type"]);
    const bad = await http(url, "/v1/check", { raw: '{"action": ', token: deployer });
    expect([bad.status, bad.json.error]).toEqual([400, "invalid_json"]);
    expect(bad.json.message).toBe("The body is not valid JSON: Expecting value: line 1 column 12 (char 11)");
    const deep = await http(url, "/v1/check", { raw: `${"[".repeat(100)}${"]".repeat(100)}` });
    expect([deep.status, deep.json.error]).toEqual([400, "invalid_json"]);
    const big = await http(url, "/v1/check", { body: { action: "x", params: { blob: "x".repeat(70_000) } } });
    expect([big.status, big.json.error]).toEqual([413, "payload_too_large"]);
    const basic = await http(url, "/v1/check", {
      body: { action: "x" },
      headers: { authorization: "Basic eDp5" },
    });
    expect([basic.status, basic.json.error]).toEqual([401, "unauthenticated"]);
    const empty = await http(url, "/v1/check", { raw: "", token: deployer });
    expect([empty.status, empty.json.message]).toEqual([400, "A JSON object body is required"]);
  });
});

describe("POST /v1/admin/reload", () => {
  it("needs the admin token (401 / 403), reloads a changed policy, and keeps the old one when broken (422)", async () => {
    expect((await http(url, "/v1/admin/reload", { method: "POST" })).status).toBe(401);
    const wrong = await http(url, "/v1/admin/reload", { method: "POST", token: `${ADMIN}x` });
    expect([wrong.status, wrong.json.error]).toEqual([403, "forbidden"]);

    const before = await check({ action: "restart-deployment", ...staging }, deployer);
    expect(before.json.result).toBe("allow");
    const policy = join(dir, "policies", "zz-deny-staging.yaml");
    writeFileSync(
      policy,
      "rules:\n  - name: freeze-staging\n    priority: 10000\n    match:\n      targets:\n        environments: [staging]\n" +
        "    decision: deny\n    reason: Staging is frozen\n",
    );
    const ok = await http(url, "/v1/admin/reload", { method: "POST", token: ADMIN });
    expect(ok.status).toBe(200);
    schemas.reloadSchema.parse(ok.json);
    expect(ok.json.previous_revision).toBe(before.json.policy_revision);
    const frozen = await check({ action: "restart-deployment", ...staging }, deployer);
    expect([frozen.json.result, frozen.json.reason, frozen.json.policy_revision]).toEqual([
      "deny",
      "Staging is frozen",
      ok.json.policy_revision,
    ]);

    writeFileSync(policy, "rules:\n  - name: broken\n    priority: [\n");
    const broken = await http(url, "/v1/admin/reload", { method: "POST", token: ADMIN });
    expect([broken.status, broken.json.error]).toEqual([422, "reload_failed"]);
    expect(broken.json.message).toContain("zz-deny-staging.yaml");
    const still = await check({ action: "restart-deployment", ...staging }, deployer);
    expect([still.json.result, still.json.policy_revision]).toEqual(["deny", ok.json.policy_revision]);
    expect(readFileSync(policy, "utf8")).toContain("broken");
  });

  it("GET/POST /v1/admin/kill-switch: engage for one caller, then everyone, then release", async () => {
    const admin = (body?: unknown) =>
      http(url, "/v1/admin/kill-switch", body === undefined ? { token: ADMIN } : { token: ADMIN, body });
    expect((await http(url, "/v1/admin/kill-switch", {})).status).toBe(401);
    expect((await admin()).json).toMatchObject({ engaged: false, global: null, callers: [] });
    const on = await admin({ mode: "on", caller: "deploy-bot", reason: "incident 7" });
    expect(on.status).toBe(200);
    schemas.killSwitchStatusSchema.parse(on.json);
    expect(on.json.callers[0]).toMatchObject({ caller: "deploy-bot", reason: "incident 7" });
    const d = await check({ action: "restart-deployment", ...staging }, deployer);
    expect([d.json.result, d.json.code, d.json.reason]).toEqual([
      "deny",
      "kill_switch",
      "Kill switch engaged for caller 'deploy-bot' (incident 7)",
    ]);
    expect((await admin({ mode: "off", caller: "deploy-bot" })).json.engaged).toBe(false);
    await admin({ mode: "on" });
    expect((await check({ action: "restart-deployment", ...staging }, deployer)).json.code).toBe(
      "kill_switch",
    );
    const off = await admin({ mode: "off" });
    expect(off.json).toMatchObject({ engaged: false });
    expect((await check({ action: "restart-deployment", ...staging }, deployer)).json.code).not.toBe(
      "kill_switch",
    );
    expect((await admin({ mode: "maybe" })).status).toBe(400);
  });

  it("does not exist without --admin-token-file", async () => {
    const other = await startInProcess(makeProject());
    try {
      const r = await http(other.url, "/v1/admin/reload", { method: "POST", token: ADMIN });
      expect([r.status, r.json.error]).toEqual([404, "not_found"]);
    } finally {
      await other.close();
    }
  });
});
