/**
 * The `approvals:` section of agent-safe.yaml (docs/approvals.md). Unknown keys are errors; an
 * absent section means every default (a SQLite store in `.agent-safe/approvals.db`, requests that
 * live an hour, no notifiers).
 */
import * as z from "zod";
import { laxFloat, laxInt, str } from "./coerce.js";

const positive = () => laxFloat().refine((n) => n > 0, "must be greater than 0");

const delivery = {
  timeout_seconds: positive().default(10).describe("Per-request timeout."),
  queue_size: laxInt({ min: 1 })
    .default(1000)
    .describe("Notifications waiting for delivery; beyond it the oldest is dropped (with a warning)."),
  max_attempts: laxInt({ min: 1 }).default(10).describe("Deliveries tried per notification."),
  retry_max_seconds: positive()
    .default(30)
    .describe("Longest pause between retries (backoff doubles up to it)."),
};

export const approvalNotifierSchema = z.discriminatedUnion("type", [
  z.strictObject({
    type: z.literal("webhook"),
    url: str().describe("http(s) URL; $ENV references are expanded when used."),
    headers: z.record(z.string(), str()).default({}).describe("Sent with every POST ($ENV expanded)."),
    hmac_secret: str()
      .nullable()
      .default(null)
      .describe("Key of the X-Agent-Safe-Signature HMAC: a file, or an $ENV reference."),
    ...delivery,
  }),
  z.strictObject({
    type: z.literal("slack"),
    webhook_url: str().describe("Slack incoming-webhook URL (a secret: use an $ENV reference)."),
    channel: str().nullable().default(null),
    ...delivery,
  }),
]);

export const approvalsSchema = z.strictObject({
  store: str()
    .default("sqlite:.agent-safe/approvals.db")
    .describe("sqlite:<path> (relative to the config file) or postgres://… (several replicas)."),
  ttl_seconds: laxInt({ min: 1 }).default(3600).describe("How long a request may wait for its approvals."),
  notifiers: z.array(approvalNotifierSchema).default([]),
});

export type ApprovalsSettings = z.output<typeof approvalsSchema>;
export type ApprovalNotifierSettings = z.output<typeof approvalNotifierSchema>;

/** The section's values when agent-safe.yaml has none. */
export function defaultApprovalsSettings(): ApprovalsSettings {
  return approvalsSchema.parse({});
}
