/**
 * Webhook notifier (REFERENCE.md §8.3): one POST per new request.
 *
 * - Body: RFC 8785 canonical JSON of `{"type":"approval_request","request":<request>,
 *   "notified_at":"<ISO time, +00:00>"}`; the request is the public view (sensitive params
 *   redacted, no ticket token).
 * - Headers: `Content-Type: application/json`, the configured headers, `X-Agent-Safe-Request-Id`
 *   and `Idempotency-Key` (the request id: delivery is at least once, drop duplicates on it), and
 *   with a secret `X-Agent-Safe-Signature: sha256=<hex HMAC-SHA256 of the exact body>`.
 * - A non-2xx answer, a timeout or a network error is a failure, retried by the queue. Redirects
 *   are not followed (they would carry the headers and signature elsewhere).
 */
import { canonicalize } from "../../codec/jcs.js";
import { pythonIsoformat } from "../../jwt/claims.js";
import { postSigned, safeUrl } from "../../net/webhook.js";
import { ApprovalError } from "../errors.js";
import type { ApprovalRequest } from "../types.js";
import type { NotifierTarget } from "./queue.js";

export { SIGNATURE_HEADER, safeUrl } from "../../net/webhook.js";

export interface WebhookNotifierOptions {
  url: string;
  headers?: Record<string, string>;
  hmacSecret?: Buffer | string | null;
  /** Per-request timeout, ms (default 10,000). */
  timeoutMs?: number;
}

/** Checks an http(s) URL; the error names `what` without echoing the URL (it may hold a token). */
export function checkUrl(text: string, what: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new ApprovalError(`${what}: not a valid URL`, "config");
  }
  if (url.protocol !== "https:" && url.protocol !== "http:")
    throw new ApprovalError(`${what}: must be an http(s) URL`, "config");
  return url;
}

export class WebhookNotifier implements NotifierTarget {
  readonly kind = "webhook";
  readonly describe: string;
  private readonly url: URL;
  private readonly headers: Record<string, string>;
  private readonly secret: Buffer | null;
  private readonly timeoutMs: number;

  constructor(options: WebhookNotifierOptions) {
    this.url = checkUrl(options.url, "approvals webhook notifier url");
    this.headers = { ...(options.headers ?? {}) };
    for (const [k, v] of Object.entries(this.headers)) {
      if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(k) || typeof v !== "string" || /[\r\n]/.test(v))
        throw new ApprovalError(`approvals webhook notifier: invalid header ${JSON.stringify(k)}`, "config");
    }
    const s = options.hmacSecret;
    this.secret = s === undefined || s === null ? null : Buffer.isBuffer(s) ? s : Buffer.from(s, "utf8");
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.describe = `webhook ${safeUrl(this.url)}`;
  }

  /** The exact body sent for `request` at `at` (epoch ms). */
  body(request: ApprovalRequest, at: number = Date.now()): string {
    return canonicalize({ type: "approval_request", request, notified_at: pythonIsoformat(at) });
  }

  async send(request: ApprovalRequest): Promise<void> {
    const body = this.body(request);
    await postSigned({
      url: this.url,
      body,
      headers: {
        ...this.headers,
        "X-Agent-Safe-Request-Id": request.request_id,
        "Idempotency-Key": request.request_id,
      },
      secret: this.secret,
      timeoutMs: this.timeoutMs,
    });
  }
}
