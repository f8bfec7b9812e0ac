/**
 * One signed webhook POST, as the audit shippers and the approval notifiers send it: JSON, the
 * configured headers, an `X-Agent-Safe-Signature: sha256=<hex>` HMAC of the exact body when a key is
 * set, no redirects, a timeout. Receivers verify the signature over the raw body they received.
 */
import { createHmac } from "node:crypto";

export const SIGNATURE_HEADER = "X-Agent-Safe-Signature";

/** The signature header's value for `body` under `secret`. */
export function webhookSignature(secret: Buffer | string, body: string): string {
  return `sha256=${createHmac("sha256", secret).update(body, "utf8").digest("hex")}`;
}

/** The URL without credentials, query or fragment: safe for messages. */
export function safeUrl(url: URL): string {
  return `${url.protocol}//${url.host}${url.pathname}`;
}

export interface SignedPost {
  url: URL;
  body: string;
  headers: Record<string, string>;
  secret: Buffer | string | null;
  timeoutMs: number;
}

/** POSTs; throws `HTTP <status> from <url>` (without credentials) on anything but 2xx. */
export async function postSigned(p: SignedPost): Promise<void> {
  const headers: Record<string, string> = { "Content-Type": "application/json", ...p.headers };
  if (p.secret !== null) headers[SIGNATURE_HEADER] = webhookSignature(p.secret, p.body);
  const res = await fetch(p.url, {
    method: "POST",
    headers,
    body: p.body,
    redirect: "error",
    signal: AbortSignal.timeout(p.timeoutMs),
  });
  await res.arrayBuffer().catch(() => undefined);
  if (!res.ok) throw new Error(`HTTP ${res.status} from ${safeUrl(p.url)}`);
}
