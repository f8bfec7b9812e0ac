/**
 * Rollback (REFERENCE.md §11.2, THREATS T12) from the runner's own records: the planner reads
 * the decision and the runner's `state_capture` event through the audit log's index; the plan
 * goes back through the decision pipeline as a new request (so a rollback that policy now
 * forbids is denied), and an allowed one runs like any action, with its own ticket and records.
 */
import { existsSync, mkdtempSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { indexPath } from "../../src/audit/segments.js";
import { KubectlExecutor } from "../../src/runner/executors/kubectl/executor.js";
import { auditRollbackSource, planRollback, RollbackError } from "../../src/runner/index.js";
import { tempDir } from "../helpers/cli.js";
import { seedCluster } from "./k8s-fake/fixtures.js";
import { hasKubectl } from "./k8s-fake/helpers.js";
import { FakeK8s } from "./k8s-fake/server.js";
import { ALLOW_ALL, ctxOf, openRig, type Rig } from "./rig.js";

const cache = tempDir("agent-safe-runner-rollback-");
let k: FakeK8s;
let rig: Rig;
let kubectl: KubectlExecutor;

beforeEach(async () => {
  k = new FakeK8s();
  await k.start();
  seedCluster(k);
  kubectl = new KubectlExecutor({
    cacheDir: cache,
    kubeconfig: k.writeKubeconfig(mkdtempSync(join(cache, "kc-"))),
  });
  rig = await openRig();
});
afterEach(async () => {
  await rig.close();
  await k.stop();
});

const replicas = () =>
  ((k.get("apps", "deployments", "prod", "web")?.spec ?? {}) as { replicas?: number }).replicas;

async function plan(auditId: string) {
  const source = await auditRollbackSource(rig.logPath);
  try {
    return planRollback(auditId, source, rig.world());
  } finally {
    source.close();
  }
}

/** Scales web from 3 to `to` through a real decision and the runner; returns the decision's id. */
async function scaleTo(to: number): Promise<string> {
  const t = await rig.allow("scale-deployment", "cluster/web", {
    namespace: "prod",
    deployment: "web",
    replicas: to,
  });
  const r = await rig.runner().run(t.token, { executor: kubectl, timeoutMs: 20_000 });
  expect(r.status).toBe("success");
  return t.auditId;
}

describe.skipIf(!hasKubectl)("rollback plans from the runner's records", () => {
  it("the planner finds the runner's state_capture through the index and restores the before-state", async () => {
    const id = await scaleTo(5);
    expect(replicas()).toBe(5);
    const p = await plan(id);
    expect(existsSync(indexPath(rig.logPath))).toBe(true);
    expect(p).toMatchObject({
      original_audit_id: id,
      original_action: "scale-deployment",
      original_target: "cluster/web",
      original_caller: "agent-1",
      original_params: { namespace: "prod", deployment: "web", replicas: 5 },
      rollback_action: "scale-deployment",
      rollback_target: "cluster/web",
      rollback_caller: "agent-1",
      rollback_params: { namespace: "prod", deployment: "web", replicas: 3 },
      before_state: { replicas: 3, ready_replicas: 3, available_replicas: 3 },
      warnings: [],
    });
    // The plan came from the runner's event, which the index links to the decision.
    const [capture] = rig.linked(id, "state_capture");
    expect(ctxOf(capture)).toMatchObject({ source: "runner", execution_status: "success" });
  });

  it("an allowed rollback runs as a new decision with its own ticket, and can itself be rolled back", async () => {
    const id = await scaleTo(5);
    const p = await plan(id);
    const d = await rig.pipeline.check(
      {
        action: p.rollback_action,
        target: p.rollback_target,
        caller: rig.callerToken,
        params: p.rollback_params as never,
      },
      { trusted: false, correlationId: id },
    );
    expect(d.result).toBe("allow");
    expect(d.ticket).toBeDefined();
    const decisionEvent = rig.events().find((e) => e.event_id === d.audit_id);
    expect(decisionEvent).toMatchObject({
      event_type: "decision",
      correlation_id: id,
      params: p.rollback_params,
    });
    const r = await rig.runner().run(d.ticket!.token, { executor: kubectl, timeoutMs: 20_000 });
    expect(r.status).toBe("success");
    expect(replicas()).toBe(3);
    // The rollback has its own state capture: undoing it returns to 5.
    const back = await plan(d.audit_id!);
    expect(back.rollback_params).toEqual({ namespace: "prod", deployment: "web", replicas: 5 });
  });

  it("T12: a rollback that policy now forbids is denied, and the denial is audited", async () => {
    const id = await scaleTo(5);
    rig.setPolicy(`rules:
  - name: freeze-web
    priority: 100
    match:
      actions: [scale-deployment]
      targets:
        labels: {deployment: web}
    decision: deny
    reason: web is frozen at its current size (incident 4711)
${ALLOW_ALL.replace("rules:\n", "")}`);
    const p = await plan(id);
    expect(p.rollback_params).toEqual({ namespace: "prod", deployment: "web", replicas: 3 });
    const d = await rig.pipeline.check(
      {
        action: p.rollback_action,
        target: p.rollback_target,
        caller: rig.callerToken,
        params: p.rollback_params as never,
      },
      { trusted: false, correlationId: id },
    );
    expect(d).toMatchObject({
      result: "deny",
      policy_matched: "freeze-web",
      reason: "web is frozen at its current size (incident 4711)",
    });
    expect(d.ticket ?? null).toBeNull();
    expect(rig.events().find((e) => e.event_id === d.audit_id)).toMatchObject({
      decision: "deny",
      correlation_id: id,
    });
    expect(replicas()).toBe(5);
  });

  it("T12 with a paired rollback action: cordon-node's uncordon-node, now forbidden", async () => {
    const t = await rig.allow("cordon-node", "cluster/worker-1", { node: "worker-1" });
    expect((await rig.runner().run(t.token, { executor: kubectl, timeoutMs: 20_000 })).status).toBe(
      "success",
    );
    const p = await plan(t.auditId);
    expect(p).toMatchObject({
      rollback_action: "uncordon-node",
      rollback_params: { node: "worker-1" },
      warnings: [],
    });
    expect(p.before_state).toEqual({ unschedulable: false });
    rig.setPolicy(`rules:
  - name: quarantine
    priority: 100
    match:
      actions: [uncordon-node]
    decision: deny
    reason: Nodes stay cordoned until security has looked at them
${ALLOW_ALL.replace("rules:\n", "")}`);
    const d = await rig.decide(p.rollback_action, p.rollback_target, p.rollback_params);
    expect(d).toMatchObject({ result: "deny", policy_matched: "quarantine" });
  });

  it("no plan: never executed, not reversible, unknown decision; a failed execution is flagged", async () => {
    const notRun = await rig.allow("scale-deployment", "cluster/web", {
      namespace: "prod",
      deployment: "web",
      replicas: 4,
    });
    await expect(plan(notRun.auditId)).rejects.toThrow(
      new RollbackError(
        `No state capture found for audit_id: ${notRun.auditId}. Execute it through the runner (or record state) before generating rollback.`,
      ),
    );
    const restart = await rig.allow("restart-deployment", "cluster/web", {
      namespace: "prod",
      deployment: "web",
    });
    expect((await rig.runner().run(restart.token, { executor: kubectl, timeoutMs: 20_000 })).status).toBe(
      "success",
    );
    await expect(plan(restart.auditId)).rejects.toThrow(
      /^Action 'restart-deployment' (is not reversible|has no rollback_action defined)$/,
    );
    await expect(plan("evt-000000000000")).rejects.toThrow(
      "No decision event found for audit_id: evt-000000000000",
    );

    // A run that failed at execution still has a state capture; the plan says to look first.
    const t = await rig.allow("scale-deployment", "cluster/web", {
      namespace: "prod",
      deployment: "web",
      replicas: 6,
    });
    const broken = new KubectlExecutor({ kubectlPath: join(cache, "missing-kubectl"), cacheDir: cache });
    const r = await rig.runner().run(t.token, { executor: broken, timeoutMs: 5000 });
    expect(r.status).toBe("error");
    const p = await plan(t.auditId);
    expect(p.warnings).toEqual([
      "The execution ended with status 'error': the target may be unchanged or only partly changed; check its current state before rolling back",
      expect.stringMatching(
        /^The state before the execution could not be read: kubectl could not be started/,
      ),
      "Source 'before_state.replicas' not found in before_state",
    ]);
    expect(p.rollback_params).toEqual({ namespace: "prod", deployment: "web" });
    // Strict decisions validate params: the incomplete rollback is denied, not guessed.
    const d = await rig.decide(p.rollback_action, p.rollback_target, p.rollback_params);
    expect(d.result).toBe("deny");
    expect(d.reason).toMatch(/replicas/);
  });
});
