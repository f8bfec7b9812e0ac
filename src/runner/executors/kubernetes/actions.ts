/**
 * The 20 Kubernetes actions of the catalogue: which parameters each consumes (validated), and the
 * request bodies both executors send (patches, manifests), so kubectl and the API do the same thing.
 */
import type { ActionDef } from "../../../core/types.js";
import { InvalidParameterError, UnsupportedActionError } from "./errors.js";
import { arr, at, type K8sObject, obj, str } from "./resources.js";
import {
  checkBool,
  checkCommand,
  checkConfigMapKey,
  checkDnsLabel,
  checkDnsSubdomain,
  checkImage,
  checkInt,
  checkText,
  declaredDefault,
  declaredRange,
  type LabelSelector,
  parseLabelSelector,
} from "./validate.js";

export const K8S_ACTIONS = [
  "apply-network-policy",
  "cordon-node",
  "create-namespace",
  "delete-namespace",
  "delete-pod",
  "drain-node",
  "exec-pod",
  "get-configmap",
  "get-pod-logs",
  "get-secret",
  "port-forward",
  "restart-deployment",
  "rollout-status",
  "rollout-undo",
  "scale-deployment",
  "scale-hpa",
  "uncordon-node",
  "update-configmap",
  "update-hpa-limits",
  "update-image",
] as const;
export type K8sAction = (typeof K8S_ACTIONS)[number];

export function isK8sAction(a: string): a is K8sAction {
  return (K8S_ACTIONS as readonly string[]).includes(a);
}

/** Actions whose result is secret material or a log body: never returned in clear. */
export const SECRET_OUTPUT_ACTIONS: ReadonlySet<string> = new Set(["get-secret", "get-pod-logs"]);

/** Validated parameters, with the executor-side defaults applied. */
export interface K8sParams {
  namespace: string;
  pod: string;
  deployment: string;
  node: string;
  configmap: string;
  secret: string;
  hpa: string;
  container: string | undefined;
  gracePeriod: number;
  tailLines: number;
  drainTimeout: number;
  ignoreDaemonsets: boolean;
  replicas: number;
  revision: number | undefined;
  image: string;
  minReplicas: number;
  maxReplicas: number;
  cpuPercent: number | undefined;
  memoryPercent: number | undefined;
  key: string;
  value: string;
  policyName: string;
  podSelector: LabelSelector;
  podSelectorText: string;
  command: string[];
  localPort: number;
  remotePort: number;
}

type Kind = "label" | "subdomain" | "int" | "bool" | "image" | "key" | "text" | "selector" | "command";
interface ParamSpec {
  kind: Kind;
  required: boolean;
  min?: number;
  max?: number;
}
const req = (kind: Kind, min?: number, max?: number): ParamSpec => ({ kind, required: true, min, max });
const opt = (kind: Kind, min?: number, max?: number): ParamSpec => ({ kind, required: false, min, max });

const NS = req("label");
const SPECS: Record<K8sAction, Record<string, ParamSpec>> = {
  "apply-network-policy": { namespace: NS, policy_name: req("label"), pod_selector: req("selector") },
  "cordon-node": { node: req("subdomain") },
  "create-namespace": { namespace: NS },
  "delete-namespace": { namespace: NS },
  "delete-pod": { namespace: NS, pod: req("subdomain"), grace_period: opt("int", 0, 300) },
  "drain-node": { node: req("subdomain"), timeout: opt("int", 30, 600), ignore_daemonsets: opt("bool") },
  "exec-pod": { namespace: NS, pod: req("subdomain"), container: opt("label"), command: req("command") },
  "get-configmap": { namespace: NS, configmap: req("subdomain") },
  "get-pod-logs": {
    namespace: NS,
    pod: req("subdomain"),
    container: opt("label"),
    tail_lines: opt("int", 1, 10000),
  },
  "get-secret": { namespace: NS, secret: req("subdomain") },
  "port-forward": {
    namespace: NS,
    pod: req("subdomain"),
    local_port: req("int", 1024, 65535),
    remote_port: req("int", 1, 65535),
  },
  "restart-deployment": { namespace: NS, deployment: req("subdomain") },
  "rollout-status": { namespace: NS, deployment: req("subdomain") },
  "rollout-undo": { namespace: NS, deployment: req("subdomain"), revision: opt("int", 1, 2 ** 31 - 1) },
  "scale-deployment": { namespace: NS, deployment: req("subdomain"), replicas: req("int", 0, 100) },
  "scale-hpa": {
    namespace: NS,
    hpa: req("subdomain"),
    min_replicas: req("int", 1, 100),
    max_replicas: req("int", 1, 500),
  },
  "uncordon-node": { node: req("subdomain") },
  "update-configmap": {
    namespace: NS,
    configmap: req("subdomain"),
    key: req("key"),
    value: req("text", 0, 100_000),
  },
  "update-hpa-limits": {
    namespace: NS,
    hpa: req("subdomain"),
    target_cpu_percent: opt("int", 1, 100),
    target_memory_percent: opt("int", 1, 100),
  },
  "update-image": {
    namespace: NS,
    deployment: req("subdomain"),
    container: req("label"),
    image: req("image"),
  },
};

/**
 * Validates every parameter of a Kubernetes action. Unknown parameters are refused (a parameter the
 * executor would silently ignore is a lie in the audit log). Throws InvalidParameterError.
 */
export function validateParams(def: ActionDef, raw: Record<string, unknown>): K8sParams {
  if (!isK8sAction(def.name)) throw new UnsupportedActionError(def.name);
  const spec = SPECS[def.name];
  for (const k of Object.keys(raw)) {
    if (!(k in spec)) throw new InvalidParameterError(k, `not a parameter of ${def.name}`);
  }
  const v: Record<string, unknown> = {};
  for (const [name, s] of Object.entries(spec)) {
    let value = raw[name];
    if (value === undefined || value === null) value = declaredDefault(def, name);
    if (value === undefined || value === null) {
      if (s.required) throw new InvalidParameterError(name, "missing");
      continue;
    }
    switch (s.kind) {
      case "label":
        v[name] = checkDnsLabel(name, value);
        break;
      case "subdomain":
        v[name] = checkDnsSubdomain(name, value);
        break;
      case "int": {
        const [lo, hi] = declaredRange(def, name, s.min ?? 0, s.max ?? 2 ** 31 - 1);
        v[name] = checkInt(name, value, lo, hi);
        break;
      }
      case "bool":
        v[name] = checkBool(name, value);
        break;
      case "image":
        v[name] = checkImage(name, value);
        break;
      case "key":
        v[name] = checkConfigMapKey(name, value);
        break;
      case "text":
        v[name] = checkText(name, value, s.max ?? 100_000);
        break;
      case "selector":
        v[name] = parseLabelSelector(name, value);
        v["pod_selector_text"] = value;
        break;
      case "command":
        v[name] = checkCommand(name, value);
        break;
    }
  }
  if (def.name === "scale-hpa" && (v["min_replicas"] as number) > (v["max_replicas"] as number)) {
    throw new InvalidParameterError("min_replicas", "greater than max_replicas");
  }
  if (
    def.name === "update-hpa-limits" &&
    v["target_cpu_percent"] === undefined &&
    v["target_memory_percent"] === undefined
  ) {
    throw new InvalidParameterError(
      "target_cpu_percent",
      "give target_cpu_percent, target_memory_percent or both",
    );
  }
  const s = (k: string) => (v[k] as string | undefined) ?? "";
  const n = (k: string) => (v[k] as number | undefined) ?? 0;
  return {
    namespace: s("namespace"),
    pod: s("pod"),
    deployment: s("deployment"),
    node: s("node"),
    configmap: s("configmap"),
    secret: s("secret"),
    hpa: s("hpa"),
    container: v["container"] as string | undefined,
    gracePeriod: (v["grace_period"] as number | undefined) ?? 30,
    tailLines: (v["tail_lines"] as number | undefined) ?? 100,
    drainTimeout: (v["timeout"] as number | undefined) ?? 300,
    ignoreDaemonsets: (v["ignore_daemonsets"] as boolean | undefined) ?? true,
    replicas: n("replicas"),
    revision: v["revision"] as number | undefined,
    image: s("image"),
    minReplicas: n("min_replicas"),
    maxReplicas: n("max_replicas"),
    cpuPercent: v["target_cpu_percent"] as number | undefined,
    memoryPercent: v["target_memory_percent"] as number | undefined,
    key: s("key"),
    value: s("value"),
    policyName: s("policy_name"),
    podSelector: (v["pod_selector"] as LabelSelector | undefined) ?? {
      matchLabels: {},
      matchExpressions: [],
    },
    podSelectorText: s("pod_selector_text"),
    command: (v["command"] as string[] | undefined) ?? [],
    localPort: n("local_port"),
    remotePort: n("remote_port"),
  };
}

// --- request bodies shared by both executors ------------------------------------------------------------

/** The annotation `kubectl rollout restart` sets; the API executor sets the same one. */
export const RESTARTED_AT = "kubectl.kubernetes.io/restartedAt";
export const MANAGED_BY = "app.kubernetes.io/managed-by";

export function restartPatch(now: Date): K8sObject {
  return { spec: { template: { metadata: { annotations: { [RESTARTED_AT]: now.toISOString() } } } } };
}

export function scaleHpaPatch(p: K8sParams): K8sObject {
  return { spec: { minReplicas: p.minReplicas, maxReplicas: p.maxReplicas } };
}

export function configMapPatch(p: K8sParams): K8sObject {
  return { data: { [p.key]: p.value } };
}

export function updateImagePatch(p: K8sParams): K8sObject {
  return { spec: { template: { spec: { containers: [{ name: p.container, image: p.image }] } } } };
}

/**
 * The NetworkPolicy apply-network-policy creates: it selects `pod_selector` and, having no ingress rule,
 * isolates those pods from all ingress traffic (egress is untouched). The declared parameters describe
 * nothing more, so nothing more is allowed.
 */
export function networkPolicyManifest(p: K8sParams): K8sObject {
  const podSelector: Record<string, unknown> = {};
  if (Object.keys(p.podSelector.matchLabels).length > 0)
    podSelector["matchLabels"] = p.podSelector.matchLabels;
  if (p.podSelector.matchExpressions.length > 0)
    podSelector["matchExpressions"] = p.podSelector.matchExpressions;
  return {
    apiVersion: "networking.k8s.io/v1",
    kind: "NetworkPolicy",
    metadata: { name: p.policyName, namespace: p.namespace, labels: { [MANAGED_BY]: "agent-safe" } },
    spec: { podSelector, policyTypes: ["Ingress"] },
  };
}

/**
 * The JSON patch update-hpa-limits sends (autoscaling/v2). HPA metrics are an atomic list (a merge or
 * strategic patch would replace it whole and drop the other metrics), so the patch is computed from the
 * current object: the cpu/memory Resource metrics get the new averageUtilization, other metrics are
 * kept, a missing one is added; the `test` op makes the write fail if the HPA changed in between.
 */
export function hpaLimitsPatch(hpa: K8sObject, p: K8sParams): unknown[] {
  const metrics = arr(at(hpa, "spec", "metrics")).map((m) => structuredClone(obj(m)));
  const targets: Array<[string, number | undefined]> = [
    ["cpu", p.cpuPercent],
    ["memory", p.memoryPercent],
  ];
  for (const [resource, percent] of targets) {
    if (percent === undefined) continue;
    const target = { type: "Utilization", averageUtilization: percent };
    const existing = metrics.find((m) => m["type"] === "Resource" && at(m, "resource", "name") === resource);
    if (existing) obj(existing["resource"])["target"] = target;
    else metrics.push({ type: "Resource", resource: { name: resource, target } });
  }
  const ops: unknown[] = [];
  const rv = str(at(hpa, "metadata", "resourceVersion"));
  if (rv !== undefined) ops.push({ op: "test", path: "/metadata/resourceVersion", value: rv });
  const had = Array.isArray(at(hpa, "spec", "metrics"));
  ops.push({ op: had ? "replace" : "add", path: "/spec/metrics", value: metrics });
  return ops;
}

/** Describes the hpaLimitsPatch for a dry run, before the HPA is read. */
export function hpaLimitsSummary(p: K8sParams): string {
  const parts: string[] = [];
  if (p.cpuPercent !== undefined) parts.push(`cpu averageUtilization=${p.cpuPercent}`);
  if (p.memoryPercent !== undefined) parts.push(`memory averageUtilization=${p.memoryPercent}`);
  return `JSON patch computed from the current spec.metrics (test metadata.resourceVersion; set ${parts.join(", ")}; other metrics kept)`;
}

/** Shell-style quoting, for display only: nothing ever runs through a shell. */
export function displayArgv(argv: string[]): string {
  return argv
    .map((a) => (/^[A-Za-z0-9_@%+=:,./-]+$/.test(a) ? a : `'${a.replaceAll("'", "'\\''")}'`))
    .join(" ");
}
