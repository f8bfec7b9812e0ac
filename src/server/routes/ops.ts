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
      const [state, audit] = await Promise.all([pingState(ctx), ctx.audit.check()]);
      const ok = state.ok && audit.ok;
      return {
        status: ok ? 200 : 503,
        body: { status: ok ? "ready" : "not_ready", checks: { state, audit } },
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

async function pingState(ctx: SidecarContext): Promise<{ ok: boolean; message?: string }> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      ctx.composed.state.ping(),
      new Promise((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`no answer within ${PING_TIMEOUT_MS} ms`)),
          PING_TIMEOUT_MS,
        );
      }),
    ]);
    return { ok: true };
  } catch (err) {
    ctx.metrics.stateError("readiness");
    return { ok: false, message: `state store ${ctx.composed.state.description}: ${(err as Error).message}` };
  } finally {
    clearTimeout(timer);
  }
}
