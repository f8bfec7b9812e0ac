/** Bad input: each defect gives one clear error naming file:line:col (or the flag), exit 2. */
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeEach, describe, expect, it } from "vitest";
import { cli, ROOT, tempDir } from "../helpers/cli.js";

let dir: string;

beforeEach(() => {
  dir = tempDir();
  cpSync(join(ROOT, "actions"), join(dir, "actions"), { recursive: true });
  cpSync(join(ROOT, "policies"), join(dir, "policies"), { recursive: true });
  cpSync(join(ROOT, "inventory.yaml"), join(dir, "inventory.yaml"));
});

const check = () =>
  cli(
    [
      "check",
      "get-pod-logs",
      "--target",
      "dev/debug-pod",
      "--params",
      '{"namespace":"dev","pod":"debug-pod"}',
    ],
    { cwd: dir },
  );

function expectOneError(r: ReturnType<typeof cli>, pattern: RegExp): void {
  expect(r.code).toBe(2);
  expect(r.stdout).toBe("");
  const lines = r.stderr.trim().split("\n");
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(pattern);
  expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace without --debug
}

describe("configuration errors", () => {
  it("works on the untouched copy", () => {
    expect(check().code).toBe(0);
  });

  it("malformed YAML", () => {
    writeFileSync(join(dir, "policies", "broken.yaml"), "rules:\n  - name: x\n    match: {actions: [a\n");
    expectOneError(check(), /^error: .*policies\/broken\.yaml:\d+:\d+: invalid YAML: /);
  });

  it("a wrong type", () => {
    writeFileSync(
      join(dir, "policies", "typed.yaml"),
      "rules:\n  - name: x\n    priority: high\n    match: {}\n    decision: allow\n    reason: r\n",
    );
    expectOneError(
      check(),
      /policies\/typed\.yaml:3:15: rules\[0\]\.priority: expected an integer, got str 'high'$/,
    );
  });

  it("an unknown key in a policy (a typo must not widen a rule)", () => {
    writeFileSync(
      join(dir, "policies", "typo.yaml"),
      "rules:\n  - name: x\n    match:\n      targets: {enviroments: [dev]}\n    decision: allow\n    reason: r\n",
    );
    expectOneError(
      check(),
      /policies\/typo\.yaml:4:17: rules\[0\]\.match\.targets\.enviroments: unknown key 'enviroments' \(did you mean 'environments'\?\)$/,
    );
  });

  it("an invalid regex constraint fails at load, not at request time", () => {
    writeFileSync(
      join(dir, "actions", "zz-bad-regex.yaml"),
      'name: bad-regex\nversion: "1.0.0"\ndescription: d\nrisk_class: low\ntarget_types: [x]\nparameters:\n  - name: p\n    type: string\n    constraints:\n      pattern: "([a-z]"\n',
    );
    expectOneError(
      check(),
      /actions\/zz-bad-regex\.yaml:10:16: parameters\[0\]\.constraints\.pattern: invalid regular expression: /,
    );
  });

  it("a duplicate action", () => {
    cpSync(join(dir, "actions", "get-pod-logs.yaml"), join(dir, "actions", "zz-copy.yaml"));
    expectOneError(
      check(),
      /actions\/zz-copy\.yaml:\d+:\d+: name: Duplicate action name 'get-pod-logs': already registered as get-pod-logs@1\.0\.0 in .*get-pod-logs\.yaml$/,
    );
  });

  it("a duplicate target", () => {
    writeFileSync(
      join(dir, "inventory.yaml"),
      "targets:\n  - {id: a, type: t, environment: dev, sensitivity: public}\n  - {id: a, type: t, environment: dev, sensitivity: public}\n",
    );
    expectOneError(
      check(),
      /inventory\.yaml:3:\d+: targets\[1\]\.id: Duplicate target ID: a \(first defined on line 2\)$/,
    );
  });

  it("a missing directory", () => {
    rmSync(join(dir, "policies"), { recursive: true });
    expectOneError(check(), /^error: Policies directory not found: .*policies$/);
  });

  it("a broken --params JSON names the flag", () => {
    expectOneError(
      cli(["check", "get-pod-logs", "--params", "{namespace: dev}"], { cwd: dir }),
      /^error: invalid JSON in --params: Expecting property name enclosed in double quotes: line 1 column 2 \(char 1\)$/,
    );
  });

  it("--params that is not an object", () => {
    expectOneError(
      cli(["check", "get-pod-logs", "--params", "[1]"], { cwd: dir }),
      /^error: --params must be a JSON object/,
    );
  });

  it("a missing inventory that was named explicitly", () => {
    expectOneError(
      cli(["check", "get-pod-logs", "--inventory", "nope.yaml"], { cwd: dir }),
      /^error: Inventory file not found: nope\.yaml$/,
    );
  });

  it("an unknown key in agent-safe.yaml", () => {
    writeFileSync(join(dir, "agent-safe.yaml"), "profile: strict\npolices: ./policies\n");
    expectOneError(
      check(),
      /agent-safe\.yaml:2:1: polices: unknown key 'polices' \(did you mean 'policies'\?\)$/,
    );
  });

  it("a usage error exits 2", () => {
    const r = cli(["check"], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/give exactly one of/);
  });

  it("--debug shows the stack", () => {
    mkdirSync(join(dir, "empty"));
    const r = cli(["check", "x", "--policies", "missing-dir", "--debug"], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/\n\s+at /);
  });
});

describe("T3: the policy revision names exactly what decided", () => {
  const revision = () => {
    const r = cli(
      [
        "check",
        "get-pod-logs",
        "--target",
        "dev/debug-pod",
        "--params",
        '{"namespace":"dev","pod":"debug-pod"}',
        "--json",
      ],
      { cwd: dir },
    );
    expect(r.code, r.stderr).toBe(0);
    return (JSON.parse(r.stdout) as { policy_revision: string }).policy_revision;
  };

  it("changing an action's risk class changes the revision of new decisions; reformatting does not", () => {
    const before = revision();
    expect(revision()).toBe(before);
    const file = join(dir, "actions", "get-pod-logs.yaml");
    const text = readFileSync(file, "utf8");
    expect(text).toMatch(/^risk_class: low$/m);
    writeFileSync(file, text.replace(/^risk_class: low$/m, "risk_class: medium"));
    const changed = revision();
    expect(changed).not.toBe(before);
    writeFileSync(file, text);
    expect(revision()).toBe(before);
  });
});
