/**
 * THREATS.md T19 for approvals: notifiers are off the decision path. An endpoint that hangs or is
 * down does not slow request creation; notifications queue (bounded), retry with backoff and
 * arrive once the endpoint is back. Plus the payload details: Slack escaping, configuration.
 */
import { createServer, type Server, type Socket } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import {
  buildNotifiers,
  Notifiers,
  SlackNotifier,
  slackText,
  WebhookNotifier,
} from "../../src/approvals/notifiers/index.js";
import type { ApprovalService } from "../../src/approvals/service.js";
import type { ApprovalRequest } from "../../src/approvals/types.js";
import { approvalNotifierSchema } from "../../src/config/approvals-schema.js";
import { freePort } from "../state/helpers.js";
import { Recorder, Rig, rejection } from "./helpers.js";

let rig: Rig | null = null;
const recorders: Recorder[] = [];
afterEach(async () => {
  await rig?.close();
  rig = null;
  for (const r of recorders.splice(0)) await r.stop();
});

async function recorder(listen: boolean): Promise<Recorder> {
  const r = await Recorder.create(listen);
  recorders.push(r);
  return r;
}

/** Creates `n` requests from genuine decisions; returns their ids and each creation's latency (ms). */
async function createMany(
  r: Rig,
  approvals: ApprovalService,
  n: number,
): Promise<{ ids: string[]; ms: number[] }> {
  const token = r.token("deploy-bot");
  const ids: string[] = [];
  const ms: number[] = [];
  for (let i = 0; i < n; i++) {
    const { decision, caller, params } = await r.decide(token);
    const t0 = performance.now();
    ids.push((await approvals.createRequest({ decision, params, caller, world: r.world })).request_id);
    ms.push(performance.now() - t0);
  }
  return { ids, ms };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** Accepts connections and never answers. */
async function blackHole(): Promise<{ url: string; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((s) => {
    sockets.add(s);
    s.on("error", () => undefined);
  });
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${port}/hook`,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

describe("notifiers never block the decision", () => {
  it("an endpoint that hangs: creating requests is as fast as with no notifier at all", async () => {
    rig = new Rig();
    const hole = await blackHole();
    try {
      const plain = rig.service(rig.sqliteStore("base.db"));
      await plain.list(); // opens the store: not part of the comparison
      const baseline = await createMany(rig, plain, 15);
      const hanging = rig.service(rig.sqliteStore("hang.db"), {
        notifiers: Notifiers.of(
          [new WebhookNotifier({ url: hole.url }), new SlackNotifier({ webhookUrl: hole.url })],
          { retryBaseMs: 10 },
        ),
      });
      await hanging.list();
      const slow = await createMany(rig, hanging, 15);
      // A synchronous notifier would wait out its 10 s timeout on every request (two notifiers: 20 s).
      expect(Math.max(...slow.ms)).toBeLessThan(1000);
      expect(median(slow.ms)).toBeLessThan(median(baseline.ms) + 25);
      expect(hanging.notifiers.queues.map((q) => q.stats.delivered)).toEqual([0, 0]);
    } finally {
      await hole.close();
    }
  });

  it("an endpoint that is down: nothing is lost; everything arrives after it recovers", async () => {
    rig = new Rig();
    const down = await recorder(false);
    const warnings: string[] = [];
    const approvals = rig.service(undefined, {
      notifiers: Notifiers.of(
        [
          new WebhookNotifier({ url: down.url("/hook") }),
          new SlackNotifier({ webhookUrl: down.url("/slack"), channel: "#ops" }),
        ],
        { retryBaseMs: 20, retryMaxMs: 200, maxAttempts: 1000 },
        (w) => warnings.push(w),
      ),
    });
    await approvals.list();
    const { ids, ms } = await createMany(rig, approvals, 10);
    expect(Math.max(...ms)).toBeLessThan(1000);
    await new Promise((r) => setTimeout(r, 400));
    expect(down.received).toEqual([]);
    expect(approvals.notifiers.queues.every((q) => q.stats.failedAttempts > 0)).toBe(true);

    await down.start();
    const hooks = await down.waitFor("/hook", 10);
    const slacks = await down.waitFor("/slack", 10);
    expect(hooks.map((h) => JSON.parse(h.body).request.request_id)).toEqual(ids);
    expect(
      slacks.map((s) => /\*Request ID:\* `(apr-[0-9a-f]{12})`/.exec(JSON.parse(s.body).text)?.[1]),
    ).toEqual(ids);
    expect(warnings).toEqual([]);
  });

  it("the queue is bounded: the oldest are dropped with a warning; a hopeless delivery is given up", async () => {
    rig = new Rig();
    const down = await recorder(false);
    const warnings: string[] = [];
    const approvals = rig.service(undefined, {
      notifiers: Notifiers.of(
        [new WebhookNotifier({ url: down.url("/hook") })],
        {
          queueSize: 3,
          retryBaseMs: 10_000,
          maxAttempts: 2,
        },
        (w) => warnings.push(w),
      ),
    });
    const { ids } = await createMany(rig, approvals, 6);
    expect(warnings.filter((w) => w.includes("queue full"))).toHaveLength(3);
    expect(warnings[0]).toBe(
      `approval notifier webhook http://127.0.0.1:${down.port}/hook: queue full (3); dropped the notification of ${ids[0]}`,
    );
    await down.start();
    await approvals.notifiers.flush(5000);
    expect(down.on("/hook").map((h) => JSON.parse(h.body).request.request_id)).toEqual(ids.slice(3));

    // Always failing: retried up to max_attempts, then dropped with the reason.
    down.status = 503;
    const failing = rig.service(rig.sqliteStore("failing.db"), {
      notifiers: Notifiers.of(
        [new WebhookNotifier({ url: down.url("/hook") })],
        { retryBaseMs: 10, maxAttempts: 2 },
        (w) => warnings.push(w),
      ),
    });
    const more = await createMany(rig, failing, 1);
    await failing.notifiers.flush(5000);
    expect(warnings.at(-1)).toBe(
      `approval notifier webhook http://127.0.0.1:${down.port}/hook: gave up on ${more.ids[0]} after 2 attempt(s): ` +
        `HTTP 503 from http://127.0.0.1:${down.port}/hook`,
    );
  });
});

describe("notification payloads", () => {
  const request = (o: Partial<ApprovalRequest> = {}): ApprovalRequest => ({
    request_id: "apr-0123456789ab",
    audit_id: "evt-0123456789ab",
    action: "restart-deployment",
    target: "prod/<!channel>`x`",
    caller: "worker",
    caller_chain: ["orchestrator", "lead"],
    params: {},
    params_digest: "sha256:00",
    policy_revision: "r",
    risk_class: "high",
    effective_risk: "critical",
    policy_matched: "p",
    reason: "R & D <needs> it",
    status: "pending",
    created_at: "2026-03-02T10:00:00Z",
    expires_at: "2026-03-02T11:00:00.250000Z",
    resolved_at: null,
    resolved_by: null,
    resolution_reason: null,
    quorum: 2,
    approver_roles: [],
    approvals: [],
    ticket: null,
    ...o,
  });

  it("Slack: the delegation chain, the quorum, exact commands; agent-controlled text cannot ping or break out", () => {
    const lines = slackText(request()).split("\n");
    expect(lines[2]).toBe("*Target:* `prod/&lt;!channel&gt;ˋxˋ`");
    expect(lines[4]).toBe("*Caller chain:* `orchestrator` → `lead` → `worker`");
    expect(lines[6]).toBe("*Reason:* R &amp; D &lt;needs&gt; it");
    expect(lines[8]).toBe(
      "*Approvals needed:* 2 distinct, from any identified approver; never the caller or its delegation chain",
    );
    expect(lines[9]).toBe("*Expires:* 2026-03-02T11:00:00.250000+00:00");
    expect(
      new SlackNotifier({ webhookUrl: "https://hooks.slack.com/services/T/B/secret" }).payload(request()),
    ).not.toHaveProperty("channel");
  });

  it("configuration: $ENV expansion, a secret from the environment, and errors that do not echo URLs", async () => {
    const r = await recorder(true);
    const ref = (name: string) => `$${"{"}${name}}`; // an ${ENV} reference, as written in agent-safe.yaml
    const settings = [
      approvalNotifierSchema.parse({
        type: "webhook",
        url: `${r.url("")}${ref("HOOK_PATH")}`,
        headers: { Authorization: `Bearer ${ref("HOOK_TOKEN")}` },
        hmac_secret: ref("HOOK_SECRET"),
      }),
      approvalNotifierSchema.parse({ type: "slack", webhook_url: ref("SLACK_URL"), channel: "#ops" }),
    ];
    const env = { HOOK_PATH: "/hook", HOOK_TOKEN: "t0k", HOOK_SECRET: "k3y", SLACK_URL: r.url("/slack") };
    const n = buildNotifiers(settings, "/", env);
    n.notify(request());
    await n.flush(5000);
    expect(r.on("/hook")[0]?.headers.authorization).toBe("Bearer t0k");
    expect(r.on("/hook")[0]?.headers["x-agent-safe-signature"]).toMatch(/^sha256=[0-9a-f]{64}$/);
    expect(JSON.parse(r.on("/slack")[0]!.body).channel).toBe("#ops");
    expect(n.queues.map((q) => q.target.describe)).toEqual([
      `webhook ${r.url("/hook")}`,
      `slack http://127.0.0.1:${r.port}`,
    ]);

    const missing = await rejection(Promise.resolve().then(() => buildNotifiers(settings, "/", {})));
    expect(missing.message).toBe("approvals.notifiers[0].url: environment variable HOOK_PATH is not set");
    const bad = await rejection(
      Promise.resolve().then(() =>
        buildNotifiers(
          [approvalNotifierSchema.parse({ type: "slack", webhook_url: "hooks.slack.com/secret-path" })],
          "/",
          {},
        ),
      ),
    );
    expect(bad.message).toBe("approvals slack notifier webhook_url: not a valid URL");
    expect(() =>
      approvalNotifierSchema.parse({ type: "webhook", url: "http://x", hmac_secrte: "k" }),
    ).toThrow(/hmac_secrte/);
  });
});
