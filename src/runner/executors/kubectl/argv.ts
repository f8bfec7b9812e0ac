/**
 * kubectl argv for the 20 Kubernetes actions. Every element is one argument: nothing is split on
 * whitespace and nothing runs through a shell. Values that reach argv were validated first
 * (kubernetes/actions.ts); flags are written `--flag=value` so a value can never become a flag.
 */
import {
  configMapPatch,
  hpaLimitsSummary,
  type K8sAction,
  type K8sParams,
  networkPolicyManifest,
  scaleHpaPatch,
} from "../kubernetes/actions.js";
import { type ListRef, RESOURCES, type ResourceRef } from "../kubernetes/resources.js";

export interface KubectlStep {
  args: string[];
  stdin?: string;
  /** A tunnel (port-forward) that runs until its deadline; being stopped there is its normal end. */
  longRunning?: boolean;
}

const DEP = RESOURCES.deployments.kubectl;
const HPA = RESOURCES.horizontalpodautoscalers.kubectl;

export function globalArgs(
  kubeconfig: string | null,
  context: string | undefined,
  cacheDir: string | undefined,
): string[] {
  const g: string[] = [];
  if (kubeconfig !== null) g.push(`--kubeconfig=${kubeconfig}`);
  if (context !== undefined) g.push(`--context=${context}`);
  if (cacheDir !== undefined) g.push(`--cache-dir=${cacheDir}`);
  return g;
}

/** The command for an action (after the global flags). update-hpa-limits gets its patch from hpaPatchArgs. */
export function actionStep(action: K8sAction, p: K8sParams): KubectlStep {
  const ns = `--namespace=${p.namespace}`;
  switch (action) {
    case "restart-deployment":
      return { args: ["rollout", "restart", `${DEP}/${p.deployment}`, ns] };
    case "scale-deployment":
      return { args: ["scale", `${DEP}/${p.deployment}`, ns, `--replicas=${p.replicas}`] };
    case "delete-pod":
      return { args: ["delete", `pods/${p.pod}`, ns, `--grace-period=${p.gracePeriod}`, "--wait=false"] };
    case "delete-namespace":
      return { args: ["delete", `namespaces/${p.namespace}`, "--wait=false"] };
    case "create-namespace":
      // From a manifest (JSON on stdin): `create namespace NAME` would send protobuf. --validate=false
      // because the manifest is generated here (no unknown fields possible) and validation would need
      // the server's OpenAPI documents.
      return {
        args: ["create", "--validate=false", "--filename=-"],
        stdin: JSON.stringify({ apiVersion: "v1", kind: "Namespace", metadata: { name: p.namespace } }),
      };
    case "cordon-node":
      return { args: ["cordon", p.node] };
    case "uncordon-node":
      return { args: ["uncordon", p.node] };
    case "drain-node":
      return {
        args: [
          "drain",
          p.node,
          `--ignore-daemonsets=${p.ignoreDaemonsets}`,
          "--delete-emptydir-data",
          `--timeout=${p.drainTimeout}s`,
        ],
      };
    case "rollout-undo":
      return {
        args: [
          "rollout",
          "undo",
          `${DEP}/${p.deployment}`,
          ns,
          ...(p.revision !== undefined ? [`--to-revision=${p.revision}`] : []),
        ],
      };
    case "rollout-status":
      return { args: ["rollout", "status", `${DEP}/${p.deployment}`, ns, "--watch=false"] };
    case "get-pod-logs":
      return {
        args: [
          "logs",
          `pods/${p.pod}`,
          ns,
          ...(p.container !== undefined ? [`--container=${p.container}`] : []),
          `--tail=${p.tailLines}`,
        ],
      };
    case "get-configmap":
      return { args: ["get", `configmaps/${p.configmap}`, ns, "--output=json"] };
    case "get-secret":
      return { args: ["get", `secrets/${p.secret}`, ns, "--output=json"] };
    case "update-image":
      return { args: ["set", "image", `${DEP}/${p.deployment}`, ns, `${p.container}=${p.image}`] };
    case "scale-hpa":
      return {
        args: ["patch", `${HPA}/${p.hpa}`, ns, "--type=merge", `--patch=${JSON.stringify(scaleHpaPatch(p))}`],
      };
    case "update-hpa-limits":
      return { args: ["get", `${HPA}/${p.hpa}`, ns, "--output=json"] };
    case "apply-network-policy":
      return {
        args: ["apply", ns, "--validate=false", "--filename=-"],
        stdin: JSON.stringify(networkPolicyManifest(p)),
      };
    case "update-configmap":
      return {
        args: [
          "patch",
          `configmaps/${p.configmap}`,
          ns,
          "--type=merge",
          `--patch=${JSON.stringify(configMapPatch(p))}`,
        ],
      };
    case "exec-pod":
      return {
        args: [
          "exec",
          `pods/${p.pod}`,
          ns,
          ...(p.container !== undefined ? [`--container=${p.container}`] : []),
          "--",
          ...p.command,
        ],
      };
    case "port-forward":
      return {
        args: ["port-forward", `pods/${p.pod}`, ns, "--address=127.0.0.1", `${p.localPort}:${p.remotePort}`],
        longRunning: true,
      };
  }
}

/** The second step of update-hpa-limits: a JSON patch computed from the HPA read by the first. */
export function hpaPatchStep(p: K8sParams, ops: unknown[]): KubectlStep {
  return {
    args: [
      "patch",
      `${HPA}/${p.hpa}`,
      `--namespace=${p.namespace}`,
      "--type=json",
      `--patch=${JSON.stringify(ops)}`,
    ],
  };
}

/** What describe() shows for update-hpa-limits' patch before the HPA is read. */
export function hpaPatchPlaceholder(p: K8sParams): string[] {
  return [
    "patch",
    `${HPA}/${p.hpa}`,
    `--namespace=${p.namespace}`,
    "--type=json",
    `--patch=<${hpaLimitsSummary(p)}>`,
  ];
}

export function getArgs(ref: ResourceRef): string[] {
  const r = RESOURCES[ref.kind];
  return [
    "get",
    `${r.kubectl}/${ref.name}`,
    ...(r.namespaced && ref.namespace !== undefined ? [`--namespace=${ref.namespace}`] : []),
    "--ignore-not-found",
    "--output=json",
  ];
}

export function listArgs(ref: ListRef): string[] {
  const r = RESOURCES[ref.kind];
  const a = ["get", r.kubectl];
  if (r.namespaced) a.push(ref.namespace !== undefined ? `--namespace=${ref.namespace}` : "--all-namespaces");
  if (ref.labelSelector) a.push(`--selector=${ref.labelSelector}`);
  if (ref.fieldSelector) a.push(`--field-selector=${ref.fieldSelector}`);
  a.push("--output=json");
  return a;
}
