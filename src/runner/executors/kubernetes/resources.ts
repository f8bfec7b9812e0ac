/** The Kubernetes resources the executors touch, their API paths and their fully qualified kubectl names. */

export type ResourceKind =
  | "pods"
  | "nodes"
  | "namespaces"
  | "configmaps"
  | "secrets"
  | "deployments"
  | "replicasets"
  | "daemonsets"
  | "horizontalpodautoscalers"
  | "networkpolicies"
  | "poddisruptionbudgets";

export interface ResourceInfo {
  group: string;
  version: string;
  kind: string;
  namespaced: boolean;
  /**
   * The name kubectl is given: fully qualified (`resource.version.group`) outside the core group, so
   * neither a short name nor a CRD of the same name can redirect the command.
   */
  kubectl: string;
}

export const RESOURCES: Record<ResourceKind, ResourceInfo> = {
  pods: { group: "", version: "v1", kind: "Pod", namespaced: true, kubectl: "pods" },
  nodes: { group: "", version: "v1", kind: "Node", namespaced: false, kubectl: "nodes" },
  namespaces: { group: "", version: "v1", kind: "Namespace", namespaced: false, kubectl: "namespaces" },
  configmaps: { group: "", version: "v1", kind: "ConfigMap", namespaced: true, kubectl: "configmaps" },
  secrets: { group: "", version: "v1", kind: "Secret", namespaced: true, kubectl: "secrets" },
  deployments: {
    group: "apps",
    version: "v1",
    kind: "Deployment",
    namespaced: true,
    kubectl: "deployments.v1.apps",
  },
  replicasets: {
    group: "apps",
    version: "v1",
    kind: "ReplicaSet",
    namespaced: true,
    kubectl: "replicasets.v1.apps",
  },
  daemonsets: {
    group: "apps",
    version: "v1",
    kind: "DaemonSet",
    namespaced: true,
    kubectl: "daemonsets.v1.apps",
  },
  horizontalpodautoscalers: {
    group: "autoscaling",
    version: "v2",
    kind: "HorizontalPodAutoscaler",
    namespaced: true,
    kubectl: "horizontalpodautoscalers.v2.autoscaling",
  },
  networkpolicies: {
    group: "networking.k8s.io",
    version: "v1",
    kind: "NetworkPolicy",
    namespaced: true,
    kubectl: "networkpolicies.v1.networking.k8s.io",
  },
  poddisruptionbudgets: {
    group: "policy",
    version: "v1",
    kind: "PodDisruptionBudget",
    namespaced: true,
    kubectl: "poddisruptionbudgets.v1.policy",
  },
};

export interface ResourceRef {
  kind: ResourceKind;
  name: string;
  namespace?: string;
}

export interface ListRef {
  kind: ResourceKind;
  /** Absent: every namespace (namespaced kinds) or the cluster (cluster-scoped kinds). */
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
}

/** `/api/v1/namespaces/ns/pods/name/eviction` and friends. Names are validated before they get here. */
export function apiPath(kind: ResourceKind, namespace?: string, name?: string, sub?: string): string {
  const r = RESOURCES[kind];
  let p = r.group === "" ? `/api/${r.version}` : `/apis/${r.group}/${r.version}`;
  if (r.namespaced && namespace !== undefined) p += `/namespaces/${encodeURIComponent(namespace)}`;
  p += `/${kind}`;
  if (name !== undefined) p += `/${encodeURIComponent(name)}`;
  if (sub !== undefined) p += `/${sub}`;
  return p;
}

/** A Kubernetes object as JSON (the wire form). */
export type K8sObject = Record<string, unknown>;

/** Read access to the cluster, implemented by both executors (kubectl get -o json, or the API). */
export interface ClusterReader {
  /** The object, or null when it does not exist (404). Secrets come back without their data. */
  get(ref: ResourceRef): Promise<K8sObject | null>;
  list(ref: ListRef): Promise<K8sObject[]>;
}

// --- small typed accessors over wire JSON -------------------------------------------------------------

export function obj(v: unknown): Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}
export function arr(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}
export function at(o: unknown, ...path: string[]): unknown {
  let cur: unknown = o;
  for (const k of path) {
    if (cur === null || typeof cur !== "object" || Array.isArray(cur)) return undefined;
    cur = (cur as Record<string, unknown>)[k];
  }
  return cur;
}
export function str(v: unknown): string | undefined {
  return typeof v === "string" ? v : undefined;
}
export function num(v: unknown): number | undefined {
  return typeof v === "number" ? v : undefined;
}
export function labelsOf(o: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(obj(at(o, "metadata", "labels"))))
    if (typeof v === "string") out[k] = v;
  return out;
}
export function nameOf(o: unknown): string {
  return str(at(o, "metadata", "name")) ?? "";
}

/** Removes secret material from an object in place (Secret data, and any stringData). */
export function stripSecretData(o: K8sObject): K8sObject {
  const keys = Object.keys(obj(o["data"]));
  delete o["data"];
  delete o["stringData"];
  const anns = obj(at(o, "metadata", "annotations"));
  // kubectl apply keeps the whole last-applied object, data included, in an annotation.
  delete anns["kubectl.kubernetes.io/last-applied-configuration"];
  o["dataKeys"] = keys;
  return o;
}
