/** Typed errors of the Kubernetes executors (kubectl and API). */

export type K8sErrorCode =
  | "invalid_parameter"
  | "unsupported_action"
  | "credential"
  | "binary_not_found"
  | "api"
  | "client_unavailable";

export class K8sExecutorError extends Error {
  constructor(
    readonly code: K8sErrorCode,
    message: string,
  ) {
    super(message);
    this.name = "K8sExecutorError";
  }
}

/** A parameter that fails validation; raised before any process starts or request is sent. */
export class InvalidParameterError extends K8sExecutorError {
  constructor(
    readonly param: string,
    readonly reason: string,
  ) {
    super("invalid_parameter", `Parameter '${param}' refused: ${reason}`);
    this.name = "InvalidParameterError";
  }
}

export class UnsupportedActionError extends K8sExecutorError {
  constructor(readonly action: string) {
    super("unsupported_action", `No Kubernetes mapping for action: ${action}`);
    this.name = "UnsupportedActionError";
  }
}

export class CredentialError extends K8sExecutorError {
  constructor(message: string) {
    super("credential", message);
    this.name = "CredentialError";
  }
}

/** An API server answer that is not a success (from kubectl's stderr or the client library). */
export class K8sApiError extends K8sExecutorError {
  constructor(
    readonly status: number | null,
    message: string,
  ) {
    super("api", message);
    this.name = "K8sApiError";
  }
}

export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
