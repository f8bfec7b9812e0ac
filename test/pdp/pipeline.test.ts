/**
 * The whole decision pipeline through the SDK, on a real project: identity → guards → decide()
 * → cumulative risk → audit → ticket. Real key files, real SQLite state, a real audit log.
 */
import { chmodSync, cpSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { verifyLog } from "../../src/audit/verify.js";
import { KEY_PURPOSES, KeyStore } from "../../src/keys/keystore.js";
import { AgentSafe } from "../../src/sdk/agent-safe.js";
import { ROOT, tempDir } from "../helpers/cli.js";

let dir: string;
let safe: AgentSafe | null = null;

function project(extra = ""): string {
  dir = tempDir();
  mkdirSync(join(dir, "logs"));
  for (const part of ["actions", "policies"]) cpSync(join(ROOT, part), join(dir, part), { recursive: true });
  cpSync(join(ROOT, "inventory.yaml"), join(dir, "inventory.yaml"));
  const keys = new KeyStore(join(dir, ".agent-safe", "keys"));
  for (const p of KEY_PURPOSES) keys.generate(p);
  writeFileSync(join(dir, ".agent-safe", "keys", "redaction.key"), "0123456789abcdef0123456789abcdef\n", {
    mode: 0o600,
  });
  writeFileSync(join(dir, "agent-safe.yaml"), `profile: strict\nkeys:\n  dir: .agent-safe/keys\n${extra}`);
  return dir;
}

async function open(extra = ""): Promise<AgentSafe> {
  safe = await AgentSafe.open({ cwd: project(extra), cache: false });
  return safe;
}

const devRestart = { target: "dev/test-app", params: { namespace: "dev", deployment: "test-app" } };

afterEach(async () => {
  await safe?.close();
  safe = null;
});

describe("identity (strict, keys configured)", () => {
  let s: AgentSafe;
  beforeEach(async () => {
    s = await open();
  });

  it("denies a missing caller and a bare id, never reusing the id", async () => {
    const none = await s.check("restart-deployment", devRestart);
    expect([none.result, none.code, none.reason]).toEqual([
      "deny",
      "unauthenticated",
      "Unauthenticated caller: no identity token was presented",
    ]);
    const bare = await s.check("restart-deployment", { ...devRestart, caller: "deploy-bot" });
    expect([bare.result, bare.caller]).toEqual(["deny", "anonymous"]);
    expect(bare.reason).toMatch(/^Unauthenticated caller: /);
  });

  it("takes roles from a verified token, and refuses a forged one", async () => {
    const token = s.issueIdentity({ agentId: "deploy-bot", roles: ["deployer"] });
    const ok = await s.check("restart-deployment", {
      target: "staging/api-server",
      params: { namespace: "staging", deployment: "api-server" },
      caller: token,
    });
    expect([ok.result, ok.caller, ok.policy_matched]).toEqual([
      "allow",
      "deploy-bot",
      "allow-deployer-staging",
    ]);
    const forged = `${token.slice(0, -4)}AAAA`;
    const bad = await s.check("restart-deployment", { ...devRestart, caller: forged });
    expect([bad.result, bad.code]).toEqual(["deny", "unauthenticated"]);
  });

  it("accepts a trusted in-process identity object (library mode)", async () => {
    const d = await s.check("restart-deployment", {
      ...devRestart,
      caller: { agent_id: "lib-agent", roles: [] },
    });
    expect([d.result, d.caller]).toEqual(["allow", "lib-agent"]);
  });
});

describe("tickets", () => {
  it("are issued on ALLOW with the audit id, bind the params, and redeem exactly once", async () => {
    const s = await open();
    const caller = { agent_id: "bot" };
    const d = await s.check("delete-pod", {
      target: "dev/debug-pod",
      params: { namespace: "dev", pod: "debug-pod" },
      caller,
    });
    expect(d.result).toBe("allow");
    expect(d.ticket?.audit_id).toBe(d.audit_id);
    // The optional grace_period default is filled in for execution, and bound by the ticket.
    expect(d.ticket?.params).toEqual({ namespace: "dev", pod: "debug-pod", grace_period: 30 });
    const token = d.ticket!.token;
    const changed = await s.redeemTicket(token, {
      expectedParams: { namespace: "dev", pod: "other", grace_period: 30 },
    });
    expect(changed.valid).toBe(false);
    const first = await s.redeemTicket(token, {
      expectedAction: "delete-pod",
      expectedParams: d.ticket!.params,
    });
    expect(first.valid).toBe(true);
    const again = await s.redeemTicket(token, { expectedAction: "delete-pod" });
    expect([again.valid, again.reason]).toEqual([false, "Ticket has already been used (replay detected)"]);
  });

  it("are not issued for DENY or REQUIRE_APPROVAL", async () => {
    const s = await open();
    const caller = { agent_id: "bot" };
    const deny = await s.check("no-such-action", { caller });
    const approval = await s.check("restart-deployment", {
      target: "prod/api-server",
      params: { namespace: "prod", deployment: "api-server" },
      caller,
    });
    expect([deny.ticket, approval.ticket]).toEqual([null, null]);
    expect(approval.result).toBe("require_approval");
  });
});

describe("guards in the pipeline", () => {
  it("escalate by cumulative risk with 0.9.0's reasons and record the context in the audit log", async () => {
    const s = await open("cumulative_risk:\n  escalation_threshold: 30\n  deny_threshold: 75\n");
    const caller = { agent_id: "chain-bot" };
    const prod = {
      target: "prod/api-server",
      params: { namespace: "prod", deployment: "api-server" },
      caller,
    };
    const first = await s.check("restart-deployment", prod);
    expect([first.result, first.cumulative_risk_score]).toEqual(["require_approval", 50]);
    const second = await s.check("restart-deployment", prod);
    expect(second.result).toBe("deny");
    expect(second.reason).toBe(
      "Cumulative risk threshold exceeded (100 >= 75). Original: Critical-risk actions always require human approval",
    );
    expect(second.escalated_from).toBe("require_approval");
    await s.close();
    safe = null;
    const lines = readFileSync(join(dir, "audit.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    const decision = lines.find((e) => e.event_id === second.audit_id);
    expect(decision.context).toMatchObject({
      cumulative_risk_score: 100,
      escalated_from: "require_approval",
      decision_code: "cumulative_risk",
    });
  });

  it("deny at once with the kill switch, before any rule", async () => {
    const s = await open("state: sqlite:.agent-safe/state.db\n");
    const { KillSwitch } = await import("../../src/guards/kill-switch.js");
    const { openStateBackend } = await import("../../src/state/factory.js");
    const other = await openStateBackend(`sqlite:${join(dir, ".agent-safe", "state.db")}`);
    await new KillSwitch(other.flags).engage({ reason: "incident 42" });
    const d = await s.check("restart-deployment", { ...devRestart, caller: { agent_id: "bot" } });
    expect([d.result, d.code]).toEqual(["deny", "kill_switch"]);
    expect(d.reason).toMatch(/^Kill switch engaged: all actions are denied/);
    await other.close();
  });
});

describe("audit", () => {
  it("logs every decision, redacts sensitive params, and the log verifies", async () => {
    const s = await open();
    const caller = { agent_id: "fn-bot" };
    const secret = "sk_live_do_not_log_me";
    await s.check("lambda-invoke-function", {
      target: "prod/payment-processor",
      params: { function_name: "payment-processor", region: "us-east-1", payload: secret },
      caller,
    });
    await s.check("restart-deployment", devRestart);
    await s.close();
    safe = null;
    const text = readFileSync(join(dir, "audit.jsonl"), "utf8");
    expect(text).not.toContain(secret);
    expect(text).toContain("hmac-sha256:");
    const keys = new KeyStore(join(dir, ".agent-safe", "keys")).verificationKeys("audit-checkpoint");
    const report = await verifyLog([join(dir, "audit.jsonl")], {
      publicKeys: new Map(keys.map((k) => [k.kid, k.publicKey])),
    });
    expect(report.issues).toEqual([]);
    expect([report.ok, report.signing.status]).toEqual([true, "signed"]);
    expect(report.signing.verified).toBeGreaterThan(0);
    const decisions = text
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l))
      .filter((e) => e.event_type === "decision");
    expect(decisions.map((e) => e.decision)).toEqual(["require_approval", "deny"]);
  });

  it("fails closed when the log cannot be written: check() rejects, nothing is allowed", async () => {
    const s = await open("audit:\n  path: logs/audit.jsonl\n  fsync: always\n");
    await s.close();
    safe = null;
    // The writer is open before the directory turns read-only; then every append must fail.
    const s2 = await AgentSafe.open({ cwd: dir, cache: false });
    safe = s2;
    chmodSync(join(dir, "logs"), 0o500);
    try {
      const attempt = s2.check("restart-deployment", { ...devRestart, caller: { agent_id: "bot" } });
      // Running as root ignores directory permissions; then the write succeeds, which is fine.
      if (process.getuid?.() !== 0) await expect(attempt).rejects.toThrow();
      else await attempt;
    } finally {
      chmodSync(join(dir, "logs"), 0o700);
    }
  });

  it("records the wall-clock time, and a what-if time only as context", async () => {
    const s = await open();
    const d = await s.check("restart-deployment", {
      ...devRestart,
      caller: { agent_id: "bot" },
      timestamp: "2020-01-06T12:00:00Z",
    });
    expect(d.evaluated_at).toBe("2020-01-06T12:00:00.000Z");
    await s.close();
    safe = null;
    const event = JSON.parse(readFileSync(join(dir, "audit.jsonl"), "utf8").split("\n")[0]!);
    expect(event.timestamp.startsWith("2020")).toBe(false);
    expect(event.context.evaluated_at).toBe("2020-01-06T12:00:00.000Z");
  });
});

describe("what stays out of the way", () => {
  it("a project without keys accepts bare ids (0.9.0 behaviour) and issues no tickets", async () => {
    dir = tempDir();
    for (const part of ["actions", "policies"])
      cpSync(join(ROOT, part), join(dir, part), { recursive: true });
    cpSync(join(ROOT, "inventory.yaml"), join(dir, "inventory.yaml"));
    mkdirSync(join(dir, "logs"));
    writeFileSync(join(dir, "agent-safe.yaml"), "profile: strict\naudit:\n  path: logs/audit.jsonl\n");
    safe = await AgentSafe.open({ cwd: dir, cache: false });
    const d = await safe.check("restart-deployment", { ...devRestart, caller: "deploy-bot" });
    expect([d.result, d.caller, d.ticket]).toEqual(["allow", "deploy-bot", null]);
  });
});
