/**
 * HTTP to Vault. The global `fetch` normally; `node:https` when a CA file is configured (Node
 * 20's `fetch` cannot take a custom CA without the undici package). Either way:
 * - the token travels only in the `X-Vault-Token` header, never in a URL, a message or a log;
 * - every request has a timeout; redirects are refused (a redirect would carry the token
 *   elsewhere); bodies are capped at 1 MiB;
 * - `http://` is refused except to a loopback address, unless `allowHttp` says otherwise;
 * - failures are `CredentialVaultError`s naming the method and path, never the token.
 */
import { request as httpsRequest } from "node:https";
import { CredentialConfigError, CredentialVaultError } from "../errors.js";

export type VaultMethod = "GET" | "POST" | "PUT" | "DELETE";

export interface VaultHttpOptions {
  address: string;
  namespace?: string | null;
  /** PEM of the CA(s) to trust for Vault's certificate. */
  caPem?: string | null;
  timeoutMs: number;
  allowHttp?: boolean;
}

export interface VaultReply {
  status: number;
  /** The parsed JSON body, or `null` when empty (204). */
  body: Record<string, unknown> | null;
}

const MAX_BODY = 1024 * 1024;
const SEGMENT = /^[A-Za-z0-9._@:=+,~-]+$/;

/** `mount` and name parts → `aws/creds/agent-safe`; each segment checked, none may be `.`/`..`. */
export function vaultPath(...parts: string[]): string {
  const segments: string[] = [];
  for (const part of parts) {
    for (const seg of part.split("/")) {
      if (seg === "") continue;
      if (seg === "." || seg === ".." || !SEGMENT.test(seg)) {
        throw new CredentialConfigError(`Invalid Vault path segment '${seg}' in '${parts.join("/")}'`);
      }
      segments.push(seg);
    }
  }
  return segments.join("/");
}

function isLoopback(hostname: string): boolean {
  const h = hostname.replace(/^\[|\]$/g, "");
  return h === "localhost" || h === "::1" || /^127(?:\.\d{1,3}){3}$/.test(h);
}

export class VaultHttp {
  readonly base: URL;
  private readonly namespace: string | null;
  private readonly ca: string | null;
  private readonly timeoutMs: number;

  constructor(options: VaultHttpOptions) {
    let url: URL;
    try {
      url = new URL(options.address);
    } catch {
      throw new CredentialConfigError(`credentials.address: not a URL: ${options.address}`);
    }
    if (url.protocol !== "https:" && url.protocol !== "http:") {
      throw new CredentialConfigError(`credentials.address: must be https:// (or http:// to loopback)`);
    }
    if (url.username !== "" || url.password !== "" || url.search !== "" || url.hash !== "") {
      throw new CredentialConfigError(
        "credentials.address: must not carry credentials, a query or a fragment",
      );
    }
    if (url.protocol === "http:" && !isLoopback(url.hostname) && options.allowHttp !== true) {
      throw new CredentialConfigError(
        "credentials.address: http:// would send the Vault token in clear; use https:// " +
          "(http is allowed to a loopback address, or with credentials.allow_http: true)",
      );
    }
    if (options.caPem && url.protocol !== "https:") {
      throw new CredentialConfigError("credentials.ca_file: only meaningful with an https:// address");
    }
    if (!url.pathname.endsWith("/")) url.pathname += "/";
    this.base = url;
    this.namespace = options.namespace ?? null;
    this.ca = options.caPem ?? null;
    this.timeoutMs = options.timeoutMs;
  }

  /** Where Vault is, for messages (no credentials: the URL has none). */
  get origin(): string {
    return this.base.origin;
  }

  /** Sends one request to `/v1/<path>`. Throws only when no HTTP answer was obtained. */
  async send(
    method: VaultMethod,
    path: string,
    init: { token?: string | null; body?: unknown } = {},
  ): Promise<VaultReply> {
    const url = new URL(`v1/${path}`, this.base);
    const headers: Record<string, string> = { "X-Vault-Request": "true", Accept: "application/json" };
    if (init.token) headers["X-Vault-Token"] = init.token;
    if (this.namespace) headers["X-Vault-Namespace"] = this.namespace;
    let body: string | undefined;
    if (init.body !== undefined) {
      body = JSON.stringify(init.body);
      headers["Content-Type"] = "application/json";
    }
    const what = `${method} /v1/${path}`;
    const { status, text, location } =
      this.ca === null
        ? await this.viaFetch(url, method, headers, body, what)
        : await this.viaHttps(url, method, headers, body, what);
    if (status >= 300 && status < 400) {
      throw new CredentialVaultError(
        `Vault answered a redirect (${status}${location ? ` to ${location}` : ""}) for ${what}; ` +
          "redirects are not followed (they would carry the token): set credentials.address to the active node",
        status,
      );
    }
    if (text.trim() === "") return { status, body: null };
    try {
      const parsed = JSON.parse(text) as unknown;
      if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
        return { status, body: { value: parsed } };
      }
      return { status, body: parsed as Record<string, unknown> };
    } catch {
      if (status >= 400) return { status, body: { errors: [text.slice(0, 200)] } };
      throw new CredentialVaultError(
        `Vault answered ${status} with a body that is not JSON for ${what}`,
        status,
      );
    }
  }

  private async viaFetch(
    url: URL,
    method: VaultMethod,
    headers: Record<string, string>,
    body: string | undefined,
    what: string,
  ): Promise<{ status: number; text: string; location: string | null }> {
    let res: Response;
    try {
      res = await fetch(url, {
        method,
        headers,
        ...(body === undefined ? {} : { body }),
        redirect: "manual",
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (err) {
      throw this.networkError(err, what);
    }
    let text: string;
    try {
      text = await readCapped(res, what);
    } catch (err) {
      if (err instanceof CredentialVaultError) throw err;
      throw this.networkError(err, what);
    }
    return { status: res.status, text, location: res.headers.get("location") };
  }

  private viaHttps(
    url: URL,
    method: VaultMethod,
    headers: Record<string, string>,
    body: string | undefined,
    what: string,
  ): Promise<{ status: number; text: string; location: string | null }> {
    return new Promise((resolve, reject) => {
      const req = httpsRequest(url, { method, headers, ca: this.ca ?? undefined }, (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on("data", (chunk: Buffer) => {
          size += chunk.length;
          if (size > MAX_BODY) {
            req.destroy(new CredentialVaultError(`Vault's answer to ${what} exceeds 1 MiB`));
            return;
          }
          chunks.push(chunk);
        });
        res.on("end", () => {
          clearTimeout(timer);
          const location = res.headers.location;
          resolve({
            status: res.statusCode ?? 0,
            text: Buffer.concat(chunks).toString("utf8"),
            location: typeof location === "string" ? location : null,
          });
        });
        res.on("error", (err) => {
          clearTimeout(timer);
          reject(err instanceof CredentialVaultError ? err : this.networkError(err, what));
        });
      });
      const timer = setTimeout(() => {
        const err = new Error("timeout");
        err.name = "TimeoutError";
        req.destroy(err);
      }, this.timeoutMs);
      req.on("error", (err) => {
        clearTimeout(timer);
        reject(err instanceof CredentialVaultError ? err : this.networkError(err, what));
      });
      req.end(body);
    });
  }

  private networkError(err: unknown, what: string): CredentialVaultError {
    const e = err as { name?: string; code?: string; cause?: { code?: string; message?: string } };
    if (e?.name === "TimeoutError" || e?.name === "AbortError") {
      return new CredentialVaultError(
        `Vault did not answer within ${this.timeoutMs / 1000} s (${what} at ${this.origin})`,
        null,
        { cause: err },
      );
    }
    const code = e?.cause?.code ?? e?.code;
    const message = e?.cause?.message ?? (err instanceof Error ? err.message : String(err));
    const detail = code && message && !message.includes(code) ? `${code}: ${message}` : (message ?? code);
    return new CredentialVaultError(`Vault unreachable at ${this.origin}: ${detail} (${what})`, null, {
      cause: err,
    });
  }
}

async function readCapped(res: Response, what: string): Promise<string> {
  if (res.body === null) return "";
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > MAX_BODY) {
      await reader.cancel().catch(() => undefined);
      throw new CredentialVaultError(`Vault's answer to ${what} exceeds 1 MiB`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString("utf8");
}

/** Vault's `errors` array, joined; or the status. Never echoes request headers. */
export function vaultErrors(reply: VaultReply): string {
  const errors = reply.body?.errors;
  if (Array.isArray(errors) && errors.length > 0) {
    return errors.map((e) => String(e).replace(/\s+/g, " ").slice(0, 300)).join("; ");
  }
  return `HTTP ${reply.status}`;
}
