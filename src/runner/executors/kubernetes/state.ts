/**
 * State capture for the Kubernetes actions: which object each action reads before and after, and how
 * its fields map to the names the action declares in `state_fields` / `rollback_params` (e.g.
 * `spec.replicas` → `replicas`). Never secret data: a Secret contributes its key count only.
 */
import type { K8sAction, K8sParams } from "./actions.js";
import { arr, at, type ClusterReader, type K8sObject, num, obj, type ResourceRef, str } from "./resources.js";

/** The object an action's state is read from, or null when the action has no state. */
export function stateResource(action: K8sAction, p: K8sParams): ResourceRef | null {
  switch (action) {
    case "restart-deployment":
    case "scale-deployment":
    case "rollout-undo":
    case "rollout-status":
    case "update-image":
      return { kind: "deployments", namespace: p.namespace, name: p.deployment };
    case "cordon-node":
    case "uncordon-node":
    case "drain-node":
      return { kind: "nodes", name: p.node };
    case "scale-hpa":
    case "update-hpa-limits":
      return { kind: "horizontalpodautoscalers", namespace: p.namespace, name: p.hpa };
    case "get-configmap":
    case "update-configmap":
      return { kind: "configmaps", namespace: p.namespace, name: p.configmap };
    case "get-secret":
      return { kind: "secrets", namespace: p.namespace, name: p.secret };
    case "create-namespace":
    case "delete-namespace":
      return { kind: "namespaces", name: p.namespace };
    case "apply-network-policy":
      return { kind: "networkpolicies", namespace: p.namespace, name: p.policyName };
    case "delete-pod":
    case "get-pod-logs":
    case "exec-pod":
    case "port-forward":
      return { kind: "pods", namespace: p.namespace, name: p.pod };
  }
}

/** Actions whose state uses only declared names, so an absent object yields `{}`. */
const DECLARED = new Set<K8sAction>([
  "restart-deployment",
  "scale-deployment",
  "update-image",
  "cordon-node",
  "uncordon-node",
  "scale-hpa",
  "update-hpa-limits",
  "update-configmap",
]);

function revisionOf(o: K8sObject): number | undefined {
  const r = str(at(o, "metadata", "annotations", "deployment.kubernetes.io/revision"));
  const n = r === undefined ? Number.NaN : Number.parseInt(r, 10);
  return Number.isFinite(n) ? n : undefined;
}

function put(out: Record<string, unknown>, key: string, v: unknown): void {
  if (v !== undefined) out[key] = v;
}

/** Resource-metric utilisation target of an autoscaling/v2 HPA, if it has one. */
export function hpaTarget(hpa: K8sObject, resource: "cpu" | "memory"): number | undefined {
  for (const m of arr(at(hpa, "spec", "metrics"))) {
    if (obj(m)["type"] === "Resource" && at(m, "resource", "name") === resource) {
      return num(at(m, "resource", "target", "averageUtilization"));
    }
  }
  return undefined;
}

/** Maps an object (wire JSON, or null when absent) to the action's state record. */
export function stateFromObject(
  action: K8sAction,
  p: K8sParams,
  o: K8sObject | null,
): Record<string, unknown> {
  if (o === null) return DECLARED.has(action) ? {} : { exists: false };
  const out: Record<string, unknown> = {};
  const status = obj(o["status"]);
  switch (action) {
    case "restart-deployment":
      put(out, "generation", num(at(o, "metadata", "generation")));
      put(out, "observed_generation", num(status["observedGeneration"]));
      out["available_replicas"] = num(status["availableReplicas"]) ?? 0;
      break;
    case "scale-deployment":
      out["replicas"] = num(at(o, "spec", "replicas")) ?? 1;
      out["ready_replicas"] = num(status["readyReplicas"]) ?? 0;
      out["available_replicas"] = num(status["availableReplicas"]) ?? 0;
      break;
    case "rollout-undo":
      // `revision` overlays the param of the same name in the convention rollback plan, so undoing an
      // undo returns to the revision that was current before it.
      out["exists"] = true;
      put(out, "revision", revisionOf(o));
      put(out, "generation", num(at(o, "metadata", "generation")));
      break;
    case "rollout-status":
      out["exists"] = true;
      put(out, "generation", num(at(o, "metadata", "generation")));
      put(out, "observed_generation", num(status["observedGeneration"]));
      out["replicas"] = num(at(o, "spec", "replicas")) ?? 1;
      out["updated_replicas"] = num(status["updatedReplicas"]) ?? 0;
      out["ready_replicas"] = num(status["readyReplicas"]) ?? 0;
      out["available_replicas"] = num(status["availableReplicas"]) ?? 0;
      break;
    case "update-image": {
      const c = arr(at(o, "spec", "template", "spec", "containers")).find(
        (x) => obj(x)["name"] === p.container,
      );
      put(out, "current_image", str(obj(c)["image"]));
      put(out, "generation", num(at(o, "metadata", "generation")));
      break;
    }
    case "cordon-node":
    case "uncordon-node":
      out["unschedulable"] = at(o, "spec", "unschedulable") === true;
      break;
    case "drain-node":
      out["exists"] = true;
      out["unschedulable"] = at(o, "spec", "unschedulable") === true;
      break;
    case "scale-hpa":
      out["min_replicas"] = num(at(o, "spec", "minReplicas")) ?? 1;
      put(out, "max_replicas", num(at(o, "spec", "maxReplicas")));
      break;
    case "update-hpa-limits":
      put(out, "target_cpu_percent", hpaTarget(o, "cpu"));
      put(out, "target_memory_percent", hpaTarget(o, "memory"));
      break;
    case "update-configmap":
      put(out, "previous_value", str(obj(o["data"])[p.key]));
      put(out, "resource_version", str(at(o, "metadata", "resourceVersion")));
      break;
    case "get-configmap":
    case "apply-network-policy":
      out["exists"] = true;
      put(out, "resource_version", str(at(o, "metadata", "resourceVersion")));
      break;
    case "get-secret":
      out["exists"] = true;
      put(out, "resource_version", str(at(o, "metadata", "resourceVersion")));
      put(out, "type", str(o["type"]));
      // Readers strip the data and leave the key names in `dataKeys`; count them only.
      out["key_count"] = arr(o["dataKeys"]).length;
      break;
    case "create-namespace":
    case "delete-namespace":
    case "delete-pod":
    case "get-pod-logs":
    case "exec-pod":
    case "port-forward":
      out["exists"] = true;
      put(out, "phase", str(status["phase"]));
      break;
  }
  return out;
}

/** Reads the action's object and maps it; `{}` for actions without state. */
export async function captureWith(
  reader: ClusterReader,
  action: K8sAction,
  p: K8sParams,
): Promise<Record<string, unknown>> {
  const ref = stateResource(action, p);
  if (ref === null) return {};
  return stateFromObject(action, p, await reader.get(ref));
}
