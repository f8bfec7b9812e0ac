/**
 * The approval service: what the decision pipeline, the SDK, the CLI (and later the sidecar) call.
 *
 * - `createRequest` stores a pending request for a REQUIRE_APPROVAL decision and notifies
 *   (asynchronously: notifiers never slow it down).
 * - `approve` / `deny` act for an identified person (see identity.ts, rules.ts); approving with the
 *   quorum reached mints exactly one ticket, sealed in the store.
 * - `waitForApproval` waits for the outcome (PostgreSQL: woken by NOTIFY; SQLite: polling) and
 *   hands the ticket, token included, to the requester exactly once.
 * - `get` / `list` read, expiring what is due on the way (with its audit event).
 *
 * Every transition commits together with its audit event, or not at all.
 */
import { newEventId as nextEventId } from "../audit/event.js";
import type { AuditInput } from "../audit/types.js";
import { pyStrRepr } from "../core/pyformat.js";
import type { CallerIdentity } from "../core/types.js";
import type { IdentityVerifier } from "../identity/verifier.js";
import type { AuditSink } from "../pdp/pipeline.js";
import type { TicketIssuer } from "../tickets/issuer.js";
import { requestedEvent } from "./audit-events.js";
import { alreadyDelivered, asOf, isRequester } from "./delivery.js";
import { ApprovalError } from "./errors.js";
import { type ActorInput, resolveActor } from "./identity.js";
import { Notifiers } from "./notifiers/index.js";
import {
  type ApprovalDecision,
  type CreateRequestInput,
  decisionOf,
  newRecord,
  REQUEST_ID_PATTERN,
  toView,
} from "./record.js";
import type { TicketSealer } from "./seal.js";
import type { ApprovalStore, Persist } from "./store.js";
import { type Acted, deliveredTicket, planApprove, planClaim, planDeny, planExpiry } from "./transitions.js";
import type { ApprovalRecord, ApprovalRequest, ApprovalStatus } from "./types.js";

export interface ApprovalServiceOptions {
  store: ApprovalStore;
  /** Verifies approvers' (and requesters') identity tokens; null when no keys are configured. */
  identity: IdentityVerifier | null;
  /** Mints the ticket of a granted request; null: no keys, no tickets (as for ALLOW). */
  tickets: TicketIssuer | null;
  /** Seals the minted token in the store until the requester collects it. */
  sealer: TicketSealer | null;
  /**
   * Every transition's audit event goes here before the transition commits. An optional
   * `ready()` is awaited before each transition starts (a CLI opens its writer — and takes the
   * log's lock — only then, and always before the store's lock).
   */
  audit: (AuditSink & { ready?(): Promise<void> }) | null;
  notifiers?: Notifiers;
  /** Request lifetime (default 3600 s). */
  ttlSeconds?: number;
  /** The policy revision in force (the world's); approving needs it. */
  currentRevision?: (() => string) | null;
  /**
   * In-process use (the SDK): identity objects are accepted, and the ticket goes to the waiting
   * process without proof that it is the requester. The CLI and the sidecar pass false.
   */
  trusted: boolean;
  /**
   * Whether reads (`get`, `list`) record the expiry of requests that are due (default true). A
   * read-only reader (CLI `list`/`show`) passes false: it shows them expired, and the next
   * transition records it.
   */
  expireOnRead?: boolean;
  clock?: () => number;
}

export interface ApprovalOutcome {
  request: ApprovalRequest;
  /** The audit event of this approval or denial (for a granting approval, the ticket's audit id). */
  event_id: string;
  /** `Approval approved by …`, `Approval denied by …`, `Approval recorded by … (1 of 2)`. */
  reason: string;
  /** Distinct approvals still needed (0 once resolved). */
  remaining: number;
}

export interface WaitOptions {
  /** Seconds to wait (default 60; 0 looks once). */
  timeout?: number;
  /**
   * The requester's identity token (or, in-process, identity object). Needed to collect the
   * ticket outside in-process use; without it the outcome is reported without the token.
   */
  requester?: ActorInput;
  signal?: AbortSignal;
  /** Called once the wait is set up and the request is still pending (the CLI says "waiting…"). */
  onWaiting?: (request: ApprovalRequest) => void;
}

export type TicketDelivery = "delivered" | "already_delivered" | "not_requester" | "expired" | "none";

export interface ApprovalWaitResult {
  status: ApprovalStatus;
  timedOut: boolean;
  request: ApprovalRequest;
  /** ALLOW (with the ticket when delivered now), DENY, or REQUIRE_APPROVAL when it timed out. */
  decision: ApprovalDecision;
  ticket: TicketDelivery;
  /** Why no token came with an approval. */
  ticketNote: string | null;
}

export interface ListOptions {
  /** Default `pending`; `all` for every status. */
  status?: ApprovalStatus | "all";
  limit?: number;
}

export class ApprovalService {
  readonly store: ApprovalStore;
  readonly notifiers: Notifiers;
  private readonly clock: () => number;
  private readonly ttlSeconds: number;
  private sweeper: NodeJS.Timeout | null = null;

  constructor(private readonly o: ApprovalServiceOptions) {
    this.store = o.store;
    this.notifiers = o.notifiers ?? Notifiers.none();
    this.clock = o.clock ?? Date.now;
    this.ttlSeconds = o.ttlSeconds ?? 3600;
  }

  /** Appends a transition's events to the audit log; a failure aborts the transition. */
  private readonly persist: Persist = async (events: readonly AuditInput[]) => {
    const audit = this.o.audit;
    if (audit === null) return;
    for (const e of events) {
      try {
        await audit.append(e);
      } catch (err) {
        throw new ApprovalError(
          `Audit log: cannot record the approval event, nothing changed (${(err as Error).message})`,
          "unavailable",
          { cause: err },
        );
      }
    }
  };

  /** Stores a pending request for a REQUIRE_APPROVAL decision; returns it (its `request_id`). */
  async createRequest(input: CreateRequestInput): Promise<ApprovalRequest> {
    const record = newRecord(input, this.clock(), input.ttlSeconds ?? this.ttlSeconds);
    await this.auditReady();
    await this.store.insert(record, [requestedEvent(record, nextEventId())], this.persist);
    const view = toView(record);
    this.notifiers.notify(view);
    return view;
  }

  /** The request, or null. A pending request past its expiry is expired first. */
  async get(requestId: string): Promise<ApprovalRequest | null> {
    const r = await this.current(checkId(requestId));
    return r === null ? null : toView(r);
  }

  /** Requests oldest first, pending ones by default; due requests are expired first. */
  async list(options: ListOptions = {}): Promise<ApprovalRequest[]> {
    const status = options.status ?? "pending";
    const limit = options.limit ?? 1000;
    if (this.o.expireOnRead !== false) {
      await this.expireDue();
      return (await this.store.list({ status: status === "all" ? null : status, limit })).map(toView);
    }
    // Read-only: due requests are shown expired (pending ones are read to find them).
    const now = this.clock();
    const wanted = status === "all" ? null : status;
    const read = await this.store.list({ status: wanted === "expired" ? null : wanted, limit });
    return read
      .map((r) => asOf(r, now))
      .filter((r) => wanted === null || r.status === wanted)
      .map(toView);
  }

  /** Expires pending requests whose time is up (each with its audit event). Returns how many. */
  async expireDue(limit = 500): Promise<number> {
    const ids = await this.store.dueForExpiry(this.clock(), limit);
    if (ids.length > 0) await this.auditReady();
    let n = 0;
    for (const id of ids) {
      const before = await this.store.update(id, (row) => planExpiry(row, this.clock()), this.persist);
      if (before?.status === "expired") n++;
    }
    return n;
  }

  /** Expires due requests every `intervalMs` in the background (long-running processes). */
  startExpirySweeper(intervalMs = 30_000): void {
    if (this.sweeper !== null) return;
    this.sweeper = setInterval(() => void this.expireDue().catch(() => undefined), intervalMs);
    this.sweeper.unref();
  }

  async approve(requestId: string, approver: ActorInput, reason?: string | null): Promise<ApprovalOutcome> {
    const id = checkId(requestId);
    const identity = await this.actor(approver, "Approval refused", "approver");
    const revision = this.o.currentRevision?.() ?? null;
    if (revision === null)
      throw new ApprovalError(
        "Approval refused: the current policy revision is unknown to this process",
        "config",
      );
    await this.auditReady();
    const acted = await this.store.update(
      id,
      (row) =>
        planApprove(
          row,
          id,
          { approver: identity, reason: reason ?? null, nowMs: this.clock(), revision },
          this.o,
        ),
      this.persist,
    );
    return outcome(acted);
  }

  async deny(requestId: string, denier: ActorInput, reason?: string | null): Promise<ApprovalOutcome> {
    const id = checkId(requestId);
    const identity = await this.actor(denier, "Denial refused", "denier");
    await this.auditReady();
    const acted = await this.store.update(
      id,
      (row) => planDeny(row, id, { denier: identity, reason: reason ?? null, nowMs: this.clock() }),
      this.persist,
    );
    return outcome(acted);
  }

  /**
   * Waits until the request is resolved, expires, or `timeout` seconds pass. An approved request's
   * ticket (token included) goes to the requester the first time it asks, and never again.
   */
  async waitForApproval(requestId: string, options: WaitOptions = {}): Promise<ApprovalWaitResult> {
    const id = checkId(requestId);
    const timeout = options.timeout ?? 60;
    if (!(timeout >= 0) || !Number.isFinite(timeout))
      throw new ApprovalError(`timeout must be a number of seconds >= 0, got ${timeout}`, "invalid_request");
    const claimant =
      options.requester === undefined || options.requester === null
        ? null
        : await this.actor(options.requester, "Ticket refused", "requester");
    const deadline = Date.now() + timeout * 1000;
    const watch = await this.store.watch(id);
    let announced = false;
    try {
      for (;;) {
        let r: ApprovalRecord | null;
        try {
          r = await this.current(id, true);
        } catch (err) {
          // Once waiting, a store outage is waited out (re-reading every second) until the
          // deadline; nothing is ever granted without a successful read.
          if (
            !announced ||
            !(err instanceof ApprovalError) ||
            err.code !== "unavailable" ||
            Date.now() >= deadline
          )
            throw err;
          await watch.wait(Math.min(deadline, Date.now() + 1000));
          continue;
        }
        if (r === null) throw new ApprovalError(`Approval request not found: ${id}`, "not_found");
        if (r.status !== "pending") return await this.finish(r, claimant);
        const now = Date.now();
        if (now >= deadline || options.signal?.aborted === true) {
          return {
            status: "pending",
            timedOut: true,
            request: toView(r),
            decision: decisionOf(r, `Approval request ${id} timed out`),
            ticket: "none",
            ticketNote: null,
          };
        }
        if (!announced) {
          announced = true;
          options.onWaiting?.(toView(r));
        }
        await watch.wait(Math.min(deadline, now + Math.max(0, r.expires_at - this.clock())));
      }
    } finally {
      watch.close();
    }
  }

  /** Flushes notifications (bounded) and closes the store. */
  async close(flushMs = 2000): Promise<void> {
    if (this.sweeper !== null) clearInterval(this.sweeper);
    this.sweeper = null;
    await this.notifiers.close(flushMs);
    await this.store.close();
  }

  private async auditReady(): Promise<void> {
    try {
      await this.o.audit?.ready?.();
    } catch (err) {
      if (err instanceof ApprovalError) throw err;
      throw new ApprovalError(`Audit log: ${(err as Error).message}; nothing changed`, "unavailable", {
        cause: err,
      });
    }
  }

  private async actor(input: ActorInput, prefix: string, role: string): Promise<CallerIdentity> {
    return resolveActor(input, { verifier: this.o.identity, trusted: this.o.trusted, prefix, role });
  }

  /** The record as it is now, expired first when due. */
  private async current(id: string, write = this.o.expireOnRead !== false): Promise<ApprovalRecord | null> {
    const row = await this.store.get(id);
    if (row === null) return null;
    if (row.record.status !== "pending" || this.clock() < row.record.expires_at) return row.record;
    if (!write) return asOf(row.record, this.clock());
    await this.auditReady();
    return this.store.update(id, (fresh) => planExpiry(fresh, this.clock()), this.persist);
  }

  private async finish(r: ApprovalRecord, claimant: CallerIdentity | null): Promise<ApprovalWaitResult> {
    const result = (
      rec: ApprovalRecord,
      ticket: TicketDelivery,
      note: string | null,
      d = decisionOf(rec),
    ) => ({
      status: rec.status,
      timedOut: false,
      request: toView(rec),
      decision: d,
      ticket,
      ticketNote: note,
    });
    if (r.status !== "approved" || r.ticket === null) return result(r, "none", null);
    if (r.ticket.delivered_at !== null) return result(r, "already_delivered", alreadyDelivered(r));
    if (claimant === null && !this.o.trusted)
      return result(r, "not_requester", "present the requester's identity token to collect the ticket");
    if (claimant !== null && !isRequester(r, claimant))
      return result(
        r,
        "not_requester",
        `${pyStrRepr(claimant.agent_id)} is not the requester (${pyStrRepr(r.caller)}); only the requester receives the ticket`,
      );
    const to = claimant?.agent_id ?? r.caller;
    await this.auditReady();
    const claim = await this.store.update(
      r.request_id,
      (row) => planClaim(row, r.request_id, to, this.clock(), this.o.sealer),
      this.persist,
    );
    if (claim.kind === "delivered") {
      const d = decisionOf(claim.record);
      d.ticket = deliveredTicket(claim.record, claim.token);
      return result(claim.record, "delivered", null, d);
    }
    if (claim.kind === "expired")
      return result(
        claim.record,
        "expired",
        "the ticket expired before it was collected; make the request again",
      );
    if (claim.kind === "already_delivered")
      return result(claim.record, "already_delivered", alreadyDelivered(claim.record));
    return result(claim.record, "none", null);
  }
}

function checkId(requestId: string): string {
  if (typeof requestId !== "string" || !REQUEST_ID_PATTERN.test(requestId))
    throw new ApprovalError(
      `Approval request not found: ${String(requestId).slice(0, 64)} (request ids are apr- and 12 hex digits)`,
      "not_found",
    );
  return requestId;
}

function outcome(a: Acted): ApprovalOutcome {
  const r = a.record;
  return {
    request: toView(r),
    event_id: a.eventId,
    reason: a.reason,
    remaining: r.status === "pending" ? Math.max(0, r.quorum - r.approvals.length) : 0,
  };
}
