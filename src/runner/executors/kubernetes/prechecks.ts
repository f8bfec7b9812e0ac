/**
 * The prechecks the catalogue declares for the Kubernetes actions, evaluated against the live cluster
 * through a ClusterReader (kubectl or the API). `enforced` comes from the action definition; an
 * unknown precheck name or a precheck that cannot be evaluated fails (closed), which only stops the
 * run when the action enforces it.
 */
import { createServer } from "node:net";
import type { Target } from "../../../core/types.js";
import type { PrecheckResult } from "../types.js";
import type { K8sAction, K8sParams } from "./actions.js";
import { errorMessage } from "./errors.js";
import {
  arr,
  at,
  type ClusterReader,
  type K8sObject,
  labelsOf,
  nameOf,
  num,
  obj,
  type ResourceRef,
  str,
} from "./resources.js";
import { selectorMatches } from "./validate.js";

export const SYSTEM_NAMESPACES = ["kube-system", "kube-public", "kube-node-lease", "default"];

interface Outcome {
  passed: boolean;
  message: string;
}
const ok = (message: string): Outcome => ({ passed: true, message });
const fail = (message: string): Outcome => ({ passed: false, message });

interface Ctx {
  action: K8sAction;
  p: K8sParams;
  target: Target | null;
  targetId: string;
  reader: ClusterReader;
}

async function exists(c: Ctx, ref: ResourceRef, what: string): Promise<Outcome> {
  const o = await c.reader.get(ref);
  return o ? ok(`${what} exists`) : fail(`${what} not found`);
}

function ownerOf(o: K8sObject, kind: string): string | undefined {
  for (const r of arr(at(o, "metadata", "ownerReferences"))) {
    if (obj(r)["kind"] === kind && obj(r)["controller"] === true) return str(obj(r)["name"]);
  }
  return undefined;
}

function nodeReady(n: K8sObject): boolean {
  return arr(at(n, "status", "conditions")).some(
    (c) => obj(c)["type"] === "Ready" && obj(c)["status"] === "True",
  );
}

/** The target's own name for a resource: its label (which binds the param) or the id's last segment. */
function targetName(t: Target | null, targetId: string, label: string): string {
  return t?.labels[label] ?? targetId.split("/").pop() ?? targetId;
}

async function podInTarget(c: Ctx): Promise<Outcome> {
  const t = c.target;
  if (t === null)
    return fail(`target '${c.targetId}' is not in the inventory: cannot prove pod ${c.p.pod} belongs to it`);
  const tns = t.labels["namespace"];
  if (tns !== undefined && tns !== c.p.namespace) {
    return fail(`pod namespace ${c.p.namespace} is not the target's namespace ${tns}`);
  }
  if (t.type === "k8s-pod") {
    const want = targetName(t, c.targetId, "pod");
    return want === c.p.pod
      ? ok(`pod ${c.p.pod} is the target`)
      : fail(`pod ${c.p.pod} is not the target pod ${want}`);
  }
  if (t.type === "k8s-deployment") {
    const want = targetName(t, c.targetId, "deployment");
    const pod = await c.reader.get({ kind: "pods", namespace: c.p.namespace, name: c.p.pod });
    if (!pod) return fail(`pod ${c.p.namespace}/${c.p.pod} not found`);
    const rsName = ownerOf(pod, "ReplicaSet");
    if (rsName === undefined) return fail(`pod ${c.p.pod} is not owned by a ReplicaSet`);
    const rs = await c.reader.get({ kind: "replicasets", namespace: c.p.namespace, name: rsName });
    const dep = rs ? ownerOf(rs, "Deployment") : undefined;
    return dep === want
      ? ok(`pod ${c.p.pod} belongs to deployment ${want} (through ReplicaSet ${rsName})`)
      : fail(
          `pod ${c.p.pod} does not belong to deployment ${want} (its ReplicaSet ${rsName} is owned by ${dep ?? "nothing"})`,
        );
  }
  return fail(`target type ${t.type} cannot own a pod`);
}

async function podRunning(c: Ctx, needReady: boolean): Promise<Outcome> {
  const pod = await c.reader.get({ kind: "pods", namespace: c.p.namespace, name: c.p.pod });
  if (!pod) return fail(`pod ${c.p.namespace}/${c.p.pod} not found`);
  const phase = str(at(pod, "status", "phase")) ?? "Unknown";
  if (phase !== "Running") return fail(`pod ${c.p.pod} is ${phase}, not Running`);
  if (!needReady) return ok(`pod ${c.p.pod} is Running`);
  const statuses = arr(at(pod, "status", "containerStatuses")).map(obj);
  const container = c.p.container ?? str(obj(arr(at(pod, "spec", "containers"))[0])["name"]);
  const st = statuses.find((s) => s["name"] === container);
  if (!st) return fail(`container ${container ?? "?"} not found in pod ${c.p.pod}`);
  return st["ready"] === true
    ? ok(`pod ${c.p.pod} is Running and ${container} is ready`)
    : fail(`container ${container} is not ready`);
}

async function otherSchedulableNodes(c: Ctx): Promise<Outcome> {
  const nodes = await c.reader.list({ kind: "nodes" });
  const others = nodes.filter(
    (n) => nameOf(n) !== c.p.node && at(n, "spec", "unschedulable") !== true && nodeReady(n),
  );
  return others.length > 0
    ? ok(`${others.length} other schedulable Ready node(s): ${others.map(nameOf).slice(0, 10).join(", ")}`)
    : fail("no other schedulable Ready node: pods would stay Pending");
}

async function disruptionBudgets(c: Ctx): Promise<Outcome> {
  const pods = await c.reader.list({ kind: "pods", fieldSelector: `spec.nodeName=${c.p.node}` });
  const pdbs = await c.reader.list({ kind: "poddisruptionbudgets" });
  const blocking: string[] = [];
  for (const pdb of pdbs) {
    const ns = str(at(pdb, "metadata", "namespace"));
    const sel = obj(at(pdb, "spec", "selector")) as Parameters<typeof selectorMatches>[0];
    const hit = pods.filter(
      (p) => str(at(p, "metadata", "namespace")) === ns && selectorMatches(sel, labelsOf(p)),
    );
    const allowed = num(at(pdb, "status", "disruptionsAllowed")) ?? 0;
    if (hit.length > allowed)
      blocking.push(`${ns}/${nameOf(pdb)} (allows ${allowed}, ${hit.length} pod(s) on the node)`);
  }
  return blocking.length === 0
    ? ok(`no PodDisruptionBudget blocks the ${pods.length} pod(s) on ${c.p.node}`)
    : fail(`evictions would be refused by: ${blocking.join(", ")}`);
}

/** Whether a pod mounts or reads a ConfigMap (volumes, projected volumes, env, envFrom). */
function referencesConfigMap(pod: K8sObject, name: string): boolean {
  const spec = obj(pod["spec"]);
  for (const v of arr(spec["volumes"]).map(obj)) {
    if (at(v, "configMap", "name") === name) return true;
    if (arr(at(v, "projected", "sources")).some((s) => at(s, "configMap", "name") === name)) return true;
  }
  const containers = [...arr(spec["containers"]), ...arr(spec["initContainers"])].map(obj);
  for (const c of containers) {
    if (arr(c["envFrom"]).some((e) => at(e, "configMapRef", "name") === name)) return true;
    if (arr(c["env"]).some((e) => at(e, "valueFrom", "configMapKeyRef", "name") === name)) return true;
  }
  return false;
}

const SHELLS = new Set([
  "sh",
  "bash",
  "zsh",
  "ash",
  "dash",
  "ksh",
  "busybox",
  "python",
  "python3",
  "perl",
  "node",
]);
const PKG = new Set(["apt", "apt-get", "apk", "yum", "dnf", "pip", "pip3", "npm", "gem"]);
const NET = new Set(["curl", "wget", "nc", "ncat", "netcat", "socat", "ssh", "scp", "telnet", "nmap"]);

function commandReview(cmd: string[]): Outcome {
  const flags: string[] = [];
  for (const a of cmd) {
    const base = a.split("/").pop() ?? a;
    if (SHELLS.has(base)) flags.push(`shell/interpreter '${base}'`);
    if (PKG.has(base)) flags.push(`package manager '${base}'`);
    if (NET.has(base)) flags.push(`network tool '${base}'`);
  }
  return flags.length === 0
    ? ok(`command: ${JSON.stringify(cmd)}`)
    : fail(`review: ${flags.join(", ")} in ${JSON.stringify(cmd)}`);
}

function localPortFree(port: number): Promise<Outcome> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once("error", (e) => resolve(fail(`local port ${port} is not free: ${errorMessage(e)}`)));
    srv.listen(port, "127.0.0.1", () => srv.close(() => resolve(ok(`local port ${port} is free`))));
  });
}

async function revisionExists(c: Ctx): Promise<Outcome> {
  const dep = await c.reader.get({ kind: "deployments", namespace: c.p.namespace, name: c.p.deployment });
  if (!dep) return fail(`deployment ${c.p.namespace}/${c.p.deployment} not found`);
  const uid = str(at(dep, "metadata", "uid"));
  const rss = await c.reader.list({ kind: "replicasets", namespace: c.p.namespace });
  const revs = rss
    .filter((rs) => arr(at(rs, "metadata", "ownerReferences")).some((r) => obj(r)["uid"] === uid))
    .map((rs) =>
      Number(str(at(rs, "metadata", "annotations", "deployment.kubernetes.io/revision")) ?? Number.NaN),
    )
    .filter(Number.isFinite)
    .sort((a, b) => a - b);
  if (c.p.revision !== undefined) {
    return revs.includes(c.p.revision)
      ? ok(`revision ${c.p.revision} is in the history (${revs.join(", ")})`)
      : fail(`revision ${c.p.revision} is not in the history (${revs.join(", ") || "empty"})`);
  }
  return revs.length >= 2
    ? ok(`previous revision ${revs[revs.length - 2]} is in the history`)
    : fail("no previous revision in the history");
}

async function evaluate(name: string, c: Ctx): Promise<Outcome> {
  const { p, reader } = c;
  const ns = p.namespace;
  switch (name) {
    case "namespace-exists":
      return exists(c, { kind: "namespaces", name: ns }, `namespace ${ns}`);
    case "namespace-absent":
      return (await reader.get({ kind: "namespaces", name: ns }))
        ? fail(`namespace ${ns} already exists`)
        : ok(`namespace ${ns} does not exist yet`);
    case "not-system-namespace":
      return SYSTEM_NAMESPACES.includes(ns)
        ? fail(`${ns} is a system namespace`)
        : ok(`${ns} is not a system namespace`);
    case "list-contents": {
      const counts: string[] = [];
      for (const kind of ["deployments", "pods", "configmaps"] as const) {
        counts.push(`${(await reader.list({ kind, namespace: ns })).length} ${kind}`);
      }
      return ok(`namespace ${ns} holds ${counts.join(", ")}`);
    }
    case "node-exists":
      return exists(c, { kind: "nodes", name: p.node }, `node ${p.node}`);
    case "node-ready": {
      const n = await reader.get({ kind: "nodes", name: p.node });
      if (!n) return fail(`node ${p.node} not found`);
      return nodeReady(n) ? ok(`node ${p.node} is Ready`) : fail(`node ${p.node} is not Ready`);
    }
    case "spare-capacity":
    case "room-elsewhere":
      return otherSchedulableNodes(c);
    case "disruption-budgets":
      return disruptionBudgets(c);
    case "pod-exists":
      return exists(c, { kind: "pods", namespace: ns, name: p.pod }, `pod ${ns}/${p.pod}`);
    case "pod-in-target":
      return podInTarget(c);
    case "pod-running":
      return podRunning(c, c.action === "exec-pod");
    case "has-controller": {
      const pod = await reader.get({ kind: "pods", namespace: ns, name: p.pod });
      if (!pod) return fail(`pod ${ns}/${p.pod} not found`);
      const owner = arr(at(pod, "metadata", "ownerReferences"))
        .map(obj)
        .find((r) => r["controller"] === true);
      return owner
        ? ok(`owned by ${String(owner["kind"])} ${String(owner["name"])}`)
        : fail("the pod has no controller: it will not come back");
    }
    case "command-review":
      return commandReview(p.command);
    case "local-port-free":
      return localPortFree(p.localPort);
    case "configmap-exists":
      return exists(
        c,
        { kind: "configmaps", namespace: ns, name: p.configmap },
        `configmap ${ns}/${p.configmap}`,
      );
    case "secret-exists":
      return exists(c, { kind: "secrets", namespace: ns, name: p.secret }, `secret ${ns}/${p.secret}`);
    case "list-consumers": {
      const pods = await reader.list({ kind: "pods", namespace: ns });
      const users = pods.filter((pod) => referencesConfigMap(pod, p.configmap)).map(nameOf);
      return ok(
        users.length
          ? `${users.length} pod(s) reference it: ${users.slice(0, 20).join(", ")}`
          : "no pod references it",
      );
    }
    case "deployment-exists":
      return exists(
        c,
        { kind: "deployments", namespace: ns, name: p.deployment },
        `deployment ${ns}/${p.deployment}`,
      );
    case "enough-replicas": {
      const d = await reader.get({ kind: "deployments", namespace: ns, name: p.deployment });
      if (!d) return fail(`deployment ${ns}/${p.deployment} not found`);
      const r = num(at(d, "spec", "replicas")) ?? 1;
      return r > 1 ? ok(`${r} replicas`) : fail(`${r} replica(s): the restart causes downtime`);
    }
    case "container-exists": {
      const d = await reader.get({ kind: "deployments", namespace: ns, name: p.deployment });
      if (!d) return fail(`deployment ${ns}/${p.deployment} not found`);
      const names = arr(at(d, "spec", "template", "spec", "containers")).map((x) => str(obj(x)["name"]));
      return names.includes(p.container)
        ? ok(`container ${p.container} exists`)
        : fail(`no container ${p.container} (has ${names.join(", ")})`);
    }
    case "image-pullable":
      return fail(`not verified: the executor does not contact image registries (${p.image} is well-formed)`);
    case "revision-exists":
      return revisionExists(c);
    case "hpa-present": {
      const hpas = await reader.list({ kind: "horizontalpodautoscalers", namespace: ns });
      const hit = hpas.filter(
        (h) =>
          at(h, "spec", "scaleTargetRef", "kind") === "Deployment" &&
          at(h, "spec", "scaleTargetRef", "name") === p.deployment,
      );
      return hit.length
        ? fail(`autoscaler ${hit.map(nameOf).join(", ")} targets the deployment and may undo the change`)
        : ok("no autoscaler targets the deployment");
    }
    case "hpa-exists":
      return exists(
        c,
        { kind: "horizontalpodautoscalers", namespace: ns, name: p.hpa },
        `autoscaler ${ns}/${p.hpa}`,
      );
    case "bounds-ordered":
      return p.minReplicas <= p.maxReplicas
        ? ok(`${p.minReplicas} <= ${p.maxReplicas}`)
        : fail(`min_replicas ${p.minReplicas} > max_replicas ${p.maxReplicas}`);
    case "cni-enforces-policies": {
      const ds = await reader.list({ kind: "daemonsets", namespace: "kube-system" });
      const cni = ds.map(nameOf).find((n) => /calico|cilium|antrea|weave|kube-router|canal/.test(n));
      return cni
        ? ok(`policy-enforcing network plugin found: ${cni}`)
        : fail("no known policy-enforcing network plugin found in kube-system: the policy may be inert");
    }
    case "preview-selected-pods": {
      const pods = await reader.list({ kind: "pods", namespace: ns });
      const hit = pods.filter((pod) => selectorMatches(p.podSelector, labelsOf(pod))).map(nameOf);
      return ok(`${hit.length} pod(s) selected today${hit.length ? `: ${hit.slice(0, 20).join(", ")}` : ""}`);
    }
    default:
      return fail(`precheck '${name}' is not implemented by this executor`);
  }
}

export async function runPrechecksWith(
  reader: ClusterReader,
  action: K8sAction,
  p: K8sParams,
  prechecks: ReadonlyArray<{ name: string; enforce: boolean }>,
  target: Target | null,
  targetId: string,
): Promise<PrecheckResult[]> {
  const c: Ctx = { action, p, target, targetId, reader };
  const out: PrecheckResult[] = [];
  for (const pc of prechecks) {
    let o: Outcome;
    try {
      o = await evaluate(pc.name, c);
    } catch (e) {
      o = fail(`could not be evaluated: ${errorMessage(e)}`);
    }
    out.push({ name: pc.name, passed: o.passed, message: o.message, enforced: pc.enforce });
  }
  return out;
}

/** Refused parameters fail every precheck with the refusal: nothing is asked of the cluster. */
export function refusedPrechecks(
  prechecks: ReadonlyArray<{ name: string; enforce: boolean }>,
  refusal: unknown,
): PrecheckResult[] {
  return prechecks.map((pc) => ({
    name: pc.name,
    passed: false,
    message: errorMessage(refusal),
    enforced: pc.enforce,
  }));
}
