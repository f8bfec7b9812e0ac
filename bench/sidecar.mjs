// The HTTP sidecar under load (issue 7): a real `agent-safe serve` process on loopback, driven by
// a small keep-alive load generator in this process (64 connections, one request in flight on
// each: HTTP/1.1 without pipelining), both on this 2-core machine. No autocannon/wrk: the
// generator is ~100 lines of node:net, replays pre-built raw requests and measures each latency
// from the write of the request to the last byte of its response.
//
// The request mix is the compat fixture corpus (strict profile, its 17 actions / 21 targets):
// identity objects become Ed25519 identity tokens minted with the project's key, bare ids are
// sent as the bearer (DENY `Unauthenticated caller`), anonymous requests without one; every
// ALLOW carries an Ed25519-signed execution ticket. The corpus's callers are almost all distinct
// (14,280 identities in its 14,958 identity-object requests), more than the sidecar's verified
// token cache holds (10,000), and cycling through more distinct tokens than an LRU holds makes
// every request a first use. No deployment looks like that — a sidecar serves the few agents of
// its Pod, each presenting one token until it refreshes it — so the scenarios replay a
// systematic sample of the corpus, every 10th request (2,000 requests, ~1,400 distinct tokens,
// the corpus's decision mix), and measure the token cost separately:
//
// - fsync_batch: the sample, each caller's token minted once and reused; audit log fsync batch.
//   The configuration the target is for.
// - no_audit: the same without the audit log.
// - identity_first_use: the sample with a new token on every request (12,000 distinct tokens,
//   more than the cache holds): one Ed25519 verification per request.
// - no_keys: `--insecure-no-auth` without keys: the bearer is a bare agent id (no verification,
//   no roles, so mostly DENY) and no ticket is signed: HTTP + decide + audit without any crypto.
//   Its decision mix differs (reported), so it bounds the crypto's cost rather than isolating it.
// - healthz_baseline: GET /healthz: the HTTP stack and the load generator alone.
//
// Each run reports decisions/s, p50/p99 latency, the statuses and decision results seen, and
// the CPU time the server and the generator used per request (they share the 2 cores).
import { spawn } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { parseJson } from "../dist/codec/json-fast.js";
import { pyJsonDumps } from "../dist/codec/python-json.js";
import { identityServices } from "../dist/identity/index.js";
import { ed25519TokenKeys } from "../dist/jwt/config.js";
import { KEY_PURPOSES, KeyStore } from "../dist/keys/keystore.js";
import { normalizeCaller } from "../dist/pdp/caller.js";
import { fmt, median, quantile } from "./lib.mjs";

const ROOT = new URL("..", import.meta.url).pathname;
const COMPAT = join(ROOT, "..", "shared", "compat");
const CONNECTIONS = 64;
/** Every SAMPLE_STRIDE-th request of the corpus. */
const SAMPLE_STRIDE = 10;
// SIDECAR_BENCH_QUICK=1: one short run of each (a smoke test of the benchmark itself).
const QUICK = process.env.SIDECAR_BENCH_QUICK === "1";
const WARMUP_S = QUICK ? 1 : 2;
const MEASURE_S = QUICK ? 3 : 8;
const CLOCK_TICK = 100; // USER_HZ, for /proc/<pid>/stat

function project({ audit = true, keys = true } = {}) {
  const dir = mkdtempSync(join(tmpdir(), "agent-safe-bench-sidecar-"));
  const fixture = join(COMPAT, "fixture");
  for (const part of ["actions", "policies"])
    cpSync(join(fixture, part), join(dir, part), { recursive: true });
  cpSync(join(fixture, "inventory.yaml"), join(dir, "inventory.yaml"));
  const keysDir = join(dir, ".agent-safe", "keys");
  mkdirSync(keysDir, { recursive: true, mode: 0o700 });
  const store = new KeyStore(keysDir);
  for (const p of KEY_PURPOSES) store.generate(p);
  writeFileSync(join(keysDir, "redaction.key"), "0123456789abcdef0123456789abcdef\n", { mode: 0o600 });
  writeFileSync(
    join(dir, "agent-safe.yaml"),
    [
      "profile: strict",
      "state: memory",
      ...(keys ? ["keys:", "  dir: .agent-safe/keys"] : []),
      "audit:",
      audit ? "  path: ./audit.jsonl\n  fsync: batch" : "  enabled: false",
      "",
    ].join("\n"),
  );
  return { dir, keys: ed25519TokenKeys(store, {}, { refreshMs: 60_000 }) };
}

function corpusRows() {
  const raw = gunzipSync(readFileSync(join(COMPAT, "fixture.requests.jsonl.gz"))).toString("utf8");
  return raw
    .split("\n")
    .filter((l) => l.trim() !== "")
    .filter((_, i) => i % SAMPLE_STRIDE === 0)
    .map((l) => parseJson(l));
}

/**
 * Raw HTTP requests for the sample, `copies` times over. `tokens`: "reused" (one token per
 * distinct identity), "fresh" (a token never seen before for every request: the exp claim
 * differs) or "bare" (the identity's agent id as the bearer, for --insecure-no-auth).
 */
function requestsFor(keys, { tokens = "reused", copies = 1 } = {}) {
  const rows = corpusRows();
  const { issuer } = identityServices(keys);
  const iat = Math.floor(Date.now() / 1000) - 5;
  const minted = new Map();
  const requests = [];
  let n = 0;
  for (let copy = 0; copy < copies; copy++)
    for (const row of rows) {
      n++;
      let bearer = null;
      if (typeof row.caller === "string") bearer = /^[\x21-\x7e]+$/.test(row.caller) ? row.caller : null;
      else if (row.caller !== null) {
        const identity = normalizeCaller(row.caller);
        if (tokens === "bare") bearer = /^[\x21-\x7e]+$/.test(identity.agent_id) ? identity.agent_id : null;
        else if (tokens === "fresh") bearer = issuer.sign(identity, iat, iat + 3600 + n).token;
        else {
          const key = JSON.stringify(identity);
          bearer = minted.get(key);
          if (bearer === undefined) {
            bearer = issuer.sign(identity, iat, iat + 3600).token;
            minted.set(key, bearer);
          }
        }
      }
      const body = Buffer.from(
        pyJsonDumps({ action: row.action, target: row.target, params: row.params, ticket_id: row.ticket_id }),
      );
      const head =
        "POST /v1/check HTTP/1.1\r\nhost: bench\r\ncontent-type: application/json\r\n" +
        (bearer === null ? "" : `authorization: Bearer ${bearer}\r\n`) +
        `content-length: ${body.length}\r\n\r\n`;
      requests.push(Buffer.concat([Buffer.from(head, "latin1"), body]));
    }
  return { requests, distinctTokens: tokens === "reused" ? minted.size : null, rows: rows.length };
}

function serve(dir, args) {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [join(ROOT, "bin", "agent-safe.js"), "serve", "--port", "0", ...args],
      { cwd: dir, stdio: ["ignore", "pipe", "pipe"] },
    );
    let out = "";
    let err = "";
    child.stderr.on("data", (d) => {
      err += d;
    });
    child.stdout.on("data", (d) => {
      out += d;
      const m = /"url":"(http:\/\/[^"]+)"/.exec(out);
      if (m) resolve({ child, url: new URL(m[1]) });
    });
    child.on("exit", (code) => reject(new Error(`serve exited ${code}: ${err}`)));
  });
}

/** utime + stime of a process, in seconds (Linux). */
function cpuSecondsOf(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICK;
  } catch {
    return Number.NaN;
  }
}

/**
 * `connections` keep-alive sockets, each sending the next request as soon as the previous
 * response is complete, for warm-up + measure seconds; latencies of the measured window only.
 */
function load(url, requests, connections, warmupS, measureS, serverPid) {
  return new Promise((resolve) => {
    let next = 0;
    let measuring = false;
    let done = false;
    const latencies = [];
    const statuses = {};
    const results = {};
    let errors = 0;
    let completed = 0;
    const sockets = [];
    const open = () => {
      const s = connect(Number(url.port), url.hostname, () => start(s));
      s.on("error", () => {
        errors++;
      });
      sockets.push(s);
    };
    const start = (socket) => {
      let buffer = Buffer.alloc(0);
      let sentAt = 0n;
      const send = () => {
        if (done) return;
        sentAt = process.hrtime.bigint();
        socket.write(requests[next++ % requests.length]);
      };
      socket.on("data", (chunk) => {
        buffer = buffer.length === 0 ? chunk : Buffer.concat([buffer, chunk]);
        for (;;) {
          const end = buffer.indexOf("\r\n\r\n");
          if (end === -1) return;
          const head = buffer.subarray(0, end).toString("latin1");
          const m = /content-length: *(\d+)/i.exec(head);
          const length = m ? Number(m[1]) : 0;
          if (buffer.length < end + 4 + length) return;
          const status = head.slice(9, 12);
          if (measuring) {
            latencies.push(Number(process.hrtime.bigint() - sentAt) / 1e6);
            statuses[status] = (statuses[status] ?? 0) + 1;
            // A decision's first member is its result: {"result":"allow",...
            const r = /^\{"result":"([a-z_]+)"/.exec(buffer.subarray(end + 4, end + 40).toString("latin1"));
            if (r) results[r[1]] = (results[r[1]] ?? 0) + 1;
            completed++;
          }
          buffer = buffer.subarray(end + 4 + length);
          // The server ends a connection after its 10,000th request (maxRequestsPerSocket):
          // carry on over a new one, as an HTTP client would.
          if (/\r\nconnection: *close/i.test(head)) {
            socket.destroy();
            if (!done) open();
            return;
          }
          send();
        }
      });
      socket.setNoDelay(true);
      send();
    };
    for (let i = 0; i < connections; i++) open();
    setTimeout(() => {
      measuring = true;
      const t0 = performance.now();
      const serverCpu0 = cpuSecondsOf(serverPid);
      const ownCpu0 = process.cpuUsage();
      setTimeout(() => {
        measuring = false;
        done = true;
        const seconds = (performance.now() - t0) / 1000;
        const serverCpu = cpuSecondsOf(serverPid) - serverCpu0;
        const ownCpu = process.cpuUsage(ownCpu0);
        for (const s of sockets) s.destroy();
        latencies.sort((a, b) => a - b);
        resolve({
          requests_per_second: Math.round(completed / seconds),
          p50_ms: fmt(quantile(latencies, 0.5), 3),
          p99_ms: fmt(quantile(latencies, 0.99), 3),
          server_cpu_us_per_request: fmt((serverCpu / completed) * 1e6, 1),
          generator_cpu_us_per_request: fmt(((ownCpu.user + ownCpu.system) / completed) * 1, 1),
          statuses,
          results,
          errors,
        });
      }, measureS * 1000);
    }, warmupS * 1000);
  });
}

async function scenario(label, { audit = true, tokens = "reused", copies = 1, path = null, runs = 3 }) {
  const all = [];
  let info = {};
  for (let r = 0; r < (QUICK ? 1 : runs); r++) {
    const keys = tokens !== "bare";
    const { dir, keys: tokenKeys } = project({ audit, keys });
    let requests;
    if (path === null) {
      const built = requestsFor(tokenKeys, { tokens, copies });
      requests = built.requests;
      info = { sample_requests: built.rows, requests_cycled: requests.length };
      if (built.distinctTokens !== null) info.distinct_tokens = built.distinctTokens;
    } else {
      requests = [Buffer.from(`GET ${path} HTTP/1.1\r\nhost: bench\r\n\r\n`)];
    }
    const { child, url } = await serve(dir, keys ? [] : ["--insecure-no-auth"]);
    try {
      all.push(await load(url, requests, CONNECTIONS, WARMUP_S, MEASURE_S, child.pid));
    } finally {
      const exited = new Promise((res) => child.once("exit", res));
      child.kill("SIGTERM");
      await exited;
      rmSync(dir, { recursive: true, force: true });
    }
    process.stderr.write(`  ${label} run ${r + 1}: ${JSON.stringify(all.at(-1))}\n`);
  }
  return {
    connections: CONNECTIONS,
    measure_seconds: MEASURE_S,
    ...info,
    decisions_per_second: median(all.map((x) => x.requests_per_second)),
    p50_ms: median(all.map((x) => x.p50_ms)),
    p99_ms: median(all.map((x) => x.p99_ms)),
    server_cpu_us_per_request: median(all.map((x) => x.server_cpu_us_per_request)),
    generator_cpu_us_per_request: median(all.map((x) => x.generator_cpu_us_per_request)),
    runs: all,
  };
}

export async function runSidecarBench() {
  return {
    fsync_batch: await scenario("fsync batch, tokens reused", { runs: 3 }),
    no_audit: await scenario("no audit, tokens reused", { audit: false, runs: 3 }),
    identity_first_use: await scenario("fsync batch, a new token per request", {
      tokens: "fresh",
      copies: 6,
      runs: 2,
    }),
    no_keys: await scenario("fsync batch, --insecure-no-auth without keys", { tokens: "bare", runs: 2 }),
    healthz_baseline: await scenario("GET /healthz", { audit: false, path: "/healthz", runs: 2 }),
    notes:
      `Request mix: every ${SAMPLE_STRIDE}th request of the compat fixture corpus (strict profile), cycled. ` +
      "Load generator in the bench process (node:net, 64 keep-alive connections, no pipelining); " +
      "server: `agent-safe serve` as a separate process; both share the machine's cores.",
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(JSON.stringify(await runSidecarBench(), null, 2));
}
