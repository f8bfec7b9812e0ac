/**
 * A separate OS process acting as one replica: opens the state store and the guards from its
 * first stdin line, then runs one JSON command per line and answers one JSON line each.
 * Started by `test/guards/processes.ts` with `node --import tsx`.
 */
import { createInterface } from "node:readline";
import { Guards, type GuardsConfig } from "../../../src/guards/guards.js";
import { openStateBackend } from "../../../src/state/factory.js";
import type { StateBackend, StateBackendOptions } from "../../../src/state/interfaces.js";

interface Setup {
  url: string;
  options: StateBackendOptions;
  guards: GuardsConfig;
}

type Command =
  | { op: "before"; caller: string; chain?: string[] }
  | {
      op: "after";
      caller: string;
      decision: { result: "allow" | "deny" | "require_approval"; reason: string; effective_risk: "low" };
    }
  | { op: "hammer"; caller: string; untilMs: number }
  | { op: "engage"; caller?: string; reason?: string }
  | { op: "release"; caller?: string }
  | { op: "consume"; nonce: string; expiresAtMs: number }
  | { op: "exit" };

let backend: StateBackend | null = null;
let guards: Guards | null = null;

const out = (value: unknown) => process.stdout.write(`${JSON.stringify(value)}\n`);

async function run(cmd: Command): Promise<unknown> {
  const g = guards!;
  switch (cmd.op) {
    case "before":
      return g.beforeDecision(cmd.caller, Date.now(), { chain: cmd.chain ?? [] });
    case "after":
      return g.afterDecision(cmd.caller, cmd.decision, Date.now());
    case "hammer": {
      // As fast as it can until the store's clock reaches untilMs; the store's time of every
      // allowed request is reported, so the parent can check any window span.
      const rl = g.rateLimiter!;
      const allowed: number[] = [];
      let denied = 0;
      let errors = 0;
      let now = 0;
      while (now < cmd.untilMs) {
        try {
          const { window } = await rl.hit(cmd.caller, Date.now());
          now = window.nowMs;
          if (window.allowed) allowed.push(window.nowMs);
          else denied++;
        } catch {
          errors++;
          now = Date.now();
        }
      }
      return { allowed, denied, errors };
    }
    case "engage":
      return g.killSwitch!.engage({ caller: cmd.caller ?? null, reason: cmd.reason ?? null });
    case "release":
      return g.killSwitch!.release(cmd.caller ?? null);
    case "consume":
      return backend!.nonces.consume(cmd.nonce, cmd.expiresAtMs);
    case "exit":
      await backend?.close();
      process.exit(0);
  }
}

const lines = createInterface({ input: process.stdin });
let queue = Promise.resolve();
lines.on("line", (line) => {
  queue = queue.then(async () => {
    try {
      const msg = JSON.parse(line) as Setup | Command;
      if (!("op" in msg)) {
        backend = await openStateBackend(msg.url, msg.options);
        guards = new Guards(backend, msg.guards);
        out({ ready: true, pid: process.pid });
        return;
      }
      out({ ok: true, value: (await run(msg)) ?? null });
    } catch (err) {
      out({ ok: false, error: err instanceof Error ? err.message : String(err) });
    }
  });
});
lines.on("close", () => {
  void queue.then(() => backend?.close()).then(() => process.exit(0));
});
