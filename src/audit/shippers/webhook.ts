/**
 * Webhook shipper (a SIEM, a log collector): one POST per event.
 *
 * - Body: `{"event": <the event>, "shipped_at": "<ISO time, +00:00>"}` as RFC 8785 canonical JSON
 *   (the event part is the log line itself, byte for byte, so the receiver can re-check its hash).
 * - Headers: `Content-Type: application/json`, the configured headers, then
 *   `Idempotency-Key` and `X-Agent-Safe-Event-Id` (the event id: deliveries are at least once,
 *   drop duplicates on it), `X-Agent-Safe-Seq`, `X-Agent-Safe-Chain`, and with a secret
 *   `X-Agent-Safe-Signature: sha256=<hex HMAC-SHA256 of the exact body>`.
 * - Any non-2xx answer, a timeout or a network error is a failure (retried by the runner).
 *   Redirects are not followed: they would carry the headers (and the signature) elsewhere.
 */
import { postSigned, safeUrl } from "../../net/webhook.js";
import { AuditError } from "../errors.js";
import { shortHash } from "./filesystem.js";
import type { ShipItem, ShipperRunOptions, ShipTarget } from "./types.js";

export interface WebhookShipperOptions {
  url: string;
  headers?: Record<string, string>;
  /** Key of the `X-Agent-Safe-Signature` HMAC; none when absent. */
  hmacSecret?: Buffer | string | null;
  /** Per-request timeout, default 10 s. */
  timeoutMs?: number;
  name?: string;
  runOptions?: ShipperRunOptions;
}

export { SIGNATURE_HEADER } from "../../net/webhook.js";

export class WebhookShipper implements ShipTarget {
  readonly kind = "webhook";
  readonly id: string;
  readonly describe: string;
  readonly runOptions: ShipperRunOptions | undefined;
  private readonly url: URL;
  private readonly headers: Record<string, string>;
  private readonly secret: Buffer | null;
  private readonly timeoutMs: number;

  constructor(options: WebhookShipperOptions) {
    let url: URL;
    try {
      url = new URL(options.url);
    } catch {
      throw new AuditError("CONFIG", "webhook shipper: url is not a valid URL");
    }
    if (url.protocol !== "https:" && url.protocol !== "http:") {
      throw new AuditError("CONFIG", "webhook shipper: url must be http(s)");
    }
    this.url = url;
    this.headers = { ...(options.headers ?? {}) };
    for (const [k, v] of Object.entries(this.headers)) {
      if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(k) || typeof v !== "string" || /[\r\n]/.test(v)) {
        throw new AuditError("CONFIG", `webhook shipper: invalid header ${JSON.stringify(k)}`);
      }
    }
    const s = options.hmacSecret;
    this.secret = s === undefined || s === null ? null : Buffer.isBuffer(s) ? s : Buffer.from(s, "utf8");
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.describe = `webhook ${safeUrl(url)}`;
    this.id = options.name ?? `webhook-${shortHash(url.href)}`;
    this.runOptions = options.runOptions;
  }

  async send(item: ShipItem): Promise<void> {
    const event = item.line.endsWith("\n") ? item.line.slice(0, -1) : item.line;
    const body = `{"event":${event},"shipped_at":"${isoformatUtc(new Date())}"}`;
    await postSigned({
      url: this.url,
      body,
      headers: {
        ...this.headers,
        "Idempotency-Key": item.record.event_id,
        "X-Agent-Safe-Event-Id": item.record.event_id,
        "X-Agent-Safe-Seq": String(item.record.seq),
        "X-Agent-Safe-Chain": item.record.chain_id ?? "",
      },
      secret: this.secret,
      timeoutMs: this.timeoutMs,
    });
  }
}

export { safeUrl } from "../../net/webhook.js";

/** Python's `datetime.now(timezone.utc).isoformat()`: `…T12:00:00.123000+00:00`. */
export function isoformatUtc(d: Date): string {
  const iso = d.toISOString();
  const ms = d.getUTCMilliseconds();
  return ms === 0
    ? `${iso.slice(0, 19)}+00:00`
    : `${iso.slice(0, 19)}.${String(ms * 1000).padStart(6, "0")}+00:00`;
}
