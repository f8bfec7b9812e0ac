/**
 * What get-secret and get-pod-logs return instead of their content: sizes and counts, flagged
 * `outputIsSecret`. No digest of the content either: an unkeyed hash of a short secret can be brute
 * forced (the audit layer's keyed HMAC is the place for digests).
 */
import type { K8sParams } from "./actions.js";
import { at, type K8sObject, obj, str } from "./resources.js";

export function secretSummary(secret: K8sObject): string {
  const data = obj(secret["data"]);
  const keys = Object.keys(data).sort();
  let bytes = 0;
  for (const k of keys) {
    const v = data[k];
    if (typeof v === "string") bytes += Buffer.from(v, "base64").length;
  }
  const ns = str(at(secret, "metadata", "namespace")) ?? "";
  const name = str(at(secret, "metadata", "name")) ?? "";
  return `[secret content withheld] Secret ${ns}/${name} (type ${str(secret["type"]) ?? "Opaque"}): ${keys.length} key(s), ${bytes} byte(s) of data`;
}

export function logSummary(body: string, p: K8sParams): string {
  const lines =
    body === "" ? 0 : body.split("\n").filter((l, i, a) => !(i === a.length - 1 && l === "")).length;
  const container = p.container !== undefined ? ` container ${p.container}` : "";
  return `[log content withheld] pod ${p.namespace}/${p.pod}${container}: ${lines} line(s), ${Buffer.byteLength(body)} byte(s) (tail ${p.tailLines})`;
}
