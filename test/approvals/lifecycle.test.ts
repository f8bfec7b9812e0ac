/**
 * The approval lifecycle end to end, in-process, with a real SQLite store, a real audit log and a
 * loopback server receiving the notifications: REQUIRE_APPROVAL → request stored → webhook and
 * Slack notifications → approved by a second identity → exactly one ticket → it redeems once.
 * The audit log verifies and links the decision, the request, the approval and the ticket by ids.
 */
import { createHmac } from "node:crypto";
import { readFileSync } from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import { Notifiers, SlackNotifier, WebhookNotifier } from "../../src/approvals/notifiers/index.js";
import { verifyLog } from "../../src/audit/verify.js";
import type { TicketIssuer } from "../../src/tickets/issuer.js";
import { PROD, Recorder, Rig, rejection } from "./helpers.js";

const SECRET = "s3cr3t-value";
let rig: Rig;
let recorder: Recorder | null = null;

afterEach(async () => {
  await rig?.close();
  await recorder?.stop();
  recorder = null;
});

function countingIssuer(issuer: TicketIssuer): { issuer: TicketIssuer; minted: () => number } {
  let n = 0;
  const wrapped = Object.create(issuer) as TicketIssuer;
  wrapped.issue = (input) => {
    n++;
    return issuer.issue(input);
  };
  return { issuer: wrapped, minted: () => n };
}

describe("approval lifecycle", () => {
  it("REQUIRE_APPROVAL → stored → notified → approved by a second identity → one ticket, redeemed once", async () => {
    rig = new Rig();
    recorder = await Recorder.create();
    await rig.openAudit();
    const counting = countingIssuer(rig.tickets.issuer);
    const notifiers = Notifiers.of(
      [
        new WebhookNotifier({
          url: recorder.url("/hook"),
          headers: { "X-Team": "platform" },
          hmacSecret: "hook-key",
        }),
        new SlackNotifier({ webhookUrl: recorder.url("/slack"), channel: "#ops" }),
      ],
      { retryBaseMs: 20 },
    );
    const approvals = rig.service(undefined, { tickets: counting.issuer, notifiers });
    const requester = rig.token("deploy-bot", ["deployer"]);

    // 1. The decision, and its request.
    const { decision, caller, params } = await rig.decide(requester);
    expect(decision).toMatchObject({ result: "require_approval", policy_matched: "require-approval-prod" });
    const req = await approvals.createRequest({ decision, params, caller, world: rig.world });
    expect(req.request_id).toMatch(/^apr-[0-9a-f]{12}$/);
    expect(req).toMatchObject({
      status: "pending",
      audit_id: decision.audit_id,
      action: "restart-deployment",
      target: PROD,
      caller: "deploy-bot",
      caller_chain: [],
      params: { namespace: "prod", token: "[REDACTED]", grace: 30 },
      policy_revision: "rev-1",
      quorum: 1,
      approver_roles: ["sre", "oncall"],
      reason: "Production actions require explicit approval",
    });
    expect(req.params_digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(await approvals.get(req.request_id)).toEqual(req);
    expect((await approvals.list()).map((r) => r.request_id)).toEqual([req.request_id]);

    // 2. Both notifications arrive at the loopback server.
    const [hook] = await recorder.waitFor("/hook", 1);
    const [slack] = await recorder.waitFor("/slack", 1);
    expect(hook!.headers["content-type"]).toBe("application/json");
    expect(hook!.headers["x-team"]).toBe("platform");
    expect(hook!.headers["x-agent-safe-request-id"]).toBe(req.request_id);
    expect(hook!.headers["x-agent-safe-signature"]).toBe(
      `sha256=${createHmac("sha256", "hook-key").update(hook!.body).digest("hex")}`,
    );
    const body = JSON.parse(hook!.body);
    expect(Object.keys(body)).toEqual(["notified_at", "request", "type"]);
    expect(body.type).toBe("approval_request");
    expect(body.notified_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{6})?\+00:00$/);
    expect(body.request).toEqual(req);
    const payload = JSON.parse(slack!.body);
    expect(payload.channel).toBe("#ops");
    expect(payload.text.split("\n")).toEqual([
      "*Approval Required*",
      "*Action:* `restart-deployment`",
      "*Target:* `prod/web`",
      "*Caller:* `deploy-bot`",
      "*Caller chain:* `deploy-bot` (not delegated)",
      "*Risk:* `critical`",
      "*Reason:* Production actions require explicit approval",
      `*Request ID:* \`${req.request_id}\``,
      "*Approvals needed:* 1 distinct, from roles `sre`, `oncall`; never the caller or its delegation chain",
      `*Expires:* ${req.expires_at.replace(/Z$/, "+00:00")}`,
      "",
      `Resolve with: \`agent-safe approval approve ${req.request_id} --token-file TOKEN_FILE\` or ` +
        `\`agent-safe approval deny ${req.request_id} --token-file TOKEN_FILE --reason "…"\` (TOKEN_FILE: your identity token)`,
    ]);

    // 3. A second identity, holding an approver role, approves: the request is granted.
    const alice = rig.token("alice", ["sre"]);
    const approved = await approvals.approve(req.request_id, alice, "looks fine");
    expect(approved).toMatchObject({
      reason: "Approval approved by alice: looks fine",
      remaining: 0,
      request: { status: "approved", resolved_by: "alice", resolution_reason: "looks fine" },
    });
    expect(approved.request.ticket).toMatchObject({ audit_id: approved.event_id, delivered: false });
    expect(JSON.stringify(approved)).not.toMatch(/eyJ/);
    expect(counting.minted()).toBe(1);

    // 4. The requester collects the ticket, once; it verifies and redeems exactly once.
    const waited = await approvals.waitForApproval(req.request_id, { timeout: 5, requester });
    expect(waited).toMatchObject({ status: "approved", timedOut: false, ticket: "delivered" });
    expect(waited.decision).toMatchObject({
      result: "allow",
      reason: "Approval approved by alice: looks fine",
      audit_id: approved.event_id,
      request_id: req.request_id,
    });
    const ticket = waited.decision.ticket!;
    expect(ticket).toMatchObject({
      action: "restart-deployment",
      target: PROD,
      caller: "deploy-bot",
      audit_id: approved.event_id,
      nonce: approved.request.ticket!.nonce,
      params_digest: req.params_digest,
      redacted_params: ["token"],
    });
    const expect1 = {
      expectedAction: "restart-deployment",
      expectedTarget: PROD,
      expectedParams: { ...params, grace: 30 },
    };
    expect((await rig.tickets.validator.verify(ticket.token, expect1)).valid).toBe(true);
    expect(await rig.tickets.validator.redeem(ticket.token, expect1)).toMatchObject({ valid: true });
    expect(await rig.tickets.validator.redeem(ticket.token, expect1)).toMatchObject({
      valid: false,
      reason: "Ticket has already been used (replay detected)",
    });

    // Never again: later waits, approvals and reads get the metadata, not a token.
    const again = await approvals.waitForApproval(req.request_id, { timeout: 0, requester });
    expect(again.ticket).toBe("already_delivered");
    expect(again.decision.ticket).toBeNull();
    expect(again.ticketNote).toMatch(
      /^the ticket was already delivered to deploy-bot at .*; it is delivered once$/,
    );
    const late = await rejection(approvals.approve(req.request_id, rig.token("carol", ["sre"])));
    expect(late.message).toBe(`Request ${req.request_id} is already approved`);
    expect(late.code).toBe("resolved");
    expect(counting.minted()).toBe(1);
    const shown = await approvals.get(req.request_id);
    expect(shown?.ticket).toMatchObject({ delivered: true, nonce: ticket.nonce });
    expect(JSON.stringify(shown)).not.toContain(ticket.token);

    // 5. The audit log verifies and links decision → request → approval → ticket.
    await rig.close();
    const report = await verifyLog(rig.auditPath);
    expect(report.ok).toBe(true);
    const text = readFileSync(rig.auditPath, "utf8");
    expect(text).not.toContain(SECRET);
    expect(text).not.toContain(ticket.token);
    const events = text
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as Record<string, unknown> & { context: Record<string, unknown> | null });
    const byType = (t: string) => events.filter((e) => (e.context as { type?: string } | null)?.type === t);
    const decided = events.find((e) => e.event_id === decision.audit_id)!;
    expect(decided).toMatchObject({ event_type: "decision", decision: "require_approval" });
    const [requested] = byType("approval_request");
    expect(requested).toMatchObject({
      event_type: "approval",
      correlation_id: decision.audit_id,
      decision: "require_approval",
      reason: `Approval requested (${req.request_id}): Production actions require explicit approval`,
      context: {
        request_id: req.request_id,
        original_audit_id: decision.audit_id,
        params_digest: req.params_digest,
      },
    });
    expect((requested!.params as Record<string, unknown>).token).toMatch(/^\[REDACTED\]|^hmac-sha256:/);
    const [granted] = byType("approval_resolution");
    expect(granted).toMatchObject({
      event_type: "approval",
      event_id: ticket.audit_id,
      correlation_id: decision.audit_id,
      decision: "allow",
      reason: "Approval approved by alice: looks fine",
      context: {
        request_id: req.request_id,
        resolution: "approve",
        resolved_by: "alice",
        ticket_nonce: ticket.nonce,
      },
    });
    const [delivered] = byType("approval_ticket");
    expect(delivered).toMatchObject({
      reason: `Ticket for ${req.request_id} delivered to deploy-bot`,
      context: { request_id: req.request_id, ticket_nonce: ticket.nonce, ticket_audit_id: ticket.audit_id },
    });
    for (const r of recorder.received) expect(r.body).not.toContain(SECRET);
  });
});
