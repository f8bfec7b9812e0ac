// The HTTP sidecar under load (issue 7): a real `agent-safe serve` process on loopback, driven by
// a small keep-alive load generator in this process (64 connections, one request in flight on
// each: HTTP/1.1 without pipelining), both on this 2-core machine. The request mix is the compat
// fixture corpus (20,000 requests against its 17 actions / 21 targets, strict profile): identity
// objects become minted Ed25519 identity tokens, bare ids are sent as the bearer, anonymous
// requests without one; every ALLOW carries an Ed25519-signed execution ticket.
//
// Figures (median of runs): decisions/s and p50/p99 latency with the audit log at fsync batch
// (the configuration the target is for), without the audit log, and with identity tokens on
// first use (a new token per request: one Ed25519 verification each) vs cached; plus a baseline
// of GET /healthz (the HTTP stack and the load generator alone). No autocannon/wrk here: the
// generator is ~100 lines of node:net (the issue's own figures: a bare fastify handler ~49,000/s).
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
// SIDECAR_BENCH_QUICK=1: one short run of each (a smoke test of the benchmark itself).
const QUICK = process.env.SIDECAR_BENCH_QUICK === "1";
const WARMUP_S = QUICK ? 1 : 2;
const MEASURE_S = QUICK ? 3 : 8;

function project(audit) {
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
      "keys:",
      "  dir: .agent-safe/keys",
      "audit:",
      audit ? "  path: ./audit.jsonl\n  fsync: batch" : "  enabled: false",
      "",
    ].join("\n"),
  );
  return { dir, keys: ed25519TokenKeys(store, {}, { refreshMs: 60_000 }) };
}

/**
 * Raw HTTP requests for the corpus, `copies` times over; `freshTokens`: a token never seen before
 * for every request (the exp claim differs), so each costs the server an Ed25519 verification.
 */
function corpus(keys, { freshTokens = false, copies = 1 } = {}) {
  const raw = gunzipSync(readFileSync(join(COMPAT, "fixture.requests.jsonl.gz"))).toString("utf8");
  const lines = raw.split("\n").filter((l) => l.trim() !== "");
  const { issuer } = identityServices(keys);
  const iat = Math.floor(Date.now() / 1000) - 5;
  const tokens = new Map();
  const requests = [];
  let n = 0;
  for (let copy = 0; copy < copies; copy++)
    for (const line of lines) {
      n++;
      const row = parseJson(line);
      let bearer = null;
      if (typeof row.caller === "string") bearer = /^[\x21-\x7e]+$/.test(row.caller) ? row.caller : null;
      else if (row.caller !== null) {
        const identity = normalizeCaller(row.caller);
        const key = JSON.stringify(identity);
        if (freshTokens) bearer = issuer.sign(identity, iat, iat + 3600 + n).token;
        else {
          bearer = tokens.get(key);
          if (bearer === undefined) {
            bearer = issuer.sign(identity, iat, iat + 3600).token;
            tokens.set(key, bearer);
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
  return requests;
}

function serve(dir) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(ROOT, "bin", "agent-safe.js"), "serve", "--port", "0"], {
      cwd: dir,
      stdio: ["ignore", "pipe", "pipe"],
    });
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

/**
 * `connections` keep-alive sockets, each sending the next request as soon as the previous
 * response is complete, for warm-up + measure seconds; latencies of the measured window only.
 */
function load(url, requests, connections, warmupS, measureS) {
  return new Promise((resolve) => {
    let next = 0;
    let measuring = false;
    let done = false;
    const latencies = [];
    const statuses = {};
    let errors = 0;
    let completed = 0;
    const sockets = [];
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
          buffer = buffer.subarray(end + 4 + length);
          if (measuring) {
            latencies.push(Number(process.hrtime.bigint() - sentAt) / 1e6);
            statuses[status] = (statuses[status] ?? 0) + 1;
            completed++;
          }
          send();
        }
      });
      socket.on("error", () => {
        errors++;
      });
      socket.setNoDelay(true);
      send();
    };
    for (let i = 0; i < connections; i++) {
      const s = connect(Number(url.port), url.hostname, () => start(s));
      sockets.push(s);
    }
    setTimeout(() => {
      measuring = true;
      const t0 = performance.now();
      setTimeout(() => {
        measuring = false;
        done = true;
        const seconds = (performance.now() - t0) / 1000;
        for (const s of sockets) s.destroy();
        latencies.sort((a, b) => a - b);
        resolve({
          requests_per_second: Math.round(completed / seconds),
          p50_ms: fmt(quantile(latencies, 0.5), 3),
          p99_ms: fmt(quantile(latencies, 0.99), 3),
          statuses,
          errors,
        });
      }, measureS * 1000);
    }, warmupS * 1000);
  });
}

async function scenario(label, { audit = true, freshTokens = false, path = null, runs = 3 }) {
  const all = [];
  for (let r = 0; r < (QUICK ? 1 : runs); r++) {
    const { dir, keys } = project(audit);
    const requests =
      path === null
        ? corpus(keys, { freshTokens, copies: freshTokens ? 6 : 1 })
        : [Buffer.from(`GET ${path} HTTP/1.1\r\nhost: bench\r\n\r\n`)];
    const { child, url } = await serve(dir);
    try {
      all.push(await load(url, requests, CONNECTIONS, WARMUP_S, MEASURE_S));
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
    decisions_per_second: median(all.map((x) => x.requests_per_second)),
    p50_ms: median(all.map((x) => x.p50_ms)),
    p99_ms: median(all.map((x) => x.p99_ms)),
    runs: all,
  };
}

export async function runSidecarBench() {
  return {
    fsync_batch: await scenario("fsync batch, tokens cached", { audit: true, runs: 3 }),
    no_audit: await scenario("no audit, tokens cached", { audit: false, runs: 3 }),
    identity_first_use: await scenario("fsync batch, a new token per request", {
      audit: true,
      freshTokens: true,
      runs: 2,
    }),
    healthz_baseline: await scenario("GET /healthz", { audit: false, path: "/healthz", runs: 2 }),
    notes:
      "Load generator in the bench process (node:net, 64 keep-alive connections, no pipelining); " +
      "server: `agent-safe serve` as a separate process; both share the machine's 2 cores.",
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(JSON.stringify(await runSidecarBench(), null, 2));
}
