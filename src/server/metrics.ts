/**
 * Prometheus metrics (`GET /metrics`), on a registry of the sidecar's own (never the global one,
 * so two sidecars in one process do not mix). Labels are bounded: results, rule names of the
 * loaded policy, decision codes, route patterns (never raw URLs), status classes.
 *
 * - `agent_safe_decisions_total{result, rule, code}`: every decision returned; `rule` is the
 *   matched policy rule, or empty when a built-in check decided (`code` says which).
 * - `agent_safe_decision_duration_seconds`: the pipeline, identity to durable audit record.
 * - `agent_safe_http_requests_total{route, method, status}` and
 *   `agent_safe_http_request_duration_seconds{route}`.
 * - `agent_safe_audit_queue_depth`: events appended but not yet durable (0 without audit);
 *   `agent_safe_audit_durable_seq`: the last durable seq of this replica's chain.
 * - `agent_safe_audit_shipper_lag_events{shipper}`: durable events a live shipper destination
 *   has not yet received, and `agent_safe_audit_shipper_lag_seconds{shipper}`: while it is
 *   behind, how long since it last received one (0 when caught up).
 * - `agent_safe_state_errors_total{source}`: the shared store failing (decisions denied with
 *   `state_unavailable`/`state_capacity`, ticket checks, readiness pings).
 * - `agent_safe_audit_errors_total`: decisions refused because their record could not be written.
 * - `agent_safe_reloads_total{result}`, `agent_safe_policy_info{revision}`,
 *   `agent_safe_identity_cache_{hits,misses}_total`, and the process defaults (CPU, memory,
 *   event-loop lag, open handles) prefixed `agent_safe_`.
 */
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import type { Decision } from "../pdp/decision.js";

export interface MetricsSources {
  /** `[lastSeq, durableSeq]` of the audit writer, or null without audit. */
  audit: () => { lastSeq: number; durableSeq: number } | null;
  identityCache: () => { hits: number; misses: number } | null;
  revision: () => string;
  /** Each audit shipper destination's cursor: the last seq it received, and when (ms). */
  shippers?: () => readonly ShipperCursor[];
}

export interface ShipperCursor {
  id: string;
  seq: number;
  updatedAtMs: number | null;
}

const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.0075, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 2.5];

export class ServerMetrics {
  readonly registry = new Registry();
  private readonly decisions: Counter<"result" | "rule" | "code">;
  private readonly decisionLatency: Histogram;
  private readonly httpRequests: Counter<"route" | "method" | "status">;
  private readonly httpLatency: Histogram<"route">;
  private readonly stateErrors: Counter<"source">;
  private readonly auditErrors: Counter;
  private readonly reloads: Counter<"result">;

  constructor(sources: MetricsSources, options: { defaultMetrics?: boolean } = {}) {
    const registers = [this.registry];
    if (options.defaultMetrics !== false)
      collectDefaultMetrics({ register: this.registry, prefix: "agent_safe_" });
    this.decisions = new Counter({
      name: "agent_safe_decisions_total",
      help: "Decisions returned, by result, matched rule (empty: a built-in check) and deciding check",
      labelNames: ["result", "rule", "code"],
      registers,
    });
    this.decisionLatency = new Histogram({
      name: "agent_safe_decision_duration_seconds",
      help: "Time to decide one request, identity to durable audit record (and ticket)",
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.httpRequests = new Counter({
      name: "agent_safe_http_requests_total",
      help: "HTTP requests answered, by route pattern, method and status",
      labelNames: ["route", "method", "status"],
      registers,
    });
    this.httpLatency = new Histogram({
      name: "agent_safe_http_request_duration_seconds",
      help: "Time from request received to response sent, by route pattern",
      labelNames: ["route"],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.stateErrors = new Counter({
      name: "agent_safe_state_errors_total",
      help: "Shared state store failures (each one failed closed)",
      labelNames: ["source"],
      registers,
    });
    this.auditErrors = new Counter({
      name: "agent_safe_audit_errors_total",
      help: "Requests refused (503) because their audit record could not be written",
      registers,
    });
    this.reloads = new Counter({
      name: "agent_safe_reloads_total",
      help: "Policy reloads, by result (ok: swapped; failed: the old policy stayed)",
      labelNames: ["result"],
      registers,
    });
    new Gauge({
      name: "agent_safe_audit_queue_depth",
      help: "Audit events appended and not yet durable (fsync pending)",
      registers,
      collect() {
        const a = sources.audit();
        this.set(a === null ? 0 : Math.max(0, a.lastSeq - a.durableSeq));
      },
    });
    new Gauge({
      name: "agent_safe_audit_durable_seq",
      help: "The last durable seq of this replica's audit chain",
      registers,
      collect() {
        this.set(sources.audit()?.durableSeq ?? 0);
      },
    });
    const shipperLag = (): { id: string; events: number; seconds: number }[] => {
      const durable = sources.audit()?.durableSeq ?? 0;
      const now = Date.now();
      return (sources.shippers?.() ?? []).map((c) => {
        const events = Math.max(0, durable - c.seq);
        const seconds =
          events === 0 || c.updatedAtMs === null ? 0 : Math.max(0, (now - c.updatedAtMs) / 1000);
        return { id: c.id, events, seconds };
      });
    };
    new Gauge({
      name: "agent_safe_audit_shipper_lag_events",
      help: "Durable audit events not yet delivered to each shipper destination (from its cursor)",
      labelNames: ["shipper"],
      registers,
      collect() {
        this.reset();
        for (const s of shipperLag()) this.set({ shipper: s.id }, s.events);
      },
    });
    new Gauge({
      name: "agent_safe_audit_shipper_lag_seconds",
      help: "While a shipper destination is behind: seconds since its cursor last advanced (0 when caught up)",
      labelNames: ["shipper"],
      registers,
      collect() {
        this.reset();
        for (const s of shipperLag()) this.set({ shipper: s.id }, s.seconds);
      },
    });
    new Gauge({
      name: "agent_safe_identity_cache_hits",
      help: "Identity tokens answered from the verification cache (cumulative)",
      registers,
      collect() {
        this.set(sources.identityCache()?.hits ?? 0);
      },
    });
    new Gauge({
      name: "agent_safe_identity_cache_misses",
      help: "Identity tokens verified cryptographically (cumulative)",
      registers,
      collect() {
        this.set(sources.identityCache()?.misses ?? 0);
      },
    });
    new Gauge({
      name: "agent_safe_policy_info",
      help: "The loaded policy revision (value 1)",
      labelNames: ["revision"],
      registers,
      collect() {
        this.reset();
        this.set({ revision: sources.revision() }, 1);
      },
    });
  }

  decided(d: Decision, seconds: number): void {
    this.decisions.inc({ result: d.result, rule: d.policy_matched ?? "", code: d.code });
    this.decisionLatency.observe(seconds);
    if (d.code === "state_unavailable" || d.code === "state_capacity") this.stateError("decision");
  }

  http(route: string, method: string, status: number, seconds: number): void {
    this.httpRequests.inc({ route, method, status: String(status) });
    this.httpLatency.observe({ route }, seconds);
  }

  stateError(source: "decision" | "ticket" | "readiness"): void {
    this.stateErrors.inc({ source });
  }

  auditError(): void {
    this.auditErrors.inc();
  }

  reload(ok: boolean): void {
    this.reloads.inc({ result: ok ? "ok" : "failed" });
  }

  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}

/** What the sidecar reads of a live shipper (`ShipperRunner`). */
interface LiveShipper {
  target?: { id?: unknown };
  shippedSeq?: unknown;
  cursor?: { value?: { updated_at?: unknown } } | null;
}

/**
 * The live shippers' cursors, in memory (the files under `<log>.cursors/` are only written every
 * 200 ms while events flow, so they lag behind an idle shipper). The audit writer does not publish
 * its shippers, so they are read structurally; anything unexpected yields no shipper metrics
 * rather than wrong ones.
 */
export function liveShipperCursors(writer: unknown): ShipperCursor[] {
  const runners = (writer as { runners?: unknown } | null)?.runners;
  if (!Array.isArray(runners)) return [];
  const out: ShipperCursor[] = [];
  for (const r of runners as LiveShipper[]) {
    const id = r?.target?.id;
    const seq = r?.shippedSeq;
    if (typeof id !== "string" || typeof seq !== "number") continue;
    const updated = r.cursor?.value?.updated_at;
    const at = typeof updated === "string" ? Date.parse(updated) : Number.NaN;
    out.push({ id, seq, updatedAtMs: Number.isFinite(at) ? at : null });
  }
  return out;
}
