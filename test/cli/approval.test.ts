/**
 * `agent-safe approval list|show|approve|deny|wait` as real processes (needs the build), on a
 * project made by `agent-safe init`. Requests come from genuine REQUIRE_APPROVAL decisions made
 * in-process with the same project. SQLite here; PostgreSQL (two replicas as two processes) in
 * approval-postgres.test.ts.
 */
import { appendFileSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ApprovalProject, startWaiting } from "../helpers/approvals.js";
import { cli, tempDir } from "../helpers/cli.js";

describe("approval list / show", () => {
  it("no store yet: says so (exit 0 for list, 1 for show) and creates nothing", async () => {
    const p = await ApprovalProject.create();
    expect(p.run(["approval", "list"])).toMatchObject({
      code: 0,
      stdout: "No approval store found (no pending requests).\n",
    });
    expect(p.run(["approval", "list", "--json"]).stdout).toBe("[]\n");
    expect(p.run(["approval", "show", "apr-0123456789ab"])).toMatchObject({
      code: 1,
      stdout: "",
      stderr: "No approval store found.\n",
    });
    expect(() => statSync(join(p.dir, ".agent-safe", "approvals.db"))).toThrow();
  });

  it("lists pending requests in 0.9.0's format and shows one; JSON for both", async () => {
    const p = await ApprovalProject.create();
    const a = await p.request();
    const b = await p.request("other-bot");
    const list = p.run(["approval", "list"]);
    expect(list.code).toBe(0);
    const lines = list.stdout.split("\n");
    expect(lines[0]).toBe(
      `  ${a}  [high]  restart-deployment        target=prod/web-frontend  caller=deploy-bot`,
    );
    expect(lines.slice(1, 4)).toEqual([
      "    reason: Production actions require explicit approval",
      expect.stringMatching(/^ {4}expires: \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$/),
      "    approvals: 0 of 1",
    ]);
    expect(lines[4]).toContain(`  ${b}  [high]  restart-deployment`);
    expect(list.stdout.endsWith("\n2 pending request(s).\n")).toBe(true);
    const json = JSON.parse(p.run(["approval", "list", "--json"]).stdout) as { request_id: string }[];
    expect(json.map((r) => r.request_id)).toEqual([a, b]);

    const show = p.run(["approval", "show", a]);
    expect(show.code).toBe(0);
    expect(show.stdout.split("\n").slice(0, 8)).toEqual([
      `PENDING — ${a}`,
      "  action:    restart-deployment",
      "  target:    prod/web-frontend",
      "  caller:    deploy-bot",
      "  risk:      high (action: medium)",
      "  policy:    require-approval-prod",
      "  reason:    Production actions require explicit approval",
      '  params:    {"deployment":"web-frontend","namespace":"prod"}',
    ]);
    expect(JSON.parse(p.run(["approval", "show", a, "--json"]).stdout)).toMatchObject({
      request_id: a,
      status: "pending",
      caller: "deploy-bot",
    });
    expect(p.run(["approval", "show", "apr-000000000000"])).toMatchObject({
      code: 1,
      stderr: "Approval request not found: apr-000000000000\n",
    });
    expect(p.run(["approval", "list", "--status", "bogus"]).code).toBe(2);
    expect(statSync(join(p.dir, ".agent-safe", "approvals.db")).mode & 0o777).toBe(0o600);
  });
});

describe("approval approve / deny / wait", () => {
  it("refuses the requester, no identity and a bare id; approves as a second identity; exactly one ticket", async () => {
    const p = await ApprovalProject.create();
    const id = await p.request();
    const bot = p.tokenFile("deploy-bot", ["deployer"]);
    const alice = p.tokenFile("alice", ["sre"]);

    const self = p.run(["approval", "approve", id, "--token-file", bot]);
    expect(self).toMatchObject({
      code: 1,
      stdout: "",
      stderr:
        `ERROR  Approval refused: 'deploy-bot' is the requester of ${id}; a request cannot be approved by its ` +
        "requester (separation of duties)\n",
    });
    expect(p.run(["approval", "approve", id]).stderr).toBe(
      "ERROR  Approval refused: the approver must present an identity token (anonymous approvals are not accepted)\n",
    );
    expect(p.run(["approval", "approve", id, "--as", "alice"]).stderr).toContain(
      "ERROR  Approval refused: a bare agent id ('alice') does not identify the approver; present an identity token",
    );
    expect(p.run(["approval", "approve", id, "--by", "alice"])).toMatchObject({
      code: 2,
      stderr:
        "error: --by is not accepted: approvers are identified by their identity token (--token-file or --as)\n",
    });
    expect(p.run(["approval", "approve", id, "--token-file", "nope.token"])).toMatchObject({ code: 2 });

    // Still pending: a wait that looks once reports it, exit 3.
    const early = p.run(["approval", "wait", id, "--timeout", "0", "--token-file", bot]);
    expect(early).toMatchObject({ code: 3 });
    expect(early.stdout.split("\n")[0]).toBe(`REQUIRE_APPROVAL — Approval request ${id} timed out`);

    const ok = p.run(["approval", "approve", id, "--token-file", alice, "--reason", "change 4711"]);
    expect(ok.code).toBe(0);
    const lines = ok.stdout.split("\n");
    expect(lines.slice(0, 4)).toEqual([
      "ALLOW — Approval approved by alice: change 4711",
      `  request: ${id}`,
      "  action:  restart-deployment",
      "  target:  prod/web-frontend",
    ]);
    expect(lines[4]).toMatch(
      new RegExp(
        `^ {2}ticket: {2}minted \\(nonce [0-9a-f]{32}\\); the requester collects it with: agent-safe approval wait ${id}$`,
      ),
    );
    expect(ok.stdout).not.toMatch(/eyJ/);
    const again = p.run(["approval", "approve", id, "--token-file", p.tokenFile("carol", ["sre"])]);
    expect(again).toMatchObject({ code: 1, stderr: `ERROR  Request ${id} is already approved\n` });

    // Someone else waiting sees the approval, not the ticket; the requester gets it once.
    const stranger = p.run(["approval", "wait", id, "--timeout", "0", "--token-file", alice]);
    expect(stranger.code).toBe(0);
    expect(stranger.stdout).toContain(
      "  ticket:  not delivered: 'alice' is not the requester ('deploy-bot')",
    );
    const got = JSON.parse(
      p.run(["approval", "wait", id, "--timeout", "5", "--token-file", bot, "--json"]).stdout,
    );
    expect(got).toMatchObject({
      status: "approved",
      ticket_delivery: "delivered",
      decision: { result: "allow" },
    });
    const token = got.decision.ticket.token as string;
    expect(token).toMatch(/^eyJ/);
    const second = p.run(["approval", "wait", id, "--timeout", "5", "--token-file", bot]);
    expect(second.code).toBe(0);
    expect(second.stdout).toMatch(
      / {2}ticket: {2}not delivered: the ticket was already delivered to deploy-bot at .*; it is delivered once\n$/,
    );

    // The ticket is genuine, bound to the request, and redeems once.
    const expectations = ["--action", "restart-deployment", "--target", "prod/web-frontend"];
    expect(p.run(["ticket", "verify", token, ...expectations]).code).toBe(0);
    expect(p.run(["ticket", "redeem", token, ...expectations]).code).toBe(0);
    expect(p.run(["ticket", "redeem", token, ...expectations])).toMatchObject({ code: 1 });

    // Every step is in the audit log, which verifies; the token never is.
    const log = readFileSync(join(p.dir, "audit.jsonl"), "utf8");
    expect(log).not.toContain(token);
    expect(p.run(["audit", "verify"]).code).toBe(0);
    const types = log
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l).context?.type)
      .filter((t) => typeof t === "string" && t.startsWith("approval"));
    expect(types).toEqual(["approval_request", "approval_resolution", "approval_ticket"]);
  });

  it("deny: DENY for the waiting requester (exit 1); a denied request cannot be approved", async () => {
    const p = await ApprovalProject.create();
    const id = await p.request();
    const carol = p.tokenFile("carol", ["sre"]);
    const denied = p.run([
      "approval",
      "deny",
      id,
      "--token-file",
      carol,
      "--reason",
      "not during the freeze",
      "--json",
    ]);
    expect(denied.code).toBe(0);
    expect(JSON.parse(denied.stdout)).toMatchObject({
      reason: "Approval denied by carol: not during the freeze",
      remaining: 0,
      request: { status: "denied", resolved_by: "carol" },
    });
    const w = p.run(["approval", "wait", id, "--token-file", p.tokenFile("deploy-bot")]);
    expect(w.code).toBe(1);
    expect(w.stdout.split("\n")[0]).toBe("DENY — Approval denied by carol: not during the freeze");
    expect(p.run(["approval", "approve", id, "--token-file", p.tokenFile("alice")])).toMatchObject({
      code: 1,
      stderr: `ERROR  Request ${id} is already denied\n`,
    });
    expect(p.run(["approval", "list", "--status", "denied"]).stdout).toContain(`${id}  [high]`);
    expect(p.run(["approval", "wait", id, "--timeout", "soon"])).toMatchObject({ code: 2 });
  });

  it("an expired request cannot be approved; list and show report it", async () => {
    const p = await ApprovalProject.create("approvals:\n  ttl_seconds: 1\n");
    const id = await p.request();
    await new Promise((r) => setTimeout(r, 1100));
    expect(p.run(["approval", "list"]).stdout).toBe("0 pending request(s).\n");
    expect(p.run(["approval", "show", id]).stdout.split("\n")[0]).toBe(`EXPIRED — ${id}`);
    expect(p.run(["approval", "approve", id, "--token-file", p.tokenFile("alice")])).toMatchObject({
      code: 1,
      stderr: `ERROR  Request ${id} is already expired\n`,
    });
    const w = p.run(["approval", "wait", id]);
    expect(w).toMatchObject({ code: 1 });
    expect(w.stdout.split("\n")[0]).toBe(`DENY — Request ${id} expired`);
  });

  it("SQLite: two processes approving the same request at once — exactly one succeeds (5 rounds)", async () => {
    const p = await ApprovalProject.create();
    const alice = p.tokenFile("alice", ["sre"]);
    const bob = p.tokenFile("bob", ["sre"]);
    for (let round = 0; round < 5; round++) {
      const id = await p.request();
      const results = await Promise.all([
        p.runAsync(["approval", "approve", id, "--token-file", alice]),
        p.runAsync(["approval", "approve", id, "--token-file", bob]),
      ]);
      expect(results.map((r) => r.code).sort()).toEqual([0, 1]);
      expect(results.find((r) => r.code === 1)!.stderr).toBe(`ERROR  Request ${id} is already approved\n`);
    }
    expect(p.run(["audit", "verify"]).code).toBe(0);
  });

  it("a wait wakes when another process approves (SQLite polling)", async () => {
    const p = await ApprovalProject.create();
    const id = await p.request();
    const bot = p.tokenFile("deploy-bot");
    const waiter = startWaiting(p.dir, ["approval", "wait", id, "--timeout", "30", "--token-file", bot]);
    try {
      await waiter.waiting;
      const approved = await p.runAsync(["approval", "approve", id, "--token-file", p.tokenFile("alice")]);
      const approvedAt = Date.now();
      expect(approved.code).toBe(0);
      const done = await waiter.done;
      expect(done.code).toBe(0);
      expect(done.stderr).toBe(`waiting for ${id} (up to 30 s)…\n`);
      expect(done.stdout).toMatch(/ {2}ticket: {2}eyJ/);
      expect(done.endedAt - approvedAt).toBeLessThan(2000);
    } finally {
      waiter.kill();
    }
  });

  it("configuration errors exit 2 with the setting named", () => {
    const project = (extra: string) => {
      const dir = tempDir("agent-safe-cli-apr-");
      expect(cli(["init", dir]).code).toBe(0);
      appendFileSync(join(dir, "agent-safe.yaml"), extra);
      return dir;
    };
    const bad = cli(["approval", "list"], { cwd: project("approvals:\n  ttl_secs: 5\n") });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(
      /approvals\.ttl_secs: unknown key 'ttl_secs' \(expected one of: store, ttl_seconds, notifiers\)/,
    );
    const jsonl = cli(["approval", "list"], { cwd: project("approvals:\n  store: ./approvals.jsonl\n") });
    expect(jsonl.code).toBe(2);
    expect(jsonl.stderr).toContain("0.9.0's JSONL approval file is not supported");
  });
});
