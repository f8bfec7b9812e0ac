/**
 * The configured notifiers (`approvals.notifiers`), each behind its own delivery queue, so a dead
 * Slack does not hold up the webhook. `notify` never throws and never waits.
 */
import { readSecretSetting } from "../../audit/settings.js";
import type { ApprovalNotifierSettings } from "../../config/approvals-schema.js";
import { expandEnv } from "../../config/env.js";
import { ApprovalError } from "../errors.js";
import type { ApprovalRequest } from "../types.js";
import { type DeliveryOptions, NotifierQueue, type NotifierTarget, type WarningSink } from "./queue.js";
import { SlackNotifier } from "./slack.js";
import { WebhookNotifier } from "./webhook.js";

export {
  type DeliveryOptions,
  NotifierQueue,
  type NotifierTarget,
  type QueueStats,
  type WarningSink,
} from "./queue.js";
export { SlackNotifier, type SlackNotifierOptions, slackEscape, slackText } from "./slack.js";
export { SIGNATURE_HEADER, WebhookNotifier, type WebhookNotifierOptions } from "./webhook.js";

export class Notifiers {
  constructor(readonly queues: readonly NotifierQueue[]) {}

  static none(): Notifiers {
    return new Notifiers([]);
  }

  static of(
    targets: readonly NotifierTarget[],
    options: DeliveryOptions = {},
    warn?: WarningSink,
  ): Notifiers {
    return new Notifiers(targets.map((t) => new NotifierQueue(t, options, warn)));
  }

  notify(request: ApprovalRequest): void {
    for (const q of this.queues) q.enqueue(request);
  }

  /** Waits (at most `timeoutMs`) for every queue to drain. */
  async flush(timeoutMs: number): Promise<boolean> {
    const results = await Promise.all(this.queues.map((q) => q.flush(timeoutMs)));
    return results.every(Boolean);
  }

  async close(timeoutMs = 2000): Promise<void> {
    await Promise.all(this.queues.map((q) => q.close(timeoutMs)));
  }
}

/** Builds the notifiers of `approvals.notifiers`: `${ENV}` expanded, secrets read from files or the environment. */
export function buildNotifiers(
  settings: readonly ApprovalNotifierSettings[],
  root: string,
  env: NodeJS.ProcessEnv = process.env,
  warn?: WarningSink,
): Notifiers {
  const queues = settings.map((s, i) => {
    const where = `approvals.notifiers[${i}]`;
    const delivery: DeliveryOptions = {
      queueSize: s.queue_size,
      maxAttempts: s.max_attempts,
      retryMaxMs: s.retry_max_seconds * 1000,
    };
    let target: NotifierTarget;
    try {
      if (s.type === "webhook") {
        const url = expandEnv(s.url, `${where}.url`, env);
        const headers: Record<string, string> = {};
        for (const [k, v] of Object.entries(s.headers))
          headers[k] = expandEnv(v, `${where}.headers.${k}`, env);
        target = new WebhookNotifier({
          url,
          headers,
          hmacSecret:
            s.hmac_secret === null
              ? null
              : readSecretSetting(s.hmac_secret, `${where}.hmac_secret`, root, env),
          timeoutMs: s.timeout_seconds * 1000,
        });
      } else {
        target = new SlackNotifier({
          webhookUrl: expandEnv(s.webhook_url, `${where}.webhook_url`, env),
          channel: s.channel,
          timeoutMs: s.timeout_seconds * 1000,
        });
      }
    } catch (err) {
      if (err instanceof ApprovalError) throw err;
      throw new ApprovalError(err instanceof Error ? err.message : String(err), "config", { cause: err });
    }
    return new NotifierQueue(target, delivery, warn);
  });
  return new Notifiers(queues);
}
