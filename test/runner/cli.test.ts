// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${ENV} references in agent-safe.yaml
/**
 * The runner and rollback commands as real processes (the built CLI), on a project made by
 * `init` with credentials from the Vault fixture, kubectl against the fake API server over TLS,
 * the audit log with a filesystem shipper: `runner dry-run|execute`, `audit show`,
 * `rollback show|check`, their exit codes, what they print, and that no secret is printed.
 */
import { readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { VaultFixture } from "../credentials/vault-fixture.js";
import { type CliResult, cliAsync, tempDir } from "../helpers/cli.js";
import { SECRET_VALUE, seedCluster } from "./k8s-fake/fixtures.js";
import { hasKubectl } from "./k8s-fake/helpers.js";
import { FakeK8s } from "./k8s-fake/server.js";
import { ALLOW_ALL, INVENTORY, ROOT_TOKEN, startVault } from "./rig.js";

let k: FakeK8s;
let vault: VaultFixture;
let dir: string;
let home: string;
let caller: string;
/** Every CLI output, by command, for the final grep. */
const outputs: { command: string; result: CliResult }[] = [];
const tickets: string[] = [];

async function run(args: string[]): Promise<CliResult> {
  const r = await cliAsync(args, { cwd: dir, env: { VAULT_TOKEN: ROOT_TOKEN, HOME: home } });
  outputs.push({ command: args.slice(0, 2).join(" "), result: r });
  return r;
}

async function ticket(action: string, target: string, params: Record<string, unknown>) {
  const r = await run(["check", action, "-t", target, "-c", caller, "-p", JSON.stringify(params), "--json"]);
  expect(r.code, r.stderr).toBe(0);
  const d = JSON.parse(r.stdout) as { audit_id: string; ticket: { token: string } };
  tickets.push(d.ticket.token);
  return { token: d.ticket.token, auditId: d.audit_id };
}

function auditEvents(): Record<string, unknown>[] {
  return readFileSync(join(dir, "audit.jsonl"), "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .filter((e) => e.event_type !== "checkpoint");
}

const replicas = () =>
  ((k.get("apps", "deployments", "prod", "web")?.spec ?? {}) as { replicas?: number }).replicas;
const setPolicy = (text: string) => writeFileSync(join(dir, "policies", "test.yaml"), text);

beforeAll(async () => {
  if (!hasKubectl) return;
  vault = await startVault();
  k = new FakeK8s();
  await k.start({ tls: true });
  seedCluster(k);
  dir = join(tempDir("agent-safe-runner-cli-"), "project");
  home = tempDir("agent-safe-runner-home-");
  const init = await cliAsync(["init", dir]);
  expect(init.code, init.stderr).toBe(0);
  for (const f of readdirSync(join(dir, "policies"))) rmSync(join(dir, "policies", f));
  setPolicy(ALLOW_ALL);
  writeFileSync(join(dir, "inventory.yaml"), INVENTORY);
  writeFileSync(join(dir, "k8s-ca.pem"), k.caPem ?? "");
  writeFileSync(
    join(dir, "agent-safe.yaml"),
    `profile: strict
actions: ./actions
policies: ./policies
inventory: ./inventory.yaml
state: sqlite:.agent-safe/state.db
keys:
  dir: .agent-safe/keys
audit:
  path: ./audit.jsonl
  fsync: always
  shippers:
    - type: filesystem
      path: ./shipped.jsonl
credentials:
  type: hashicorp
  address: ${vault.url}
  timeout_seconds: 2
  auth:
    method: token
    token: \${VAULT_TOKEN}
  roles:
    kubernetes:
      engine: kubernetes
      role: agent-safe
      server: ${k.url}
      certificate_authority: k8s-ca.pem
      cluster_role_binding: true
      namespace: agent-safe
runner:
  executor: kubectl
  executors: [kubectl, dry-run]
  timeout_seconds: 20
`,
  );
  const id = await run(["identity", "issue", "--agent-id", "agent-1", "--roles", "deployer"]);
  expect(id.code, id.stderr).toBe(0);
  caller = id.stdout.trim();
});
afterAll(async () => {
  if (!hasKubectl) return;
  await k.stop();
  await vault.close();
});

describe.skipIf(!hasKubectl)("runner dry-run / execute", () => {
  let scaled: { token: string; auditId: string };

  it("dry-run shows every step without redeeming; execute runs once with a Vault credential", async () => {
    scaled = await ticket("scale-deployment", "cluster/web", {
      namespace: "prod",
      deployment: "web",
      replicas: 5,
    });
    // No --executor: the project's runner.executor (kubectl) is used.
    const dry = await run(["runner", "dry-run", scaled.token]);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toBe(
      [
        "DRY-RUN — scale-deployment on cluster/web",
        "  credentials: kubernetes from the vault, scoped to this ticket",
        "  precheck deployment-exists: The deployment is present in the namespace.",
        "  precheck hpa-present: Warns when an autoscaler targets the deployment (it may undo the change).",
        "  kubectl scale deployments.v1.apps/web --namespace=prod --replicas=5",
        "",
      ].join("\n"),
    );
    expect(k.requests).toHaveLength(0);
    expect(vault.requestsTo(/creds/)).toHaveLength(0);

    const r = await run(["runner", "execute", scaled.token, "--executor", "kubectl", "--json"]);
    expect(r.code, r.stderr).toBe(0);
    const result = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(result).toMatchObject({
      status: "success",
      stage: "completed",
      action: "scale-deployment",
      target: "cluster/web",
      caller: "agent-1",
      auditId: scaled.auditId,
      executorType: "kubectl",
      beforeState: { replicas: 3 },
      afterState: { replicas: 5 },
      credentialRevoked: true,
    });
    expect(replicas()).toBe(5);
    expect(k.writes()[0]?.authorization).toBe(`Bearer ${vault.issuedSecrets().at(-1)}`);
    expect(vault.activeLeases()).toEqual([]);
    const types = auditEvents().map((e) => e.event_type);
    expect(types.slice(-3)).toEqual(["decision", "state_capture", "execution"]);
  });

  it("a replayed ticket: execute exits 1 with the reason, audited; dry-run exits 1", async () => {
    const again = await run(["runner", "execute", scaled.token, "--executor", "kubectl"]);
    expect(again.code).toBe(1);
    expect(again.stdout).toMatch(
      /^ERROR — unverified:scale-deployment on unverified:cluster\/web\n {2}error: Ticket validation failed: Ticket has already been used \(replay detected\)\n {2}duration: \d+ms\n {2}executor: kubectl\n {2}audit_id: \n$/,
    );
    const last = auditEvents().at(-1);
    expect(last).toMatchObject({
      event_type: "execution",
      decision: "deny",
      reason: "Execution error: Ticket validation failed: Ticket has already been used (replay detected)",
    });
    expect(last?.context).toMatchObject({ stage: "ticket" });
    const dry = await run(["runner", "dry-run", scaled.token, "--executor", "kubectl", "--json"]);
    expect(dry.code).toBe(1);
    expect(JSON.parse(dry.stdout)).toEqual({
      valid: false,
      reason: "Ticket has already been used (replay detected)",
      used: true,
      steps: [],
    });
    expect(k.writes()).toHaveLength(1);
  });

  it("a missing kubectl: exit 1, the reason printed and audited, the credential revoked", async () => {
    const t = await ticket("scale-deployment", "cluster/web", {
      namespace: "prod",
      deployment: "web",
      replicas: 7,
    });
    const r = await run([
      "runner",
      "execute",
      t.token,
      "--executor",
      "kubectl",
      "--kubectl-path",
      join(dir, "no-kubectl"),
      "--timeout",
      "5",
    ]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain("ERROR — scale-deployment on cluster/web\n");
    expect(r.stdout).toContain(`  error: kubectl could not be started (ENOENT: ${join(dir, "no-kubectl")})`);
    expect(r.stdout).toContain(`  audit_id: ${t.auditId}\n`);
    const show = await run(["audit", "show", "--event-type", "execution", "--last", "1", "--json"]);
    expect(show.code).toBe(0);
    const [e] = JSON.parse(show.stdout) as Record<string, unknown>[];
    expect(e).toMatchObject({ correlation_id: t.auditId, decision: "deny" });
    expect(e?.context).toMatchObject({ status: "error", stage: "execute", credential_revoked: true });
    expect(vault.activeLeases()).toEqual([]);
    expect(replicas()).toBe(5);
  });

  it("an enforced precheck failure: exit 1, nothing deleted", async () => {
    const t = await ticket("delete-namespace", "cluster/kube-system", { namespace: "kube-system" });
    const r = await run(["runner", "execute", t.token, "--executor", "kubectl", "--json"]);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout)).toMatchObject({
      status: "failure",
      stage: "prechecks",
      error: "Precheck failed: not-system-namespace: kube-system is a system namespace",
      credentialRevoked: true,
    });
    expect(k.get("", "namespaces", "", "kube-system")).toBeDefined();
  });

  it("get-secret: the CLI prints a summary, never the value", async () => {
    const t = await ticket("get-secret", "cluster/db-creds", { namespace: "prod", secret: "db-creds" });
    const dry = await run(["runner", "dry-run", t.token, "--executor", "kubectl", "--json"]);
    expect(dry.code).toBe(0);
    const r = await run(["runner", "execute", t.token, "--executor", "kubectl"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(
      /^SUCCESS — get-secret on cluster\/db-creds\n {2}output: \[secret content withheld\] Secret prod\/db-creds \(type Opaque\): 2 key\(s\)/,
    );
  });
});

describe.skipIf(!hasKubectl)("rollback show / check", () => {
  let id: string;

  it("show: the plan from the runner's state capture, as text and JSON", async () => {
    const t = await ticket("scale-deployment", "cluster/web", {
      namespace: "prod",
      deployment: "web",
      replicas: 8,
    });
    const r = await run(["runner", "execute", t.token, "--executor", "kubectl"]);
    expect(r.code, r.stdout).toBe(0);
    id = t.auditId;
    const before = replicas() === 8 ? 5 : -1;
    const text = await run(["rollback", "show", id]);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toBe(
      [
        `Rollback for ${id}: scale-deployment → scale-deployment`,
        "  target: cluster/web",
        `  params: {"namespace":"prod","deployment":"web","replicas":${before}}`,
        "",
        `Run: agent-safe rollback check ${id}`,
        "",
      ].join("\n"),
    );
    const json = await run(["rollback", "show", id, "--json"]);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({
      original_audit_id: id,
      original_action: "scale-deployment",
      rollback_action: "scale-deployment",
      rollback_target: "cluster/web",
      rollback_params: { namespace: "prod", deployment: "web", replicas: 5 },
      before_state: { replicas: 5 },
      warnings: [],
    });
  });

  it("check: through the decision point like any request; allowed, then forbidden by a new policy", async () => {
    const ok = await run(["rollback", "check", id, "--caller", caller, "--json"]);
    expect(ok.code, ok.stderr).toBe(0);
    const allowed = JSON.parse(ok.stdout) as {
      plan: unknown;
      decision: { result: string; audit_id: string; ticket: { token: string } };
    };
    expect(allowed.decision.result).toBe("allow");
    tickets.push(allowed.decision.ticket.token);
    const audited = auditEvents().find((e) => e.event_id === allowed.decision.audit_id);
    expect(audited).toMatchObject({ event_type: "decision", action: "scale-deployment", correlation_id: id });

    // The caller defaults to the original caller's bare id, which strict does not authenticate.
    const bare = await run(["rollback", "check", id]);
    expect(bare.code).toBe(1);
    expect(bare.stdout).toContain("Unauthenticated caller");

    setPolicy(`rules:
  - name: freeze-web
    priority: 100
    match:
      actions: [scale-deployment]
      targets:
        labels: {deployment: web}
    decision: deny
    reason: web is frozen (incident 4711)
${ALLOW_ALL.replace("rules:\n", "")}`);
    try {
      const denied = await run(["rollback", "check", id, "--caller", caller]);
      expect(denied.code).toBe(1);
      expect(denied.stdout).toContain(
        `Rollback plan: scale-deployment on cluster/web {"namespace":"prod","deployment":"web","replicas":5}`,
      );
      expect(denied.stdout).toMatch(/DENY/);
      expect(denied.stdout).toContain("web is frozen (incident 4711)");
    } finally {
      setPolicy(ALLOW_ALL);
    }
    // The allowed rollback's ticket runs like any other.
    const r = await run(["runner", "execute", allowed.decision.ticket.token, "--executor", "kubectl"]);
    expect(r.code, r.stdout).toBe(0);
    expect(replicas()).toBe(5);
  });

  it("no plan: exit 1 with the reason", async () => {
    const none = await run(["rollback", "show", "evt-000000000000"]);
    expect(none).toMatchObject({
      code: 1,
      stdout: "ERROR — No decision event found for audit_id: evt-000000000000\n",
    });
    const t = await ticket("scale-deployment", "cluster/web", {
      namespace: "prod",
      deployment: "web",
      replicas: 2,
    });
    const j = await run(["rollback", "check", t.auditId, "--caller", caller, "--json"]);
    expect(j.code).toBe(1);
    expect(JSON.parse(j.stdout)).toEqual({
      error: "no_plan",
      message: `No state capture found for audit_id: ${t.auditId}. Execute it through the runner (or record state) before generating rollback.`,
    });
  });
});

describe.skipIf(!hasKubectl)("no secret in any CLI output, the log or the shipped copy", () => {
  it("greps everything for the secret values, credentials and tokens", async () => {
    const show = await run(["audit", "show", "--all"]);
    expect(show.code).toBe(0);
    // 0.9.0's layout: an execution is a line labelled with its allow/deny, after its state capture.
    expect(show.stdout).toMatch(/STATE_CAPTURE +scale-deployment +target=cluster\/web/);
    expect(show.stdout).toMatch(/DENY +unverified:scale-deployment +target=unverified:cluster\/web/);
    const showJson = await run(["audit", "show", "--all", "--json"]);
    expect(showJson.code).toBe(0);
    const secrets = [
      SECRET_VALUE,
      Buffer.from(SECRET_VALUE).toString("base64"),
      ...vault.issuedSecrets(),
      ROOT_TOKEN,
      caller,
      ...tickets,
    ];
    expect(vault.issuedSecrets().length).toBeGreaterThanOrEqual(4);
    const log = readFileSync(join(dir, "audit.jsonl"), "utf8");
    // The shipper runs in each CLI process and drains before it exits.
    const shipped = readFileSync(join(dir, "shipped.jsonl"), "utf8");
    expect(shipped.trim().split("\n").length).toBe(log.trim().split("\n").length);
    // `check`, `identity issue` and `rollback check` print a ticket or a token by design.
    const greppable = ["runner execute", "runner dry-run", "rollback show", "audit show"];
    const printed = outputs
      .filter((o) => greppable.includes(o.command))
      .map((o) => o.result.stdout + o.result.stderr)
      .join("\n");
    expect(new Set(outputs.filter((o) => greppable.includes(o.command)).map((o) => o.command))).toEqual(
      new Set(greppable),
    );
    for (const s of secrets) {
      expect(log).not.toContain(s);
      expect(shipped).not.toContain(s);
      expect(printed).not.toContain(s);
    }
  });
});
