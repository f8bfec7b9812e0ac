/** Text output of the approval commands (REFERENCE.md §12.2 where 0.9.0 had a format). */
import type { ApprovalOutcome, ApprovalWaitResult } from "../../approvals/service.js";
import type { ApprovalRequest } from "../../approvals/types.js";
import { pythonIsoformat } from "../../jwt/claims.js";
import { print } from "../common.js";

/** `  <id>  [<risk>]  <action:<25> target=<t>  caller=<c>` and its detail lines (0.9.0 plus ours). */
export function printListed(r: ApprovalRequest, showStatus: boolean): void {
  print(
    `  ${r.request_id}  [${r.effective_risk}]  ${r.action.padEnd(25)} target=${r.target}  caller=${r.caller}`,
  );
  if (showStatus) print(`    status: ${r.status}`);
  print(`    reason: ${r.reason}`);
  print(`    expires: ${r.expires_at.slice(0, 19)}`);
  print(`    approvals: ${r.approvals.length} of ${r.quorum}${roles(r)}`);
}

export function countLine(n: number, status: string): string {
  return status === "all" ? `${n} request(s).` : `${n} ${status} request(s).`;
}

function roles(r: ApprovalRequest): string {
  return r.approver_roles.length === 0 ? "" : ` (roles: ${r.approver_roles.join(", ")})`;
}

const field = (name: string, value: string) => print(`  ${`${name}:`.padEnd(10)} ${value}`);

export function printRequest(r: ApprovalRequest): void {
  print(`${r.status.toUpperCase()} — ${r.request_id}`);
  field("action", r.action);
  field("target", r.target);
  field("caller", r.caller);
  if (r.caller_chain.length > 0) field("chain", [...r.caller_chain, r.caller].join(" → "));
  field("risk", `${r.effective_risk} (action: ${r.risk_class})`);
  field("policy", r.policy_matched ?? "-");
  field("reason", r.reason);
  field("params", JSON.stringify(r.params));
  field("digest", r.params_digest);
  field("revision", r.policy_revision);
  field("quorum", `${r.approvals.length} of ${r.quorum}${roles(r)}`);
  for (const a of r.approvals)
    field("approved", `${a.approver} at ${a.at}${a.reason ? `: ${a.reason}` : ""}`);
  field("audit", r.audit_id ?? "-");
  field("created", r.created_at);
  field("expires", r.expires_at);
  if (r.resolved_at !== null)
    field(
      "resolved",
      `${r.resolved_at} by ${r.resolved_by}${r.resolution_reason ? `: ${r.resolution_reason}` : ""}`,
    );
  if (r.ticket !== null)
    field(
      "ticket",
      `nonce ${r.ticket.nonce}, expires ${r.ticket.expires_at}, ` +
        (r.ticket.delivered ? `delivered at ${r.ticket.delivered_at}` : "not collected yet"),
    );
}

export function printOutcome(o: ApprovalOutcome): void {
  const r = o.request;
  const result = r.status === "approved" ? "ALLOW" : r.status === "denied" ? "DENY" : "PENDING";
  print(`${result} — ${o.reason}`);
  print(`  request: ${r.request_id}`);
  print(`  action:  ${r.action}`);
  print(`  target:  ${r.target}`);
  if (r.status === "pending") print(`  needed:  ${o.remaining} more distinct approval(s)`);
  if (r.ticket !== null)
    print(
      `  ticket:  minted (nonce ${r.ticket.nonce}); the requester collects it with: agent-safe approval wait ${r.request_id}`,
    );
}

export function printWaited(w: ApprovalWaitResult): void {
  const d = w.decision;
  print(`${d.result.toUpperCase()} — ${d.reason}`);
  print(`  request: ${w.request.request_id}`);
  print(`  action:  ${d.action}`);
  print(`  target:  ${d.target}`);
  if (d.ticket !== null) {
    print(`  ticket:  ${d.ticket.token}`);
    print(`  nonce:   ${d.ticket.nonce}`);
    print(`  expires: ${pythonIsoformat(Date.parse(d.ticket.expires_at))}`);
  } else if (w.ticketNote !== null) {
    print(`  ticket:  not delivered: ${w.ticketNote}`);
  }
}
