// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${ENV} references and IAM policy variables are what these tests are about
/** Tickets, the shipped registry and Vault settings for the credential tests. */
import type { World } from "../../src/core/world.js";
import { buildVault } from "../../src/credentials/index.js";
import type { HashiCorpVault } from "../../src/credentials/vault/client.js";
import { TicketIssuer, TicketValidator } from "../../src/tickets/index.js";
import { memoryNonces, tempKeys } from "../helpers/tokens.js";
import { shippedWorld } from "../helpers/world.js";

export const ROOT_TOKEN = "hvs.root-token-for-tests-0123456789";

let world: World | undefined;
export function registry(): World {
  world ??= shippedWorld();
  return world;
}

export interface TicketKit {
  validator: TicketValidator;
  nonces: ReturnType<typeof memoryNonces>;
  /** Mints an ALLOW ticket for a shipped action; `ageSeconds` back-dates its issue time. */
  mint(
    action: string,
    target: string,
    params: Record<string, unknown>,
    options?: { ageSeconds?: number; ttlSeconds?: number },
  ): { token: string; nonce: string; expires_at: string };
}

export function ticketKit(): TicketKit {
  const { keys } = tempKeys();
  const nonces = memoryNonces();
  const validator = new TicketValidator(keys.tickets, keys.settings, nonces);
  return {
    validator,
    nonces,
    mint(action, target, params, options = {}) {
      const def = registry().actions.get(action)?.def;
      if (def === undefined) throw new Error(`no shipped action ${action}`);
      const issuedAt = Date.now() - (options.ageSeconds ?? 0) * 1000;
      const issuer = new TicketIssuer(
        keys.tickets,
        { ...keys.settings, ticketTtlSeconds: options.ttlSeconds ?? keys.settings.ticketTtlSeconds },
        { clock: () => issuedAt },
      );
      const t = issuer.issue({
        decision: { result: "allow", action, target, caller: "agent-1", audit_id: "evt-0123456789ab" },
        params,
        actionDef: def,
      });
      return { token: t.token, nonce: t.nonce, expires_at: t.expires_at };
    },
  };
}

export const AWS_ROLE = { engine: "aws", role: "agent-safe-ec2" } as const;
export const K8S_ROLE = { engine: "kubernetes", role: "agent-safe" } as const;

export function hashicorp(
  url: string,
  roles: Record<string, Record<string, unknown>>,
  extra: Record<string, unknown> = {},
  options: { env?: NodeJS.ProcessEnv; clock?: () => number; root?: string } = {},
): HashiCorpVault {
  return buildVault(
    {
      type: "hashicorp",
      address: url,
      auth: { method: "token", token: "${VAULT_TOKEN}" },
      timeout_seconds: 2,
      roles,
      ...extra,
    },
    {
      env: { VAULT_TOKEN: ROOT_TOKEN, ...options.env },
      ...(options.clock ? { clock: options.clock } : {}),
      ...(options.root ? { root: options.root } : {}),
    },
  ) as HashiCorpVault;
}
