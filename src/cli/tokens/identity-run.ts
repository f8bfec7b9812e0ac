/** `identity issue`: the token goes to stdout and nowhere else (no log, no stderr). */
import { IdentityError } from "../../identity/errors.js";
import { identityServices } from "../../identity/index.js";
import { EXIT, print, printJson, UsageError, wantsJson } from "../common.js";
import { csv, openProjectConfig, positiveInt, type TokenFlags, tokenKeys } from "./project.js";

interface IssueFlags extends TokenFlags {
  agentId?: string;
  name?: string;
  roles?: string;
  groups?: string;
  ttl?: string;
}

export function runIdentityIssue(options: Record<string, unknown>): void {
  const flags = options as IssueFlags;
  if (flags.agentId === undefined) throw new UsageError("--agent-id is required");
  const keys = tokenKeys(openProjectConfig(flags), flags);
  const { issuer } = identityServices(keys);
  let issued: ReturnType<typeof issuer.issue>;
  try {
    issued = issuer.issue({
      agentId: flags.agentId,
      agentName: flags.name ?? "",
      roles: csv(flags.roles),
      groups: csv(flags.groups),
      ttlSeconds: positiveInt(flags.ttl, "--ttl") ?? keys.settings.identityTtlSeconds,
    });
  } catch (err) {
    if (err instanceof IdentityError) throw new UsageError(err.message);
    throw err;
  }
  if (wantsJson(flags)) {
    const { identity } = issued;
    printJson({
      token: issued.token,
      agent_id: identity.agent_id,
      agent_name: identity.agent_name,
      roles: identity.roles,
      groups: identity.groups,
      issued_at: issued.issued_at,
      expires_at: issued.expires_at,
      algorithm: issued.algorithm,
      kid: issued.kid,
    });
  } else {
    print(issued.token);
  }
  process.exitCode = EXIT.OK;
}
