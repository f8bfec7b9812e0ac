/**
 * drain-node through the API, as `kubectl drain --delete-emptydir-data` does: cordon, list the node's
 * pods, refuse (before evicting anything) when a pod cannot be evicted safely, then evict each pod
 * through the Eviction API (policy/v1), which enforces PodDisruptionBudgets: a 429 is retried until
 * the deadline, after which the drain fails. Finally wait until the evicted pods are gone.
 */
import type { K8sParams } from "./actions.js";
import { type Api, CT, call } from "./client.js";
import { errorMessage, K8sApiError } from "./errors.js";
import { arr, at, type K8sObject, obj, str } from "./resources.js";

export interface DrainOutcome {
  ok: boolean;
  message: string;
  evicted: string[];
  ignored: string[];
}

const RETRY_MS = 1000;

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    signal.addEventListener(
      "abort",
      () => {
        clearTimeout(t);
        resolve();
      },
      { once: true },
    );
  });
}

const id = (p: K8sObject) =>
  `${str(at(p, "metadata", "namespace")) ?? ""}/${str(at(p, "metadata", "name")) ?? ""}`;

function controller(p: K8sObject): Record<string, unknown> | undefined {
  return arr(at(p, "metadata", "ownerReferences"))
    .map(obj)
    .find((r) => r["controller"] === true);
}

export async function drainNode(
  api: Api,
  p: K8sParams,
  deadline: number,
  outer?: AbortSignal,
): Promise<DrainOutcome> {
  const signal = () =>
    AbortSignal.any([AbortSignal.timeout(Math.max(1, deadline - Date.now())), ...(outer ? [outer] : [])]);
  const evicted: string[] = [];
  const ignored: string[] = [];
  const out = (ok: boolean, message: string): DrainOutcome => ({ ok, message, evicted, ignored });

  await call(api, (o) => api.core.patchNode({ name: p.node, body: { spec: { unschedulable: true } } }, o), {
    signal: signal(),
    contentType: CT.strategic,
  });
  const list = obj(
    await call(
      api,
      (o) => api.core.listPodForAllNamespaces({ fieldSelector: `spec.nodeName=${p.node}` }, o),
      { signal: signal() },
    ),
  );
  const pods = arr(list["items"]).map(obj);
  const toEvict: K8sObject[] = [];
  const daemonSet: string[] = [];
  const unmanaged: string[] = [];
  for (const pod of pods) {
    if (str(at(pod, "metadata", "annotations", "kubernetes.io/config.mirror")) !== undefined) {
      ignored.push(`${id(pod)} (mirror pod)`);
      continue;
    }
    const phase = str(at(pod, "status", "phase"));
    const owner = controller(pod);
    if (owner?.["kind"] === "DaemonSet") {
      daemonSet.push(id(pod));
      continue;
    }
    if (!owner && phase !== "Succeeded" && phase !== "Failed") {
      unmanaged.push(id(pod));
      continue;
    }
    toEvict.push(pod);
  }
  const refusals: string[] = [];
  if (unmanaged.length > 0)
    refusals.push(`cannot delete pods that declare no controller: ${unmanaged.join(", ")}`);
  if (daemonSet.length > 0 && !p.ignoreDaemonsets)
    refusals.push(`cannot delete DaemonSet-managed pods: ${daemonSet.join(", ")}`);
  if (refusals.length > 0)
    return out(false, `node ${p.node} cordoned, nothing evicted: ${refusals.join("; ")}`);
  for (const d of daemonSet) ignored.push(`${d} (DaemonSet)`);

  const evictOne = async (pod: K8sObject): Promise<string | null> => {
    const name = str(at(pod, "metadata", "name")) ?? "";
    const namespace = str(at(pod, "metadata", "namespace")) ?? "";
    const body = { apiVersion: "policy/v1", kind: "Eviction", metadata: { name, namespace } };
    let last = "";
    for (;;) {
      if (Date.now() >= deadline)
        return `${namespace}/${name}: not evicted before the deadline (${last || "no answer"})`;
      try {
        await call(api, (o) => api.core.createNamespacedPodEviction({ name, namespace, body }, o), {
          signal: signal(),
        });
        evicted.push(`${namespace}/${name}`);
        return null;
      } catch (e) {
        if (e instanceof K8sApiError && e.status === 404) return null;
        if (e instanceof K8sApiError && e.status === 429) {
          last = `eviction refused by a PodDisruptionBudget: ${e.message}`;
          await sleep(Math.min(RETRY_MS, Math.max(0, deadline - Date.now())), signal());
          continue;
        }
        if (outer?.aborted) return `${namespace}/${name}: cancelled`;
        if (Date.now() >= deadline)
          return `${namespace}/${name}: not evicted before the deadline (${last || errorMessage(e)})`;
        return `${namespace}/${name}: ${errorMessage(e)}`;
      }
    }
  };
  const failures = (await Promise.all(toEvict.map(evictOne))).filter((x): x is string => x !== null);
  if (failures.length > 0) {
    return out(
      false,
      `drain of node ${p.node} failed (the node stays cordoned; uncordon-node undoes that): ${failures.join("; ")}`,
    );
  }

  // Wait for the evicted pods to be gone (deleted, or replaced by a pod with another uid).
  for (const pod of toEvict) {
    const name = str(at(pod, "metadata", "name")) ?? "";
    const namespace = str(at(pod, "metadata", "namespace")) ?? "";
    const uid = str(at(pod, "metadata", "uid"));
    for (;;) {
      try {
        const cur = obj(
          await call(api, (o) => api.core.readNamespacedPod({ name, namespace }, o), { signal: signal() }),
        );
        if (str(at(cur, "metadata", "uid")) !== uid) break;
      } catch (e) {
        if (e instanceof K8sApiError && e.status === 404) break;
        throw e;
      }
      if (Date.now() >= deadline)
        return out(
          false,
          `drain of node ${p.node} failed: pod ${namespace}/${name} still terminating at the deadline`,
        );
      await sleep(Math.min(500, Math.max(0, deadline - Date.now())), signal());
    }
  }
  return out(
    true,
    `node/${p.node} drained: ${evicted.length} pod(s) evicted${ignored.length ? `, ignored ${ignored.join(", ")}` : ""}`,
  );
}
