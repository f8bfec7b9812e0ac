import { readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { COMPAT, cli, tempDir } from "../helpers/cli.js";

const devRestart = [
  "check",
  "restart-deployment",
  "--target",
  "dev/test-app",
  "--params",
  '{"namespace":"dev","deployment":"test-app"}',
];

describe("check", () => {
  it("prints the decision and exits 0 on ALLOW", () => {
    const r = cli(devRestart);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("ALLOW — Development environment is unrestricted");
    expect(r.stdout).toContain("  policy: allow-dev-all");
  });

  it("exits 1 on DENY and 3 on REQUIRE_APPROVAL", () => {
    expect(cli(["check", "no-such-action"]).code).toBe(1);
    const approval = cli([
      "check",
      "restart-deployment",
      "-t",
      "prod/api-server",
      "-p",
      '{"namespace":"prod","deployment":"api-server"}',
    ]);
    expect(approval.code).toBe(3);
    expect(approval.stdout).toMatch(/^REQUIRE_APPROVAL — /);
  });

  it("--json prints every decision field", () => {
    const r = cli([...devRestart, "--json"]);
    const d = JSON.parse(r.stdout);
    expect(d).toMatchObject({
      result: "allow",
      action: "restart-deployment",
      target: "dev/test-app",
      caller: "anonymous",
      risk_class: "medium",
      effective_risk: "low",
      policy_matched: "allow-dev-all",
      target_known: true,
      code: "rule",
      profile: "strict",
    });
    expect(d.policy_revision).toMatch(/^[0-9a-f]{64}$/);
  });

  it("accepts an identity object as --caller and the 0.9.0 flag spellings", () => {
    const r = cli([
      "check",
      "restart-deployment",
      "-t",
      "staging/api-server",
      "-c",
      '{"agent_id":"deploy-bot","roles":["deployer"]}',
      "-p",
      '{"namespace":"staging","deployment":"api-server"}',
      "--registry",
      "actions",
      "--json-output",
    ]);
    expect(JSON.parse(r.stdout).policy_matched).toBe("allow-deployer-staging");
  });

  it("keeps 5.0 a float in --params, as 0.9.0 did", () => {
    const r = cli([
      "check",
      "scale-deployment",
      "-t",
      "dev/test-app",
      "-p",
      '{"namespace":"dev","deployment":"test-app","replicas":5.0}',
      "--json",
    ]);
    expect(JSON.parse(r.stdout).reason).toBe(
      "Invalid parameters: Parameter 'replicas': expected integer, got float",
    );
  });

  it("--at evaluates as of another time", () => {
    const r = cli([...devRestart, "--at", "not-a-time"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--at: invalid timestamp/);
  });

  it("--plan decides every step and exits 0", () => {
    const dir = tempDir();
    const plan = join(dir, "plan.yaml");
    writeFileSync(
      plan,
      "steps:\n  - {action: get-pod-logs, target: dev/debug-pod, params: {namespace: dev, pod: debug-pod}}\n  - {action: delete-namespace, target: prod/payments-ns, params: {namespace: payments}}\n",
    );
    const r = cli(["check", "--plan", plan, "--json"]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).map((d: { result: string }) => d.result)).toEqual([
      "allow",
      "require_approval",
    ]);
  });

  it("--batch reads gzip from stdin and denies a malformed line instead of skipping it", () => {
    const lines = [
      JSON.stringify({
        id: "a",
        action: "get-pod-logs",
        target: "dev/debug-pod",
        caller: null,
        params: { namespace: "dev", pod: "debug-pod" },
        timestamp: "2025-01-01T00:00:00Z",
        ticket_id: null,
      }),
      "{not json",
      JSON.stringify({
        id: "c",
        action: "x",
        target: null,
        caller: 5,
        params: null,
        timestamp: null,
        ticket_id: null,
      }),
    ].join("\n");
    const r = cli(["check", "--batch", "-"], { input: gzipSync(lines) });
    expect(r.code).toBe(0);
    const out = r.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(out.map((d) => [d.id, d.result])).toEqual([
      ["a", "allow"],
      [null, "deny"],
      ["c", "deny"],
    ]);
    expect(out[1].reason).toMatch(/^Invalid request: line 2 is not valid JSON/);
    expect(out[2].reason).toBe("Invalid request: caller must be null, a string or an object, got number");
  });
});

describe("explain", () => {
  it("names the first failing condition of every rule ahead of the winner", () => {
    const r = cli([
      "explain",
      "get-pod-logs",
      "-t",
      "staging/api-server",
      "-p",
      '{"namespace":"staging","pod":"api-0"}',
      "--json",
    ]);
    const out = JSON.parse(r.stdout);
    expect(out.decision.policy_matched).toBe("allow-read-actions-staging");
    expect(out.missed.map((m: { rule: string; condition: string }) => [m.rule, m.condition])).toEqual([
      ["require-approval-critical-risk", "risk_classes"],
      ["deny-delete-namespace-prod", "actions"],
      ["require-approval-prod", "targets"],
    ]);
    expect(out.missed[2].why).toBe("environment 'staging' is not in [prod]");
  });
});

describe("list-actions, validate, test", () => {
  it("lists the 33 shipped actions, filtered by tag and risk", () => {
    expect(cli(["list-actions"]).stdout).toContain("33 action(s) registered.");
    const critical = JSON.parse(cli(["list-actions", "--risk", "critical", "--json"]).stdout) as {
      name: string;
    }[];
    expect(critical.map((a) => a.name)).toContain("delete-namespace");
    expect(critical.every((a) => a.name !== "get-pod-logs")).toBe(true);
  });

  it("validates the shipped files, strictly", () => {
    const r = cli(["validate", "--strict"]);
    expect(r.stdout).toContain("OK  registry: 33 action(s) loaded");
    expect(r.stdout).toContain("All 3 config(s) valid.");
    expect(r.code).toBe(0);
  });

  it("runs the shipped policy tests in the strict profile", () => {
    const r = cli(["test", "tests/policy/"]);
    expect(r.stdout).toMatch(/All \d+ test\(s\) passed\./);
    expect(r.code).toBe(0);
  });

  it("loads the 0.9.0 release's files in both profiles and passes its policy tests as reference", () => {
    const ref = join(COMPAT, "reference");
    const args = [
      "--actions",
      join(ref, "actions"),
      "--policies",
      join(ref, "policies"),
      "--inventory",
      join(ref, "inventory.yaml"),
    ];
    for (const profile of ["strict", "reference"])
      expect(cli(["validate", "--profile", profile, ...args]).code).toBe(0);
    const r = cli(["test", join(ref, "policy-tests.yaml"), "--profile", "reference", ...args]);
    expect(r.stdout).toContain("All 13 test(s) passed.");
    expect(r.code).toBe(0);
  });

  it("fails a test run with no cases", () => {
    const dir = tempDir();
    writeFileSync(join(dir, "empty.yaml"), "tests: []\n");
    expect(cli(["test", dir]).code).toBe(1);
  });
});

describe("init", () => {
  it("creates a working project with private keys, and never overwrites", () => {
    const dir = join(tempDir(), "proj");
    const r = cli(["init", dir]);
    expect(r.code).toBe(0);
    expect(statSync(join(dir, ".agent-safe", "keys", "ticket-signing.pem")).mode & 0o777).toBe(0o600);
    expect(readFileSync(join(dir, "agent-safe.yaml"), "utf8")).toContain("profile: strict");
    expect(cli(["test", "tests/policy/"], { cwd: dir }).code).toBe(0);
    const again = cli(["init", dir]);
    expect(again.stdout).toContain("Nothing to create");
  });
});

describe("check --batch streaming", () => {
  it("gives identical, ordered output for a multi-megabyte file, gzip, stdin and one worker", () => {
    const dir = tempDir();
    const templates = [
      { action: "get-pod-logs", target: "dev/debug-pod", params: { namespace: "dev", pod: "debug-pod" } },
      {
        action: "scale-deployment",
        target: "dev/test-app",
        params: { namespace: "dev", deployment: "test-app", replicas: 3.0 },
      },
      {
        action: "restart-deployment",
        target: "prod/api-server",
        params: { namespace: "prod", deployment: "api-server" },
      },
      { action: "delete-namespace", target: "dev/ünïcode", params: { namespace: "dév" } },
    ];
    const lines: string[] = [];
    for (let i = 0; i < 16_000; i++) {
      const t = templates[i % templates.length]!;
      lines.push(
        JSON.stringify({
          id: `r-${i}`,
          ...t,
          caller: `agent-${i % 7}`,
          timestamp: "2025-06-04T12:00:00Z",
          ticket_id: null,
        }).replace('"replicas":3', '"replicas":3.0'),
      );
    }
    const text = `${lines.join("\n")}\n`;
    expect(text.length).toBeGreaterThan(3_000_000);
    const plain = join(dir, "requests.jsonl");
    writeFileSync(plain, text);
    writeFileSync(`${plain}.gz`, gzipSync(text));
    const outputs = [
      cli(["check", "--batch", plain]),
      cli(["check", "--batch", `${plain}.gz`]),
      cli(["check", "--batch", "-"], { input: text }),
      cli(["check", "--batch", plain, "--workers", "1"]),
    ];
    for (const r of outputs) expect([r.code, r.stderr]).toEqual([0, ""]);
    const decisions = outputs[0]!.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(decisions.map((d) => d.id)).toEqual(lines.map((_, i) => `r-${i}`));
    expect(decisions[1].reason).toBe("Invalid parameters: Parameter 'replicas': expected integer, got float");
    expect(decisions[3].reason).toBe(
      "Invalid parameters: Parameter 'namespace': value does not match pattern '^[a-z][a-z0-9-]{0,62}$'",
    );
    expect(decisions[3].target).toBeUndefined(); // batch lines carry only the compat fields and the code
    expect(/^[\x00-\x7f]*$/.test(outputs[0]!.stdout)).toBe(true);
    for (const r of outputs.slice(1)) expect(r.stdout).toBe(outputs[0]!.stdout);
  });
});
