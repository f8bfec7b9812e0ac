/**
 * The HTTP sidecar (`agent-safe serve`, docs/sidecar.md): the decision pipeline over loopback
 * HTTP for agents in any language, keeping the signing keys out of the agent's process.
 *
 * ```ts
 * const sidecar = await startSidecar({ port: 8420 });          // finds agent-safe.yaml like the CLI
 * const stop = handleSignals(sidecar);                         // SIGHUP reloads, SIGTERM/SIGINT drain
 * process.exitCode = await stop;
 * ```
 */
export { DEFAULT_LIMITS, type HttpLimits } from "./app.js";
export { AdminToken, AdminTokenError } from "./auth.js";
export { DEFAULT_BODY_LIMIT, MAX_BODY_DEPTH } from "./body.js";
export type { SidecarContext } from "./context.js";
export { type ErrorBody, type ErrorCode, HttpError } from "./errors.js";
export { handleSignals } from "./lifecycle.js";
export type { LoggerOptions } from "./logger.js";
export { buildOpenApi } from "./openapi.js";
export type { ReloadResult } from "./reload.js";
export type { ResponseDoc, RouteAuth, RouteDef, RouteGroup, RouteInput, RouteReply } from "./route.js";
export * as schemas from "./schemas.js";
export {
  ROUTE_GROUPS,
  type Sidecar,
  SidecarConfigError,
  type SidecarOptions,
  startSidecar,
} from "./sidecar.js";
