/**
 * Routes are declared as data, one file per group under routes/: method, path, who may call,
 * the body schema (by name, from schemas.ts), the documented responses and the handler. The app
 * registers them (validation, authentication, errors and metrics are done once, in app.ts) and
 * `/openapi.json` is generated from the same declarations. A later feature (approvals,
 * `/v1/execute`) adds a group: a function returning its routes, listed in `ROUTE_GROUPS`.
 */
import type { FastifyRequest } from "fastify";
import type { CallerIdentity } from "../core/types.js";
import type { SidecarContext } from "./context.js";
import type { SchemaName } from "./schemas.js";

/**
 * - `none`: anyone (health, metrics, public keys, the API description);
 * - `caller`: decision routes: the bearer, if any, is the pipeline's caller, and an
 *   unauthenticated caller gets a DENY decision (never an HTTP error);
 * - `identity`: a verified identity token is required (401 otherwise);
 * - `admin`: the admin token is required (401 / 403).
 */
export type RouteAuth = "none" | "caller" | "identity" | "admin";

export interface RouteInput {
  /** The body as the schema output it (undefined without a body schema). */
  body: unknown;
  /** The body as parsed (Python JSON semantics: `5.0` stays a float); use it for params. */
  raw: unknown;
  /** The `Authorization: Bearer` credentials; null without the header. */
  bearer: string | null;
  /** Set for `identity` routes. */
  identity: CallerIdentity | null;
  request: FastifyRequest;
}

export interface RouteReply {
  status?: number;
  body: unknown;
  headers?: Record<string, string>;
  /** Default `application/json; charset=utf-8`; a string body is sent as is. */
  contentType?: string;
}

export interface ResponseDoc {
  description: string;
  schema?: SchemaName;
  /** For non-JSON responses (`/metrics`). */
  contentType?: string;
}

export interface RouteDef {
  method: "GET" | "POST";
  url: string;
  operationId: string;
  summary: string;
  description?: string;
  tags: readonly string[];
  auth: RouteAuth;
  body?: SchemaName;
  /** Runs on the parsed body before the schema, for errors clearer than "unrecognized key". */
  precheck?: (raw: unknown) => void;
  responses: { readonly [status: number]: ResponseDoc | undefined };
  handler(input: RouteInput): Promise<RouteReply> | RouteReply;
}

/** A route group: its routes, built for one sidecar. */
export type RouteGroup = (ctx: SidecarContext) => RouteDef[];
