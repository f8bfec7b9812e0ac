/**
 * The fastify app: limits and timeouts, our JSON body parser, one generic wrapper that does for
 * every declared route what must never be forgotten (authentication, body validation, error
 * shape, connection handling while shutting down), 404/405, and metrics per route.
 */
import type { ServerOptions as HttpsServerOptions } from "node:https";
import Fastify, {
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  LogController,
} from "fastify";
import { isPlainObject } from "../core/pyvalue.js";
import { bearerOf, requireIdentity } from "./auth.js";
import { DEFAULT_BODY_LIMIT, installJsonParser } from "./body.js";
import type { SidecarContext } from "./context.js";
import { badRequest, describeIssues, HttpError, toHttpError } from "./errors.js";
import type { RouteDef, RouteGroup } from "./route.js";
import { NAMED_SCHEMAS } from "./schemas.js";

export interface HttpLimits {
  /** Largest request body, bytes (default 64 KiB). */
  bodyLimit?: number;
  /** A socket with no activity for this long is closed (default 30 s). */
  connectionTimeout?: number;
  /** The whole request (headers and body) must arrive within this (default 10 s). */
  requestTimeout?: number;
  /** The headers must arrive within this (default 5 s). */
  headersTimeout?: number;
  /** An idle keep-alive connection is closed after this (default 5 s). */
  keepAliveTimeout?: number;
  /** Requests served on one connection before it is closed (default 10,000; 0: no limit). */
  maxRequestsPerSocket?: number;
  /** Connections beyond this are refused at accept (default 4,096). */
  maxConnections?: number;
}

export interface AppOptions extends HttpLimits {
  https?: { cert: string | Buffer; key: string | Buffer } | null;
  logger: FastifyInstance["log"];
}

export const DEFAULT_LIMITS: Required<HttpLimits> = {
  bodyLimit: DEFAULT_BODY_LIMIT,
  connectionTimeout: 30_000,
  requestTimeout: 10_000,
  headersTimeout: 5_000,
  keepAliveTimeout: 5_000,
  maxRequestsPerSocket: 10_000,
  maxConnections: 4_096,
};

const JSON_TYPE = "application/json; charset=utf-8";

export function createApp(
  ctx: SidecarContext,
  groups: readonly RouteGroup[],
  options: AppOptions,
): FastifyInstance {
  const limits = limitsOf(options);
  // Node checks request/headers timeouts on this interval; keep it well under them.
  const checking = Math.max(
    250,
    Math.min(1000, Math.floor(Math.min(limits.requestTimeout, limits.headersTimeout) / 2)),
  );
  const serverOptions = {
    headersTimeout: limits.headersTimeout,
    requestTimeout: limits.requestTimeout,
    connectionsCheckingInterval: checking,
  };
  const app = Fastify({
    loggerInstance: options.logger,
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: limits.bodyLimit,
    connectionTimeout: limits.connectionTimeout,
    requestTimeout: limits.requestTimeout,
    keepAliveTimeout: limits.keepAliveTimeout,
    maxRequestsPerSocket: limits.maxRequestsPerSocket,
    return503OnClosing: false,
    forceCloseConnections: "idle",
    // Our own 404/405 and errors; no trailing-slash or case guessing.
    routerOptions: { ignoreTrailingSlash: false, caseSensitive: true },
    ...(options.https
      ? {
          https: { ...serverOptions, cert: options.https.cert, key: options.https.key } as HttpsServerOptions,
        }
      : { http: serverOptions }),
  }) as unknown as FastifyInstance;
  app.server.maxConnections = limits.maxConnections;
  installJsonParser(app, limits.bodyLimit);

  const allowed = new Map<string, Set<string>>();
  app.addHook("onRequest", (_request, reply, done) => {
    if (ctx.closing) {
      reply
        .code(503)
        .header("connection", "close")
        .type(JSON_TYPE)
        .send(
          json({ error: "shutting_down", message: "The sidecar is shutting down; retry on another replica" }),
        );
      return;
    }
    done();
  });
  app.addHook("onResponse", (request, reply, done) => {
    ctx.metrics.http(
      request.routeOptions.url ?? "unmatched",
      request.method,
      reply.statusCode,
      reply.elapsedTime / 1000,
    );
    done();
  });
  app.setErrorHandler((err, request, reply) => {
    const h = toHttpError(err, limits.bodyLimit);
    if (h.status >= 500)
      ctx.log.error({ err, url: request.routeOptions.url, method: request.method }, "request failed");
    // A body over the limit is not read: close rather than drain it.
    if (h.status === 413 || h.status === 408 || ctx.closing) reply.header("connection", "close");
    reply.code(h.status).headers(h.headers).type(JSON_TYPE).send(json(h.body()));
  });
  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split("?")[0] ?? request.url;
    const methods = allowed.get(path);
    if (methods !== undefined && !methods.has(request.method)) {
      const allow = [...methods].sort().join(", ");
      reply
        .code(405)
        .header("allow", allow)
        .type(JSON_TYPE)
        .send(
          json({
            error: "method_not_allowed",
            message: `${request.method} is not allowed on ${path}; use ${allow}`,
          }),
        );
      return;
    }
    reply
      .code(404)
      .type(JSON_TYPE)
      .send(json({ error: "not_found", message: `No route ${request.method} ${path}` }));
  });

  for (const group of groups) {
    for (const def of group(ctx)) {
      const methods = allowed.get(def.url) ?? new Set<string>();
      methods.add(def.method);
      if (def.method === "GET") methods.add("HEAD");
      allowed.set(def.url, methods);
      app.route({
        method: def.method,
        url: def.url,
        handler: (request, reply) => handle(ctx, def, request, reply),
      });
    }
  }
  return app;
}

async function handle(
  ctx: SidecarContext,
  def: RouteDef,
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<void> {
  const bearer = def.auth === "none" ? null : bearerOf(request.headers.authorization);
  let identity = null;
  if (def.auth === "identity")
    identity = await requireIdentity(ctx.composed.identity?.verifier ?? null, bearer);
  if (def.auth === "admin") {
    if (ctx.adminToken === null) throw new HttpError(404, "not_found", `No route ${def.method} ${def.url}`);
    ctx.adminToken.check(bearer);
  }
  const raw: unknown = request.body;
  let body: unknown;
  if (def.body !== undefined) {
    if (raw === undefined || raw === null) throw badRequest("A JSON object body is required");
    if (!isPlainObject(raw)) throw badRequest("The body must be a JSON object");
    def.precheck?.(raw);
    const parsed = NAMED_SCHEMAS[def.body].safeParse(raw);
    if (!parsed.success) throw badRequest(describeIssues(parsed.error));
    body = parsed.data;
  }
  const out = await def.handler({ body, raw, bearer, identity, request });
  reply.code(out.status ?? 200);
  if (out.headers !== undefined) reply.headers(out.headers);
  if (ctx.closing) reply.header("connection", "close");
  if (typeof out.body === "string") {
    reply.type(out.contentType ?? "text/plain; charset=utf-8").send(out.body);
  } else {
    reply.type(out.contentType ?? JSON_TYPE).send(json(out.body));
  }
}

/** JSON text; a `bigint` (an integer beyond 2^53 in params) is written as its digits. */
export function json(value: unknown): string {
  try {
    return JSON.stringify(value);
  } catch (err) {
    if (!(err instanceof TypeError)) throw err;
    return JSON.stringify(value, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v));
  }
}

/** The defaults, with each limit the options set. */
export function limitsOf(o: HttpLimits): Required<HttpLimits> {
  const out = { ...DEFAULT_LIMITS };
  for (const key of Object.keys(DEFAULT_LIMITS) as (keyof HttpLimits)[]) {
    const v = o[key];
    if (typeof v === "number" && Number.isFinite(v) && v >= 0) out[key] = v;
  }
  return out;
}
