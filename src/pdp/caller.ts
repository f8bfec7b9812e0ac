/**
 * Turns what a caller claims into a `CallerIdentity` the engine can match. Only trusted, in-process
 * input reaches here (an SDK identity object, a test file, a what-if batch); tokens are verified
 * by the identity module before this point.
 */
import { isPlainObject } from "../core/pyvalue.js";
import type { CallerIdentity, DelegationLink } from "../core/types.js";

export class InvalidCallerError extends Error {
  override name = "InvalidCallerError";
}

/** A caller as given: `null` (anonymous), a bare agent id, or an identity object. */
export type CallerInput = null | string | Partial<CallerIdentity> | Record<string, unknown>;

/** A bare id: a caller with no roles, groups or delegation (0.9.0 semantics for strings). */
export function bareCaller(agentId: string): CallerIdentity {
  return {
    agent_id: agentId,
    agent_name: "",
    roles: [],
    groups: [],
    delegation_chain: [],
    delegated_roles: [],
    delegation_depth: 0,
  };
}

export function normalizeCaller(input: unknown): CallerIdentity | null {
  if (input === null || input === undefined) return null;
  if (typeof input === "string") return bareCaller(input);
  if (!isPlainObject(input))
    throw new InvalidCallerError(`caller must be null, a string or an object, got ${kind(input)}`);
  const agentId = input.agent_id;
  if (typeof agentId !== "string") throw new InvalidCallerError("caller.agent_id must be a string");
  const chain = input.delegation_chain ?? [];
  if (!Array.isArray(chain)) throw new InvalidCallerError("caller.delegation_chain must be a list");
  const depth = input.delegation_depth ?? 0;
  if (typeof depth !== "number" || !Number.isInteger(depth)) {
    throw new InvalidCallerError("caller.delegation_depth must be an integer");
  }
  return {
    agent_id: agentId,
    agent_name: optionalString(input.agent_name, "caller.agent_name"),
    roles: stringList(input.roles, "caller.roles"),
    groups: stringList(input.groups, "caller.groups"),
    delegation_chain: chain.map((link, i) => normalizeLink(link, i)),
    delegated_roles: stringList(input.delegated_roles, "caller.delegated_roles"),
    delegation_depth: depth,
  };
}

function normalizeLink(link: unknown, index: number): DelegationLink {
  const where = `caller.delegation_chain[${index}]`;
  if (!isPlainObject(link) || typeof link.agent_id !== "string") {
    throw new InvalidCallerError(`${where} must be an object with a string agent_id`);
  }
  const at = link.delegated_at;
  return {
    agent_id: link.agent_id,
    agent_name: optionalString(link.agent_name, `${where}.agent_name`),
    roles: stringList(link.roles, `${where}.roles`),
    groups: stringList(link.groups, `${where}.groups`),
    delegated_at: typeof at === "string" ? at : null,
  };
}

function optionalString(v: unknown, where: string): string {
  if (v === undefined || v === null) return "";
  if (typeof v !== "string") throw new InvalidCallerError(`${where} must be a string`);
  return v;
}

function stringList(v: unknown, where: string): string[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v) || !v.every((x) => typeof x === "string")) {
    throw new InvalidCallerError(`${where} must be a list of strings`);
  }
  return v as string[];
}

function kind(v: unknown): string {
  return Array.isArray(v) ? "a list" : typeof v;
}
