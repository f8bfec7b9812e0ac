/**
 * The @kubernetes/client-node 1.4 layer of the API executor. The library is an optional dependency,
 * imported on first use. Every call goes through `call()`, which attaches a per-call middleware that
 *   - sets the exact Content-Type of a patch (merge / strategic merge / JSON patch): the generated
 *     client would otherwise pick `application/json-patch+json` for every patch;
 *   - sets the call's AbortSignal (deadline and cancellation);
 *   - keeps the raw response text, so state and templates are read as wire JSON, not as the
 *     library's model classes (Dates, dropped unknown fields).
 */
import type * as K8sLib from "@kubernetes/client-node";
import type { KubeconfigSource } from "./credentials.js";
import { errorMessage, K8sApiError, K8sExecutorError } from "./errors.js";
import {
  type ClusterReader,
  type K8sObject,
  type ListRef,
  obj,
  RESOURCES,
  type ResourceRef,
  stripSecretData,
} from "./resources.js";

export type Lib = typeof K8sLib;

export const CT = {
  merge: "application/merge-patch+json",
  strategic: "application/strategic-merge-patch+json",
  json: "application/json-patch+json",
} as const;

let libPromise: Promise<Lib> | undefined;

/** Imports @kubernetes/client-node once; a clear error when it is not installed. */
export function loadLib(): Promise<Lib> {
  libPromise ??= import("@kubernetes/client-node").catch((e: unknown) => {
    libPromise = undefined;
    throw new K8sExecutorError(
      "client_unavailable",
      `@kubernetes/client-node is not installed (optional dependency): ${errorMessage(e)}`,
    );
  });
  return libPromise;
}

export interface Api {
  lib: Lib;
  kc: K8sLib.KubeConfig;
  core: K8sLib.CoreV1Api;
  apps: K8sLib.AppsV1Api;
  autoscaling: K8sLib.AutoscalingV2Api;
  networking: K8sLib.NetworkingV1Api;
  policy: K8sLib.PolicyV1Api;
}

export function makeApi(lib: Lib, src: KubeconfigSource): Api {
  const kc = new lib.KubeConfig();
  if (src.kind === "path") kc.loadFromFile(src.path);
  else if (src.kind === "content") kc.loadFromString(src.content);
  else kc.loadFromDefault();
  if (src.context !== undefined) kc.setCurrentContext(src.context);
  if (!kc.getCurrentCluster())
    throw new K8sExecutorError("credential", "the kubeconfig names no current cluster");
  return {
    lib,
    kc,
    core: kc.makeApiClient(lib.CoreV1Api),
    apps: kc.makeApiClient(lib.AppsV1Api),
    autoscaling: kc.makeApiClient(lib.AutoscalingV2Api),
    networking: kc.makeApiClient(lib.NetworkingV1Api),
    policy: kc.makeApiClient(lib.PolicyV1Api),
  };
}

export interface CallOptions {
  signal: AbortSignal;
  contentType?: string;
}

// The options type the generated ObjectParam API takes.
type Opts = Parameters<K8sLib.CoreV1Api["readNode"]>[1];

/**
 * Runs one generated-client call with our middleware; returns the response body as wire JSON (or
 * text). Non-2xx answers throw K8sApiError with the API's status and message.
 */
export async function call(api: Api, fn: (opts: Opts) => Promise<unknown>, o: CallOptions): Promise<unknown> {
  let raw: string | undefined;
  let status = 0;
  const opts = {
    middleware: [
      {
        // The ObjectParam API takes observable middleware (the library's own minimal Observable).
        pre: (ctx: K8sLib.RequestContext) => {
          if (o.contentType !== undefined) ctx.setHeaderParam("Content-Type", o.contentType);
          ctx.setSignal(o.signal);
          return new api.lib.Observable(Promise.resolve(ctx));
        },
        post: (ctx: K8sLib.ResponseContext) =>
          new api.lib.Observable(
            ctx.body.text().then((text) => {
              status = ctx.httpStatusCode;
              raw = text;
              return new api.lib.ResponseContext(ctx.httpStatusCode, ctx.headers, {
                text: async () => text,
                binary: async () => Buffer.from(text),
              });
            }),
          ),
      },
    ],
    middlewareMergeStrategy: "append",
  } as unknown as Opts;
  try {
    await fn(opts);
  } catch (e) {
    if (o.signal.aborted) throw new K8sApiError(null, "request aborted (deadline reached or cancelled)");
    if (status >= 300 || (e instanceof api.lib.ApiException && e.code >= 300)) {
      const code = status || (e as { code: number }).code;
      throw new K8sApiError(code, `Kubernetes API error (${code}): ${statusMessage(raw) ?? errorMessage(e)}`);
    }
    // A 2xx the generated deserializer could not handle: the raw body is what we use anyway.
    if (raw === undefined) throw new K8sApiError(null, `Kubernetes API request failed: ${errorMessage(e)}`);
  }
  if (raw === undefined || raw === "") return null;
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    return raw;
  }
}

function statusMessage(raw: string | undefined): string | undefined {
  if (raw === undefined) return undefined;
  try {
    const s = JSON.parse(raw) as { message?: unknown; reason?: unknown };
    return typeof s.message === "string"
      ? `${String(s.reason ?? "")} ${s.message}`.trim()
      : raw.slice(0, 500);
  } catch {
    return raw.slice(0, 500);
  }
}

type AnyApi = Record<string, (param: Record<string, unknown>, opts: Opts) => Promise<unknown>>;

function apiFor(api: Api, kind: ResourceRef["kind"]): AnyApi {
  const g = RESOURCES[kind].group;
  const a =
    g === ""
      ? api.core
      : g === "apps"
        ? api.apps
        : g === "autoscaling"
          ? api.autoscaling
          : g === "policy"
            ? api.policy
            : api.networking;
  return a as unknown as AnyApi;
}

function method(a: AnyApi, name: string): (param: Record<string, unknown>, opts: Opts) => Promise<unknown> {
  const f = a[name];
  if (typeof f !== "function") throw new K8sExecutorError("api", `client method ${name} not found`);
  return f.bind(a);
}

/** A ClusterReader over the generated client (GET/LIST, wire JSON, secrets stripped of data). */
export function apiReader(api: Api, signal: () => AbortSignal): ClusterReader {
  return {
    async get(ref: ResourceRef) {
      const r = RESOURCES[ref.kind];
      const m = method(apiFor(api, ref.kind), r.namespaced ? `readNamespaced${r.kind}` : `read${r.kind}`);
      try {
        const o = obj(
          await call(api, (opts) => m({ name: ref.name, namespace: ref.namespace }, opts), {
            signal: signal(),
          }),
        );
        return ref.kind === "secrets" ? stripSecretData(o) : o;
      } catch (e) {
        if (e instanceof K8sApiError && e.status === 404) return null;
        throw e;
      }
    },
    async list(ref: ListRef) {
      const r = RESOURCES[ref.kind];
      const name = !r.namespaced
        ? `list${r.kind}`
        : ref.namespace !== undefined
          ? `listNamespaced${r.kind}`
          : `list${r.kind}ForAllNamespaces`;
      const m = method(apiFor(api, ref.kind), name);
      const param: Record<string, unknown> = { namespace: ref.namespace };
      if (ref.labelSelector) param["labelSelector"] = ref.labelSelector;
      if (ref.fieldSelector) param["fieldSelector"] = ref.fieldSelector;
      const items = (obj(await call(api, (opts) => m(param, opts), { signal: signal() }))["items"] ??
        []) as unknown[];
      return items.map((i) => (ref.kind === "secrets" ? stripSecretData(obj(i)) : (obj(i) as K8sObject)));
    },
  };
}
