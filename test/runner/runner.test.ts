/**
 * The Runner end to end, in process, with real parts: a decision from the pipeline, its ticket
 * redeemed once against the SQLite nonce store, a Kubernetes credential from the Vault fixture
 * (through the resolver), real kubectl against the fake API server over TLS, the audit log with
 * a filesystem shipper. Asserts the whole record: what ran, what the audit shows, the lease.
 */
import { mkdtempSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { KubectlExecutor } from "../../src/runner/executors/kubectl/executor.js";
import { DryRunExecutor } from "../../src/runner/index.js";
import type { VaultFixture } from "../credentials/vault-fixture.js";
import { tempDir } from "../helpers/cli.js";
import { seedCluster } from "./k8s-fake/fixtures.js";
import { hasKubectl, writes } from "./k8s-fake/helpers.js";
import { FakeK8s } from "./k8s-fake/server.js";
import { chainOk, ctxOf, openRig, type Rig, startVault } from "./rig.js";

const cache = tempDir("agent-safe-runner-kcache-");
let k: FakeK8s;
let vault: VaultFixture;
let rig: Rig;

beforeEach(async () => {
  vault = await startVault();
  k = new FakeK8s();
  await k.start({ tls: true });
  seedCluster(k);
  rig = await openRig({ vault: { fixture: vault, k8sServer: k.url, k8sCaPem: k.caPem } });
});
afterEach(async () => {
  await rig.close();
  await k.stop();
  await vault.close();
});

const kubectl = () => new KubectlExecutor({ cacheDir: cache });
const SCALE = { namespace: "prod", deployment: "web", replicas: 5 };

describe.skipIf(!hasKubectl)("Runner.run with a Vault credential and kubectl", () => {
  it("redeems, gets a scoped credential, runs, records state and execution, revokes", async () => {
    const t = await rig.allow("scale-deployment", "cluster/web", SCALE);
    const r = await rig.runner().run(t.token, { executor: kubectl(), timeoutMs: 20_000 });
    expect(r.error).toBeNull();
    expect(r).toMatchObject({
      status: "success",
      stage: "completed",
      action: "scale-deployment",
      target: "cluster/web",
      caller: "agent-1",
      auditId: t.auditId,
      ticketNonce: t.nonce,
      executorType: "kubectl",
      beforeState: { replicas: 3 },
      afterState: { replicas: 5 },
      credentialRevoked: true,
    });
    expect(r.credentialId).toMatch(/^cred-[0-9a-f]{12}$/);
    // The change happened, with the Vault-issued service account token, over TLS.
    const w = writes(k);
    expect(w).toHaveLength(1);
    expect(w[0]).toMatchObject({
      method: "PATCH",
      path: "/apis/apps/v1/namespaces/prod/deployments/web/scale",
    });
    const issuedToken = vault.issuedSecrets().at(-1);
    expect(k.writes()[0]?.authorization).toBe(`Bearer ${issuedToken}`);
    // The credential was asked for the ticket's namespace, and its lease is revoked.
    expect(vault.requestsTo(/^kubernetes\/creds\//).at(-1)?.body).toMatchObject({
      kubernetes_namespace: "prod",
    });
    expect(vault.activeLeases()).toEqual([]);

    // The audit log: decision → state_capture → execution, linked by the decision's id.
    const types = rig.events().map((e) => e.event_type);
    expect(types).toEqual(["decision", "state_capture", "execution"]);
    const [capture] = rig.linked(t.auditId, "state_capture");
    expect(ctxOf(capture)).toMatchObject({
      source: "runner",
      before_state: { replicas: 3 },
      after_state: { replicas: 5 },
      diff: { changed: { replicas: { old: 3, new: 5 } } },
      state_fields_declared: ["replicas", "ready_replicas", "available_replicas"],
    });
    const [exec] = rig.linked(t.auditId, "execution");
    expect(exec).toMatchObject({
      action: "scale-deployment",
      target: "cluster/web",
      caller: "agent-1",
      correlation_id: t.auditId,
      decision: "allow",
      params: SCALE,
    });
    expect(ctxOf(exec)).toMatchObject({
      status: "success",
      stage: "completed",
      executor_type: "kubectl",
      ticket_nonce: t.nonce,
      credential_id: r.credentialId,
      credential_revoked: true,
    });
    expect(await chainOk(rig)).toBe(true);
  });

  it("dry-run verifies without redeeming and lists every step; the ticket still runs once after", async () => {
    const t = await rig.allow("scale-deployment", "cluster/web", SCALE);
    const runner = rig.runner();
    const plan = await runner.dryRun(t.token, { executor: kubectl() });
    expect(plan).toMatchObject({ valid: true, used: false });
    expect(plan.steps).toEqual([
      "credentials: kubernetes from the vault, scoped to this ticket",
      "precheck deployment-exists: The deployment is present in the namespace.",
      "precheck hpa-present: Warns when an autoscaler targets the deployment (it may undo the change).",
      `kubectl --cache-dir=${cache} scale deployments.v1.apps/web --namespace=prod --replicas=5`,
    ]);
    // Nothing was asked of the vault or the cluster, and nothing was audited.
    expect(vault.requestsTo(/creds/)).toHaveLength(0);
    expect(k.requests).toHaveLength(0);
    expect(rig.events().map((e) => e.event_type)).toEqual(["decision"]);
    // The dry-run executor through run(): skipped, audited, the credential still issued and revoked.
    const skipped = await runner.run(t.token, { executor: new DryRunExecutor() });
    expect(skipped).toMatchObject({ status: "skipped", stage: "execute", credentialRevoked: true });
    expect(skipped.output).toBe(
      "[dry-run] Would execute scale-deployment on cluster/web (credentials required)",
    );
    expect(writes(k)).toHaveLength(0);
    const again = await runner.dryRun(t.token, { executor: kubectl() });
    expect(again).toMatchObject({
      valid: false,
      used: true,
      reason: "Ticket has already been used (replay detected)",
      steps: [],
    });
  });
});

describe("Runner without a vault", () => {
  it("runs an action that declares credentials with the executor's own access, and says so", async () => {
    const plain = await openRig();
    try {
      const t = await plain.allow("scale-deployment", "cluster/web", SCALE);
      const dir = mkdtempSync(join(cache, "kc-"));
      const exec = new KubectlExecutor({ cacheDir: cache, kubeconfig: k.writeKubeconfig(dir) });
      const r = await plain.runner().run(t.token, { executor: exec, timeoutMs: 20_000 });
      expect(r).toMatchObject({ status: "success", credentialId: null, credentialRevoked: null });
      expect(ctxOf(plain.linked(t.auditId, "execution")[0])).toMatchObject({
        credential_id: null,
        credential_revoked: null,
      });
    } finally {
      await plain.close();
    }
  });
});
