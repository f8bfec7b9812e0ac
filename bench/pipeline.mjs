// The whole in-process decision pipeline (issue 4): `DecisionPipeline.check()` as composed by
// src/sdk/compose.ts for a project with Ed25519 keys (identity tokens verified, an EdDSA execution
// ticket for every ALLOW), guards on (kill switch, rate limit with its circuit breaker,
// cumulative risk — configured generously so that every step runs but none denies) and no audit
// log (the audit suite measures that), on memory, SQLite and Redis state.
//
// The request mix is the compat fixture corpus (../shared/compat: 20,000 requests against its 17
// actions / 21 targets, reference profile, each request evaluated at its own timestamp so the
// decisions are 0.9.0's: about 28% ALLOW). Every ALLOW's ticket is signed at issue (Ed25519) and
// its token read inside the timed call, as a caller that executes would. Callers are presented as:
// - objects: identity objects as given by a trusted in-process caller (bare ids as strings);
// - tokens: every distinct caller as an Ed25519 identity token minted once and reused (verified
//   on first use, then served from the verifier's cache until it expires); callers whose
//   delegation chain no token could carry (the corpus has cycles) stay objects;
// and, on memory only, a new token for every request (first use: a full Ed25519 verification).
//
// Figures: decisions/s and per-call p50/p99 one call at a time, and decisions/s with 64 calls in
// flight (what a server does; SQLite and Redis can batch or pipeline then). Baselines in the same
// run: decide() alone over the same requests, the pipeline with no guards and no tickets, and
// with guards but no tickets. Medians over rounds.
// AGENT_SAFE_BENCH_DIST=/path/to/dist measures another build (e.g. a baseline); profiling aid:
// node --cpu-prof bench/pipeline.mjs --only objects|tokens|bare|guards [count] [state URL].
import { randomUUID } from "node:crypto";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { gunzipSync } from "node:zlib";
import { cleanupRedis, fmt, median, quantile } from "./lib.mjs";

const ROOT = new URL("..", import.meta.url).pathname;
const DIST = pathToFileURL(`${process.env.AGENT_SAFE_BENCH_DIST ?? join(ROOT, "dist")}/`).href;
const COMPAT = join(ROOT, "..", "shared", "compat");
const REDIS_URL = process.env.AGENT_SAFE_BENCH_REDIS ?? "redis://127.0.0.1:6379";
const QUICK = process.env.PIPELINE_BENCH_QUICK === "1";
const IN_FLIGHT = 64;

const load = (path) => import(new URL(path, DIST).href);
const [
  { openProject },
  { compose },
  { DecisionPipeline },
  { parseJson },
  time,
  core,
  caller,
  keystore,
  claims,
] = await Promise.all([
  load("config/open-project.js"),
  load("sdk/compose.js"),
  load("pdp/pipeline.js"),
  load("codec/json-fast.js"),
  load("core/time.js"),
  load("core/decide.js"),
  load("pdp/caller.js"),
  load("keys/keystore.js"),
  load("identity/claims.js"),
]);

// Generous guards: evaluated on every decision, never the reason for one. A hot caller of the
// corpus makes ~5% of the requests, i.e. a few thousand a second.
const GUARDS_YAML = [
  "rate_limit:",
  "  max_requests: 1000000",
  "  window_seconds: 1",
  "  circuit_breaker_threshold: 1000000",
  "  circuit_breaker_window_seconds: 1",
  "  circuit_breaker_cooldown_seconds: 1",
  "cumulative_risk:",
  "  window_seconds: 10",
  `  escalation_threshold: ${2 ** 50}`,
  `  deny_threshold: ${2 ** 51}`,
];

function project(dir, state) {
  const fixture = join(COMPAT, "fixture");
  for (const part of ["actions", "policies"])
    cpSync(join(fixture, part), join(dir, part), { recursive: true });
  cpSync(join(fixture, "inventory.yaml"), join(dir, "inventory.yaml"));
  const keysDir = join(dir, ".agent-safe", "keys");
  mkdirSync(keysDir, { recursive: true, mode: 0o700 });
  const store = new keystore.KeyStore(keysDir);
  for (const p of keystore.KEY_PURPOSES) store.generate(p);
  const yaml = [
    "profile: reference",
    `state: ${state.url}`,
    ...(state.keyPrefix ? ["state_options:", `  key_prefix: "${state.keyPrefix}"`] : []),
    "keys:",
    "  dir: .agent-safe/keys",
    "audit:",
    "  enabled: false",
    ...GUARDS_YAML,
    "",
  ];
  writeFileSync(join(dir, "agent-safe.yaml"), yaml.join("\n"));
}

function readCorpus() {
  const raw = gunzipSync(readFileSync(join(COMPAT, "fixture.requests.jsonl.gz"))).toString("utf8");
  return raw
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => {
      const row = parseJson(l);
      return {
        request: {
          action: row.action,
          target: row.target,
          caller: row.caller,
          params: row.params,
          ticketId: row.ticket_id,
        },
        at: time.parseTimestamp(row.timestamp),
      };
    });
}

/** The corpus with every caller as an identity token: one per distinct identity, or one per request. */
function withTokens(corpus, issuer, { fresh = false } = {}) {
  const iat = Math.floor(Date.now() / 1000) - 5;
  const tokens = new Map();
  let n = 0;
  return corpus.map((c) => {
    const input = c.request.caller;
    const identity =
      input === null
        ? null
        : typeof input === "string"
          ? input === ""
            ? null
            : caller.bareCaller(input)
          : caller.normalizeCaller(input);
    if (identity === null) return c; // anonymous, or the empty id (no token can carry it)
    try {
      // The corpus holds chains the delegation rules forbid (cycles, widening): no token could
      // carry them (one would be refused and, in the reference profile, become a bare id), so
      // those callers stay objects and every decision stays the same as with objects.
      claims.checkChain(identity, 5);
    } catch {
      return c;
    }
    n++;
    let token;
    if (fresh) token = issuer.sign(identity, iat, iat + 3600 + n).token;
    else {
      const key = JSON.stringify(identity);
      token = tokens.get(key);
      if (token === undefined) {
        token = issuer.sign(identity, iat, iat + 3600).token;
        tokens.set(key, token);
      }
    }
    return { request: { ...c.request, caller: token }, at: c.at };
  });
}

function tally(counts, d, read) {
  counts[d.result] = (counts[d.result] ?? 0) + 1;
  if (d.ticket != null) {
    counts.tickets = (counts.tickets ?? 0) + 1;
    // Read the token as a caller that executes would.
    if (read && d.ticket.token.length < 100) throw new Error("unsigned ticket");
  }
}

/** One call at a time: throughput and per-call latency (the token read inside the timing). */
async function sequential(pipeline, corpus, count, read) {
  const lat = new Float64Array(count);
  const counts = {};
  const n = corpus.length;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < count; i++) {
    const c = corpus[i % n];
    const s = performance.now();
    const d = await pipeline.check(c.request, { at: c.at, trusted: true });
    tally(counts, d, read);
    lat[i] = performance.now() - s;
  }
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  lat.sort();
  return {
    decisions_per_second: Math.round(count / seconds),
    // This process's CPU time (all threads) per decision: less sensitive to other load than wall time.
    cpu_us_per_decision: fmt((cpu.user + cpu.system) / count, 2),
    p50_us: fmt(quantile(lat, 0.5) * 1000, 1),
    p99_us: fmt(quantile(lat, 0.99) * 1000, 1),
    counts,
  };
}

/** `IN_FLIGHT` calls at once (a server): throughput. */
async function concurrent(pipeline, corpus, count, read) {
  let next = 0;
  const counts = {};
  const n = corpus.length;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      while (next < count) {
        const c = corpus[next++ % n];
        tally(counts, await pipeline.check(c.request, { at: c.at, trusted: true }), read);
      }
    }),
  );
  return { decisions_per_second: Math.round(count / ((performance.now() - t0) / 1000)), counts };
}

async function measure(pipeline, corpus, { count, rounds, inFlight = true, read = true, warmup = true }) {
  if (warmup) await sequential(pipeline, corpus, Math.min(count, 5000), read); // JIT, caches
  const seq = [];
  for (let r = 0; r < rounds; r++) seq.push(await sequential(pipeline, corpus, count, read));
  const conc = [];
  if (inFlight) for (let r = 0; r < rounds; r++) conc.push(await concurrent(pipeline, corpus, count, read));
  const out = {
    decisions_per_second: median(seq.map((x) => x.decisions_per_second)),
    p50_us: median(seq.map((x) => x.p50_us)),
    p99_us: median(seq.map((x) => x.p99_us)),
    cpu_us_per_decision: median(seq.map((x) => x.cpu_us_per_decision)),
    runs: seq.map((x) => x.decisions_per_second),
    requests_per_round: count,
    counts: seq[0].counts,
  };
  if (inFlight) {
    out[`in_flight_${IN_FLIGHT}_decisions_per_second`] = median(conc.map((x) => x.decisions_per_second));
    out[`in_flight_${IN_FLIGHT}_runs`] = conc.map((x) => x.decisions_per_second);
  }
  return out;
}

/** decide() alone over the same requests (callers as trusted objects): the floor. */
function decideOnly(world, corpus, rounds) {
  const requests = corpus.map((c) => ({
    action: c.request.action,
    target: c.request.target ?? null,
    params: c.request.params ?? null,
    ticketId: c.request.ticketId ?? null,
    caller: caller.normalizeCaller(c.request.caller),
  }));
  const runs = [];
  for (let r = 0; r < rounds + 1; r++) {
    const t0 = performance.now();
    for (let i = 0; i < requests.length; i++) core.decide(requests[i], world, corpus[i].at);
    if (r > 0) runs.push(Math.round(requests.length / ((performance.now() - t0) / 1000)));
  }
  return { decisions_per_second: median(runs), runs };
}

async function backendRun(state, plan) {
  const dir = mkdtempSync(join(tmpdir(), "agent-safe-bench-pipeline-"));
  let composed = null;
  try {
    project(dir, state);
    const opened = await openProject({ cwd: dir, cache: false });
    composed = await compose(opened, { audit: false, approvals: false });
    if (composed.tickets === null || composed.identity === null) throw new Error("keys not configured");
    const corpus = readCorpus();
    const pipeline = new DecisionPipeline(composed.parts);
    const out = {};
    if (plan.only) {
      const c = plan.only === "tokens" ? withTokens(corpus, composed.identity.issuer, plan) : corpus;
      const parts =
        plan.only === "bare"
          ? { ...composed.parts, guards: null, tickets: null }
          : plan.only === "guards"
            ? { ...composed.parts, tickets: null }
            : composed.parts;
      out[plan.only] = await measure(new DecisionPipeline(parts), c, plan);
      out.identity_cache = composed.identity.verifier.cacheStats;
      return out;
    }
    out.objects = await measure(pipeline, corpus, plan);
    out.tokens = await measure(pipeline, withTokens(corpus, composed.identity.issuer), plan);
    if (plan.extras) {
      const noIn = { ...plan, inFlight: false };
      const fresh = withTokens(corpus, composed.identity.issuer, { fresh: true });
      // No warm-up here: it would verify (and cache) the very tokens measured.
      out.tokens_first_use = await measure(pipeline, fresh, {
        count: 5000,
        rounds: 1,
        inFlight: false,
        warmup: false,
      });
      out.decide_only = decideOnly(opened.world, corpus, plan.rounds);
      const bare = new DecisionPipeline({ ...composed.parts, guards: null, tickets: null });
      out.no_guards_no_tickets = await measure(bare, corpus, noIn);
      const noTickets = new DecisionPipeline({ ...composed.parts, tickets: null });
      out.guards_no_tickets = await measure(noTickets, corpus, noIn);
    }
    out.identity_cache = composed.identity.verifier.cacheStats;
    const allow = out.objects.counts.allow ?? 0;
    out.allow_share = fmt(allow / out.objects.requests_per_round, 3);
    return out;
  } finally {
    await composed?.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function runPipelineBench() {
  const rounds = QUICK ? 1 : 5;
  const out = {};
  out.memory = await backendRun({ url: "memory" }, { count: QUICK ? 20_000 : 100_000, rounds, extras: true });
  const sqliteDir = mkdtempSync(join(tmpdir(), "agent-safe-bench-pipeline-state-"));
  try {
    out.sqlite = await backendRun(
      { url: `sqlite:${join(sqliteDir, "state.db")}` },
      { count: QUICK ? 2_000 : 20_000, rounds: QUICK ? 1 : 3 },
    );
  } finally {
    rmSync(sqliteDir, { recursive: true, force: true });
  }
  const prefix = `agent-safe-bench:${randomUUID()}:`;
  try {
    out.redis = await backendRun(
      { url: REDIS_URL, keyPrefix: prefix },
      { count: QUICK ? 2_000 : 20_000, rounds: QUICK ? 1 : 3 },
    );
  } catch (err) {
    out.redis = { error: String(err?.message ?? err) };
  } finally {
    await cleanupRedis(prefix, REDIS_URL);
  }
  return out;
}

if (process.argv[2] === "--only") {
  // Profiling aid: node --cpu-prof bench/pipeline.mjs --only objects|tokens [count] [memory|sqlite:…|redis://…]
  const plan = {
    only: process.argv[3],
    count: Number(process.argv[4] ?? 200_000),
    rounds: 3,
    inFlight: false,
    read: process.env.READ_TOKENS !== "0",
  };
  console.log(JSON.stringify(await backendRun({ url: process.argv[5] ?? "memory" }, plan), null, 2));
} else if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(JSON.stringify(await runPipelineBench(), null, 2));
}
