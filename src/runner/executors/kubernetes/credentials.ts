/**
 * Turning a resolved credential into a kubeconfig, for both executors. A credential payload carries
 * one of:
 *   - `kubeconfig`: a path to an existing file, or the kubeconfig itself (YAML/JSON text or an object);
 *   - `token` + `server` (+ `certificate_authority_data` base64 PEM, or `ca` PEM text, or
 *     `insecure_skip_tls_verify: true`): a bearer token, written into a kubeconfig, never put on argv;
 * plus an optional `context` (for a kubeconfig with several) and `namespace` (ignored: the namespace
 * always comes from the validated parameters). Secret kubeconfigs go to a 0600 file in a 0700
 * temporary directory that is removed after the call.
 */
import { existsSync, statSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CredentialError } from "./errors.js";

export interface ExecutorKubeDefaults {
  /** The executor's own kubeconfig file, used when the action has no credential. */
  kubeconfig?: string;
  context?: string;
}

export type KubeconfigSource =
  | { kind: "path"; path: string; context: string | undefined }
  | { kind: "content"; content: string; context: string | undefined }
  | { kind: "default"; context: string | undefined };

function checkContextName(v: unknown): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (
    typeof v !== "string" ||
    v === "" ||
    v.startsWith("-") ||
    /[\s\u0000-\u001f]/.test(v) ||
    v.length > 253
  ) {
    throw new CredentialError("credential 'context' is not a valid kubeconfig context name");
  }
  return v;
}

function tokenKubeconfig(payload: Record<string, unknown>): string {
  const server = payload["server"] ?? payload["host"];
  if (typeof server !== "string" || !/^https?:\/\/[^\s/]+(\/[^\s]*)?$/.test(server)) {
    throw new CredentialError("credential has a token but no valid 'server' URL (https://host:port)");
  }
  const token = payload["token"];
  if (typeof token !== "string" || token === "" || /[\s]/.test(token)) {
    throw new CredentialError("credential 'token' must be a non-empty string without whitespace");
  }
  const cluster: Record<string, unknown> = { server };
  const caData = payload["certificate_authority_data"];
  const caPem = payload["ca"];
  if (typeof caData === "string") cluster["certificate-authority-data"] = caData;
  else if (typeof caPem === "string")
    cluster["certificate-authority-data"] = Buffer.from(caPem).toString("base64");
  if (payload["insecure_skip_tls_verify"] === true) cluster["insecure-skip-tls-verify"] = true;
  return JSON.stringify({
    apiVersion: "v1",
    kind: "Config",
    clusters: [{ name: "agent-safe", cluster }],
    users: [{ name: "agent-safe", user: { token } }],
    contexts: [{ name: "agent-safe", context: { cluster: "agent-safe", user: "agent-safe" } }],
    "current-context": "agent-safe",
  });
}

/** Where the kubeconfig for this call comes from. Throws CredentialError for an unusable payload. */
export function kubeconfigSource(
  credential: { type: string; payload: Record<string, unknown> } | null,
  defaults: ExecutorKubeDefaults,
): KubeconfigSource {
  if (credential === null) {
    const context = checkContextName(defaults.context);
    return defaults.kubeconfig
      ? { kind: "path", path: defaults.kubeconfig, context }
      : { kind: "default", context };
  }
  const payload = credential.payload;
  const context = checkContextName(payload["context"] ?? defaults.context);
  const kc = payload["kubeconfig"];
  if (typeof kc === "string" && kc !== "") {
    if (!kc.includes("\n") && kc.length < 4096 && existsSync(kc) && statSync(kc).isFile()) {
      return { kind: "path", path: kc, context };
    }
    if (!/\bclusters\b/.test(kc))
      throw new CredentialError("credential 'kubeconfig' is neither an existing file nor a kubeconfig");
    return { kind: "content", content: kc, context };
  }
  if (kc !== null && typeof kc === "object") return { kind: "content", content: JSON.stringify(kc), context };
  if (payload["token"] !== undefined) {
    return {
      kind: "content",
      content: tokenKubeconfig(payload),
      context: checkContextName(payload["context"]),
    };
  }
  throw new CredentialError(
    `credential of type '${credential.type}' has neither 'kubeconfig' nor 'token' + 'server'`,
  );
}

export interface KubeconfigFile {
  /** null: kubectl's own default (KUBECONFIG or ~/.kube/config). */
  path: string | null;
  context: string | undefined;
  cleanup(): Promise<void>;
}

/** Materialises a source as a file for kubectl: content goes to a 0600 temp file removed by cleanup(). */
export async function kubeconfigFile(src: KubeconfigSource): Promise<KubeconfigFile> {
  if (src.kind === "path") return { path: src.path, context: src.context, cleanup: async () => {} };
  if (src.kind === "default") return { path: null, context: src.context, cleanup: async () => {} };
  const dir = await mkdtemp(join(tmpdir(), "agent-safe-kube-"));
  const path = join(dir, "kubeconfig");
  try {
    await writeFile(path, src.content, { mode: 0o600, flag: "wx" });
  } catch (e) {
    await rm(dir, { recursive: true, force: true });
    throw e;
  }
  return { path, context: src.context, cleanup: () => rm(dir, { recursive: true, force: true }) };
}
