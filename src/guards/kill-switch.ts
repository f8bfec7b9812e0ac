/**
 * The kill switch: a global flag that denies every request, and per-caller flags that deny one
 * agent, checked before everything else (after authentication). Flags live in the shared state
 * store and are read on every request (one round trip, no cache), so one set from any replica
 * or from `agent-safe kill-switch on` takes effect everywhere on the next request.
 *
 * A per-caller switch also stops the agent's delegates: every agent id of a request's
 * delegation chain is checked, so tokens minted before the switch was engaged cannot route
 * around it.
 */
import type { FlagStore } from "../state/interfaces.js";
import type { MemorySyncStores } from "../state/memory/backend.js";

const GLOBAL_KEY = "kill-switch:global";
const CALLER_PREFIX = "kill-switch:caller:";

export interface KillSwitchEntry {
  /** `null` for the global switch. */
  caller: string | null;
  reason: string | null;
  /** ISO-8601 UTC. */
  engagedAt: string | null;
  engagedBy: string | null;
  /** Epoch ms, or null when it stays until released. */
  expiresAtMs: number | null;
}

interface StoredFlag {
  reason?: unknown;
  engaged_at?: unknown;
  engaged_by?: unknown;
}

export interface EngageOptions {
  /** Only this caller; otherwise every request. */
  caller?: string | null;
  reason?: string | null;
  /** Who engaged it (recorded with the flag). */
  by?: string | null;
  /** Release automatically after this long; default never. */
  ttlMs?: number | null;
}

export class KillSwitch {
  constructor(
    private readonly flags: FlagStore,
    private readonly clock: () => number = Date.now,
  ) {}

  async engage(options: EngageOptions = {}): Promise<KillSwitchEntry> {
    const caller = options.caller ?? null;
    if (caller === "") throw new TypeError("kill switch: the caller id must not be empty");
    const engagedAt = new Date(this.clock()).toISOString();
    const value: StoredFlag = {
      reason: options.reason ?? null,
      engaged_at: engagedAt,
      engaged_by: options.by ?? null,
    };
    const ttl = options.ttlMs ?? null;
    await this.flags.set(keyOf(caller), JSON.stringify(value), ttl);
    return {
      caller,
      reason: options.reason ?? null,
      engagedAt,
      engagedBy: options.by ?? null,
      expiresAtMs: ttl === null ? null : this.clock() + ttl,
    };
  }

  /** Returns whether it was engaged. */
  async release(caller: string | null = null): Promise<boolean> {
    return this.flags.delete(keyOf(caller));
  }

  /** Every engaged switch, the global one first. */
  async status(): Promise<KillSwitchEntry[]> {
    const entries = await this.flags.list("kill-switch:");
    const out: KillSwitchEntry[] = [];
    for (const e of entries) {
      const caller =
        e.key === GLOBAL_KEY
          ? null
          : e.key.startsWith(CALLER_PREFIX)
            ? e.key.slice(CALLER_PREFIX.length)
            : undefined;
      if (caller === undefined) continue;
      const stored = parse(e.value);
      out.push({
        caller,
        reason: text(stored.reason),
        engagedAt: text(stored.engaged_at),
        engagedBy: text(stored.engaged_by),
        expiresAtMs: e.expiresAtMs,
      });
    }
    return out.sort((a, b) =>
      a.caller === null ? -1 : b.caller === null ? 1 : a.caller < b.caller ? -1 : 1,
    );
  }

  /**
   * The deny reason when the global switch or the switch of `callerId` or of any agent in its
   * delegation chain is engaged, else null. Throws the store's errors (the caller denies).
   */
  async check(callerId: string, chain: readonly string[] = []): Promise<string | null> {
    const ids = chainIds(callerId, chain);
    return reasonOf(callerId, ids, await this.flags.get(flagKeys(ids)));
  }

  /** `check` on an in-process store that answers synchronously. */
  checkSync(
    store: Pick<MemorySyncStores, "hasFlags" | "flags">,
    callerId: string,
    chain: readonly string[] = [],
  ): string | null {
    // No flag at all: every read would be null.
    if (!store.hasFlags()) return null;
    const ids = chainIds(callerId, chain);
    return reasonOf(callerId, ids, store.flags(flagKeys(ids)));
  }
}

function chainIds(callerId: string, chain: readonly string[]): string[] {
  return [callerId, ...chain.filter((id) => id !== callerId)];
}

function flagKeys(ids: readonly string[]): string[] {
  return [GLOBAL_KEY, ...ids.map((id) => CALLER_PREFIX + id)];
}

function reasonOf(
  callerId: string,
  ids: readonly string[],
  values: readonly (string | null)[],
): string | null {
  const global = values[0];
  if (global !== null && global !== undefined)
    return `Kill switch engaged: all actions are denied${suffix(global)}`;
  for (let i = 0; i < ids.length; i++) {
    const v = values[i + 1];
    if (v === null || v === undefined) continue;
    const id = ids[i]!;
    const via = id === callerId ? "" : ` in the delegation chain of '${callerId}'`;
    return `Kill switch engaged for caller '${id}'${via}${suffix(v)}`;
  }
  return null;
}

function keyOf(caller: string | null): string {
  return caller === null ? GLOBAL_KEY : CALLER_PREFIX + caller;
}

function parse(value: string): StoredFlag {
  try {
    const v = JSON.parse(value) as unknown;
    return typeof v === "object" && v !== null ? (v as StoredFlag) : {};
  } catch {
    return {};
  }
}

function text(v: unknown): string | null {
  return typeof v === "string" && v !== "" ? v : null;
}

/** An unreadable flag still denies: it just has no reason to show. */
function suffix(value: string): string {
  const reason = text(parse(value).reason);
  return reason === null ? "" : ` (${reason})`;
}
