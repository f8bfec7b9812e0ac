/**
 * The kubectl executor, through the real `kubectl` binary, against the fake API server: every one
 * of the 20 Kubernetes actions, with the exact verb, path, patch content type and body asserted.
 */
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { KubectlExecutor } from "../../src/runner/executors/kubectl/executor.js";
import { InvalidParameterError } from "../../src/runner/executors/kubernetes/errors.js";
import type { ExecutionContext } from "../../src/runner/executors/types.js";
import { context, LOG_SECRET, SECRET_VALUE, seedCluster, target } from "./k8s-fake/fixtures.js";
import { alive, fakeKubectl, hasKubectl, processesWith, readIf, writes } from "./k8s-fake/helpers.js";
import { FakeK8s } from "./k8s-fake/server.js";

let root: string;
let k: FakeK8s;
let kc: string;
let x: KubectlExecutor;
const SMP = "application/strategic-merge-patch+json";
const MERGE = "application/merge-patch+json";
const JSONP = "application/json-patch+json";

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), "agent-safe-kubectl-test-"));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

beforeEach(async () => {
  k = new FakeK8s();
  await k.start();
  seedCluster(k);
  const dir = mkdtempSync(join(root, "t-"));
  kc = k.writeKubeconfig(dir);
  x = new KubectlExecutor({ kubeconfig: kc, cacheDir: join(root, "cache") });
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
  const after = r.status === "success" ? await x.captureState(ctx) : {};
  return { r, w, before, after, ctx };
};

describe.skipIf(!hasKubectl)("kubectl executor: the 20 actions against the fake API server", () => {
  it("restart-deployment: strategic merge patch of the template's restartedAt annotation", async () => {
    const { r, w, before, after } = await run("restart-deployment", { namespace: "prod", deployment: "web" });
    expect(r.status).toBe("success");
    expect(w).toHaveLength(1);
    expect(w[0]).toMatchObject({
      method: "PATCH",
      path: "/apis/apps/v1/namespaces/prod/deployments/web",
      contentType: SMP,
    });
    const ann = (w[0]!.body as { spec: { template: { metadata: { annotations: Record<string, string> } } } })
      .spec.template.metadata.annotations;
    expect(Object.keys(ann)).toEqual(["kubectl.kubernetes.io/restartedAt"]);
    expect(before).toEqual({ generation: 4, observed_generation: 4, available_replicas: 3 });
    expect(after["generation"]).toBe(5);
    expect(x.describe(context("restart-deployment", { namespace: "prod", deployment: "web" }))).toEqual([
      `kubectl --kubeconfig=${kc} --cache-dir=${join(root, "cache")} rollout restart deployments.v1.apps/web --namespace=prod`,
    ]);
  });

  it("scale-deployment: merge patch of the scale subresource; state uses the declared names", async () => {
    const { r, w, before, after } = await run("scale-deployment", {
      namespace: "prod",
      deployment: "web",
      replicas: 5,
    });
    expect(r.status).toBe("success");
    expect(w).toEqual([
      {
        method: "PATCH",
        path: "/apis/apps/v1/namespaces/prod/deployments/web/scale",
        contentType: MERGE,
        body: { spec: { replicas: 5 } },
      },
    ]);
    expect(before).toEqual({ replicas: 3, ready_replicas: 3, available_replicas: 3 });
    expect(after).toEqual({ replicas: 5, ready_replicas: 5, available_replicas: 5 });
  });

  it("delete-pod: DELETE with the grace period (default 30 when absent)", async () => {
    const { r, w } = await run("delete-pod", { namespace: "prod", pod: "web-bbb-x2", grace_period: 10 });
    expect(r.status).toBe("success");
    expect(w).toEqual([
      {
        method: "DELETE",
        path: "/api/v1/namespaces/prod/pods/web-bbb-x2",
        contentType: "application/json",
        body: { gracePeriodSeconds: 10, propagationPolicy: "Background" },
      },
    ]);
    const d = await run("delete-pod", { namespace: "prod", pod: "web-bbb-x1" });
    expect(d.w[0]?.body).toEqual({ gracePeriodSeconds: 30, propagationPolicy: "Background" });
    expect(k.get("", "pods", "prod", "web-bbb-x1")).toBeUndefined();
  });

  it("delete-namespace: DELETE; the enforced not-system-namespace precheck refuses kube-system", async () => {
    const { r, w, before } = await run("delete-namespace", { namespace: "dev" });
    expect(r.status).toBe("success");
    expect(w).toEqual([
      {
        method: "DELETE",
        path: "/api/v1/namespaces/dev",
        contentType: "application/json",
        body: { propagationPolicy: "Background" },
      },
    ]);
    expect(before).toEqual({ exists: true, phase: "Active" });
    const pc = await x.runPrechecks(context("delete-namespace", { namespace: "kube-system" }));
    expect(pc.find((p) => p.name === "not-system-namespace")).toEqual({
      name: "not-system-namespace",
      passed: false,
      message: "kube-system is a system namespace",
      enforced: true,
    });
    expect(pc.find((p) => p.name === "namespace-exists")?.passed).toBe(true);
  });

  it("create-namespace: POST of a Namespace manifest", async () => {
    const { r, w, before, after } = await run("create-namespace", { namespace: "team-a" });
    expect(r.status).toBe("success");
    expect(w).toHaveLength(1);
    expect(w[0]).toMatchObject({
      method: "POST",
      path: "/api/v1/namespaces",
      contentType: "application/json",
    });
    expect(w[0]?.body).toMatchObject({ apiVersion: "v1", kind: "Namespace", metadata: { name: "team-a" } });
    expect(before).toEqual({ exists: false });
    expect(after).toEqual({ exists: true, phase: "Active" });
  });

  it("cordon-node and uncordon-node: strategic merge patches of spec.unschedulable", async () => {
    const c = await run("cordon-node", { node: "worker-2" });
    expect(c.r.status).toBe("success");
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
    expect([u.before, u.after]).toEqual([{ unschedulable: true }, { unschedulable: false }]);
  });

  it("drain-node: cordons, evicts each non-DaemonSet pod through policy/v1 evictions", async () => {
    const { r, w } = await run("drain-node", { node: "worker-1", timeout: 30, ignore_daemonsets: true });
    expect(r.status, r.error ?? "").toBe("success");
    expect(w[0]).toEqual({
      method: "PATCH",
      path: "/api/v1/nodes/worker-1",
      contentType: SMP,
      body: { spec: { unschedulable: true } },
    });
    const evictions = w.filter((q) => q.path.endsWith("/eviction"));
    expect(evictions.map((e) => e.path).sort()).toEqual([
      "/api/v1/namespaces/prod/pods/web-bbb-x1/eviction",
      "/api/v1/namespaces/prod/pods/web-bbb-x2/eviction",
    ]);
    for (const e of evictions) {
      expect(e.method).toBe("POST");
      expect(e.body).toMatchObject({ apiVersion: "policy/v1", kind: "Eviction" });
    }
    expect(k.get("", "pods", "prod", "web-bbb-x1")).toBeUndefined();
    expect(k.get("", "pods", "kube-system", "node-exporter-w1")).toBeDefined();
    expect(
      x.describe(context("drain-node", { node: "worker-1", timeout: 45, ignore_daemonsets: false }))[0],
    ).toMatch(/ drain worker-1 --ignore-daemonsets=false --delete-emptydir-data --timeout=45s$/);
  });

  it("drain-node: ignore_daemonsets=false refuses; a PDB 429 is retried until the budget allows", async () => {
    const refused = await run("drain-node", { node: "worker-1", timeout: 30, ignore_daemonsets: false });
    expect(refused.r.status).toBe("failure");
    expect(refused.r.error).toMatch(/DaemonSet/);
    expect(refused.w.filter((q) => q.path.endsWith("/eviction"))).toEqual([]);
    let refusals = 0;
    k.evictionHook = () => (refusals++ < 2 ? 429 : undefined);
    const d = await run("drain-node", { node: "worker-1", timeout: 60 });
    expect(d.r.status, d.r.error ?? "").toBe("success");
    expect(d.w.filter((q) => q.path.endsWith("/eviction")).length).toBeGreaterThanOrEqual(3);
  }, 60_000);

  it("rollout-undo: restores the previous ReplicaSet's template; undoing the undo returns", async () => {
    const { r, w, before, after } = await run("rollout-undo", { namespace: "prod", deployment: "web" });
    expect(r.status, r.error ?? "").toBe("success");
    expect(w).toHaveLength(1);
    expect(w[0]).toMatchObject({
      method: "PATCH",
      path: "/apis/apps/v1/namespaces/prod/deployments/web",
      contentType: JSONP,
    });
    const ops = w[0]?.body as Array<{
      op: string;
      path: string;
      value: { spec: { containers: Array<{ image: string }> } };
    }>;
    expect(ops[0]).toMatchObject({ op: "replace", path: "/spec/template" });
    expect(ops[0]?.value.spec.containers[0]?.image).toBe("repo/web:0.9");
    const dep = k.get("apps", "deployments", "prod", "web") as {
      spec: { template: { spec: { containers: Array<{ image: string }> } } };
    };
    expect(dep.spec.template.spec.containers[0]?.image).toBe("repo/web:0.9");
    expect(before).toMatchObject({ exists: true, revision: 2 });
    expect(after).toMatchObject({ revision: 3 });
    // The convention rollback overlays before_state.revision on the params: back to revision 2.
    const back = await run("rollout-undo", { namespace: "prod", deployment: "web", revision: 2 });
    expect(back.r.status, back.r.error ?? "").toBe("success");
    expect(
      (k.get("apps", "deployments", "prod", "web") as typeof dep).spec.template.spec.containers[0]?.image,
    ).toBe("repo/web:1.0");
    const missing = await run("rollout-undo", { namespace: "prod", deployment: "web", revision: 9 });
    expect(missing.r.status).toBe("failure");
    expect(missing.w).toEqual([]);
  });

  it("rollout-status: a report, no writes", async () => {
    const { r, w, before } = await run("rollout-status", { namespace: "prod", deployment: "web" });
    expect(r.status).toBe("success");
    expect(r.output).toContain('deployment "web" successfully rolled out');
    expect(w).toEqual([]);
    expect(before).toMatchObject({ replicas: 3, updated_replicas: 3, available_replicas: 3 });
  });

  it("get-pod-logs: --container and --tail reach the API; the body is withheld", async () => {
    const { r, w } = await run("get-pod-logs", {
      namespace: "prod",
      pod: "web-bbb-x1",
      container: "app",
      tail_lines: 2,
    });
    expect(r.status).toBe("success");
    expect(w).toEqual([]);
    const logReq = k.requests.find((q) => q.path.endsWith("/log"));
    expect(logReq).toMatchObject({
      method: "GET",
      path: "/api/v1/namespaces/prod/pods/web-bbb-x1/log",
      query: { container: "app", tailLines: "2" },
    });
    expect(r.outputIsSecret).toBe(true);
    expect(r.output).toContain("2 line(s)");
    expect(JSON.stringify(r)).not.toContain(LOG_SECRET);
  });

  it("get-configmap: returns the object", async () => {
    const { r, w, before } = await run("get-configmap", { namespace: "prod", configmap: "app-config" });
    expect(r.status).toBe("success");
    expect(w).toEqual([]);
    expect(JSON.parse(r.output)).toMatchObject({ data: { LOG_LEVEL: "info" } });
    expect(before).toMatchObject({ exists: true });
  });

  it("get-secret: the data never appears in output or state", async () => {
    const { r, w, before, after } = await run("get-secret", { namespace: "prod", secret: "db-creds" });
    expect(r.status).toBe("success");
    expect(w).toEqual([]);
    expect(r.outputIsSecret).toBe(true);
    expect(r.output).toMatch(/2 key\(s\)/);
    const all = JSON.stringify([r, before, after]);
    expect(all).not.toContain(SECRET_VALUE);
    expect(all).not.toContain(Buffer.from(SECRET_VALUE).toString("base64"));
    expect(before).toMatchObject({ exists: true, type: "Opaque", key_count: 2 });
  });

  it("update-image: strategic merge patch of one container; current_image captured", async () => {
    const { r, w, before, after } = await run("update-image", {
      namespace: "prod",
      deployment: "web",
      container: "app",
      image: "repo/web:2.0",
    });
    expect(r.status).toBe("success");
    expect(w).toHaveLength(1);
    expect(w[0]).toMatchObject({
      method: "PATCH",
      path: "/apis/apps/v1/namespaces/prod/deployments/web",
      contentType: SMP,
    });
    expect(
      (w[0]!.body as { spec: { template: { spec: { containers: unknown } } } }).spec.template.spec.containers,
    ).toEqual([{ image: "repo/web:2.0", name: "app" }]);
    expect(before).toEqual({ current_image: "repo/web:1.0", generation: 4 });
    expect(after).toEqual({ current_image: "repo/web:2.0", generation: 5 });
    const bad = await run("update-image", {
      namespace: "prod",
      deployment: "web",
      container: "nope",
      image: "repo/web:2.0",
    });
    expect(bad.r.status).toBe("failure");
  });

  it("scale-hpa: merge patch of min/max replicas on autoscaling/v2", async () => {
    const { r, w, before, after } = await run("scale-hpa", {
      namespace: "prod",
      hpa: "web-hpa",
      min_replicas: 3,
      max_replicas: 9,
    });
    expect(r.status).toBe("success");
    expect(w).toEqual([
      {
        method: "PATCH",
        path: "/apis/autoscaling/v2/namespaces/prod/horizontalpodautoscalers/web-hpa",
        contentType: MERGE,
        body: { spec: { minReplicas: 3, maxReplicas: 9 } },
      },
    ]);
    expect([before, after]).toEqual([
      { min_replicas: 2, max_replicas: 10 },
      { min_replicas: 3, max_replicas: 9 },
    ]);
  });

  it("update-hpa-limits: JSON patch of spec.metrics computed from the current HPA", async () => {
    const rv = (
      k.get("autoscaling", "horizontalpodautoscalers", "prod", "web-hpa") as {
        metadata: { resourceVersion: string };
      }
    ).metadata.resourceVersion;
    const { r, w, before, after } = await run("update-hpa-limits", {
      namespace: "prod",
      hpa: "web-hpa",
      target_cpu_percent: 50,
      target_memory_percent: 60,
    });
    expect(r.status, r.error ?? "").toBe("success");
    expect(w).toEqual([
      {
        method: "PATCH",
        path: "/apis/autoscaling/v2/namespaces/prod/horizontalpodautoscalers/web-hpa",
        contentType: JSONP,
        body: [
          { op: "test", path: "/metadata/resourceVersion", value: rv },
          {
            op: "replace",
            path: "/spec/metrics",
            value: [
              {
                type: "Resource",
                resource: { name: "cpu", target: { type: "Utilization", averageUtilization: 50 } },
              },
              {
                type: "Pods",
                pods: { metric: { name: "rps" }, target: { type: "AverageValue", averageValue: "100" } },
              },
              {
                type: "Resource",
                resource: { name: "memory", target: { type: "Utilization", averageUtilization: 60 } },
              },
            ],
          },
        ],
      },
    ]);
    expect(before).toEqual({ target_cpu_percent: 70 });
    expect(after).toEqual({ target_cpu_percent: 50, target_memory_percent: 60 });
  });

  it("apply-network-policy: kubectl apply of a generated NetworkPolicy on stdin", async () => {
    const { r, w, before, after } = await run("apply-network-policy", {
      namespace: "prod",
      policy_name: "deny-web",
      pod_selector: "app=web,tier!=db",
    });
    expect(r.status, r.error ?? "").toBe("success");
    expect(w).toHaveLength(1);
    expect(w[0]).toMatchObject({
      method: "POST",
      path: "/apis/networking.k8s.io/v1/namespaces/prod/networkpolicies",
      contentType: "application/json",
    });
    expect(w[0]?.body).toMatchObject({
      kind: "NetworkPolicy",
      metadata: {
        name: "deny-web",
        namespace: "prod",
        labels: { "app.kubernetes.io/managed-by": "agent-safe" },
      },
      spec: {
        podSelector: {
          matchLabels: { app: "web" },
          matchExpressions: [{ key: "tier", operator: "NotIn", values: ["db"] }],
        },
        policyTypes: ["Ingress"],
      },
    });
    expect(before).toEqual({ exists: false });
    expect(after).toMatchObject({ exists: true });
  });

  it("update-configmap: merge patch of one key; previous_value captured", async () => {
    const { r, w, before, after } = await run("update-configmap", {
      namespace: "prod",
      configmap: "app-config",
      key: "LOG_LEVEL",
      value: "debug",
    });
    expect(r.status).toBe("success");
    expect(w).toEqual([
      {
        method: "PATCH",
        path: "/api/v1/namespaces/prod/configmaps/app-config",
        contentType: MERGE,
        body: { data: { LOG_LEVEL: "debug" } },
      },
    ]);
    expect(before["previous_value"]).toBe("info");
    expect(after["previous_value"]).toBe("debug");
    expect((k.get("", "configmaps", "prod", "app-config") as { data: Record<string, string> }).data).toEqual({
      LOG_LEVEL: "debug",
      MODE: "fast",
    });
  });

  it("exec-pod: exec <pod> --container -- argv; the streaming upgrade is requested and its refusal is a failure", async () => {
    const { r } = await run(
      "exec-pod",
      { namespace: "prod", pod: "web-bbb-x1", container: "app", command: ["ls", "-la", "/"] },
      { timeoutMs: 20_000 },
    );
    expect(r.status).toBe("failure");
    expect(r.error).toMatch(/streaming is not supported/);
    const ups = k.requests.filter(
      (q) => q.upgrade && q.path === "/api/v1/namespaces/prod/pods/web-bbb-x1/exec",
    );
    expect(ups.length).toBeGreaterThanOrEqual(1);
    expect(ups[0]?.queryAll["command"]).toEqual(["ls", "-la", "/"]);
    expect(ups[0]?.query).toMatchObject({ container: "app", stdout: "true", stderr: "true" });
    expect(ups.some((u) => (u.headers["upgrade"] ?? "").toLowerCase() === "websocket")).toBe(true);
    expect(
      x.describe(
        context("exec-pod", { namespace: "prod", pod: "p", command: ["sh", "-c", "echo a; rm -rf /"] }),
      )[0],
    ).toMatch(/ exec pods\/p --namespace=prod -- sh -c 'echo a; rm -rf \/'$/);
  });

  it("port-forward: bounded by the deadline; a refused upgrade fails, a hung one times out", async () => {
    const params = { namespace: "prod", pod: "web-bbb-x1", local_port: 18_081, remote_port: 80 };
    const { r } = await run("port-forward", params, { timeoutMs: 20_000 });
    expect(r.status).toBe("failure");
    const up = k.requests.find(
      (q) => q.upgrade && q.path === "/api/v1/namespaces/prod/pods/web-bbb-x1/portforward",
    );
    expect(up).toBeDefined();
    k.hang = true;
    const started = Date.now();
    const t = await x.execute(context("port-forward", params, { timeoutMs: 2500 }));
    expect(t.status).toBe("timeout");
    expect(Date.now() - started).toBeLessThan(8000);
    expect(processesWith(kc)).toEqual([]);
  });
});

describe("kubectl executor: refusals, credentials, failures", () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(root, "fake-"));
  });

  it.each([
    ["delete-pod", { namespace: "prod", pod: "--kubeconfig=/x" }, /pod.*starts with '-'/],
    [
      "restart-deployment",
      { namespace: "prod", deployment: "; rm -rf /" },
      /deployment.*whitespace|metacharacter/,
    ],
    ["get-configmap", { namespace: "a b", configmap: "c" }, /namespace.*whitespace/],
    ["scale-deployment", { namespace: "prod", deployment: "web=1", replicas: 1 }, /contains '='/],
    ["get-secret", { namespace: "prod", secret: "../etc" }, /secret/],
    ["exec-pod", { namespace: "prod", pod: "p", command: "ls -la" }, /array of strings/],
    [
      "update-image",
      { namespace: "prod", deployment: "web", container: "app", image: "x --kubeconfig=/y" },
      /image reference/,
    ],
    ["update-configmap", { namespace: "prod", configmap: "c", key: "a b", value: "v" }, /ConfigMap key/],
    ["apply-network-policy", { namespace: "prod", policy_name: "p", pod_selector: "" }, /every pod/],
    ["delete-pod", { namespace: "prod", pod: "p", extra: "1" }, /not a parameter/],
    ["cordon-node", { node: "Node-1" }, /upper-case/],
  ])("%s %j is refused before any process starts", async (action, params, why) => {
    const fk = new KubectlExecutor({ kubectlPath: fakeKubectl(dir), kubeconfig: join(dir, "none") });
    const r = await fk.execute(context(action, params));
    expect(r.status).toBe("error");
    expect(r.error).toMatch(why);
    expect(r.details).toEqual({ refused: true });
    expect(existsSync(join(dir, "pid"))).toBe(false);
    expect(() => fk.describe(context(action, params))).toThrow(InvalidParameterError);
    await expect(fk.captureState(context(action, params))).rejects.toThrow(InvalidParameterError);
    expect(existsSync(join(dir, "pid"))).toBe(false);
  });

  it.skipIf(!hasKubectl)("refused parameters never reach the API server", async () => {
    k.clearLog();
    const r = await x.execute(context("delete-pod", { namespace: "prod", pod: "--kubeconfig=/x" }));
    expect(r.status).toBe("error");
    expect(k.requests).toEqual([]);
  });

  it("a missing kubectl binary is a clear error", async () => {
    const r = await new KubectlExecutor({ kubectlPath: join(dir, "no-such-kubectl") }).execute(
      context("cordon-node", { node: "n1" }),
    );
    expect(r.status).toBe("error");
    expect(r.error).toMatch(/kubectl could not be started \(ENOENT/);
  });

  it("a timeout kills the whole process group", async () => {
    const fk = new KubectlExecutor({
      kubectlPath: fakeKubectl(dir),
      env: { ...process.env, FAKE_SLEEP: "1" },
    });
    const started = Date.now();
    const r = await fk.execute(context("cordon-node", { node: "n1" }, { timeoutMs: 1500 }));
    expect(r.status).toBe("timeout");
    expect(Date.now() - started).toBeLessThan(6000);
    const pid = Number(readIf(join(dir, "pid")));
    const child = Number(readIf(join(dir, "child")));
    expect(pid).toBeGreaterThan(0);
    expect(child).toBeGreaterThan(0);
    expect(alive(pid)).toBe(false);
    expect(alive(child)).toBe(false);
  });

  it.skipIf(!hasKubectl)("a timeout against a hung API server: status timeout, kubectl gone", async () => {
    k.hang = true;
    const r = await x.execute(context("cordon-node", { node: "worker-1" }, { timeoutMs: 2000 }));
    expect(r.status).toBe("timeout");
    expect(processesWith(kc)).toEqual([]);
  });

  it("a token credential becomes a 0600 kubeconfig file, never argv, removed afterwards", async () => {
    const fk = new KubectlExecutor({ kubectlPath: fakeKubectl(dir) });
    const token = "tok-VERY-SECRET-123";
    const credential = {
      type: "kubernetes",
      payload: { token, server: "https://10.0.0.1:6443", certificate_authority_data: "Q0E=" },
    };
    const ctx = context("cordon-node", { node: "n1" }, { credential });
    const r = await fk.execute(ctx);
    expect(r.status).toBe("success");
    const argv = readIf(join(dir, "argv")) ?? "";
    expect(argv).not.toContain(token);
    expect(argv.split("\n").slice(1)).toEqual(["cordon", "n1", ""]);
    expect(readIf(join(dir, "mode"))?.trim()).toBe("600");
    expect(readIf(join(dir, "kc-copy"))).toContain(token);
    const kcPath = (argv.split("\n")[0] ?? "").replace("--kubeconfig=", "");
    expect(existsSync(kcPath)).toBe(false);
    expect(fk.describe(ctx).join(" ")).not.toContain(token);
    expect(JSON.stringify(r)).not.toContain(token);
  });

  it.skipIf(!hasKubectl)(
    "credentials reach the API over TLS: kubeconfig content, and token + server + CA",
    async () => {
      const tls = new FakeK8s();
      await tls.start({ tls: true });
      try {
        seedCluster(tls);
        tls.token = "cred-token-1";
        const ex = new KubectlExecutor({ cacheDir: join(root, "cache") });
        const viaKubeconfig = {
          type: "kubernetes",
          payload: { kubeconfig: tls.kubeconfigText("cred-token-1") },
        };
        const r = await ex.execute(
          context("cordon-node", { node: "worker-2" }, { credential: viaKubeconfig }),
        );
        expect(r.status, r.error ?? "").toBe("success");
        expect(tls.writes()[0]?.authorization).toBe("Bearer cred-token-1");
        tls.clearLog();
        const viaToken = {
          type: "kubernetes",
          payload: { token: "cred-token-1", server: tls.url, ca: tls.caPem },
        };
        const u = await ex.execute(context("uncordon-node", { node: "worker-2" }, { credential: viaToken }));
        expect(u.status, u.error ?? "").toBe("success");
        expect(tls.writes()[0]?.authorization).toBe("Bearer cred-token-1");
        const wrong = { type: "kubernetes", payload: { token: "wrong", server: tls.url, ca: tls.caPem } };
        const w = await ex.execute(context("uncordon-node", { node: "worker-2" }, { credential: wrong }));
        expect(w.status).toBe("failure");
        expect(JSON.stringify(w)).not.toContain("cred-token-1");
      } finally {
        await tls.stop();
      }
    },
  );

  it.skipIf(!hasKubectl)(
    "prechecks: pod-in-target is enforced and checks ownership through the ReplicaSet",
    async () => {
      const t = target("prod/web", "k8s-deployment", { namespace: "prod", deployment: "web" });
      const good = await x.runPrechecks(
        context("delete-pod", { namespace: "prod", pod: "web-bbb-x1" }, { target: t, targetId: t.id }),
      );
      expect(good.find((p) => p.name === "pod-in-target")).toMatchObject({ passed: true, enforced: true });
      const bad = await x.runPrechecks(
        context("get-pod-logs", { namespace: "dev", pod: "debug-pod" }, { target: t, targetId: t.id }),
      );
      expect(bad.find((p) => p.name === "pod-in-target")).toMatchObject({ passed: false, enforced: true });
      const unknown = await x.runPrechecks(
        context("exec-pod", { namespace: "prod", pod: "web-bbb-x1", command: ["bash"] }),
      );
      expect(unknown.find((p) => p.name === "pod-in-target")?.passed).toBe(false);
      expect(unknown.find((p) => p.name === "command-review")).toMatchObject({
        passed: false,
        enforced: false,
      });
      expect(unknown.find((p) => p.name === "pod-running")?.passed).toBe(true);
      expect(k.writes()).toEqual([]);
    },
  );
});
