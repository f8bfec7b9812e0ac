/**
 * HTTP errors: every one is JSON `{error, message}` with the status that fits. A DENY is not an
 * error (it is a decision, 200); an error means no decision was made.
 *
 * | status | error | when |
 * |---|---|---|
 * | 400 | `invalid_json`, `invalid_request` | unparsable body, wrong types, unknown or forbidden fields |
 * | 401 | `unauthenticated` | a route that needs an identity got none, or a token that does not verify |
 * | 403 | `forbidden`, `delegation_refused` | a wrong admin token; a delegation the rules refuse |
 * | 404 / 405 | `not_found`, `method_not_allowed` | no such route; the route exists for other methods |
 * | 408 | `timeout` | the request was not received in time |
 * | 413 | `payload_too_large` | the body is over the limit (the connection is closed) |
 * | 415 | `unsupported_media_type` | a body that is not `application/json` |
 * | 422 | `reload_failed`, `unrecordable_request` | the new policy does not load (the old one stays); a request the audit log cannot carry (e.g. an integer beyond 2^53) |
 * | 501 | `not_configured` | tickets or delegation without a `keys:` section |
 * | 503 | `audit_unavailable`, `state_unavailable`, `shutting_down` | the decision could not be recorded; the state store is down (admin); the sidecar is stopping |
 * | 500 | `internal` | anything else; the details go to the log, never to the client |
 */
import type { FastifyError } from "fastify";
import type { z } from "zod";

export type ErrorCode =
  | "invalid_json"
  | "invalid_request"
  | "unauthenticated"
  | "forbidden"
  | "conflict"
  | "delegation_refused"
  | "not_found"
  | "method_not_allowed"
  | "timeout"
  | "payload_too_large"
  | "unsupported_media_type"
  | "reload_failed"
  | "unrecordable_request"
  | "not_configured"
  | "audit_unavailable"
  | "state_unavailable"
  | "shutting_down"
  | "internal";

export interface ErrorBody {
  error: ErrorCode;
  message: string;
  code?: string;
}

export class HttpError extends Error {
  override name = "HttpError";
  constructor(
    readonly status: number,
    readonly code: ErrorCode,
    message: string,
    readonly headers: Record<string, string> = {},
    readonly detail: string | undefined = undefined,
  ) {
    super(message);
  }

  body(): ErrorBody {
    return this.detail === undefined
      ? { error: this.code, message: this.message }
      : { error: this.code, message: this.message, code: this.detail };
  }
}

export function badRequest(message: string): HttpError {
  return new HttpError(400, "invalid_request", message);
}

export function unauthenticated(message: string): HttpError {
  return new HttpError(401, "unauthenticated", message, {
    "www-authenticate": 'Bearer realm="agent-safe"',
  });
}

/** One line per zod issue: `steps[0].action: expected string, received number`. */
export function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 10)
    .map((issue) => {
      const path = issue.path
        .map((p, i) => (typeof p === "number" ? `[${p}]` : `${i === 0 ? "" : "."}${String(p)}`))
        .join("");
      const message = issue.message.replace(/^Invalid input: /, "");
      return path === "" ? message : `${path}: ${message}`;
    })
    .join("; ");
}

const FASTIFY_ERRORS: Record<string, { status: number; code: ErrorCode; message: string }> = {
  FST_ERR_CTP_BODY_TOO_LARGE: { status: 413, code: "payload_too_large", message: "" },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: {
    status: 415,
    code: "unsupported_media_type",
    message: "Request bodies must be application/json",
  },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: {
    status: 400,
    code: "invalid_request",
    message: "The Content-Length does not match the body",
  },
  FST_ERR_CTP_EMPTY_JSON_BODY: { status: 400, code: "invalid_json", message: "The JSON body is empty" },
  FST_ERR_CTP_INVALID_TYPE: { status: 400, code: "invalid_request", message: "Invalid Content-Type" },
};

/**
 * The HTTP error for anything thrown while handling a request. Known client errors keep their
 * status; everything else becomes a 500 whose message says nothing about the internals.
 */
export function toHttpError(err: unknown, bodyLimit: number): HttpError {
  if (err instanceof HttpError) return err;
  const fe = err as Partial<FastifyError>;
  const known = typeof fe.code === "string" ? FASTIFY_ERRORS[fe.code] : undefined;
  if (known !== undefined) {
    const message =
      known.code === "payload_too_large" ? `The body is over ${bodyLimit} bytes` : known.message;
    return new HttpError(known.status, known.code, message);
  }
  const status = typeof fe.statusCode === "number" ? fe.statusCode : 500;
  if (status === 408) return new HttpError(408, "timeout", "The request was not received in time");
  if (status >= 400 && status < 500) return badRequest("The request is malformed");
  return new HttpError(500, "internal", "Internal error; the sidecar's log has the details");
}
