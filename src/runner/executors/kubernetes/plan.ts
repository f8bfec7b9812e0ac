/** The HTTP requests the API executor makes for each action, as shown by a dry run (describe()). */
import {
  configMapPatch,
  hpaLimitsSummary,
  type K8sAction,
  type K8sParams,
  networkPolicyManifest,
  RESTARTED_AT,
  scaleHpaPatch,
  updateImagePatch,
} from "./actions.js";
import { CT } from "./client.js";
import { apiPath } from "./resources.js";

const j = JSON.stringify;

export function describeRequests(action: K8sAction, p: K8sParams): string[] {
  const ns = p.namespace;
  const dep = apiPath("deployments", ns, p.deployment);
  const pod = apiPath("pods", ns, p.pod);
  const hpa = apiPath("horizontalpodautoscalers", ns, p.hpa);
  switch (action) {
    case "restart-deployment":
      return [
        `PATCH ${dep} (${CT.strategic}) ${j({ spec: { template: { metadata: { annotations: { [RESTARTED_AT]: "<now>" } } } } })}`,
      ];
    case "scale-deployment":
      return [`PATCH ${dep}/scale (${CT.merge}) ${j({ spec: { replicas: p.replicas } })}`];
    case "delete-pod":
      return [`DELETE ${pod} ${j({ gracePeriodSeconds: p.gracePeriod, propagationPolicy: "Background" })}`];
    case "delete-namespace":
      return [`DELETE ${apiPath("namespaces", undefined, ns)} ${j({ propagationPolicy: "Background" })}`];
    case "create-namespace":
      return [
        `POST ${apiPath("namespaces")} (application/json) ${j({ apiVersion: "v1", kind: "Namespace", metadata: { name: ns } })}`,
      ];
    case "cordon-node":
    case "uncordon-node":
      return [
        `PATCH ${apiPath("nodes", undefined, p.node)} (${CT.strategic}) ${j({ spec: { unschedulable: action === "cordon-node" ? true : null } })}`,
      ];
    case "drain-node":
      return [
        `PATCH ${apiPath("nodes", undefined, p.node)} (${CT.strategic}) ${j({ spec: { unschedulable: true } })}`,
        `GET ${apiPath("pods")}?fieldSelector=spec.nodeName=${p.node}`,
        `POST ${apiPath("pods", "<ns>", "<pod>", "eviction")} (application/json) {"apiVersion":"policy/v1","kind":"Eviction",...} for each pod not owned by a DaemonSet${p.ignoreDaemonsets ? "" : " (DaemonSet pods make the drain fail)"}; 429 (PodDisruptionBudget) retried until ${p.drainTimeout}s`,
        `GET ${apiPath("pods", "<ns>", "<pod>")} until each evicted pod is gone`,
      ];
    case "rollout-undo":
      return [
        `GET ${dep}`,
        `GET ${apiPath("replicasets", ns)}?labelSelector=<deployment selector>`,
        `PATCH ${dep} (${CT.json}) [{"op":"test","path":"/metadata/resourceVersion",...},{"op":"replace","path":"/spec/template","value":<template of revision ${p.revision ?? "before the current one"}>}]`,
      ];
    case "rollout-status":
      return [`GET ${dep}`];
    case "get-pod-logs":
      return [
        `GET ${pod}/log?${p.container !== undefined ? `container=${p.container}&` : ""}tailLines=${p.tailLines} (body withheld from the result)`,
      ];
    case "get-configmap":
      return [`GET ${apiPath("configmaps", ns, p.configmap)}`];
    case "get-secret":
      return [`GET ${apiPath("secrets", ns, p.secret)} (data withheld from the result)`];
    case "update-image":
      return [`GET ${dep}`, `PATCH ${dep} (${CT.strategic}) ${j(updateImagePatch(p))}`];
    case "scale-hpa":
      return [`PATCH ${hpa} (${CT.merge}) ${j(scaleHpaPatch(p))}`];
    case "update-hpa-limits":
      return [`GET ${hpa}`, `PATCH ${hpa} (${CT.json}) <${hpaLimitsSummary(p)}>`];
    case "apply-network-policy": {
      const np = apiPath("networkpolicies", ns);
      return [
        `POST ${np} (application/json) ${j(networkPolicyManifest(p))}`,
        `if it exists (409): GET ${np}/${p.policyName}, PATCH ${np}/${p.policyName} (${CT.json}) [test resourceVersion, replace /spec, set label app.kubernetes.io/managed-by]`,
      ];
    }
    case "update-configmap":
      return [`PATCH ${apiPath("configmaps", ns, p.configmap)} (${CT.merge}) ${j(configMapPatch(p))}`];
    case "exec-pod":
      return [
        `GET ${pod}`,
        `WebSocket ${pod}/exec?${p.command.map((c) => `command=${encodeURIComponent(c)}`).join("&")}&container=${p.container ?? "<first container>"}&stdout=true&stderr=true`,
      ];
    case "port-forward":
      return [
        `WebSocket ${pod}/portforward?ports=${p.remotePort}, served on 127.0.0.1:${p.localPort} until the deadline`,
      ];
  }
}
