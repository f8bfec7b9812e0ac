/** `delegation create|verify`, in 0.9.0's output formats (REFERENCE.md §12.2). */
import { pyListRepr } from "../../core/pyformat.js";
import type { DelegationLink } from "../../core/types.js";
import { DelegationError, IdentityError } from "../../identity/errors.js";
import { identityServices } from "../../identity/index.js";
import { pythonIsoformat } from "../../jwt/claims.js";
import { EXIT, print, printJson, UsageError, wantsJson } from "../common.js";
import { csv, openProjectConfig, positiveInt, type TokenFlags, tokenKeys } from "./project.js";

interface CreateFlags extends TokenFlags {
  childId?: string;
  childName?: string;
  roles?: string;
  groups?: string;
  ttl?: string;
  maxDepth?: string;
}

export async function runDelegationCreate(
  parentToken: string,
  options: Record<string, unknown>,
): Promise<void> {
  const flags = options as CreateFlags;
  if (flags.childId === undefined) throw new UsageError("--child-id is required");
  const ttl = positiveInt(flags.ttl, "--ttl");
  const maxDepth = positiveInt(flags.maxDepth, "--max-depth", "levels");
  const { delegation } = identityServices(tokenKeys(openProjectConfig(flags), flags));
  const json = wantsJson(flags);
  try {
    const d = await delegation.createDelegation(parentToken, {
      childAgentId: flags.childId,
      childName: flags.childName ?? "",
      roles: csv(flags.roles),
      groups: csv(flags.groups),
      ...(ttl === undefined ? {} : { ttl }),
      ...(maxDepth === undefined ? {} : { maxDepth }),
    });
    if (json) {
      printJson({
        token: d.token,
        child_agent_id: d.child_agent_id,
        delegation_depth: d.delegation_depth,
        delegated_roles: d.delegated_roles,
        delegation_chain: d.delegation_chain.map((l) => ({ agent_id: l.agent_id, agent_name: l.agent_name })),
        expires_at: d.expires_at,
      });
    } else {
      print(`OK — delegation token created for ${d.child_agent_id}`);
      print(`  depth: ${d.delegation_depth}`);
      print(`  roles: ${pyListRepr(d.delegated_roles)}`);
      print(`  chain: ${pyListRepr(d.delegation_chain.map((l) => l.agent_id))}`);
      print(`  token: ${d.token.slice(0, 40)}...`);
    }
    process.exitCode = EXIT.OK;
  } catch (err) {
    if (!(err instanceof DelegationError)) throw err;
    if (json) printJson({ ok: false, error: err.message, code: err.code });
    else print(`ERROR — ${err.message}`);
    process.exitCode = EXIT.FAILED;
  }
}

/** `delegated_at` as 0.9.0's JSON gives it (isoformat, `+00:00`). */
function isoformat(text: string | null): string | null {
  if (text === null) return null;
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? text : pythonIsoformat(ms);
}

function linkJson(l: DelegationLink) {
  return { ...l, delegated_at: isoformat(l.delegated_at) };
}

export async function runDelegationVerify(token: string, options: Record<string, unknown>): Promise<void> {
  const flags = options as TokenFlags;
  const { delegation } = identityServices(tokenKeys(openProjectConfig(flags), flags));
  const json = wantsJson(flags);
  try {
    const v = await delegation.verifyDelegation(token);
    const id = v.identity;
    if (json) {
      printJson({
        valid: true,
        agent_id: id.agent_id,
        agent_name: id.agent_name,
        roles: id.roles,
        groups: id.groups,
        delegation_depth: id.delegation_depth,
        delegated_roles: id.delegated_roles,
        delegation_chain: id.delegation_chain.map(linkJson),
        issued_at: pythonIsoformat(v.issuedAt * 1000),
        expires_at: pythonIsoformat(v.expiresAt * 1000),
      });
    } else {
      print(`${id.delegation_depth > 0 ? "DELEGATED" : "DIRECT"} — ${id.agent_id}`);
      print(`  name:   ${id.agent_name}`);
      print(`  roles:  ${pyListRepr(id.roles)}`);
      print(`  groups: ${pyListRepr(id.groups)}`);
      print(`  depth:  ${id.delegation_depth}`);
      if (id.delegation_chain.length > 0) {
        print("  chain:");
        id.delegation_chain.forEach((l, i) => {
          const at = (isoformat(l.delegated_at) ?? "").slice(0, 19);
          print(`    [${i}] ${l.agent_id} (${l.agent_name})  roles=${pyListRepr(l.roles)}  at=${at}`);
        });
      }
      print(`  expires: ${pythonIsoformat(v.expiresAt * 1000)}`);
    }
    process.exitCode = EXIT.OK;
  } catch (err) {
    if (!(err instanceof IdentityError)) throw err;
    if (json) printJson({ valid: false, reason: err.message, code: err.code });
    else {
      print("INVALID — token is invalid or expired");
      print(`  reason: ${err.message}`);
    }
    process.exitCode = EXIT.FAILED;
  }
}
