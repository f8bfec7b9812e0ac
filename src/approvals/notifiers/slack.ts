/**
 * Slack incoming-webhook notifier (REFERENCE.md §8.3): POST `{"text": …, "channel": …}` (`channel`
 * only when configured). The text keeps 0.9.0's lines and adds the caller's delegation chain, the
 * quorum and approver roles, and the exact commands that approve or deny — which in this version
 * need the approver's identity token (`--token-file`).
 *
 * Every value an agent can influence (target ids, params, reasons) is escaped for Slack's mrkdwn:
 * `&`, `<`, `>` become entities (so `<!channel>` cannot ping anyone) and backticks cannot close
 * the code span.
 */
import { pythonIsoformat } from "../../jwt/claims.js";
import type { ApprovalRequest } from "../types.js";
import type { NotifierTarget } from "./queue.js";
import { checkUrl } from "./webhook.js";

export interface SlackNotifierOptions {
  webhookUrl: string;
  channel?: string | null;
  timeoutMs?: number;
}

/** Slack's three control characters, and backticks (which would end a code span). */
export function slackEscape(text: string): string {
  return text.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;").replaceAll("`", "ˋ");
}

const code = (text: string) => `\`${slackEscape(text)}\``;

export function slackText(r: ApprovalRequest): string {
  const chain =
    r.caller_chain.length === 0
      ? `${code(r.caller)} (not delegated)`
      : [...r.caller_chain, r.caller].map(code).join(" → ");
  const roles =
    r.approver_roles.length === 0
      ? "any identified approver"
      : `roles ${r.approver_roles.map(code).join(", ")}`;
  const expires = pythonIsoformat(Date.parse(r.expires_at));
  const id = slackEscape(r.request_id);
  return [
    "*Approval Required*",
    `*Action:* ${code(r.action)}`,
    `*Target:* ${code(r.target)}`,
    `*Caller:* ${code(r.caller)}`,
    `*Caller chain:* ${chain}`,
    `*Risk:* ${code(r.effective_risk)}`,
    `*Reason:* ${slackEscape(r.reason)}`,
    `*Request ID:* ${code(r.request_id)}`,
    `*Approvals needed:* ${r.quorum} distinct, from ${roles}; never the caller or its delegation chain`,
    `*Expires:* ${expires}`,
    "",
    `Resolve with: \`agent-safe approval approve ${id} --token-file TOKEN_FILE\` or ` +
      `\`agent-safe approval deny ${id} --token-file TOKEN_FILE --reason "…"\` ` +
      "(TOKEN_FILE: your identity token)",
  ].join("\n");
}

export class SlackNotifier implements NotifierTarget {
  readonly kind = "slack";
  readonly describe: string;
  private readonly url: URL;
  private readonly channel: string | null;
  private readonly timeoutMs: number;

  constructor(options: SlackNotifierOptions) {
    this.url = checkUrl(options.webhookUrl, "approvals slack notifier webhook_url");
    this.channel = options.channel ?? null;
    this.timeoutMs = options.timeoutMs ?? 10_000;
    // Slack webhook URLs are secrets in their path: name the host only.
    this.describe = `slack ${this.url.protocol}//${this.url.host}`;
  }

  payload(request: ApprovalRequest): { text: string; channel?: string } {
    const text = slackText(request);
    return this.channel === null ? { text } : { text, channel: this.channel };
  }

  async send(request: ApprovalRequest): Promise<void> {
    const res = await fetch(this.url, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(this.payload(request)),
      redirect: "error",
      signal: AbortSignal.timeout(this.timeoutMs),
    });
    await res.arrayBuffer().catch(() => undefined);
    if (!res.ok) throw new Error(`HTTP ${res.status} from ${this.describe}`);
  }
}
