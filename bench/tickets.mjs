// Tickets and identity: ticket issue/s (token read, i.e. signed; and issued but not read: the
// signature is made on first read) and verify/s (EdDSA, and HS256 for 0.9.0 compatibility),
// redeem/s against a shared SQLite nonce store, and identity-token verification cold (every
// token new: a full Ed25519 verification) vs cached (the same token again: a SHA-256 and a map
// lookup). Several rounds each; the figures are the medians of the rounds.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { identityServices } from "../dist/identity/index.js";
import { ed25519TokenKeys, hmacTokenKeys } from "../dist/jwt/config.js";
import { KeyStore } from "../dist/keys/keystore.js";
import { openStateBackend } from "../dist/state/index.js";
import { ticketServices } from "../dist/tickets/index.js";
import { fmt, median, quantile } from "./lib.mjs";

const ROUNDS = 5;

const ACTION = {
  name: "scale-deployment",
  parameters: [
    { name: "namespace", type: "string", required: true, sensitive: false },
    { name: "deployment", type: "string", required: true, sensitive: false },
    { name: "replicas", type: "integer", required: true, sensitive: false },
  ],
};

function decision(i) {
  return {
    result: "allow",
    action: ACTION.name,
    target: "staging/api-server",
    caller: "deploy-bot",
    audit_id: `evt-${String(i).padStart(12, "0")}`,
  };
}
const PARAMS = { namespace: "staging", deployment: "api-server", replicas: 3 };

/** Runs `op(i)` `n` times per round; ops/s and per-call µs quantiles over all rounds. */
async function measure(n, op, { warmup = 500 } = {}) {
  // Warm-up uses indices past the measured ones (so a cache is never pre-filled for them).
  for (let i = 0; i < warmup; i++) await op(n * ROUNDS + i);
  const rates = [];
  const samples = new Float64Array(n * ROUNDS);
  let s = 0;
  for (let round = 0; round < ROUNDS; round++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < n; i++) {
      const a = process.hrtime.bigint();
      await op(round * n + i);
      samples[s++] = Number(process.hrtime.bigint() - a) / 1000;
    }
    rates.push(n / (Number(process.hrtime.bigint() - t0) / 1e9));
  }
  samples.sort();
  return {
    ops_per_second: Math.round(median(rates)),
    p50_us: fmt(quantile(samples, 0.5), 1),
    p99_us: fmt(quantile(samples, 0.99), 1),
    rounds: rates.map((r) => Math.round(r)),
  };
}

export async function runTicketsBench() {
  const dir = mkdtempSync(join(tmpdir(), "agent-safe-bench-tickets-"));
  try {
    const store = new KeyStore(join(dir, "keys"));
    store.generate("ticket-signing");
    store.generate("identity-issuer");
    const ed = ed25519TokenKeys(store);
    const hs = hmacTokenKeys("bench-secret-0123456789abcdef0123456789");
    const sqlite = await openStateBackend(`sqlite:${join(dir, "state.db")}`);
    const memory = await openStateBackend("memory");
    const out = {};
    const N = 4000;

    for (const [name, keys] of [
      ["eddsa", ed],
      ["hs256", hs],
    ]) {
      const { issuer, validator } = ticketServices(keys, memory.nonces);
      // Issue (which signs the token): what every ALLOW pays.
      out[`ticket_issue_${name}`] = await measure(
        N,
        (i) => issuer.issue({ decision: decision(i), params: PARAMS, actionDef: ACTION }).token,
      );
      const tokens = Array.from(
        { length: N * ROUNDS + 500 },
        (_, i) => issuer.issue({ decision: decision(i), params: PARAMS, actionDef: ACTION }).token,
      );
      out[`ticket_verify_${name}`] = await measure(N, async (i) => {
        const r = await validator.verify(tokens[i % tokens.length], {
          expectedAction: ACTION.name,
          expectedParams: PARAMS,
        });
        if (!r.valid) throw new Error(r.reason);
      });
    }

    {
      const { issuer, validator } = ticketServices(ed, sqlite.nonces);
      const n = 1000;
      const tokens = Array.from(
        { length: n * ROUNDS + 100 },
        (_, i) => issuer.issue({ decision: decision(i), params: PARAMS, actionDef: ACTION }).token,
      );
      let next = 0;
      out.ticket_redeem_eddsa_sqlite = await measure(
        n,
        async () => {
          const r = await validator.redeem(tokens[next++], { expectedParams: PARAMS });
          if (!r.valid) throw new Error(r.reason);
        },
        { warmup: 100 },
      );
    }

    {
      const { issuer, verifier } = identityServices(ed, { cacheSize: 1_000_000 });
      const n = 4000;
      const fresh = Array.from(
        { length: n * ROUNDS + 500 },
        (_, i) => issuer.issue({ agentId: `agent-${i}`, roles: ["deployer"], groups: ["sre"] }).token,
      );
      out.identity_verify_cold = await measure(n, (i) => verifier.verify(fresh[i]));
      const hot = issuer.issue({ agentId: "hot", roles: ["deployer"] }).token;
      out.identity_verify_cached = await measure(n * 10, () => verifier.verify(hot));
    }

    await sqlite.close();
    await memory.close();
    return out;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(JSON.stringify(await runTicketsBench(), null, 2));
}
