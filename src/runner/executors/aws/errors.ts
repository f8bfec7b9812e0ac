/**
 * Typed errors of the AWS executor, and the one place that turns any thrown value into an executor
 * status. Messages never carry parameter values: a sensitive value (a Lambda payload, an
 * environment) must not leak through an error, and the caller already knows the params it sent.
 */

export type AwsExecutorErrorCode =
  /** The action has no AWS mapping. */
  | "UNSUPPORTED_ACTION"
  /** A parameter is missing, has the wrong type or an invalid value; nothing was called. */
  | "INVALID_PARAMS"
  /** The resolved credential cannot be used (wrong type, no keys); nothing was called. */
  | "CREDENTIALS"
  /** The optional `@aws-sdk/client-*` package is not installed. */
  | "SDK_MISSING"
  /** A configuration problem (an endpoint that is not an http(s) URL). */
  | "CONFIG"
  /** The executor refused the call itself (an enforced check failed); nothing was called. */
  | "REFUSED"
  /** AWS answered with an error, or with a result that means the action failed. */
  | "API"
  /** The timeout expired. A mutating call may still have taken effect. */
  | "TIMEOUT"
  /** The caller's abort signal fired. */
  | "ABORTED"
  /** The call could not be made or completed: a network error, an unexpected SDK error. */
  | "CALL_FAILED";

export class AwsExecutorError extends Error {
  override name = "AwsExecutorError";
  constructor(
    readonly code: AwsExecutorErrorCode,
    message: string,
    options?: { cause?: unknown; awsCode?: string; httpStatus?: number; requestId?: string },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.awsCode = options?.awsCode;
    this.httpStatus = options?.httpStatus;
    this.requestId = options?.requestId;
  }
  readonly awsCode: string | undefined;
  readonly httpStatus: number | undefined;
  readonly requestId: string | undefined;
}

/** An AWS SDK v3 service exception: AWS (or moto) answered with an error document. */
export interface ServiceErrorLike {
  name: string;
  message: string;
  $fault: "client" | "server";
  $metadata: { httpStatusCode?: number; requestId?: string };
}

export function isServiceError(err: unknown): err is ServiceErrorLike {
  if (err === null || typeof err !== "object") return false;
  const e = err as Record<string, unknown>;
  return (
    typeof e["name"] === "string" &&
    (e["$fault"] === "client" || e["$fault"] === "server") &&
    e["$metadata"] !== null &&
    typeof e["$metadata"] === "object"
  );
}

/** The AWS error code (`InvalidInstanceID.NotFound`, `NoSuchBucketPolicy`, `NotFound`), if any. */
export function awsErrorCode(err: unknown): string | undefined {
  if (isServiceError(err)) return err.name;
  if (err instanceof AwsExecutorError) return err.awsCode;
  return undefined;
}

/** The HTTP status of an AWS error response, if any. */
export function awsHttpStatus(err: unknown): number | undefined {
  if (isServiceError(err)) return err.$metadata.httpStatusCode;
  if (err instanceof AwsExecutorError) return err.httpStatus;
  return undefined;
}

export interface Classified {
  status: "failure" | "timeout" | "error";
  message: string;
  awsCode?: string;
  httpStatus?: number;
  requestId?: string;
}

/**
 * `failure` for an AWS error (`AWS API error: <code>: <message>`), `timeout` for the deadline, and
 * `error` for everything else (bad params, credentials, network, a missing SDK).
 */
export function classify(err: unknown): Classified {
  if (err instanceof AwsExecutorError) {
    const status = err.code === "API" ? "failure" : err.code === "TIMEOUT" ? "timeout" : "error";
    return {
      status,
      message: err.message,
      ...(err.awsCode !== undefined ? { awsCode: err.awsCode } : {}),
      ...(err.httpStatus !== undefined ? { httpStatus: err.httpStatus } : {}),
      ...(err.requestId !== undefined ? { requestId: err.requestId } : {}),
    };
  }
  if (isServiceError(err)) {
    const msg = oneLine(err.message) || "(no message)";
    const status = err.$metadata.httpStatusCode;
    const requestId = err.$metadata.requestId;
    return {
      status: "failure",
      message: `AWS API error: ${err.name}: ${msg}`,
      awsCode: err.name,
      ...(status !== undefined ? { httpStatus: status } : {}),
      ...(requestId !== undefined ? { requestId } : {}),
    };
  }
  const name = err instanceof Error ? err.name : "";
  if (name === "TimeoutError") {
    // The SDK's own socket/connection timeout (requestHandler), set to the same deadline.
    return { status: "timeout", message: `AWS call timed out: ${oneLine(errorMessage(err))}` };
  }
  return { status: "error", message: `AWS executor error: ${oneLine(errorMessage(err))}` };
}

export function apiError(code: string, message: string): AwsExecutorError {
  return new AwsExecutorError("API", `AWS API error: ${code}: ${message}`, { awsCode: code });
}

function errorMessage(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return typeof code === "string" && !err.message.includes(code) ? `${code}: ${err.message}` : err.message;
  }
  return String(err);
}

function oneLine(s: string): string {
  return s.replace(/\s+/g, " ").trim().slice(0, 500);
}
