/** A small cluster for the executor tests, and helpers to build execution contexts from the shipped catalogue. */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import type { ActionDef, Target } from "../../../src/core/types.js";
import type { ExecutionContext } from "../../../src/runner/executors/types.js";
import type { FakeK8s } from "./server.js";

export const SECRET_VALUE = "s3cr3t-P@ssw0rd-do-not-leak";
export const LOG_SECRET = "TOKEN=log-body-secret-4711";

const template = (image: string) => ({
  metadata: { labels: { app: "web" } },
  spec: {
    containers: [
      { name: "app", image },
      { name: "sidecar", image: "repo/proxy:1" },
    ],
  },
});

export function seedCluster(k: FakeK8s): void {
  for (const ns of ["default", "kube-system", "prod", "dev"]) {
    k.add({ apiVersion: "v1", kind: "Namespace", metadata: { name: ns }, status: { phase: "Active" } });
  }
  for (const n of ["worker-1", "worker-2"]) {
    k.add({
      apiVersion: "v1",
      kind: "Node",
      metadata: { name: n },
      spec: {},
      status: { conditions: [{ type: "Ready", status: "True" }] },
    });
  }
  k.add({
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: {
      name: "web",
      namespace: "prod",
      uid: "uid-web",
      generation: 4,
      annotations: { "deployment.kubernetes.io/revision": "2" },
    },
    spec: { replicas: 3, selector: { matchLabels: { app: "web" } }, template: template("repo/web:1.0") },
    status: {
      observedGeneration: 4,
      replicas: 3,
      updatedReplicas: 3,
      readyReplicas: 3,
      availableReplicas: 3,
    },
  });
  const owner = { apiVersion: "apps/v1", kind: "Deployment", name: "web", uid: "uid-web", controller: true };
  for (const [name, rev, image] of [
    ["web-aaa", "1", "repo/web:0.9"],
    ["web-bbb", "2", "repo/web:1.0"],
  ] as const) {
    const t = template(image);
    t.metadata.labels = { app: "web", "pod-template-hash": name.slice(4) } as { app: string };
    k.add({
      apiVersion: "apps/v1",
      kind: "ReplicaSet",
      metadata: {
        name,
        namespace: "prod",
        uid: `uid-${name}`,
        labels: { app: "web", "pod-template-hash": name.slice(4) },
        annotations: { "deployment.kubernetes.io/revision": rev },
        ownerReferences: [owner],
      },
      spec: { replicas: rev === "2" ? 3 : 0, selector: { matchLabels: { app: "web" } }, template: t },
    });
  }
  const rsOwner = {
    apiVersion: "apps/v1",
    kind: "ReplicaSet",
    name: "web-bbb",
    uid: "uid-web-bbb",
    controller: true,
  };
  for (const [pod, node] of [
    ["web-bbb-x1", "worker-1"],
    ["web-bbb-x2", "worker-1"],
  ] as const) {
    k.add({
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: pod, namespace: "prod", labels: { app: "web" }, ownerReferences: [rsOwner] },
      spec: {
        nodeName: node,
        containers: [{ name: "app", image: "repo/web:1.0" }],
        volumes: [{ name: "cfg", configMap: { name: "app-config" } }],
      },
      status: { phase: "Running", containerStatuses: [{ name: "app", ready: true }] },
    });
  }
  k.add({
    apiVersion: "apps/v1",
    kind: "DaemonSet",
    metadata: { name: "node-exporter", namespace: "kube-system", uid: "uid-ds" },
    spec: {
      selector: { matchLabels: { app: "node-exporter" } },
      template: {
        metadata: { labels: { app: "node-exporter" } },
        spec: { containers: [{ name: "e", image: "exporter:1" }] },
      },
    },
  });
  k.add({
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name: "node-exporter-w1",
      namespace: "kube-system",
      labels: { app: "node-exporter" },
      ownerReferences: [
        { apiVersion: "apps/v1", kind: "DaemonSet", name: "node-exporter", uid: "uid-ds", controller: true },
      ],
    },
    spec: { nodeName: "worker-1", containers: [{ name: "e", image: "exporter:1" }] },
    status: { phase: "Running" },
  });
  k.add({
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: "debug-pod", namespace: "dev", labels: { app: "debug" } },
    spec: { nodeName: "worker-2", containers: [{ name: "shell", image: "busybox:1" }] },
    status: { phase: "Running", containerStatuses: [{ name: "shell", ready: true }] },
  });
  k.add({
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: { name: "app-config", namespace: "prod" },
    data: { LOG_LEVEL: "info", MODE: "fast" },
  });
  k.add({
    apiVersion: "v1",
    kind: "Secret",
    metadata: { name: "db-creds", namespace: "prod" },
    type: "Opaque",
    data: {
      password: Buffer.from(SECRET_VALUE).toString("base64"),
      user: Buffer.from("app").toString("base64"),
    },
  });
  k.add({
    apiVersion: "autoscaling/v2",
    kind: "HorizontalPodAutoscaler",
    metadata: { name: "web-hpa", namespace: "prod" },
    spec: {
      scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: "web" },
      minReplicas: 2,
      maxReplicas: 10,
      metrics: [
        {
          type: "Resource",
          resource: { name: "cpu", target: { type: "Utilization", averageUtilization: 70 } },
        },
        {
          type: "Pods",
          pods: { metric: { name: "rps" }, target: { type: "AverageValue", averageValue: "100" } },
        },
      ],
    },
  });
  k.add({
    apiVersion: "policy/v1",
    kind: "PodDisruptionBudget",
    metadata: { name: "web-pdb", namespace: "prod" },
    spec: { minAvailable: 1, selector: { matchLabels: { app: "web" } } },
    status: { disruptionsAllowed: 5 },
  });
  k.logs.set("prod/web-bbb-x1", `starting\n${LOG_SECRET}\nready\n`);
}

const ACTIONS_DIR = join(import.meta.dirname, "../../../actions");

/** The shipped action definition (only the fields the executors read). */
export function actionDef(name: string): ActionDef {
  const y = parse(readFileSync(join(ACTIONS_DIR, `${name}.yaml`), "utf8")) as Record<string, unknown>;
  const params = (y["parameters"] ?? []) as Array<Record<string, unknown>>;
  return {
    name,
    version: String(y["version"]),
    description: "",
    parameters: params.map((p) => ({
      name: String(p["name"]),
      type: p["type"] as ActionDef["parameters"][number]["type"],
      required: p["required"] === true,
      description: "",
      default: (p["default"] ?? null) as never,
      sensitive: p["sensitive"] === true,
      constraints: p["constraints"]
        ? {
            min_value: null,
            max_value: null,
            min_length: null,
            max_length: null,
            pattern: null,
            enum: null,
            ...(p["constraints"] as object),
          }
        : null,
    })),
    risk_class: y["risk_class"] as ActionDef["risk_class"],
    target_types: (y["target_types"] ?? []) as string[],
    prechecks: ((y["prechecks"] ?? []) as Array<Record<string, unknown>>).map((p) => ({
      name: String(p["name"]),
      description: "",
      enforce: p["enforce"] === true,
    })),
    reversible: y["reversible"] === true,
    rollback_action: (y["rollback_action"] ?? null) as string | null,
    required_privileges: [],
    tags: [],
    credentials: null,
    state_fields: ((y["state_fields"] ?? []) as Array<Record<string, unknown>>).map((f) => ({
      name: String(f["name"]),
      description: "",
      type: String(f["type"]),
      required: f["required"] === true,
    })),
    rollback_params: (y["rollback_params"] ?? {}) as Record<string, { source: string }>,
  };
}

export function target(id: string, type: string, labels: Record<string, string>): Target {
  return { id, type, environment: "dev", sensitivity: "internal", owner: "t", labels };
}

export function context(
  action: string,
  params: Record<string, unknown>,
  extra: Partial<ExecutionContext> = {},
): ExecutionContext {
  return {
    action: actionDef(action),
    target: null,
    targetId: "t",
    params,
    credential: null,
    timeoutMs: 30_000,
    ...extra,
  };
}
