/**
 * Deployment rollouts through the API: `rollout undo` (restore the pod template of an earlier
 * ReplicaSet, as kubectl does) and `rollout status` (kubectl's status message, without watching).
 */
import { arr, at, type K8sObject, num, obj, str } from "./resources.js";

const REVISION = "deployment.kubernetes.io/revision";

export function revisionOf(o: unknown): number | undefined {
  const n = Number.parseInt(str(at(o, "metadata", "annotations", REVISION)) ?? "", 10);
  return Number.isFinite(n) ? n : undefined;
}

export type UndoPlan =
  | { kind: "patch"; revision: number; ops: unknown[] }
  | { kind: "noop"; revision: number }
  | { kind: "error"; message: string };

/** The pod template without the ReplicaSet's own `pod-template-hash` label. */
function cleanTemplate(t: unknown): K8sObject {
  const c = structuredClone(obj(t));
  const labels = obj(at(c, "metadata", "labels"));
  delete labels["pod-template-hash"];
  return c;
}

function canonical(v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) =>
    x !== null && typeof x === "object" && !Array.isArray(x)
      ? Object.fromEntries(
          Object.entries(x as Record<string, unknown>)
            .filter(([, y]) => y !== null)
            .sort(([a], [b]) => (a < b ? -1 : 1)),
        )
      : x,
  );
}

/**
 * Picks the ReplicaSet to return to (the requested revision, or the highest revision below the
 * current one) among the ReplicaSets the deployment controls, and builds the JSON patch that puts
 * its template back, guarded by a `test` of the deployment's resourceVersion.
 */
export function planUndo(dep: K8sObject, replicaSets: K8sObject[], revision: number | undefined): UndoPlan {
  const name = str(at(dep, "metadata", "name")) ?? "";
  if (at(dep, "spec", "paused") === true) {
    return {
      kind: "error",
      message: `you cannot rollback a paused deployment; resume it first (deployment ${name})`,
    };
  }
  const uid = str(at(dep, "metadata", "uid"));
  const owned = replicaSets.filter((rs) =>
    arr(at(rs, "metadata", "ownerReferences")).some(
      (r) => obj(r)["uid"] === uid && obj(r)["controller"] === true,
    ),
  );
  const byRev = new Map<number, K8sObject>();
  for (const rs of owned) {
    const r = revisionOf(rs);
    if (r !== undefined) byRev.set(r, rs);
  }
  const revs = [...byRev.keys()].sort((a, b) => a - b);
  const current = Math.max(revisionOf(dep) ?? 0, revs[revs.length - 1] ?? 0);
  let target: number | undefined;
  if (revision !== undefined) {
    if (!byRev.has(revision))
      return { kind: "error", message: `unable to find specified revision ${revision} in history` };
    target = revision;
  } else {
    target = revs.filter((r) => r < current).pop();
    if (target === undefined)
      return { kind: "error", message: `no rollout history found for deployment "${name}"` };
  }
  const template = cleanTemplate(at(byRev.get(target), "spec", "template"));
  if (canonical(template) === canonical(cleanTemplate(at(dep, "spec", "template")))) {
    return { kind: "noop", revision: target };
  }
  const ops: unknown[] = [];
  const rv = str(at(dep, "metadata", "resourceVersion"));
  if (rv !== undefined) ops.push({ op: "test", path: "/metadata/resourceVersion", value: rv });
  ops.push({ op: "replace", path: "/spec/template", value: template });
  return { kind: "patch", revision: target, ops };
}

/** kubectl's `rollout status --watch=false` message, and whether the rollout is complete. */
export function rolloutStatus(dep: K8sObject): { done: boolean; message: string } {
  const name = str(at(dep, "metadata", "name")) ?? "";
  const gen = num(at(dep, "metadata", "generation")) ?? 0;
  const observed = num(at(dep, "status", "observedGeneration")) ?? 0;
  if (gen > observed) return { done: false, message: "Waiting for deployment spec update to be observed..." };
  const cond = arr(at(dep, "status", "conditions"))
    .map(obj)
    .find((c) => c["type"] === "Progressing");
  if (cond?.["reason"] === "ProgressDeadlineExceeded") {
    return { done: false, message: `deployment "${name}" exceeded its progress deadline` };
  }
  const want = num(at(dep, "spec", "replicas")) ?? 1;
  const updated = num(at(dep, "status", "updatedReplicas")) ?? 0;
  const total = num(at(dep, "status", "replicas")) ?? 0;
  const available = num(at(dep, "status", "availableReplicas")) ?? 0;
  const wait = `Waiting for deployment "${name}" rollout to finish: `;
  if (updated < want)
    return { done: false, message: `${wait}${updated} out of ${want} new replicas have been updated...` };
  if (total > updated)
    return { done: false, message: `${wait}${total - updated} old replicas are pending termination...` };
  if (available < updated)
    return { done: false, message: `${wait}${available} of ${updated} updated replicas are available...` };
  return { done: true, message: `deployment "${name}" successfully rolled out` };
}
