/** The resources the fake API server serves, and its discovery documents (legacy, non-aggregated). */
type O = Record<string, unknown>;

function status(code: number, reason: string, message: string): O {
  return { kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", message, reason, code };
}

export interface ResDef {
  group: string;
  version: string;
  plural: string;
  kind: string;
  namespaced: boolean;
  shortNames?: string[];
  subresources?: Array<{ name: string; kind: string; verbs: string[]; group?: string; version?: string }>;
}

const VERBS = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"];
export const RES: ResDef[] = [
  {
    group: "",
    version: "v1",
    plural: "namespaces",
    kind: "Namespace",
    namespaced: false,
    shortNames: ["ns"],
  },
  { group: "", version: "v1", plural: "nodes", kind: "Node", namespaced: false, shortNames: ["no"] },
  {
    group: "",
    version: "v1",
    plural: "pods",
    kind: "Pod",
    namespaced: true,
    shortNames: ["po"],
    subresources: [
      { name: "log", kind: "Pod", verbs: ["get"] },
      { name: "eviction", kind: "Eviction", verbs: ["create"], group: "policy", version: "v1" },
      { name: "exec", kind: "PodExecOptions", verbs: ["create", "get"] },
      { name: "portforward", kind: "PodPortForwardOptions", verbs: ["create", "get"] },
      { name: "status", kind: "Pod", verbs: ["get", "patch", "update"] },
    ],
  },
  { group: "", version: "v1", plural: "configmaps", kind: "ConfigMap", namespaced: true, shortNames: ["cm"] },
  { group: "", version: "v1", plural: "secrets", kind: "Secret", namespaced: true },
  {
    group: "apps",
    version: "v1",
    plural: "deployments",
    kind: "Deployment",
    namespaced: true,
    shortNames: ["deploy"],
    subresources: [
      {
        name: "scale",
        kind: "Scale",
        verbs: ["get", "patch", "update"],
        group: "autoscaling",
        version: "v1",
      },
      { name: "status", kind: "Deployment", verbs: ["get", "patch", "update"] },
    ],
  },
  {
    group: "apps",
    version: "v1",
    plural: "replicasets",
    kind: "ReplicaSet",
    namespaced: true,
    shortNames: ["rs"],
  },
  {
    group: "apps",
    version: "v1",
    plural: "daemonsets",
    kind: "DaemonSet",
    namespaced: true,
    shortNames: ["ds"],
  },
  ...["v2", "v1"].map((version) => ({
    group: "autoscaling",
    version,
    plural: "horizontalpodautoscalers",
    kind: "HorizontalPodAutoscaler",
    namespaced: true,
    shortNames: ["hpa"],
  })),
  {
    group: "networking.k8s.io",
    version: "v1",
    plural: "networkpolicies",
    kind: "NetworkPolicy",
    namespaced: true,
    shortNames: ["netpol"],
  },
  {
    group: "policy",
    version: "v1",
    plural: "poddisruptionbudgets",
    kind: "PodDisruptionBudget",
    namespaced: true,
    shortNames: ["pdb"],
  },
];
const GROUPS = ["apps", "autoscaling", "networking.k8s.io", "policy"];

export function discovery(path: string, port: number): [number, unknown] | null {
  if (path === "/version") {
    return [200, { major: "1", minor: "32", gitVersion: "v1.32.0-fake", platform: "linux/amd64" }];
  }
  if (path === "/api") {
    return [
      200,
      {
        kind: "APIVersions",
        versions: ["v1"],
        serverAddressByClientCIDRs: [{ clientCIDR: "0.0.0.0/0", serverAddress: `127.0.0.1:${port}` }],
      },
    ];
  }
  if (path === "/apis") {
    return [
      200,
      {
        kind: "APIGroupList",
        apiVersion: "v1",
        groups: GROUPS.map((g) => {
          const versions = [...new Set(RES.filter((r) => r.group === g).map((r) => r.version))];
          const gvs = versions.map((v) => ({ groupVersion: `${g}/${v}`, version: v }));
          return { name: g, versions: gvs, preferredVersion: gvs[0] };
        }),
      },
    ];
  }
  const m = /^\/(?:api\/(v1)|apis\/([^/]+)\/([^/]+))$/.exec(path);
  if (!m) return null;
  const group = m[2] ?? "";
  const version = m[1] ?? m[3] ?? "";
  const defs = RES.filter((r) => r.group === group && r.version === version);
  if (defs.length === 0)
    return [404, status(404, "NotFound", "the server could not find the requested resource")];
  const resources: O[] = [];
  for (const d of defs) {
    resources.push({
      name: d.plural,
      singularName: d.kind.toLowerCase(),
      namespaced: d.namespaced,
      kind: d.kind,
      verbs: VERBS,
      ...(d.shortNames ? { shortNames: d.shortNames } : {}),
    });
    for (const s of d.subresources ?? []) {
      resources.push({
        name: `${d.plural}/${s.name}`,
        singularName: "",
        namespaced: d.namespaced,
        kind: s.kind,
        verbs: s.verbs,
        ...(s.group ? { group: s.group, version: s.version } : {}),
      });
    }
  }
  return [
    200,
    {
      kind: "APIResourceList",
      apiVersion: "v1",
      groupVersion: group ? `${group}/${version}` : version,
      resources,
    },
  ];
}
