/**
 * The Kubernetes API executor: the 20 Kubernetes actions through @kubernetes/client-node 1.4 (loaded
 * on first use), with the patch type each change needs (see docs/runner.md), every request bounded
 * by the call's deadline, and the same validation, state mapping and prechecks as the kubectl executor.
 */
import type { ExecutionContext, Executor, ExecutorResult, PrecheckResult } from "../types.js";
import {
  configMapPatch,
  hpaLimitsPatch,
  isK8sAction,
  type K8sAction,
  type K8sParams,
  MANAGED_BY,
  networkPolicyManifest,
  restartPatch,
  SECRET_OUTPUT_ACTIONS,
  scaleHpaPatch,
  updateImagePatch,
  validateParams,
} from "./actions.js";
import { type Api, apiReader, CT, call, loadLib, makeApi } from "./client.js";
import { type ExecutorKubeDefaults, kubeconfigSource } from "./credentials.js";
import { drainNode } from "./drain.js";
import { errorMessage, K8sApiError, UnsupportedActionError } from "./errors.js";
import { describeRequests } from "./plan.js";
import { refusedPrechecks, runPrechecksWith } from "./prechecks.js";
import { arr, at, obj, str } from "./resources.js";
import { planUndo, rolloutStatus } from "./rollout.js";
import { captureWith } from "./state.js";
import { execInPod, portForward } from "./streams.js";
import { logSummary, secretSummary } from "./summary.js";
import { formatLabelSelector } from "./validate.js";

export interface KubernetesExecutorOptions extends ExecutorKubeDefaults {
  /** Deadline of each state/precheck read (default 30 s). */
  readTimeoutMs?: number;
  /** Cap on the output returned in a result (default 64 KiB). */
  maxOutputChars?: number;
}

type Out = Omit<ExecutorResult, "durationMs">;

export class KubernetesExecutor implements Executor {
  readonly type = "k8s";

  constructor(private readonly opts: KubernetesExecutorOptions = {}) {}

  supports(action: string): boolean {
    return isK8sAction(action);
  }

  private params(ctx: ExecutionContext): { action: K8sAction; p: K8sParams } {
    if (!isK8sAction(ctx.action.name)) throw new UnsupportedActionError(ctx.action.name);
    return { action: ctx.action.name, p: validateParams(ctx.action, ctx.params) };
  }

  private async api(ctx: ExecutionContext): Promise<Api> {
    const src = kubeconfigSource(ctx.credential, this.opts);
    return makeApi(await loadLib(), src);
  }

  describe(ctx: ExecutionContext): string[] {
    const { action, p } = this.params(ctx);
    kubeconfigSource(ctx.credential, this.opts);
    return describeRequests(action, p);
  }

  async execute(ctx: ExecutionContext): Promise<ExecutorResult> {
    const started = Date.now();
    const deadline = started + ctx.timeoutMs;
    const done = (r: Out): ExecutorResult => ({ ...r, durationMs: Date.now() - started });
    let action: K8sAction;
    let p: K8sParams;
    let api: Api;
    try {
      ({ action, p } = this.params(ctx));
      api = await this.api(ctx);
    } catch (e) {
      return done({ status: "error", output: "", error: errorMessage(e), details: { refused: true } });
    }
    const secret = SECRET_OUTPUT_ACTIONS.has(action);
    const signal = () =>
      AbortSignal.any([
        AbortSignal.timeout(Math.max(1, deadline - Date.now())),
        ...(ctx.signal ? [ctx.signal] : []),
      ]);
    try {
      const r = await this.run(api, action, p, signal, deadline, ctx);
      return done(r);
    } catch (e) {
      const timedOut = Date.now() >= deadline && !ctx.signal?.aborted;
      if (timedOut)
        return done({
          status: "timeout",
          output: "",
          error: `Kubernetes API call timed out after ${ctx.timeoutMs} ms`,
          outputIsSecret: secret || undefined,
        });
      const status = e instanceof K8sApiError && e.status !== null ? "failure" : "error";
      return done({ status, output: "", error: errorMessage(e), outputIsSecret: secret || undefined });
    }
  }

  private cap(s: string): string {
    const n = this.opts.maxOutputChars ?? 65_536;
    return s.length > n ? `${s.slice(0, n)}\n…[truncated ${s.length - n} characters]` : s;
  }

  private async run(
    api: Api,
    action: K8sAction,
    p: K8sParams,
    signal: () => AbortSignal,
    deadline: number,
    ctx: ExecutionContext,
  ): Promise<Out> {
    const ns = p.namespace;
    const c = (fn: Parameters<typeof call>[1], contentType?: string) =>
      call(api, fn, { signal: signal(), contentType });
    const ok = (output: string, details?: Record<string, unknown>): Out => ({
      status: "success",
      output,
      error: null,
      ...(details ? { details } : {}),
    });
    switch (action) {
      case "restart-deployment":
        await c(
          (o) =>
            api.apps.patchNamespacedDeployment(
              { name: p.deployment, namespace: ns, body: restartPatch(new Date()) },
              o,
            ),
          CT.strategic,
        );
        return ok(`deployment.apps/${p.deployment} restarted`);
      case "scale-deployment":
        await c(
          (o) =>
            api.apps.patchNamespacedDeploymentScale(
              { name: p.deployment, namespace: ns, body: { spec: { replicas: p.replicas } } },
              o,
            ),
          CT.merge,
        );
        return ok(`deployment.apps/${p.deployment} scaled to ${p.replicas}`);
      case "delete-pod":
        await c((o) =>
          api.core.deleteNamespacedPod(
            {
              name: p.pod,
              namespace: ns,
              body: { gracePeriodSeconds: p.gracePeriod, propagationPolicy: "Background" },
            },
            o,
          ),
        );
        return ok(`pod "${p.pod}" deleted`);
      case "delete-namespace":
        await c((o) => api.core.deleteNamespace({ name: ns, body: { propagationPolicy: "Background" } }, o));
        return ok(`namespace "${ns}" deleted`);
      case "create-namespace":
        await c((o) =>
          api.core.createNamespace(
            { body: { apiVersion: "v1", kind: "Namespace", metadata: { name: ns } } },
            o,
          ),
        );
        return ok(`namespace/${ns} created`);
      case "cordon-node":
      case "uncordon-node": {
        const cordon = action === "cordon-node";
        await c(
          (o) =>
            api.core.patchNode({ name: p.node, body: { spec: { unschedulable: cordon ? true : null } } }, o),
          CT.strategic,
        );
        return ok(`node/${p.node} ${cordon ? "cordoned" : "uncordoned"}`);
      }
      case "drain-node": {
        const d = await drainNode(api, p, Math.min(deadline, Date.now() + p.drainTimeout * 1000), ctx.signal);
        const details = { evicted: d.evicted, ignored: d.ignored };
        return d.ok ? ok(d.message, details) : { status: "failure", output: "", error: d.message, details };
      }
      case "rollout-undo": {
        const dep = obj(
          await c((o) => api.apps.readNamespacedDeployment({ name: p.deployment, namespace: ns }, o)),
        );
        const rsList = obj(
          await c((o) =>
            api.apps.listNamespacedReplicaSet(
              { namespace: ns, labelSelector: formatLabelSelector(obj(at(dep, "spec", "selector"))) },
              o,
            ),
          ),
        );
        const plan = planUndo(dep, arr(rsList["items"]).map(obj), p.revision);
        if (plan.kind === "error") return { status: "failure", output: "", error: plan.message };
        if (plan.kind === "noop")
          return ok(
            `deployment.apps/${p.deployment} skipped rollback (current template already matches revision ${plan.revision})`,
          );
        await c(
          (o) => api.apps.patchNamespacedDeployment({ name: p.deployment, namespace: ns, body: plan.ops }, o),
          CT.json,
        );
        return ok(`deployment.apps/${p.deployment} rolled back to revision ${plan.revision}`, {
          revision: plan.revision,
        });
      }
      case "rollout-status": {
        const s = rolloutStatus(
          obj(await c((o) => api.apps.readNamespacedDeployment({ name: p.deployment, namespace: ns }, o))),
        );
        return ok(s.message, { done: s.done });
      }
      case "get-pod-logs": {
        const body = await c((o) =>
          api.core.readNamespacedPodLog(
            { name: p.pod, namespace: ns, container: p.container, tailLines: p.tailLines },
            o,
          ),
        );
        return {
          ...ok(logSummary(typeof body === "string" ? body : JSON.stringify(body ?? ""), p)),
          outputIsSecret: true,
        };
      }
      case "get-configmap":
        return ok(
          this.cap(
            JSON.stringify(
              await c((o) => api.core.readNamespacedConfigMap({ name: p.configmap, namespace: ns }, o)),
              null,
              2,
            ),
          ),
        );
      case "get-secret": {
        const s = obj(await c((o) => api.core.readNamespacedSecret({ name: p.secret, namespace: ns }, o)));
        return { ...ok(secretSummary(s)), outputIsSecret: true };
      }
      case "update-image": {
        const dep = await c((o) =>
          api.apps.readNamespacedDeployment({ name: p.deployment, namespace: ns }, o),
        );
        const names = arr(at(dep, "spec", "template", "spec", "containers")).map((x) => str(obj(x)["name"]));
        if (!names.includes(p.container))
          return {
            status: "failure",
            output: "",
            error: `unable to find container named "${p.container}" in deployment ${p.deployment}`,
          };
        await c(
          (o) =>
            api.apps.patchNamespacedDeployment(
              { name: p.deployment, namespace: ns, body: updateImagePatch(p) },
              o,
            ),
          CT.strategic,
        );
        return ok(`deployment.apps/${p.deployment} image updated`);
      }
      case "scale-hpa":
        await c(
          (o) =>
            api.autoscaling.patchNamespacedHorizontalPodAutoscaler(
              { name: p.hpa, namespace: ns, body: scaleHpaPatch(p) },
              o,
            ),
          CT.merge,
        );
        return ok(`horizontalpodautoscaler.autoscaling/${p.hpa} patched`);
      case "update-hpa-limits": {
        const hpa = obj(
          await c((o) =>
            api.autoscaling.readNamespacedHorizontalPodAutoscaler({ name: p.hpa, namespace: ns }, o),
          ),
        );
        await c(
          (o) =>
            api.autoscaling.patchNamespacedHorizontalPodAutoscaler(
              { name: p.hpa, namespace: ns, body: hpaLimitsPatch(hpa, p) },
              o,
            ),
          CT.json,
        );
        return ok(`horizontalpodautoscaler.autoscaling/${p.hpa} patched`);
      }
      case "apply-network-policy": {
        const manifest = networkPolicyManifest(p);
        try {
          await c((o) => api.networking.createNamespacedNetworkPolicy({ namespace: ns, body: manifest }, o));
          return ok(`networkpolicy.networking.k8s.io/${p.policyName} created`);
        } catch (e) {
          if (!(e instanceof K8sApiError && e.status === 409)) throw e;
        }
        const cur = obj(
          await c((o) =>
            api.networking.readNamespacedNetworkPolicy({ name: p.policyName, namespace: ns }, o),
          ),
        );
        const hasLabels = at(cur, "metadata", "labels") !== undefined;
        const ops = [
          {
            op: "test",
            path: "/metadata/resourceVersion",
            value: str(at(cur, "metadata", "resourceVersion")),
          },
          { op: "replace", path: "/spec", value: manifest["spec"] },
          hasLabels
            ? {
                op: "add",
                path: `/metadata/labels/${MANAGED_BY.replaceAll("~", "~0").replaceAll("/", "~1")}`,
                value: "agent-safe",
              }
            : { op: "add", path: "/metadata/labels", value: { [MANAGED_BY]: "agent-safe" } },
        ];
        await c(
          (o) =>
            api.networking.patchNamespacedNetworkPolicy({ name: p.policyName, namespace: ns, body: ops }, o),
          CT.json,
        );
        return ok(`networkpolicy.networking.k8s.io/${p.policyName} configured`);
      }
      case "update-configmap":
        await c(
          (o) =>
            api.core.patchNamespacedConfigMap(
              { name: p.configmap, namespace: ns, body: configMapPatch(p) },
              o,
            ),
          CT.merge,
        );
        return ok(`configmap/${p.configmap} patched`);
      case "exec-pod":
      case "port-forward": {
        const pod = obj(await c((o) => api.core.readNamespacedPod({ name: p.pod, namespace: ns }, o)));
        const phase = str(at(pod, "status", "phase"));
        if (phase !== "Running")
          return {
            status: "failure",
            output: "",
            error: `pod ${p.pod} is not running (phase ${phase ?? "unknown"})`,
          };
        if (action === "port-forward") return await portForward(api, p, deadline, ctx.signal);
        const container = p.container ?? str(obj(arr(at(pod, "spec", "containers"))[0])["name"]) ?? "";
        const r = await execInPod(api, p, container, deadline, ctx.signal);
        return { ...r, output: this.cap(r.output) };
      }
    }
  }

  async captureState(ctx: ExecutionContext): Promise<Record<string, unknown>> {
    const { action, p } = this.params(ctx);
    const api = await this.api(ctx);
    return captureWith(this.reader(api, ctx), action, p);
  }

  async runPrechecks(ctx: ExecutionContext): Promise<PrecheckResult[]> {
    let action: K8sAction;
    let p: K8sParams;
    try {
      ({ action, p } = this.params(ctx));
    } catch (e) {
      return refusedPrechecks(ctx.action.prechecks, e);
    }
    const api = await this.api(ctx);
    return runPrechecksWith(this.reader(api, ctx), action, p, ctx.action.prechecks, ctx.target, ctx.targetId);
  }

  private reader(api: Api, ctx: ExecutionContext) {
    const t = Math.min(this.opts.readTimeoutMs ?? 30_000, Math.max(1000, ctx.timeoutMs));
    return apiReader(api, () =>
      AbortSignal.any([AbortSignal.timeout(t), ...(ctx.signal ? [ctx.signal] : [])]),
    );
  }
}
