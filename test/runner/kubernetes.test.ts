/**
 * The Kubernetes API executor (@kubernetes/client-node 1.4) against the fake API server: every one
 * of the 20 Kubernetes actions, with the exact verb, path, patch content type and body asserted.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { InvalidParameterError } from "../../src/runner/executors/kubernetes/errors.js";
import { KubernetesExecutor } from "../../src/runner/executors/kubernetes/executor.js";
import type { ExecutionContext } from "../../src/runner/executors/types.js";
import { context, LOG_SECRET, SECRET_VALUE, seedCluster, target } from "./k8s-fake/fixtures.js";
import { writes } from "./k8s-fake/helpers.js";
import { FakeK8s } from "./k8s-fake/server.js";

let root: string;
let k: FakeK8s;
let x: KubernetesExecutor;
const SMP = "application/strategic-merge-patch+json";
const MERGE = "application/merge-patch+json";
const JSONP = "application/json-patch+json";

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), "agent-safe-k8s-test-"));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));
beforeEach(async () => {
  k = new FakeK8s();
  // HTTPS: the client library refuses plain HTTP (and bearer tokens need TLS anyway).
  await k.start({ tls: true });
  seedCluster(k);
  x = new KubernetesExecutor({ kubeconfig: k.writeKubeconfig(mkdtempSync(join(root, "t-"))) });
});
afterEach(async () => {
  await k.stop();
});

const run = async (
  action: string,
  params: Record<string, unknown>,
  extra: Partial<ExecutionContext> = {},
) => {
  const ctx = context(action, params, extra);
  const before = await x.captureState(ctx);
  k.clearLog();
  const r = await x.execute(ctx);
  const w = writes(k);
  const reads = k.requests.filter((q) => q.method === "GET").map((q) => q.path);
  const after = r.status === "success" ? await x.captureState(ctx) : {};
  return { r, w, reads, before, after };
};

type Dep = { spec: { template: { spec: { containers: Array<{ name: string; image: string }> } } } };

describe("Kubernetes API executor: the 20 actions against the fake API server", () => {
  it("restart-deployment: strategic merge patch of the restartedAt annotation", async () => {
    const { r, w, before, after } = await run("restart-deployment", { namespace: "prod", deployment: "web" });
    expect(r.status, r.error ?? "").toBe("success");
    expect(w).toHaveLength(1);
    expect(w[0]).toMatchObject({
      method: "PATCH",
      path: "/apis/apps/v1/namespaces/prod/deployments/web",
      contentType: SMP,
    });
    const ann = (w[0]!.body as { spec: { template: { metadata: { annotations: Record<string, string> } } } })
      .spec.template.metadata.annotations;
    expect(Object.keys(ann)).toEqual(["kubectl.kubernetes.io/restartedAt"]);
    expect(Number.isNaN(Date.parse(ann["kubectl.kubernetes.io/restartedAt"] ?? ""))).toBe(false);
    expect([before["generation"], after["generation"]]).toEqual([4, 5]);
  });

  it("scale-deployment: merge patch of deployments/scale", async () => {
    const { r, w, before, after } = await run("scale-deployment", {
      namespace: "prod",
      deployment: "web",
      replicas: 0,
    });
    expect(r.status, r.error ?? "").toBe("success");
    expect(w).toEqual([
      {
        method: "PATCH",
        path: "/apis/apps/v1/namespaces/prod/deployments/web/scale",
        contentType: MERGE,
        body: { spec: { replicas: 0 } },
      },
    ]);
    expect(before).toEqual({ replicas: 3, ready_replicas: 3, available_replicas: 3 });
    expect(after).toEqual({ replicas: 0, ready_replicas: 0, available_replicas: 0 });
  });

  it("delete-pod: DELETE with DeleteOptions (grace period default 30)", async () => {
    const { r, w } = await run("delete-pod", { namespace: "prod", pod: "web-bbb-x2" });
    expect(r.status, r.error ?? "").toBe("success");
    expect(w).toEqual([
      {
        method: "DELETE",
        path: "/api/v1/namespaces/prod/pods/web-bbb-x2",
        contentType: "application/json",
        body: { gracePeriodSeconds: 30, propagationPolicy: "Background" },
      },
    ]);
    expect(k.get("", "pods", "prod", "web-bbb-x2")).toBeUndefined();
  });

  it("delete-namespace: DELETE; not-system-namespace is enforced", async () => {
    const { r, w, after } = await run("delete-namespace", { namespace: "dev" });
    expect(r.status, r.error ?? "").toBe("success");
    expect(w).toEqual([
      {
        method: "DELETE",
        path: "/api/v1/namespaces/dev",
        contentType: "application/json",
        body: { propagationPolicy: "Background" },
      },
    ]);
    expect(after).toEqual({ exists: false });
    const pc = await x.runPrechecks(context("delete-namespace", { namespace: "default" }));
    expect(pc.find((p) => p.name === "not-system-namespace")).toMatchObject({
      passed: false,
      enforced: true,
    });
    expect(pc.find((p) => p.name === "list-contents")?.message).toMatch(/holds/);
  });

  it("create-namespace: POST of a Namespace", async () => {
    const { r, w, before, after } = await run("create-namespace", { namespace: "team-a" });
    expect(r.status, r.error ?? "").toBe("success");
    expect(w).toEqual([
      {
        method: "POST",
        path: "/api/v1/namespaces",
        contentType: "application/json",
        body: { apiVersion: "v1", kind: "Namespace", metadata: { name: "team-a" } },
      },
    ]);
    expect([before, after]).toEqual([{ exists: false }, { exists: true, phase: "Active" }]);
    const again = await run("create-namespace", { namespace: "team-a" });
    expect(again.r.status).toBe("failure");
    expect(again.r.error).toMatch(/409/);
  });

  it("cordon-node / uncordon-node: strategic merge patches", async () => {
    const c = await run("cordon-node", { node: "worker-2" });
    expect(c.w).toEqual([
      {
        method: "PATCH",
        path: "/api/v1/nodes/worker-2",
        contentType: SMP,
        body: { spec: { unschedulable: true } },
      },
    ]);
    expect([c.before, c.after]).toEqual([{ unschedulable: false }, { unschedulable: true }]);
    const u = await run("uncordon-node", { node: "worker-2" });
    expect(u.w).toEqual([
      {
        method: "PATCH",
        path: "/api/v1/nodes/worker-2",
        contentType: SMP,
        body: { spec: { unschedulable: null } },
      },
    ]);
    expect(u.after).toEqual({ unschedulable: false });
  });

  it("drain-node: cordon, then a policy/v1 Eviction per non-DaemonSet pod", async () => {
    const { r, w, reads } = await run("drain-node", { node: "worker-1" });
    expect(r.status, r.error ?? "").toBe("success");
    expect(w[0]).toEqual({
      method: "PATCH",
      path: "/api/v1/nodes/worker-1",
      contentType: SMP,
      body: { spec: { unschedulable: true } },
    });
    const ev = w.slice(1).sort((a, b) => (a.path < b.path ? -1 : 1));
    expect(ev).toEqual(
      ["web-bbb-x1", "web-bbb-x2"].map((p) => ({
        method: "POST",
        path: `/api/v1/namespaces/prod/pods/${p}/eviction`,
        contentType: "application/json",
        body: { apiVersion: "policy/v1", kind: "Eviction", metadata: { name: p, namespace: "prod" } },
      })),
    );
    expect(k.requests.find((q) => q.path === "/api/v1/pods")?.query).toMatchObject({
      fieldSelector: "spec.nodeName=worker-1",
    });
    expect(reads).toContain("/api/v1/namespaces/prod/pods/web-bbb-x1");
    expect(r.details?.["ignored"]).toEqual(["kube-system/node-exporter-w1 (DaemonSet)"]);
    expect(k.get("", "pods", "kube-system", "node-exporter-w1")).toBeDefined();
  });

  it("drain-node: a PodDisruptionBudget's 429 is retried, then the drain fails at the deadline", async () => {
    let calls = 0;
    k.evictionHook = () => (calls++ < 2 ? 429 : undefined);
    const ok = await run("drain-node", { node: "worker-1", timeout: 30 });
    expect(ok.r.status, ok.r.error ?? "").toBe("success");
    expect(ok.w.filter((q) => q.path.endsWith("/eviction")).length).toBe(4);

    k.evictionHook = undefined;
    seedCluster(k);
    const pdb = k.get("policy", "poddisruptionbudgets", "prod", "web-pdb") as {
      status: { disruptionsAllowed: number };
    };
    pdb.status.disruptionsAllowed = 0;
    const started = Date.now();
    const blocked = await run("drain-node", { node: "worker-1", timeout: 30 }, { timeoutMs: 2500 });
    expect(Date.now() - started).toBeLessThan(8000);
    expect(blocked.r.status).toBe("failure");
    expect(blocked.r.error).toMatch(/PodDisruptionBudget/);
    expect(blocked.r.error).toMatch(/stays cordoned/);
    expect(blocked.w.filter((q) => q.path.endsWith("/eviction")).length).toBeGreaterThan(2);
    expect(k.get("", "pods", "prod", "web-bbb-x1")).toBeDefined();
  });

  it("drain-node: DaemonSet pods without ignore_daemonsets refuse the drain before any eviction", async () => {
    const { r, w } = await run("drain-node", { node: "worker-1", ignore_daemonsets: false });
    expect(r.status).toBe("failure");
    expect(r.error).toMatch(/DaemonSet-managed/);
    expect(w.filter((q) => q.path.endsWith("/eviction"))).toEqual([]);
  });

  it("rollout-undo: restores the previous ReplicaSet's pod template (JSON patch)", async () => {
    const rv = (k.get("apps", "deployments", "prod", "web") as { metadata: { resourceVersion: string } })
      .metadata.resourceVersion;
    const { r, w, before, after } = await run("rollout-undo", { namespace: "prod", deployment: "web" });
    expect(r.status, r.error ?? "").toBe("success");
    expect(
      k.requests.find((q) => q.path === "/apis/apps/v1/namespaces/prod/replicasets")?.query,
    ).toMatchObject({ labelSelector: "app=web" });
    expect(w).toEqual([
      {
        method: "PATCH",
        path: "/apis/apps/v1/namespaces/prod/deployments/web",
        contentType: JSONP,
        body: [
          { op: "test", path: "/metadata/resourceVersion", value: rv },
          {
            op: "replace",
            path: "/spec/template",
            value: {
              metadata: { labels: { app: "web" } },
              spec: {
                containers: [
                  { name: "app", image: "repo/web:0.9" },
                  { name: "sidecar", image: "repo/proxy:1" },
                ],
              },
            },
          },
        ],
      },
    ]);
    expect((k.get("apps", "deployments", "prod", "web") as Dep).spec.template.spec.containers[0]?.image).toBe(
      "repo/web:0.9",
    );
    expect([before["revision"], after["revision"]]).toEqual([2, 3]);
    const back = await run("rollout-undo", { namespace: "prod", deployment: "web", revision: 2 });
    expect(back.r.status, back.r.error ?? "").toBe("success");
    expect((k.get("apps", "deployments", "prod", "web") as Dep).spec.template.spec.containers[0]?.image).toBe(
      "repo/web:1.0",
    );
    const noop = await run("rollout-undo", { namespace: "prod", deployment: "web", revision: 4 });
    expect(noop.r.output).toMatch(/skipped rollback/);
    expect(noop.w).toEqual([]);
    const missing = await run("rollout-undo", { namespace: "prod", deployment: "web", revision: 9 });
    expect(missing.r).toMatchObject({
      status: "failure",
      error: "unable to find specified revision 9 in history",
    });
  });

  it("rollout-status: kubectl's message, no writes", async () => {
    const { r, w } = await run("rollout-status", { namespace: "prod", deployment: "web" });
    expect(r).toMatchObject({
      status: "success",
      output: 'deployment "web" successfully rolled out',
      details: { done: true },
    });
    expect(w).toEqual([]);
  });

  it("get-pod-logs: container and tailLines reach the API; the body is withheld", async () => {
    const { r, w } = await run("get-pod-logs", {
      namespace: "prod",
      pod: "web-bbb-x1",
      container: "app",
      tail_lines: 2,
    });
    expect(r.status, r.error ?? "").toBe("success");
    expect(w).toEqual([]);
    expect(k.requests.find((q) => q.path.endsWith("/log"))?.query).toEqual({
      container: "app",
      tailLines: "2",
    });
    expect(r.outputIsSecret).toBe(true);
    expect(r.output).toMatch(/2 line\(s\)/);
    expect(JSON.stringify(r)).not.toContain(LOG_SECRET);
  });

  it("get-configmap: the object", async () => {
    const { r } = await run("get-configmap", { namespace: "prod", configmap: "app-config" });
    expect(JSON.parse(r.output)).toMatchObject({ data: { LOG_LEVEL: "info", MODE: "fast" } });
  });

  it("get-secret: the data never appears in output or state", async () => {
    const { r, before, after } = await run("get-secret", { namespace: "prod", secret: "db-creds" });
    expect(r.status, r.error ?? "").toBe("success");
    expect(r.outputIsSecret).toBe(true);
    const all = JSON.stringify([r, before, after]);
    expect(all).not.toContain(SECRET_VALUE);
    expect(all).not.toContain(Buffer.from(SECRET_VALUE).toString("base64"));
    expect(before).toMatchObject({ exists: true, key_count: 2 });
  });

  it("update-image: strategic merge patch of the named container only", async () => {
    const { r, w, before, after } = await run("update-image", {
      namespace: "prod",
      deployment: "web",
      container: "app",
      image: "registry.local:5000/web@sha256:0123456789abcdef0123456789abcdef",
    });
    expect(r.status, r.error ?? "").toBe("success");
    expect(w).toEqual([
      {
        method: "PATCH",
        path: "/apis/apps/v1/namespaces/prod/deployments/web",
        contentType: SMP,
        body: {
          spec: {
            template: {
              spec: {
                containers: [
                  { name: "app", image: "registry.local:5000/web@sha256:0123456789abcdef0123456789abcdef" },
                ],
              },
            },
          },
        },
      },
    ]);
    expect(
      (k.get("apps", "deployments", "prod", "web") as Dep).spec.template.spec.containers.map((c) => c.name),
    ).toEqual(["app", "sidecar"]);
    expect(before["current_image"]).toBe("repo/web:1.0");
    expect(after["current_image"]).toMatch(/sha256/);
    const bad = await run("update-image", {
      namespace: "prod",
      deployment: "web",
      container: "nope",
      image: "a:1",
    });
    expect(bad.r.status).toBe("failure");
    expect(bad.w).toEqual([]);
  });

  it("scale-hpa: merge patch on autoscaling/v2", async () => {
    const { r, w, after } = await run("scale-hpa", {
      namespace: "prod",
      hpa: "web-hpa",
      min_replicas: 1,
      max_replicas: 4,
    });
    expect(r.status, r.error ?? "").toBe("success");
    expect(w).toEqual([
      {
        method: "PATCH",
        path: "/apis/autoscaling/v2/namespaces/prod/horizontalpodautoscalers/web-hpa",
        contentType: MERGE,
        body: { spec: { minReplicas: 1, maxReplicas: 4 } },
      },
    ]);
    expect(after).toEqual({ min_replicas: 1, max_replicas: 4 });
  });

  it("update-hpa-limits: JSON patch of spec.metrics, other metrics kept", async () => {
    const { r, w, before, after } = await run("update-hpa-limits", {
      namespace: "prod",
      hpa: "web-hpa",
      target_memory_percent: 75,
    });
    expect(r.status, r.error ?? "").toBe("success");
    expect(w).toHaveLength(1);
    expect(w[0]).toMatchObject({
      method: "PATCH",
      path: "/apis/autoscaling/v2/namespaces/prod/horizontalpodautoscalers/web-hpa",
      contentType: JSONP,
    });
    const ops = w[0]?.body as Array<{ op: string; path: string; value: unknown }>;
    expect(ops.map((o) => [o.op, o.path])).toEqual([
      ["test", "/metadata/resourceVersion"],
      ["replace", "/spec/metrics"],
    ]);
    expect(ops[1]?.value).toEqual([
      {
        type: "Resource",
        resource: { name: "cpu", target: { type: "Utilization", averageUtilization: 70 } },
      },
      {
        type: "Pods",
        pods: { metric: { name: "rps" }, target: { type: "AverageValue", averageValue: "100" } },
      },
      {
        type: "Resource",
        resource: { name: "memory", target: { type: "Utilization", averageUtilization: 75 } },
      },
    ]);
    expect([before, after]).toEqual([
      { target_cpu_percent: 70 },
      { target_cpu_percent: 70, target_memory_percent: 75 },
    ]);
  });

  it("apply-network-policy: POST create, then a guarded JSON patch when it exists", async () => {
    const params = { namespace: "prod", policy_name: "deny-web", pod_selector: "app=web" };
    const { r, w } = await run("apply-network-policy", params);
    expect(r.status, r.error ?? "").toBe("success");
    expect(w).toEqual([
      {
        method: "POST",
        path: "/apis/networking.k8s.io/v1/namespaces/prod/networkpolicies",
        contentType: "application/json",
        body: {
          apiVersion: "networking.k8s.io/v1",
          kind: "NetworkPolicy",
          metadata: {
            name: "deny-web",
            namespace: "prod",
            labels: { "app.kubernetes.io/managed-by": "agent-safe" },
          },
          spec: { podSelector: { matchLabels: { app: "web" } }, policyTypes: ["Ingress"] },
        },
      },
    ]);
    const again = await run("apply-network-policy", { ...params, pod_selector: "tier in (a,b)" });
    expect(again.r.status, again.r.error ?? "").toBe("success");
    expect(again.w.map((q) => [q.method, q.contentType])).toEqual([
      ["POST", "application/json"],
      ["PATCH", JSONP],
    ]);
    const np = k.get("networking.k8s.io", "networkpolicies", "prod", "deny-web") as { spec: unknown };
    expect(np.spec).toEqual({
      podSelector: { matchExpressions: [{ key: "tier", operator: "In", values: ["a", "b"] }] },
      policyTypes: ["Ingress"],
    });
  });

  it("update-configmap: merge patch of data.<key>", async () => {
    const { r, w, before, after } = await run("update-configmap", {
      namespace: "prod",
      configmap: "app-config",
      key: "NEW_KEY",
      value: "x=1 y",
    });
    expect(r.status, r.error ?? "").toBe("success");
    expect(w).toEqual([
      {
        method: "PATCH",
        path: "/api/v1/namespaces/prod/configmaps/app-config",
        contentType: MERGE,
        body: { data: { NEW_KEY: "x=1 y" } },
      },
    ]);
    expect(before).not.toHaveProperty("previous_value");
    expect(after["previous_value"]).toBe("x=1 y");
  });

  it("exec-pod: a WebSocket upgrade to pods/exec with the argv; refused → failure, bounded", async () => {
    const { r } = await run("exec-pod", {
      namespace: "prod",
      pod: "web-bbb-x1",
      command: ["cat", "/etc/hostname"],
    });
    expect(r.status).toBe("failure");
    expect(r.error).toMatch(/exec failed/);
    const up = k.requests.find((q) => q.upgrade);
    expect(up).toMatchObject({
      method: "GET",
      path: "/api/v1/namespaces/prod/pods/web-bbb-x1/exec",
      query: { container: "app", stdout: "true", stderr: "true" },
    });
    expect(up?.queryAll["command"]).toEqual(["cat", "/etc/hostname"]);
    expect(up?.headers["upgrade"]?.toLowerCase()).toBe("websocket");
    expect(up?.headers["sec-websocket-protocol"]).toMatch(/channel\.k8s\.io/);
    k.hang = true;
    const started = Date.now();
    const t = await x.execute(
      context("exec-pod", { namespace: "prod", pod: "web-bbb-x1", command: ["true"] }, { timeoutMs: 1500 }),
    );
    expect(t.status).toBe("timeout");
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it("port-forward: a WebSocket upgrade to pods/portforward; refused → failure; a pod not Running → failure", async () => {
    const { r } = await run("port-forward", {
      namespace: "prod",
      pod: "web-bbb-x1",
      local_port: 18_082,
      remote_port: 8080,
    });
    expect(r.status).toBe("failure");
    const up = k.requests.find((q) => q.upgrade);
    expect(up).toMatchObject({
      path: "/api/v1/namespaces/prod/pods/web-bbb-x1/portforward",
      query: { ports: "8080" },
    });
    expect(up?.headers["upgrade"]?.toLowerCase()).toBe("websocket");
    const pod = k.get("", "pods", "dev", "debug-pod") as { status: { phase: string } };
    pod.status.phase = "Pending";
    const p = await run("port-forward", {
      namespace: "dev",
      pod: "debug-pod",
      local_port: 18_083,
      remote_port: 80,
    });
    expect(p.r).toMatchObject({ status: "failure", error: "pod debug-pod is not running (phase Pending)" });
  });
});

describe("Kubernetes API executor: refusals, credentials, timeouts", () => {
  it.each([
    ["delete-pod", { namespace: "prod", pod: "--kubeconfig=/x" }],
    ["restart-deployment", { namespace: "prod", deployment: "; rm -rf /" }],
    ["get-configmap", { namespace: "a b", configmap: "c" }],
    ["drain-node", { node: "worker-1", timeout: 5 }],
    ["scale-hpa", { namespace: "prod", hpa: "h", min_replicas: 5, max_replicas: 2 }],
    ["update-hpa-limits", { namespace: "prod", hpa: "h" }],
  ])("%s %j is refused before any request", async (action, params) => {
    k.clearLog();
    const r = await x.execute(context(action, params));
    expect(r.status).toBe("error");
    expect(r.details).toEqual({ refused: true });
    expect(k.requests).toEqual([]);
    expect(() => x.describe(context(action, params))).toThrow(InvalidParameterError);
  });

  it("a hung API server: status timeout at the deadline", async () => {
    k.hang = true;
    const started = Date.now();
    const r = await x.execute(
      context("scale-deployment", { namespace: "prod", deployment: "web", replicas: 2 }, { timeoutMs: 1000 }),
    );
    expect(r.status).toBe("timeout");
    expect(Date.now() - started).toBeLessThan(4000);
  });

  it("credentials: token + server + CA over TLS; a wrong token is a failure without the token in it", async () => {
    const tls = new FakeK8s();
    await tls.start({ tls: true });
    try {
      seedCluster(tls);
      tls.token = "api-token-9";
      const ex = new KubernetesExecutor();
      const ok = await ex.execute(
        context(
          "cordon-node",
          { node: "worker-1" },
          {
            credential: {
              type: "kubernetes",
              payload: { token: "api-token-9", server: tls.url, ca: tls.caPem },
            },
          },
        ),
      );
      expect(ok.status, ok.error ?? "").toBe("success");
      expect(tls.writes()[0]?.authorization).toBe("Bearer api-token-9");
      const viaKc = await ex.execute(
        context(
          "uncordon-node",
          { node: "worker-1" },
          { credential: { type: "kubernetes", payload: { kubeconfig: tls.kubeconfigText("api-token-9") } } },
        ),
      );
      expect(viaKc.status, viaKc.error ?? "").toBe("success");
      const bad = await ex.execute(
        context(
          "cordon-node",
          { node: "worker-1" },
          {
            credential: {
              type: "kubernetes",
              payload: { token: "nope-token", server: tls.url, ca: tls.caPem },
            },
          },
        ),
      );
      expect(bad.status).toBe("failure");
      expect(bad.error).toMatch(/401/);
      expect(JSON.stringify(bad)).not.toContain("nope-token");
      const none = await ex.execute(
        context("cordon-node", { node: "worker-1" }, { credential: { type: "kubernetes", payload: {} } }),
      );
      expect(none).toMatchObject({ status: "error", details: { refused: true } });
    } finally {
      await tls.stop();
    }
  });

  it("prechecks: revision-exists, bounds-ordered, pod-in-target (pod target), hpa-present", async () => {
    const undo = await x.runPrechecks(
      context("rollout-undo", { namespace: "prod", deployment: "web", revision: 7 }),
    );
    expect(undo.find((p) => p.name === "revision-exists")).toMatchObject({ passed: false, enforced: false });
    const t = target("dev/debug-pod", "k8s-pod", { namespace: "dev", pod: "debug-pod" });
    const logs = await x.runPrechecks(
      context("get-pod-logs", { namespace: "dev", pod: "debug-pod" }, { target: t, targetId: t.id }),
    );
    expect(logs.find((p) => p.name === "pod-in-target")).toMatchObject({ passed: true, enforced: true });
    const other = await x.runPrechecks(
      context("get-pod-logs", { namespace: "dev", pod: "other" }, { target: t, targetId: t.id }),
    );
    expect(other.find((p) => p.name === "pod-in-target")).toMatchObject({ passed: false, enforced: true });
    const scale = await x.runPrechecks(
      context("scale-deployment", { namespace: "prod", deployment: "web", replicas: 1 }),
    );
    expect(scale.find((p) => p.name === "hpa-present")?.message).toMatch(/web-hpa/);
    const drain = await x.runPrechecks(context("drain-node", { node: "worker-1" }));
    expect(drain.map((p) => [p.name, p.passed])).toEqual([
      ["node-exists", true],
      ["disruption-budgets", true],
      ["room-elsewhere", true],
    ]);
    expect(k.writes()).toEqual([]);
  });
});
