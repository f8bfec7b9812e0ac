/**
 * A fake Kubernetes API server for tests: real HTTP on 127.0.0.1, discovery for kubectl (`/version`,
 * `/api`, `/apis`, resource lists), in-memory objects with GET/LIST/POST/PUT/PATCH/DELETE, the
 * subresources the executors use (deployments/scale, pods/log, pods/eviction honouring
 * PodDisruptionBudgets, pods/exec and pods/portforward upgrades, which are recorded and refused), a
 * minimal deployment controller (revisions and ReplicaSets on template changes, so `rollout undo`
 * can be verified) and a log of every request.
 */
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createServer as createTlsServer } from "node:https";
import type { AddressInfo, Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { discovery, RES, type ResDef } from "./discovery.js";
import { jsonPatch, mergePatch, strategicMergePatch, TestFailed } from "./patch.js";

type O = Record<string, unknown>;

export interface RecordedRequest {
  method: string;
  path: string;
  /** First value of each query parameter. */
  query: Record<string, string>;
  /** Every value of each query parameter (exec's repeated `command`). */
  queryAll: Record<string, string[]>;
  contentType: string | null;
  accept: string | null;
  authorization: string | null;
  headers: Record<string, string>;
  body: string;
  upgrade: boolean;
}

const isObj = (v: unknown): v is O => v !== null && typeof v === "object" && !Array.isArray(v);
const meta = (o: O): O => {
  if (!isObj(o["metadata"])) o["metadata"] = {};
  return o["metadata"] as O;
};

function status(code: number, reason: string, message: string, details?: O): O {
  return {
    kind: "Status",
    apiVersion: "v1",
    metadata: {},
    status: "Failure",
    message,
    reason,
    code,
    ...(details ? { details } : {}),
  };
}

export class FakeK8s {
  readonly requests: RecordedRequest[] = [];
  private readonly store = new Map<string, O>();
  /** Log bodies by `ns/pod` or `ns/pod/container`. */
  readonly logs = new Map<string, string>();
  /** When true, requests are recorded and never answered (timeout tests). */
  hang = false;
  /** When set, every request must carry `Authorization: Bearer <token>`. */
  token: string | undefined;
  /** Status answered to exec/portforward upgrade requests. */
  upgradeStatus = 403;
  /** Overrides the eviction answer for a pod (return a status code), e.g. to simulate a PDB for a while. */
  evictionHook: ((ns: string, pod: string) => number | undefined) | undefined;
  private rv = 100;
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  port = 0;
  /** PEM of the self-signed certificate when started with TLS. */
  caPem: string | undefined;

  get url(): string {
    return `${this.caPem ? "https" : "http"}://127.0.0.1:${this.port}`;
  }

  /**
   * Starts on a free loopback port. With `tls`, serves HTTPS with a throwaway self-signed certificate
   * made by the openssl CLI (kubectl sends bearer tokens only over TLS).
   */
  async start(opts: { tls?: boolean } = {}): Promise<void> {
    const handler = (req: IncomingMessage, res: ServerResponse) => void this.onRequest(req, res);
    let srv: Server;
    if (opts.tls) {
      const dir = mkdtempSync(join(tmpdir(), "fake-k8s-tls-"));
      try {
        execFileSync(
          "openssl",
          [
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-keyout",
            join(dir, "key.pem"),
            "-out",
            join(dir, "cert.pem"),
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
          ],
          { stdio: "ignore" },
        );
        this.caPem = readFileSync(join(dir, "cert.pem"), "utf8");
        srv = createTlsServer(
          { key: readFileSync(join(dir, "key.pem")), cert: this.caPem },
          handler,
        ) as unknown as Server;
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    } else srv = createServer(handler);
    srv.on(opts.tls ? "secureConnection" : "connection", (s: Socket) => {
      this.sockets.add(s);
      s.on("close", () => this.sockets.delete(s));
    });
    srv.on("upgrade", (req: IncomingMessage, socket: Socket) => this.onUpgrade(req, socket));
    await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
    this.server = srv;
    this.port = (srv.address() as AddressInfo).port;
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
  }

  /** Writes a kubeconfig pointing at this server; returns its path. */
  writeKubeconfig(dir: string, token = "fake-token"): string {
    const path = join(dir, "kubeconfig");
    writeFileSync(path, this.kubeconfigText(token), { mode: 0o600 });
    return path;
  }

  kubeconfigText(token = "fake-token"): string {
    return JSON.stringify({
      apiVersion: "v1",
      kind: "Config",
      clusters: [
        {
          name: "fake",
          cluster: {
            server: this.url,
            ...(this.caPem
              ? { "certificate-authority-data": Buffer.from(this.caPem).toString("base64") }
              : {}),
          },
        },
      ],
      users: [{ name: "fake", user: { token } }],
      contexts: [{ name: "fake", context: { cluster: "fake", user: "fake" } }],
      "current-context": "fake",
    });
  }

  /** Requests other than discovery (`/version`, `/api`, `/apis`, group lists, openapi). */
  objectRequests(): RecordedRequest[] {
    return this.requests.filter(
      (r) => !/^\/(version|openapi|api$|apis$|api\/v1$|apis\/[^/]+(\/[^/]+)?$)/.test(r.path),
    );
  }

  /** Mutating requests (not GET). */
  writes(): RecordedRequest[] {
    return this.requests.filter((r) => r.method !== "GET");
  }

  clearLog(): void {
    this.requests.length = 0;
  }

  // --- objects ------------------------------------------------------------------------------------

  private def(group: string, plural: string): ResDef | undefined {
    return RES.find((r) => r.group === group && r.plural === plural);
  }

  private key(group: string, plural: string, ns: string, name: string): string {
    return `${group}|${plural}|${ns}|${name}`;
  }

  /** Seeds an object (apiVersion/kind decide where it lives). */
  add(o: O): O {
    const [gv, kind] = [String(o["apiVersion"]), String(o["kind"])];
    const group = gv.includes("/") ? (gv.split("/")[0] ?? "") : "";
    const d = RES.find((r) => r.group === group && r.kind === kind);
    if (!d) throw new Error(`fake: unknown kind ${gv} ${kind}`);
    const obj = structuredClone(o);
    const m = meta(obj);
    m["uid"] ??= `uid-${String(m["name"])}-${this.rv}`;
    m["resourceVersion"] = String(++this.rv);
    m["creationTimestamp"] ??= "2026-01-01T00:00:00Z";
    if (d.plural === "deployments") m["generation"] ??= 1;
    this.store.set(
      this.key(group, d.plural, d.namespaced ? String(m["namespace"] ?? "default") : "", String(m["name"])),
      obj,
    );
    return obj;
  }

  get(group: string, plural: string, ns: string, name: string): O | undefined {
    return this.store.get(this.key(group, plural, ns, name));
  }

  list(group: string, plural: string, ns?: string): O[] {
    const out: O[] = [];
    for (const [k, v] of this.store) {
      const [g, p, n] = k.split("|");
      if (g === group && p === plural && (ns === undefined || n === ns)) out.push(v);
    }
    return out;
  }

  private save(group: string, d: ResDef, ns: string, obj: O): O {
    meta(obj)["resourceVersion"] = String(++this.rv);
    this.store.set(this.key(group, d.plural, ns, String(meta(obj)["name"])), obj);
    return obj;
  }

  // --- HTTP ---------------------------------------------------------------------------------------

  private record(req: IncomingMessage, body: string, upgrade: boolean): RecordedRequest {
    const u = new URL(req.url ?? "/", "http://x");
    const query: Record<string, string> = {};
    const queryAll: Record<string, string[]> = {};
    for (const [k, v] of u.searchParams) {
      query[k] ??= v;
      const list = queryAll[k] ?? [];
      list.push(v);
      queryAll[k] = list;
    }
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers)) if (typeof v === "string") headers[k] = v;
    const r: RecordedRequest = {
      method: req.method ?? "GET",
      path: u.pathname,
      query,
      queryAll,
      contentType: req.headers["content-type"] ?? null,
      accept: req.headers.accept ?? null,
      authorization: req.headers.authorization ?? null,
      headers,
      body,
      upgrade,
    };
    this.requests.push(r);
    return r;
  }

  private onUpgrade(req: IncomingMessage, socket: Socket): void {
    this.record(req, "", true);
    if (this.hang) return;
    const body = JSON.stringify(
      status(this.upgradeStatus, "Forbidden", "fake API server: streaming is not supported"),
    );
    socket.end(
      `HTTP/1.1 ${this.upgradeStatus} Forbidden\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  }

  private async onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks).toString("utf8");
    const r = this.record(req, body, false);
    if (this.hang) return;
    const send = (code: number, payload: unknown, ct = "application/json") => {
      const text = typeof payload === "string" ? payload : JSON.stringify(payload);
      res.writeHead(code, { "Content-Type": ct, "Content-Length": Buffer.byteLength(text) });
      res.end(text);
    };
    if (this.token !== undefined && r.authorization !== `Bearer ${this.token}`) {
      send(401, status(401, "Unauthorized", "Unauthorized"));
      return;
    }
    try {
      const [code, payload, ct] = this.route(r);
      if (code === 0) {
        // A watch: keep the stream open and idle until the client goes away.
        res.writeHead(200, { "Content-Type": "application/json", "Transfer-Encoding": "chunked" });
        res.flushHeaders();
        return;
      }
      send(code, payload, ct);
    } catch (e) {
      if (e instanceof TestFailed) send(422, status(422, "Invalid", e.message));
      else send(500, status(500, "InternalError", e instanceof Error ? e.message : String(e)));
    }
  }

  private route(r: RecordedRequest): [number, unknown, string?] {
    const disc = discovery(r.path, this.port);
    if (disc) return disc;
    const m = /^\/(?:api\/(v1)|apis\/([^/]+)\/([^/]+))\/(.*)$/.exec(r.path);
    if (!m) return [404, status(404, "NotFound", "the server could not find the requested resource")];
    const group = m[2] ?? "";
    const version = m[1] ?? m[3] ?? "";
    let segs = (m[4] ?? "").split("/").map(decodeURIComponent);
    let ns: string | undefined;
    if (segs[0] === "namespaces" && segs.length >= 3 && this.def(group, segs[2] ?? "")?.namespaced) {
      ns = segs[1];
      segs = segs.slice(2);
    }
    const [plural = "", name, sub] = segs;
    const d = this.def(group, plural);
    if (!d || !RES.some((x) => x.group === group && x.version === version && x.plural === plural)) {
      return [404, status(404, "NotFound", `the server could not find the requested resource (${plural})`)];
    }
    const nsKey = d.namespaced ? (ns ?? "") : "";
    const apiVersion = group ? `${group}/${version}` : version;
    const notFound = (): [number, unknown] => [
      404,
      status(404, "NotFound", `${plural}${group ? `.${group}` : ""} "${name}" not found`, {
        name,
        kind: plural,
      }),
    ];

    if (name === undefined) {
      if (r.method === "GET") {
        if (r.query["watch"] === "true" || r.query["watch"] === "1") return [0, null];
        const items = this.list(group, plural, d.namespaced ? ns : undefined).filter((o) =>
          this.matches(o, r.query),
        );
        return [
          200,
          {
            apiVersion,
            kind: `${d.kind}List`,
            metadata: { resourceVersion: String(this.rv) },
            items: items.map((o) => this.view(o, d, version)),
          },
        ];
      }
      if (r.method === "POST") {
        const o = JSON.parse(r.body) as O;
        const mm = meta(o);
        if (d.namespaced) mm["namespace"] = ns;
        if (this.get(group, plural, nsKey, String(mm["name"]))) {
          return [409, status(409, "AlreadyExists", `${plural} "${String(mm["name"])}" already exists`)];
        }
        o["apiVersion"] ??= apiVersion;
        o["kind"] ??= d.kind;
        if (plural === "namespaces") o["status"] = { phase: "Active" };
        const saved = this.add(o);
        return [201, saved];
      }
      return [405, status(405, "MethodNotAllowed", "method not allowed")];
    }

    const cur = this.get(group, plural, nsKey, name);
    if (sub === "log" && plural === "pods") {
      if (!cur) return notFound();
      const container = r.query["container"];
      let text = this.logs.get(`${ns}/${name}/${container ?? ""}`) ?? this.logs.get(`${ns}/${name}`) ?? "";
      const tail = r.query["tailLines"];
      if (tail !== undefined)
        text = text
          .split("\n")
          .filter((l) => l !== "")
          .slice(-Number(tail))
          .map((l) => `${l}\n`)
          .join("");
      return [200, text, "text/plain"];
    }
    if (sub === "eviction" && plural === "pods") return this.evict(r, ns ?? "", name, cur);
    if (sub === "scale" && plural === "deployments") {
      if (!cur) return notFound();
      const scale = {
        apiVersion: "autoscaling/v1",
        kind: "Scale",
        metadata: { name, namespace: ns, resourceVersion: meta(cur)["resourceVersion"] },
        spec: { replicas: (cur["spec"] as O)["replicas"] },
        status: { replicas: (cur["spec"] as O)["replicas"] },
      };
      if (r.method === "GET") return [200, scale];
      if (r.method === "PATCH" || r.method === "PUT") {
        const next = this.applyPatch(scale, r) as O;
        const updated = structuredClone(cur);
        (updated["spec"] as O)["replicas"] = (next["spec"] as O)["replicas"];
        this.afterWrite(group, d, nsKey, cur, updated);
        return [
          200,
          {
            ...next,
            metadata: { ...(next["metadata"] as O), resourceVersion: meta(updated)["resourceVersion"] },
          },
        ];
      }
    }
    if (sub !== undefined && sub !== "status")
      return [404, status(404, "NotFound", `subresource ${sub} not served`)];
    switch (r.method) {
      case "GET":
        return cur ? [200, this.view(cur, d, version)] : notFound();
      case "DELETE": {
        if (!cur) return notFound();
        this.store.delete(this.key(group, plural, nsKey, name));
        if (plural === "namespaces") {
          for (const k of [...this.store.keys()]) if (k.split("|")[2] === name) this.store.delete(k);
        }
        const gone = structuredClone(cur);
        meta(gone)["deletionTimestamp"] = "2026-01-01T00:00:00Z";
        if (plural === "namespaces") gone["status"] = { phase: "Terminating" };
        return [200, gone];
      }
      case "PATCH":
      case "PUT": {
        if (!cur) return notFound();
        let next: O;
        if (r.method === "PUT") {
          next = JSON.parse(r.body) as O;
          const rv = meta(next)["resourceVersion"];
          if (rv !== undefined && rv !== meta(cur)["resourceVersion"])
            return [409, status(409, "Conflict", "the object has been modified")];
        } else {
          const ct = r.contentType ?? "";
          if (ct.startsWith("application/apply-patch"))
            return [415, status(415, "UnsupportedMediaType", "server-side apply not supported by the fake")];
          next = this.applyPatch(cur, r) as O;
        }
        return [200, this.afterWrite(group, d, nsKey, cur, next)];
      }
      default:
        return [405, status(405, "MethodNotAllowed", "method not allowed")];
    }
  }

  private applyPatch(cur: O, r: RecordedRequest): unknown {
    const ct = (r.contentType ?? "").split(";")[0];
    const patch = JSON.parse(r.body) as unknown;
    if (ct === "application/merge-patch+json") return mergePatch(cur, patch);
    if (ct === "application/strategic-merge-patch+json") return strategicMergePatch(cur, patch);
    if (ct === "application/json-patch+json") return jsonPatch(cur, patch);
    throw new Error(`unsupported patch content type ${ct}`);
  }

  /** Saves an update, bumping generation and running the tiny deployment controller. */
  private afterWrite(group: string, d: ResDef, ns: string, before: O, after: O): O {
    const m = meta(after);
    m["name"] = meta(before)["name"];
    m["uid"] = meta(before)["uid"];
    if (d.plural === "deployments") {
      const specChanged = JSON.stringify(before["spec"]) !== JSON.stringify(after["spec"]);
      m["generation"] = Number(meta(before)["generation"] ?? 1) + (specChanged ? 1 : 0);
      if (
        JSON.stringify((before["spec"] as O)?.["template"]) !==
        JSON.stringify((after["spec"] as O)?.["template"])
      )
        this.rollout(ns, after);
      const replicas = Number((after["spec"] as O)?.["replicas"] ?? 1);
      after["status"] = {
        observedGeneration: m["generation"],
        replicas,
        updatedReplicas: replicas,
        readyReplicas: replicas,
        availableReplicas: replicas,
      };
    }
    return this.save(group, d, ns, after);
  }

  private templateHash(t: unknown): string {
    const c = structuredClone(t) as O;
    const labels = (meta(c)["labels"] ?? {}) as O;
    delete labels["pod-template-hash"];
    return createHash("sha256").update(JSON.stringify(c)).digest("hex").slice(0, 10);
  }

  /** The deployment controller's part that matters here: a new revision per new template. */
  private rollout(ns: string, dep: O): void {
    const uid = meta(dep)["uid"];
    const owned = this.list("apps", "replicasets", ns).filter((rs) =>
      ((meta(rs)["ownerReferences"] ?? []) as O[]).some((o) => o["uid"] === uid),
    );
    const rev = (o: O) =>
      Number(((meta(o)["annotations"] ?? {}) as O)["deployment.kubernetes.io/revision"] ?? 0);
    const next = Math.max(0, ...owned.map(rev)) + 1;
    const template = (dep["spec"] as O)["template"];
    const hash = this.templateHash(template);
    let rs = owned.find((x) => this.templateHash((x["spec"] as O)["template"]) === hash);
    if (!rs) {
      const t = structuredClone(template) as O;
      meta(t)["labels"] = { ...((meta(t)["labels"] ?? {}) as O), "pod-template-hash": hash };
      rs = {
        apiVersion: "apps/v1",
        kind: "ReplicaSet",
        metadata: {
          name: `${String(meta(dep)["name"])}-${hash}`,
          namespace: ns,
          labels: {
            ...((((template as O)["metadata"] as O)?.["labels"] ?? {}) as O),
            "pod-template-hash": hash,
          },
          ownerReferences: [
            { apiVersion: "apps/v1", kind: "Deployment", name: meta(dep)["name"], uid, controller: true },
          ],
        },
        spec: { replicas: 0, selector: (dep["spec"] as O)["selector"], template: t },
      };
    }
    meta(rs)["annotations"] = {
      ...((meta(rs)["annotations"] ?? {}) as O),
      "deployment.kubernetes.io/revision": String(next),
    };
    this.add(rs);
    meta(dep)["annotations"] = {
      ...((meta(dep)["annotations"] ?? {}) as O),
      "deployment.kubernetes.io/revision": String(next),
    };
  }

  private evict(r: RecordedRequest, ns: string, pod: string, cur: O | undefined): [number, unknown] {
    if (r.method !== "POST") return [405, status(405, "MethodNotAllowed", "method not allowed")];
    if (!cur) return [404, status(404, "NotFound", `pods "${pod}" not found`)];
    const forced = this.evictionHook?.(ns, pod);
    const labels = (meta(cur)["labels"] ?? {}) as Record<string, string>;
    const blocking = this.list("policy", "poddisruptionbudgets", ns).find((pdb) => {
      const sel = (((pdb["spec"] as O)?.["selector"] as O)?.["matchLabels"] ?? {}) as Record<string, string>;
      const allowed = Number((pdb["status"] as O)?.["disruptionsAllowed"] ?? 0);
      return Object.entries(sel).every(([k, v]) => labels[k] === v) && allowed < 1;
    });
    const code = forced ?? (blocking ? 429 : 201);
    if (code === 429) {
      return [
        429,
        status(429, "TooManyRequests", "Cannot evict pod as it would violate the pod's disruption budget.", {
          causes: [
            {
              reason: "DisruptionBudget",
              message: `The disruption budget ${blocking ? String(meta(blocking)["name"]) : "fake"} needs 1 healthy pods and has 1 currently`,
            },
          ],
        }),
      ];
    }
    if (code >= 300) return [code, status(code, "Error", "eviction refused")];
    this.store.delete(this.key("", "pods", ns, pod));
    return [201, { kind: "Status", apiVersion: "v1", metadata: {}, status: "Success", code: 201 }];
  }

  /** labelSelector (equality and set-based) and fieldSelector (metadata.name/namespace, spec.nodeName). */
  private matches(o: O, q: Record<string, string>): boolean {
    const labels = (meta(o)["labels"] ?? {}) as Record<string, string>;
    for (const req of splitSelector(q["labelSelector"] ?? "")) {
      let mm = /^([^!=\s]+)\s*(==|=|!=)\s*(.*)$/.exec(req);
      if (mm) {
        const eq = labels[mm[1] ?? ""] === mm[3];
        if (mm[2] === "!=" ? eq : !eq) return false;
        continue;
      }
      mm = /^(\S+)\s+(in|notin)\s*\((.*)\)$/.exec(req);
      if (mm) {
        const inSet = (mm[3] ?? "")
          .split(",")
          .map((s) => s.trim())
          .includes(labels[mm[1] ?? ""] ?? "\u0000");
        if (mm[2] === "in" ? !inSet : inSet) return false;
        continue;
      }
      if (req.startsWith("!") ? req.slice(1) in labels : !(req in labels)) return false;
    }
    for (const f of (q["fieldSelector"] ?? "").split(",").filter(Boolean)) {
      const [k, v] = f.split("=") as [string, string];
      const val =
        k === "metadata.name"
          ? meta(o)["name"]
          : k === "metadata.namespace"
            ? meta(o)["namespace"]
            : k === "spec.nodeName"
              ? (o["spec"] as O)?.["nodeName"]
              : undefined;
      if (val !== v) return false;
    }
    return true;
  }

  /** The object as served at `version` (autoscaling/v1 HPAs get the v1 shape). */
  private view(o: O, d: ResDef, version: string): O {
    if (d.plural === "horizontalpodautoscalers" && version === "v1") {
      const spec = (o["spec"] ?? {}) as O;
      const cpu = ((spec["metrics"] ?? []) as O[]).find((m) => (m["resource"] as O)?.["name"] === "cpu");
      const target = ((cpu?.["resource"] as O)?.["target"] as O)?.["averageUtilization"];
      return {
        ...o,
        apiVersion: "autoscaling/v1",
        spec: {
          scaleTargetRef: spec["scaleTargetRef"],
          minReplicas: spec["minReplicas"],
          maxReplicas: spec["maxReplicas"],
          ...(target !== undefined ? { targetCPUUtilizationPercentage: target } : {}),
        },
      };
    }
    return o;
  }
}

function splitSelector(s: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = "";
  for (const ch of s) {
    if (ch === "(") depth++;
    if (ch === ")") depth--;
    if (ch === "," && depth === 0) {
      if (cur.trim()) out.push(cur.trim());
      cur = "";
    } else cur += ch;
  }
  if (cur.trim()) out.push(cur.trim());
  return out;
}
