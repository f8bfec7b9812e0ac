/** Patch semantics for the fake API server: JSON merge patch, strategic merge patch (enough of it), JSON patch. */

type J = unknown;
type O = Record<string, unknown>;

const isObj = (v: J): v is O => v !== null && typeof v === "object" && !Array.isArray(v);

/** RFC 7386. */
export function mergePatch(target: J, patch: J): J {
  if (!isObj(patch)) return structuredClone(patch);
  const out: O = isObj(target) ? structuredClone(target) : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

/** Merge keys of the lists our tests patch strategically (from the Kubernetes types). */
const MERGE_KEYS: Record<string, string> = {
  containers: "name",
  initContainers: "name",
  ephemeralContainers: "name",
  volumes: "name",
  env: "name",
  volumeMounts: "mountPath",
  ports: "containerPort",
  imagePullSecrets: "name",
  tolerations: "key",
  conditions: "type",
  ownerReferences: "uid",
  taints: "key",
};

/** Strategic merge patch: merge patch plus merge-by-key lists and the `$patch` / `$setElementOrder` directives. */
export function strategicMergePatch(target: J, patch: J, key = ""): J {
  if (Array.isArray(patch)) {
    const mk = MERGE_KEYS[key];
    if (!mk || !Array.isArray(target))
      return structuredClone(patch.filter((p) => !(isObj(p) && p["$patch"])));
    const out = structuredClone(target) as J[];
    for (const item of patch) {
      if (!isObj(item)) {
        out.push(structuredClone(item));
        continue;
      }
      const idx = out.findIndex((t) => isObj(t) && t[mk] === item[mk]);
      if (item["$patch"] === "delete") {
        if (idx >= 0) out.splice(idx, 1);
      } else if (idx >= 0) out[idx] = strategicMergePatch(out[idx], item);
      else out.push(strategicMergePatch({}, item));
    }
    return out;
  }
  if (!isObj(patch)) return structuredClone(patch);
  if (patch["$patch"] === "replace") {
    const { $patch: _, ...rest } = patch;
    return structuredClone(rest);
  }
  if (patch["$patch"] === "delete") return undefined;
  const out: O = isObj(target) ? structuredClone(target) : {};
  for (const [k, v] of Object.entries(patch)) {
    if (k.startsWith("$setElementOrder/") || k === "$retainKeys" || k.startsWith("$deleteFromPrimitiveList/"))
      continue;
    if (v === null) delete out[k];
    else {
      const merged = strategicMergePatch(out[k], v, k);
      if (merged === undefined) delete out[k];
      else out[k] = merged;
    }
  }
  return out;
}

function pointer(path: string): string[] {
  if (path === "") return [];
  if (!path.startsWith("/")) throw new Error(`bad JSON pointer ${path}`);
  return path
    .slice(1)
    .split("/")
    .map((s) => s.replaceAll("~1", "/").replaceAll("~0", "~"));
}

function parentOf(doc: J, parts: string[]): [J, string] {
  let cur = doc;
  for (const p of parts.slice(0, -1)) {
    if (Array.isArray(cur)) cur = cur[Number(p)];
    else if (isObj(cur)) cur = cur[p];
    else throw new Error("path not found");
    if (cur === undefined) throw new Error("path not found");
  }
  return [cur, parts[parts.length - 1] ?? ""];
}

function getAt(doc: J, parts: string[]): J {
  let cur = doc;
  for (const p of parts) {
    if (Array.isArray(cur)) cur = cur[Number(p)];
    else if (isObj(cur)) cur = cur[p];
    else return undefined;
  }
  return cur;
}

export class TestFailed extends Error {}

/** RFC 6902. A failed `test` throws TestFailed (the API answers 422/409 — we use 422 like the apiserver). */
export function jsonPatch(doc: J, ops: J): J {
  if (!Array.isArray(ops)) throw new Error("JSON patch must be an array");
  let out = structuredClone(doc);
  for (const raw of ops) {
    if (!isObj(raw)) throw new Error("bad op");
    const op = raw["op"];
    const parts = pointer(String(raw["path"]));
    if (op === "test") {
      if (JSON.stringify(getAt(out, parts)) !== JSON.stringify(raw["value"])) {
        throw new TestFailed(`the test operation at ${String(raw["path"])} failed`);
      }
      continue;
    }
    if (parts.length === 0) {
      if (op === "add" || op === "replace") out = structuredClone(raw["value"]);
      continue;
    }
    const [parent, last] = parentOf(out, parts);
    const value =
      op === "copy" || op === "move"
        ? structuredClone(getAt(out, pointer(String(raw["from"]))))
        : structuredClone(raw["value"]);
    if (op === "move") {
      const from = pointer(String(raw["from"]));
      const [fp, fl] = parentOf(out, from);
      if (Array.isArray(fp)) fp.splice(Number(fl), 1);
      else if (isObj(fp)) delete fp[fl];
    }
    if (op === "remove") {
      if (Array.isArray(parent)) parent.splice(Number(last), 1);
      else if (isObj(parent)) {
        if (!(last in parent)) throw new Error(`remove: ${String(raw["path"])} not found`);
        delete parent[last];
      }
    } else if (op === "add" || op === "copy" || op === "move") {
      if (Array.isArray(parent)) parent.splice(last === "-" ? parent.length : Number(last), 0, value);
      else if (isObj(parent)) parent[last] = value;
    } else if (op === "replace") {
      if (Array.isArray(parent)) parent[Number(last)] = value;
      else if (isObj(parent)) {
        if (!(last in parent)) throw new Error(`replace: ${String(raw["path"])} not found`);
        parent[last] = value;
      }
    } else throw new Error(`unknown op ${String(op)}`);
  }
  return out;
}
