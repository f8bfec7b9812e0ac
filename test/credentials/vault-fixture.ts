/**
 * A loopback HTTP(S) server speaking the part of Vault's API Agent-Safe uses (DESIGN.md §8):
 * `sys/health`; token auth (`lookup-self`, `renew-self`) and AppRole login; KV v2 reads; the AWS
 * engine (`roles/<n>`, `creds/<n>`, `sts/<n>`); the Kubernetes engine (`roles/<n>`, `creds/<n>`);
 * `sys/leases/renew` and `sys/leases/revoke`. Behaviour follows Vault's documented API, including
 * the parts that matter for scoping: `creds`/`sts` take no policy document; an iam_user lease
 * ignores `ttl` (it is the mount's lease TTL); a Kubernetes namespace must be allowed by the role.
 *
 * Every request is recorded (method, path, token, body) and every lease tracked, so tests can
 * assert the exact paths, bodies, rendered scope and revocation. `issuedSecrets()` lists every
 * secret the fixture ever handed out, for the "grep the logs" tests.
 */
import { randomBytes } from "node:crypto";
import {
  createServer as createHttp,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from "node:http";
import { createServer as createHttps } from "node:https";
import type { AddressInfo } from "node:net";

export interface RecordedRequest {
  method: string;
  path: string;
  /** The X-Vault-Token header as received (tests assert it never appears elsewhere). */
  token: string | null;
  namespace: string | null;
  body: Record<string, unknown> | null;
}

export interface FixtureLease {
  lease_id: string;
  path: string;
  ttl: number;
  renewable: boolean;
  revoked: boolean;
  renewals: number[];
}

interface TokenInfo {
  expiresAtMs: number | null;
  ttl: number;
  renewable: boolean;
}

export interface VaultFixtureOptions {
  /** Static tokens the server accepts: token → {ttl seconds (0 = never expires), renewable}. */
  tokens?: Record<string, { ttl: number; renewable?: boolean }>;
  approle?: { mount?: string; role_id: string; secret_id: string; token_ttl: number; renewable?: boolean };
  /** KV v2 secrets: `<mount>/<path>` → data. */
  kv?: Record<string, Record<string, unknown>>;
  /** Pre-configured AWS roles (mount `aws`). */
  awsRoles?: Record<string, Record<string, unknown>>;
  /** The lease of iam_user credentials (the mount's `config/lease`; Vault ignores `ttl` for them). */
  awsIamUserLeaseSeconds?: number;
  /** Pre-configured Kubernetes roles (mount `kubernetes`). */
  k8sRoles?: Record<string, Record<string, unknown>>;
  tls?: { key: string; cert: string };
  /** Delay every answer (for timeouts). */
  delayMs?: number;
  sealed?: boolean;
}

const hex = (n: number) => randomBytes(n).toString("hex");

export class VaultFixture {
  readonly requests: RecordedRequest[] = [];
  readonly leases = new Map<string, FixtureLease>();
  readonly awsRoles = new Map<string, Record<string, unknown>>();
  readonly k8sRoles = new Map<string, Record<string, unknown>>();
  /** Every role definition ever written, in order (per-request roles are deleted afterwards). */
  readonly roleWrites: { path: string; body: Record<string, unknown> }[] = [];
  readonly deletedRoles: string[] = [];
  private readonly tokens = new Map<string, TokenInfo>();
  private readonly secrets: string[] = [];
  private failures: { status: number; errors: string[]; match?: RegExp }[] = [];
  delayMs: number;
  sealed: boolean;

  private constructor(
    private readonly server: Server,
    readonly url: string,
    private readonly options: VaultFixtureOptions,
  ) {
    this.delayMs = options.delayMs ?? 0;
    this.sealed = options.sealed ?? false;
    for (const [t, info] of Object.entries(options.tokens ?? {}))
      this.addToken(t, info.ttl, info.renewable ?? true);
    for (const [n, r] of Object.entries(options.awsRoles ?? {})) this.awsRoles.set(n, r);
    for (const [n, r] of Object.entries(options.k8sRoles ?? {})) this.k8sRoles.set(n, r);
  }

  static async start(options: VaultFixtureOptions = {}): Promise<VaultFixture> {
    let fixture: VaultFixture | undefined;
    const handler = (req: IncomingMessage, res: ServerResponse) => {
      void fixture?.handle(req, res);
    };
    const server = options.tls
      ? createHttps({ key: options.tls.key, cert: options.tls.cert }, handler)
      : createHttp(handler);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const port = (server.address() as AddressInfo).port;
    fixture = new VaultFixture(server, `${options.tls ? "https" : "http"}://127.0.0.1:${port}`, options);
    return fixture;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections?.();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  addToken(token: string, ttl: number, renewable = true): void {
    this.tokens.set(token, { expiresAtMs: ttl > 0 ? Date.now() + ttl * 1000 : null, ttl, renewable });
  }

  /** Expires a token now (as if its TTL had run out). */
  expireToken(token: string): void {
    const info = this.tokens.get(token);
    if (info) info.expiresAtMs = Date.now() - 1;
  }

  /** The next request whose path matches (any, by default) gets this error answer. */
  failNext(status: number, errors: string[], match?: RegExp): void {
    this.failures.push({ status, errors, ...(match ? { match } : {}) });
  }

  /** Every secret value the fixture has issued (tokens, keys, service account tokens). */
  issuedSecrets(): string[] {
    return [...this.secrets];
  }

  requestsTo(pattern: RegExp): RecordedRequest[] {
    return this.requests.filter((r) => pattern.test(r.path));
  }

  activeLeases(): FixtureLease[] {
    return [...this.leases.values()].filter((l) => !l.revoked);
  }

  private secret(value: string): string {
    this.secrets.push(value);
    return value;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const text = Buffer.concat(chunks).toString("utf8");
    let body: Record<string, unknown> | null = null;
    if (text !== "") {
      try {
        body = JSON.parse(text) as Record<string, unknown>;
      } catch {
        return this.reply(res, 400, { errors: ["failed to parse JSON input"] });
      }
    }
    const url = new URL(req.url ?? "/", "http://x");
    const path = url.pathname.replace(/^\/v1\//, "");
    const token = header(req, "x-vault-token");
    this.requests.push({
      method: req.method ?? "GET",
      path,
      token,
      namespace: header(req, "x-vault-namespace"),
      body,
    });
    if (this.delayMs > 0) await new Promise((r) => setTimeout(r, this.delayMs));
    const failure = this.failures.findIndex((f) => f.match === undefined || f.match.test(path));
    if (failure >= 0) {
      const f = this.failures.splice(failure, 1)[0]!;
      return this.reply(res, f.status, { errors: f.errors });
    }
    try {
      const [status, out] = this.route(req.method ?? "GET", path, token, body ?? {});
      this.reply(res, status, out);
    } catch (err) {
      this.reply(res, 500, { errors: [String(err)] });
    }
  }

  private reply(res: ServerResponse, status: number, body: unknown): void {
    if (status === 204 || body === null) {
      res.writeHead(status === 204 ? 204 : status).end();
      return;
    }
    res.writeHead(status, { "Content-Type": "application/json" }).end(JSON.stringify(body));
  }

  private authorised(token: string | null): boolean {
    if (token === null) return false;
    const info = this.tokens.get(token);
    return info !== undefined && (info.expiresAtMs === null || info.expiresAtMs > Date.now());
  }

  private route(
    method: string,
    path: string,
    token: string | null,
    body: Record<string, unknown>,
  ): [number, unknown] {
    const write = method === "POST" || method === "PUT";
    if (path === "sys/health" && method === "GET") {
      return [
        this.sealed ? 503 : 200,
        { initialized: true, sealed: this.sealed, standby: false, version: "1.17.0+fixture" },
      ];
    }
    const approleMount = this.options.approle?.mount ?? "approle";
    if (path === `auth/${approleMount}/login` && write) return this.login(body);
    if (!this.authorised(token)) return [403, { errors: ["permission denied"] }];
    const t = token as string;
    if (path === "auth/token/lookup-self" && method === "GET") {
      const info = this.tokens.get(t)!;
      const ttl =
        info.expiresAtMs === null ? 0 : Math.max(0, Math.floor((info.expiresAtMs - Date.now()) / 1000));
      return [200, { data: { id: t, ttl, renewable: info.renewable, policies: ["agent-safe"] } }];
    }
    if (path === "auth/token/renew-self" && write) {
      const info = this.tokens.get(t)!;
      if (!info.renewable) return [400, { errors: ["lease is not renewable"] }];
      info.expiresAtMs = Date.now() + info.ttl * 1000;
      return [
        200,
        { auth: { client_token: t, lease_duration: info.ttl, renewable: true, policies: ["agent-safe"] } },
      ];
    }
    if (path === "sys/leases/renew" && write) return this.renew(body);
    if (path === "sys/leases/revoke" && write) {
      const lease = this.leases.get(String(body.lease_id));
      if (lease) lease.revoked = true;
      return [204, null];
    }
    let m = /^aws\/roles\/([\w.-]+)$/.exec(path);
    if (m) return this.roleOp(this.awsRoles, `aws/roles/${m[1]}`, m[1]!, method, body);
    m = /^kubernetes\/roles\/([\w.-]+)$/.exec(path);
    if (m) return this.roleOp(this.k8sRoles, `kubernetes/roles/${m[1]}`, m[1]!, method, body);
    m = /^aws\/(creds|sts)\/([\w.-]+)$/.exec(path);
    if (m && (write || method === "GET")) return this.aws(m[1] as "creds" | "sts", m[2]!, body);
    m = /^kubernetes\/creds\/([\w.-]+)$/.exec(path);
    if (m && write) return this.k8s(m[1]!, body);
    m = /^([\w-]+)\/data\/(.+)$/.exec(path);
    if (m && method === "GET") {
      const data = this.options.kv?.[`${m[1]}/${m[2]}`];
      if (data === undefined) return [404, { errors: [] }];
      for (const v of Object.values(data)) if (typeof v === "string") this.secrets.push(v);
      return [
        200,
        { data: { data, metadata: { version: 3, created_time: "2026-01-01T00:00:00Z" } }, lease_duration: 0 },
      ];
    }
    return [404, { errors: [`no handler for route "${path}"`] }];
  }

  private login(body: Record<string, unknown>): [number, unknown] {
    const a = this.options.approle;
    if (!a || body.role_id !== a.role_id || body.secret_id !== a.secret_id) {
      return [400, { errors: ["invalid role or secret ID"] }];
    }
    const token = this.secret(`hvs.approle-${hex(12)}`);
    this.addToken(token, a.token_ttl, a.renewable ?? true);
    return [
      200,
      {
        auth: {
          client_token: token,
          accessor: hex(8),
          policies: ["agent-safe"],
          lease_duration: a.token_ttl,
          renewable: a.renewable ?? true,
        },
      },
    ];
  }

  private renew(body: Record<string, unknown>): [number, unknown] {
    const lease = this.leases.get(String(body.lease_id));
    if (!lease || lease.revoked) return [400, { errors: ["lease not found or lease is not renewable"] }];
    if (!lease.renewable) return [400, { errors: ["lease is not renewable"] }];
    const increment = typeof body.increment === "number" ? body.increment : lease.ttl;
    lease.renewals.push(increment);
    lease.ttl = increment;
    return [200, { lease_id: lease.lease_id, renewable: true, lease_duration: increment }];
  }

  private roleOp(
    roles: Map<string, Record<string, unknown>>,
    path: string,
    name: string,
    method: string,
    body: Record<string, unknown>,
  ): [number, unknown] {
    if (method === "DELETE") {
      this.deletedRoles.push(path);
      return roles.delete(name) ? [204, null] : [404, { errors: [] }];
    }
    if (method === "GET") return roles.has(name) ? [200, { data: roles.get(name) }] : [404, { errors: [] }];
    roles.set(name, body);
    this.roleWrites.push({ path, body });
    return [204, null];
  }

  private lease(path: string, ttl: number, renewable: boolean): FixtureLease {
    const lease = { lease_id: `${path}/${hex(12)}`, path, ttl, renewable, revoked: false, renewals: [] };
    this.leases.set(lease.lease_id, lease);
    return lease;
  }

  private aws(endpoint: "creds" | "sts", name: string, body: Record<string, unknown>): [number, unknown] {
    const role = this.awsRoles.get(name);
    if (!role) return [400, { errors: [`Role "${name}" not found`] }];
    const type = String(role.credential_type ?? "iam_user");
    if (endpoint === "creds" && type !== "iam_user") {
      return [400, { errors: [`Role "${name}" has credential_type ${type}, which /aws/creds cannot issue`] }];
    }
    if (endpoint === "sts" && type === "iam_user") {
      return [
        400,
        {
          errors: [
            "Can't generate STS credentials for a managed policy; use a role with an STS credential type",
          ],
        },
      ];
    }
    const path = `aws/${endpoint}/${name}`;
    if (type === "iam_user") {
      const lease = this.lease(path, this.options.awsIamUserLeaseSeconds ?? 3600, true);
      return [
        200,
        {
          lease_id: lease.lease_id,
          lease_duration: lease.ttl,
          renewable: true,
          data: {
            access_key: this.secret(`AKIA${hex(8).toUpperCase()}`),
            secret_key: this.secret(randomBytes(30).toString("base64")),
            security_token: null,
          },
        },
      ];
    }
    const arns = Array.isArray(role.role_arns) ? (role.role_arns as string[]) : [];
    const arn = typeof body.role_arn === "string" ? body.role_arn : arns.length === 1 ? arns[0] : undefined;
    if (type === "assumed_role" && (arn === undefined || !arns.includes(arn))) {
      return [400, { errors: ["role_arn is required, and must be one of the role's role_arns"] }];
    }
    const ttl = seconds(body.ttl) ?? seconds(role.default_sts_ttl) ?? 3600;
    const max = seconds(role.max_sts_ttl);
    const lease = this.lease(path, max !== undefined ? Math.min(ttl, max) : ttl, false);
    const session = typeof body.role_session_name === "string" ? body.role_session_name : `vault-${hex(4)}`;
    return [
      200,
      {
        lease_id: lease.lease_id,
        lease_duration: lease.ttl,
        renewable: false,
        data: {
          access_key: this.secret(`ASIA${hex(8).toUpperCase()}`),
          secret_key: this.secret(randomBytes(30).toString("base64")),
          security_token: this.secret(`FwoGZXIvYXdzE${randomBytes(48).toString("base64")}`),
          arn: `arn:aws:sts::123456789012:assumed-role/${(arn ?? "federated").split("/").pop()}/${session}`,
        },
      },
    ];
  }

  private k8s(name: string, body: Record<string, unknown>): [number, unknown] {
    const role = this.k8sRoles.get(name);
    if (!role) return [400, { errors: [`role '${name}' does not exist`] }];
    const ns = body.kubernetes_namespace;
    if (typeof ns !== "string" || ns === "") return [400, { errors: ["'kubernetes_namespace' is required"] }];
    const allowed = Array.isArray(role.allowed_kubernetes_namespaces)
      ? (role.allowed_kubernetes_namespaces as string[])
      : [];
    if (!allowed.includes("*") && !allowed.includes(ns)) {
      return [
        400,
        { errors: [`kubernetes_namespace '${ns}' is not present in role's allowed_kubernetes_namespaces`] },
      ];
    }
    if (body.cluster_role_binding === true && role.kubernetes_role_type !== "ClusterRole") {
      return [400, { errors: ["a ClusterRoleBinding cannot ref a Role"] }];
    }
    const ttl = seconds(body.ttl) ?? seconds(role.token_default_ttl) ?? 3600;
    const max = seconds(role.token_max_ttl);
    const lease = this.lease(
      `kubernetes/creds/${name}`,
      max !== undefined && max > 0 ? Math.min(ttl, max) : ttl,
      false,
    );
    return [
      200,
      {
        lease_id: lease.lease_id,
        lease_duration: lease.ttl,
        renewable: false,
        data: {
          service_account_name: `v-token-${name.slice(0, 20)}-${hex(4)}`,
          service_account_namespace: ns,
          service_account_token: this.secret(`eyJhbGciOiJSUzI1NiJ9.${randomBytes(48).toString("base64url")}`),
        },
      },
    ];
  }
}

function header(req: IncomingMessage, name: string): string | null {
  const v = req.headers[name];
  return typeof v === "string" ? v : null;
}

/** A Vault duration: a number of seconds, or `"300s"`, `"5m"`, `"1h"`. */
function seconds(v: unknown): number | undefined {
  if (typeof v === "number") return v;
  if (typeof v !== "string" || v === "") return undefined;
  const m = /^(\d+)([smh]?)$/.exec(v);
  if (!m) return undefined;
  return Number(m[1]) * (m[2] === "m" ? 60 : m[2] === "h" ? 3600 : 1);
}
