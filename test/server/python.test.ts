/**
 * examples/python: the stdlib-only client runs its example against a real `agent-safe serve`
 * process (python3, urllib only), and prints what docs/sidecar.md shows.
 */
import { spawn } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { issueToken, makeProject, ROOT, serveProcess } from "./helpers.js";

function python(
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn("python3", args, { env: { ...process.env, ...env, PYTHONDONTWRITEBYTECODE: "1" } });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on("data", (d: Buffer) => {
      stderr += d.toString();
    });
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

describe("examples/python", () => {
  it("example.py checks, redeems once, checks a plan and delegates against a real sidecar", async () => {
    const dir = makeProject();
    const token = await issueToken(dir, { agentId: "deploy-bot", roles: ["deployer"] });
    const server = await serveProcess(dir);
    try {
      const r = await python([join(ROOT, "examples", "python", "example.py")], {
        AGENT_SAFE_URL: server.url,
        AGENT_SAFE_TOKEN: token,
      });
      expect(r.stderr).toBe("");
      expect(r.code).toBe(0);
      const lines = r.stdout.trimEnd().split("\n");
      expect(lines[0]).toBe("ALLOW - Deployer agents are authorized for staging deployment management");
      expect(lines[1]).toMatch(
        /^ {2}caller: deploy-bot {2}policy: allow-deployer-staging {2}audit: evt-[0-9a-f]{12}$/,
      );
      expect(lines.slice(2)).toEqual([
        "redeem: Ticket is valid; again: Ticket has already been used (replay detected)",
        "plan: allow, require_approval",
        "delegated to deploy-helper (depth 1)",
        "refused: Cannot delegate roles not held by parent: ['admin']",
      ]);
      expect(r.stdout).not.toContain(token);
    } finally {
      await server.stop();
    }
  });

  it("approval.py: REQUIRE_APPROVAL, self-approval refused, approved by another, one ticket, executed once", async () => {
    const dir = makeProject({ extra: "audit:\n  path: ./audit.jsonl\n" });
    const token = await issueToken(dir, { agentId: "deploy-bot", roles: ["deployer"] });
    const approver = await issueToken(dir, { agentId: "alice", roles: ["sre"] });
    const server = await serveProcess(dir);
    try {
      const r = await python([join(ROOT, "examples", "python", "approval.py")], {
        AGENT_SAFE_URL: server.url,
        AGENT_SAFE_TOKEN: token,
        APPROVER_TOKEN: approver,
      });
      expect(r.stderr).toBe("");
      expect(r.stdout.trimEnd().split("\n")).toEqual([
        "REQUIRE_APPROVAL - Production actions require explicit approval",
        expect.stringMatching(/^self-approval refused \(separation_of_duties\): Approval refused: /),
        "Approval approved by alice: change 4711",
        "ALLOW - ticket collected",
        "execute: skipped; again: Ticket validation failed: Ticket has already been used (replay detected)",
      ]);
      expect(r.code).toBe(0);
      expect(r.stdout).not.toContain(token);
    } finally {
      await server.stop();
    }
  });

  it("the client raises typed errors: HTTP errors with status and code, an unreachable sidecar", async () => {
    const script = [
      "import sys",
      `sys.path.insert(0, ${JSON.stringify(join(ROOT, "examples", "python"))})`,
      "from agent_safe_client import AgentSafeClient, AgentSafeHTTPError, AgentSafeConnectionError",
      "c = AgentSafeClient(sys.argv[1], token='not-a-token')",
      "d = c.check('restart-deployment', target='staging/api-server')",
      "print(d['result'], d['code'])",
      "try:",
      "    c.verify_ticket('x')",
      "except AgentSafeHTTPError as e:",
      "    print(e.status, e.error)",
      "try:",
      "    AgentSafeClient('http://127.0.0.1:1', timeout=2).check('x')",
      "except AgentSafeConnectionError as e:",
      "    print('unreachable')",
    ].join("\n");
    const dir = makeProject();
    const server = await serveProcess(dir);
    try {
      const r = await python(["-c", script, server.url], {});
      expect(r.stderr).toBe("");
      expect(r.stdout).toBe("deny unauthenticated\n401 unauthenticated\nunreachable\n");
    } finally {
      await server.stop();
    }
  });
});
