/** Validates a check request's shape. A malformed request is denied, never guessed at. */
import { isPlainObject } from "../core/pyvalue.js";
import type { DecisionRequest, Params } from "../core/types.js";
import { type CallerInput, InvalidCallerError, normalizeCaller } from "./caller.js";

export interface CheckRequest {
  action: string;
  target?: string | null | undefined;
  caller?: CallerInput | undefined;
  params?: Params | null | undefined;
  /** An external change-ticket id (for `require_ticket` rules). */
  ticketId?: string | null | undefined;
}

export class InvalidRequestError extends Error {
  override name = "InvalidRequestError";
}

/** Checks every field but the caller (which the identity step resolves). */
export function validateRequestShape(req: CheckRequest): Omit<DecisionRequest, "caller"> {
  if (typeof req.action !== "string") throw new InvalidRequestError("action must be a string");
  const target = req.target ?? null;
  if (target !== null && typeof target !== "string")
    throw new InvalidRequestError("target must be a string or null");
  const params = req.params ?? null;
  if (params !== null && !isPlainObject(params))
    throw new InvalidRequestError("params must be an object or null");
  const ticketId = req.ticketId ?? null;
  if (ticketId !== null && typeof ticketId !== "string") {
    throw new InvalidRequestError("ticket_id must be a string or null");
  }
  return { action: req.action, target, params, ticketId };
}

/** The whole request, with the caller taken as given (trusted, in-process input only). */
export function toDecisionRequest(req: CheckRequest): DecisionRequest {
  const shape = validateRequestShape(req);
  let caller: DecisionRequest["caller"];
  try {
    caller = normalizeCaller(req.caller ?? null);
  } catch (err) {
    if (err instanceof InvalidCallerError) throw new InvalidRequestError(err.message);
    throw err;
  }
  return { ...shape, caller };
}
