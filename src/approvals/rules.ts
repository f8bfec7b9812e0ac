/**
 * Who may approve (DESIGN.md §4 item 7, THREATS.md T17). Pure checks on a pending request and a
 * verified approver, each refusal with its reason:
 *
 * 1. Separation of duties. A request's *parties* are the requester and every agent in its
 *    delegation chain; an approver's *principals* are the approver and every agent in its own
 *    chain (who it acts for). The two sets must not meet: the requester cannot approve, nor can
 *    whoever delegated to it, nor can an agent acting by delegation from any of them (approval
 *    laundering through a delegate).
 * 2. Approver roles: with `approver_roles` on the rule, the approver must hold at least one.
 * 3. Quorum counts distinct people: an approver whose principals meet those of an earlier approval
 *    (the same agent, or a delegate of the same root) does not count again and is refused.
 */
import { pyListRepr, pyStrRepr } from "../core/pyformat.js";
import type { CallerIdentity } from "../core/types.js";
import { ApprovalError } from "./errors.js";
import type { ApprovalRecord, ApprovalVote } from "./types.js";

/** The approver and the agents it acts for. */
export function principals(identity: Pick<CallerIdentity, "agent_id" | "delegation_chain">): string[] {
  return [...identity.delegation_chain.map((l) => l.agent_id), identity.agent_id];
}

function voteParties(v: ApprovalVote): string[] {
  return [...v.chain, v.approver];
}

const refuse = (why: string, code: ApprovalError["code"]) =>
  new ApprovalError(`Approval refused: ${why}`, code);

/** Separation of duties: null when the approver is none of the request's parties. */
export function separationOfDuties(record: ApprovalRecord, approver: CallerIdentity): ApprovalError | null {
  const who = pyStrRepr(approver.agent_id);
  const id = record.request_id;
  if (approver.agent_id === record.caller)
    return refuse(
      `${who} is the requester of ${id}; a request cannot be approved by its requester (separation of duties)`,
      "separation_of_duties",
    );
  if (record.caller_chain.includes(approver.agent_id))
    return refuse(
      `${who} delegated to the requester ${pyStrRepr(record.caller)} (delegation chain ` +
        `${pyListRepr(record.caller_chain)}); a delegator cannot approve its delegate's request`,
      "separation_of_duties",
    );
  const parties = new Set([...record.caller_chain, record.caller]);
  const via = approver.delegation_chain.map((l) => l.agent_id).find((a) => parties.has(a));
  if (via !== undefined)
    return refuse(
      `${who} acts by delegation from ${pyStrRepr(via)}, who is ${via === record.caller ? "the requester" : "in the requester's delegation chain"}; ` +
        "an approval cannot come from the requester's side",
      "separation_of_duties",
    );
  return null;
}

/** The rule's approver roles: null when the approver holds one (or the rule names none). */
export function approverRole(record: ApprovalRecord, approver: CallerIdentity): ApprovalError | null {
  if (record.approver_roles.length === 0) return null;
  if (approver.roles.some((r) => record.approver_roles.includes(r))) return null;
  const rule = record.policy_matched === null ? "" : ` required by rule ${pyStrRepr(record.policy_matched)}`;
  return refuse(
    `${pyStrRepr(approver.agent_id)} holds none of the approver roles ${pyListRepr(record.approver_roles)}${rule} ` +
      `(has ${pyListRepr(approver.roles)})`,
    "role",
  );
}

/** Distinct approvers: null when nobody the approver is or acts for has approved already. */
export function distinctApprover(record: ApprovalRecord, approver: CallerIdentity): ApprovalError | null {
  const mine = new Set(principals(approver));
  for (const v of record.approvals) {
    const overlap = voteParties(v).find((p) => mine.has(p));
    if (overlap === undefined) continue;
    const who = pyStrRepr(approver.agent_id);
    const same =
      v.approver === approver.agent_id
        ? `${who} has already approved ${record.request_id}`
        : `${who} and ${pyStrRepr(v.approver)}, who already approved ${record.request_id}, act for the same principal ${pyStrRepr(overlap)}`;
    return refuse(
      `${same}; a quorum of ${record.quorum} needs ${record.quorum} distinct approvers ` +
        `(${record.approvals.length} so far)`,
      "duplicate_approver",
    );
  }
  return null;
}

/** Every check an approval must pass, first failure first. */
export function checkApprover(record: ApprovalRecord, approver: CallerIdentity): ApprovalError | null {
  return (
    separationOfDuties(record, approver) ??
    approverRole(record, approver) ??
    distinctApprover(record, approver)
  );
}

/**
 * Who may deny: any identified approver holding an approver role, and the requester's side too
 * (withdrawing one's own request only makes things stricter).
 */
export function checkDenier(record: ApprovalRecord, denier: CallerIdentity): ApprovalError | null {
  if (separationOfDuties(record, denier) !== null) return null;
  return approverRole(record, denier);
}
