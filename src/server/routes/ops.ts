/**
 * Operations: `GET /healthz` (the process answers), `GET /readyz` (the shared state store
 * answers and the audit log takes records: send traffic here), `GET /metrics` (Prometheus).
 * Unauthenticated, and free of secrets; the ops listener (`serve --ops-port`) serves only these,
 * for probes and scrapes from outside the pod while the API stays on loopback.
 */
import type { SidecarContext } from "../context.js";
import type { RouteGroup } from "../route.js";

const PING_TIMEOUT_MS = 1000;

export const opsRoutes: RouteGroup = (ctx) => [
  {
    method: "GET",
    url: "/healthz",
    operationId: "healthz",
    summary: "Liveness: the process answers",
    tags: ["operations"],
    auth: "none",
    responses: { 200: { description: "Alive", schema: "Health" } },
    handler: () => ({ body: { status: "ok" }, headers: { "cache-control": "no-store" } }),
  },
  {
    method: "GET",
    url: "/readyz",
    operationId: "readyz",
    summary: "Readiness: the state store answers and the audit log is writable",
    tags: ["operations"],
    auth: "none",
    responses: {
      200: { description: "Ready", schema: "Ready" },
      503: { description: "Not ready (which check failed, and why)", schema: "Ready" },
    },
    handler: async () => {
      const [state, audit, approvals] = await Promise.all([
        pingState(ctx),
        ctx.audit.check(),
        pingApprovals(ctx),
      ]);
      const ok = state.ok && audit.ok && approvals.ok;
      return {
        status: ok ? 200 : 503,
        body: { status: ok ? "ready" : "not_ready", checks: { state, audit, approvals } },
        headers: { "cache-control": "no-store" },
      };
    },
  },
  {
    method: "GET",
    url: "/metrics",
    operationId: "metrics",
    summary: "Prometheus metrics",
    tags: ["operations"],
    auth: "none",
    responses: { 200: { description: "Prometheus text format", contentType: "text/plain; version=0.0.4" } },
    handler: async () => {
      const { contentType, body } = await ctx.metrics.render();
      return { body, contentType, headers: { "cache-control": "no-store" } };
    },
  },
];

/** The approval store answers a read (approvals are part of deciding a REQUIRE_APPROVAL). */
async function pingApprovals(ctx: SidecarContext): Promise<{ ok: boolean; message?: string }> {
  try {
    const service = await ctx.composed.approvals();
    if (service === null) return { ok: true, message: "approvals disabled" };
    await withTimeout(service.list({ limit: 1 }));
    return { ok: true };
  } catch (err) {
    return { ok: false, message: (err as Error).message };
  }
}

async function withTimeout<T>(work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      work,
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`no answer within ${PING_TIMEOUT_MS} ms`)),
          PING_TIMEOUT_MS,
        );
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

async function pingState(ctx: SidecarContext): Promise<{ ok: boolean; message?: string }> {
  try {
    await withTimeout(ctx.composed.state.ping());
    return { ok: true };
  } catch (err) {
    ctx.metrics.stateError("readiness");
    return { ok: false, message: `state store ${ctx.composed.state.description}: ${(err as Error).message}` };
  }
}
