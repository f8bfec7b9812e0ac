// Renders bench/README.md from bench/results.json: one table per suite, with the target and the
// 0.9.0 figure where the issues give one (0.9.0 cannot run here; its figures are quoted).

const ROWS = {
  pipeline: [
    [
      "check() pipeline, memory state, fixture mix, every ALLOW's ticket token read (signed), trusted identity objects: decisions/s",
      (r) => r.memory.objects.decisions_per_second,
      "≥ 100,000",
      "56,300",
    ],
    ["same: p50 / p99 µs", (r) => `${r.memory.objects.p50_us} / ${r.memory.objects.p99_us}`, "", "p99 51.8"],
    [
      "same, callers as identity tokens (cached after first use): decisions/s",
      (r) => r.memory.tokens.decisions_per_second,
      "≥ 100,000",
      "",
    ],
    ["same, tokens: p50 / p99 µs", (r) => `${r.memory.tokens.p50_us} / ${r.memory.tokens.p99_us}`, "", ""],
    [
      "same: CPU µs per decision, objects / tokens (robust to other load)",
      (r) => `${r.memory.objects.cpu_us_per_decision} / ${r.memory.tokens.cpu_us_per_decision}`,
      "≤ 10",
      "",
    ],
    [
      "same, objects, 64 calls in flight / tokens, 64 in flight: decisions/s",
      (r) =>
        `${r.memory.objects.in_flight_64_decisions_per_second.toLocaleString("en-US")} / ${r.memory.tokens.in_flight_64_decisions_per_second.toLocaleString("en-US")}`,
      "",
      "",
    ],
    [
      "same, a new identity token on every request (first use: Ed25519 verification): decisions/s",
      (r) => r.memory.tokens_first_use.decisions_per_second,
      "",
      "",
    ],
    [
      "baseline, same run: pipeline without guards and tickets / with guards, without tickets: decisions/s",
      (r) =>
        `${r.memory.no_guards_no_tickets.decisions_per_second.toLocaleString("en-US")} / ${r.memory.guards_no_tickets.decisions_per_second.toLocaleString("en-US")}`,
      "",
      "",
    ],
    [
      "baseline, same run: decide() alone over the same requests: decisions/s",
      (r) => r.memory.decide_only.decisions_per_second,
      "",
      "",
    ],
    ["ALLOW share of the mix", (r) => r.memory.allow_share, "≈ 0.28", ""],
    [
      "SQLite state (one file, WAL), objects / tokens: decisions/s",
      (r) =>
        `${r.sqlite.objects.decisions_per_second.toLocaleString("en-US")} / ${r.sqlite.tokens.decisions_per_second.toLocaleString("en-US")}`,
      "report",
      "",
    ],
    [
      "SQLite, objects: p50 / p99 µs; 64 in flight: decisions/s",
      (r) =>
        `${r.sqlite.objects.p50_us} / ${r.sqlite.objects.p99_us}; ${r.sqlite.objects.in_flight_64_decisions_per_second.toLocaleString("en-US")}`,
      "",
      "",
    ],
    [
      "Redis state (loopback), objects / tokens: decisions/s",
      (r) =>
        `${r.redis.objects.decisions_per_second.toLocaleString("en-US")} / ${r.redis.tokens.decisions_per_second.toLocaleString("en-US")}`,
      "report",
      "",
    ],
    [
      "Redis, objects: p50 / p99 µs; 64 in flight: decisions/s",
      (r) =>
        `${r.redis.objects.p50_us} / ${r.redis.objects.p99_us}; ${r.redis.objects.in_flight_64_decisions_per_second.toLocaleString("en-US")}`,
      "",
      "",
    ],
  ],
  sidecar: [
    [
      "sidecar POST /v1/check, fixture mix, 64 connections, audit fsync batch, tokens reused: decisions/s",
      (r) => r.fsync_batch.decisions_per_second,
      "≥ 15,000",
      "",
    ],
    ["same: p50 / p99 ms", (r) => `${r.fsync_batch.p50_ms} / ${r.fsync_batch.p99_ms}`, "p99 ≤ 10", ""],
    [
      "same: server / load-generator CPU µs per request",
      (r) => `${r.fsync_batch.server_cpu_us_per_request} / ${r.fsync_batch.generator_cpu_us_per_request}`,
      "",
      "",
    ],
    ["sidecar, no audit log: decisions/s", (r) => r.no_audit.decisions_per_second, "", ""],
    ["same, no audit: p50 / p99 ms", (r) => `${r.no_audit.p50_ms} / ${r.no_audit.p99_ms}`, "", ""],
    [
      "sidecar, fsync batch, a new identity token on every request (first use): decisions/s",
      (r) => r.identity_first_use.decisions_per_second,
      "",
      "",
    ],
    [
      "same, first use: p50 / p99 ms",
      (r) => `${r.identity_first_use.p50_ms} / ${r.identity_first_use.p99_ms}`,
      "",
      "",
    ],
    [
      "identity token cost: server CPU µs per request, first use − reused",
      (r) =>
        Math.round(r.identity_first_use.server_cpu_us_per_request - r.fsync_batch.server_cpu_us_per_request),
      "",
      "",
    ],
    [
      "sidecar, fsync batch, no keys (--insecure-no-auth: bare ids, no tickets; mostly DENY): decisions/s",
      (r) => r.no_keys.decisions_per_second,
      "",
      "",
    ],
    ["same, no keys: p50 / p99 ms", (r) => `${r.no_keys.p50_ms} / ${r.no_keys.p99_ms}`, "", ""],
    [
      "baseline, same run: GET /healthz (HTTP stack + load generator): requests/s",
      (r) => r.healthz_baseline.decisions_per_second,
      "",
      "",
    ],
  ],
  audit: [
    [
      "audited decisions (evaluate + append), fsync batch, 64 callers: decisions/s",
      (r) => r.fsync_batch_64.decisions_per_second,
      "≥ 60,000",
      "",
    ],
    [
      "same, fsync batch: p50 / p99 ms",
      (r) => `${r.fsync_batch_64.p50_ms} / ${r.fsync_batch_64.p99_ms}`,
      "",
      "",
    ],
    [
      "audited decisions, fsync never, 64 callers: decisions/s",
      (r) => r.fsync_never_64.decisions_per_second,
      "",
      "22,100 (no fsync)",
    ],
    [
      "same, fsync never: p50 / p99 ms",
      (r) => `${r.fsync_never_64.p50_ms} / ${r.fsync_never_64.p99_ms}`,
      "",
      "",
    ],
    [
      "audited decisions, fsync batch, 1 caller: decisions/s (≈ 1 / fsync latency)",
      (r) => r.fsync_batch_1.decisions_per_second,
      "",
      "",
    ],
    [
      "verifyLog on a 100,000-event v2 log, all threads: events/s",
      (r) => r.verify_100k.events_per_second,
      "≥ 300,000",
      "98,600",
    ],
    ["verifyLog, one thread: events/s", (r) => r.verify_100k.one_thread_events_per_second, "", ""],
    [
      "`audit verify` CLI end to end (process start included): events/s",
      (r) => r.verify_100k.cli_events_per_second,
      "",
      "",
    ],
  ],
  decide: [
    [
      "decide() on shipped policies, strict: decisions/s",
      (r) => r.shipped_strict.decisions_per_second,
      "",
      "",
    ],
    [
      "decide() on shipped policies, strict: p50 / p99 µs",
      (r) => `${r.shipped_strict.p50_us} / ${r.shipped_strict.p99_us}`,
      "≤ 1 / ≤ 5",
      "9.2 / 16.9",
    ],
    [
      "decide() on shipped policies, reference: p50 / p99 µs",
      (r) => `${r.shipped_reference.p50_us} / ${r.shipped_reference.p99_us}`,
      "",
      "",
    ],
    ["decide() with 1,000 rules: decisions/s", (r) => r.synthetic_1000_rules.decisions_per_second, "", ""],
    [
      "decide() with 1,000 rules: p50 / p99 µs",
      (r) => `${r.synthetic_1000_rules.p50_us} / ${r.synthetic_1000_rules.p99_us}`,
      "p50 ≤ 5",
      "",
    ],
  ],
  batch: [
    [
      "check --batch, 200k shipped-catalogue requests, 2 workers: decisions/s",
      (r) => r.shipped_200k_2_workers.decisions_per_second,
      "≥ 250,000",
      "49,000",
    ],
    [
      "check --batch, same, 1 worker: decisions/s",
      (r) => r.shipped_200k_1_worker.decisions_per_second,
      "",
      "",
    ],
    [
      "check --batch, 200k compat fixture requests (reference profile): decisions/s",
      (r) => r.fixture_200k_2_workers.decisions_per_second,
      "",
      "",
    ],
    [
      "baseline, same run: JSON.parse alone of the 200k lines, 1 thread: lines/s",
      (r) => r.baseline_json_parse_only_1_thread.decisions_per_second,
      "",
      "",
    ],
    [
      "two threads of pure CPU work vs one (2.0 = two full cores)",
      (r) => r.parallel_efficiency_2_threads,
      "",
      "",
    ],
  ],
  "cold-start": [
    [
      "check cold start, median ms (environment as is)",
      (r) => r.environment_as_is.check_median_ms,
      "≤ 125",
      "251",
    ],
    [
      "bare node -e 0, same run, median ms (environment as is)",
      (r) => r.environment_as_is.bare_node_median_ms,
      "",
      "~53",
    ],
    [
      "check cold start, median ms (without NODE_EXTRA_CA_CERTS)",
      (r) => r.without_NODE_EXTRA_CA_CERTS.check_median_ms,
      "≤ 125",
      "251",
    ],
    [
      "bare node -e 0, same run, median ms (without NODE_EXTRA_CA_CERTS)",
      (r) => r.without_NODE_EXTRA_CA_CERTS.bare_node_median_ms,
      "",
      "~53",
    ],
    [
      "check cold start in an `init` project (audit, SQLite state, token), median ms",
      (r) => r.init_project_without_NODE_EXTRA_CA_CERTS?.check_median_ms ?? "",
      "",
      "",
    ],
  ],
  tickets: [
    [
      "ticket issue, EdDSA (token read, so signed): tickets/s",
      (r) => r.ticket_issue_eddsa.ops_per_second,
      "",
      "",
    ],
    [
      "ticket issue, EdDSA: p50 / p99 µs",
      (r) => `${r.ticket_issue_eddsa.p50_us} / ${r.ticket_issue_eddsa.p99_us}`,
      "",
      "",
    ],
    [
      "ticket verify, EdDSA (action + params digest): tickets/s",
      (r) => r.ticket_verify_eddsa.ops_per_second,
      "",
      "",
    ],
    [
      "ticket verify, EdDSA: p50 / p99 µs",
      (r) => `${r.ticket_verify_eddsa.p50_us} / ${r.ticket_verify_eddsa.p99_us}`,
      "",
      "",
    ],
    [
      "ticket issue, HS256 (0.9.0 compatibility): tickets/s",
      (r) => r.ticket_issue_hs256.ops_per_second,
      "",
      "",
    ],
    ["ticket verify, HS256: tickets/s", (r) => r.ticket_verify_hs256.ops_per_second, "", ""],
    [
      "ticket redeem, EdDSA, SQLite nonce store (fsync per redeem): tickets/s",
      (r) => r.ticket_redeem_eddsa_sqlite.ops_per_second,
      "",
      "",
    ],
    [
      "identity verify, cold (new token each time): tokens/s",
      (r) => r.identity_verify_cold.ops_per_second,
      "",
      "",
    ],
    [
      "identity verify, cold: p50 / p99 µs",
      (r) => `${r.identity_verify_cold.p50_us} / ${r.identity_verify_cold.p99_us}`,
      "",
      "",
    ],
    [
      "identity verify, cached (same token): tokens/s",
      (r) => r.identity_verify_cached.ops_per_second,
      "",
      "",
    ],
    [
      "identity verify, cached: p50 / p99 µs",
      (r) => `${r.identity_verify_cached.p50_us} / ${r.identity_verify_cached.p99_us}`,
      "",
      "",
    ],
  ],
  guards: [
    [
      "guard checks, memory state (kill switch, breaker, rate limit, cumulative risk): checks/s",
      (r) => r.memory.checks_per_second,
      "",
      "",
    ],
    ["guard checks, memory: p50 / p99 µs", (r) => `${r.memory.p50_us} / ${r.memory.p99_us}`, "", ""],
    ["guard checks, SQLite state (one file, WAL): checks/s", (r) => r.sqlite.checks_per_second, "", ""],
    ["guard checks, SQLite: p50 / p99 µs", (r) => `${r.sqlite.p50_us} / ${r.sqlite.p99_us}`, "", ""],
    [
      "guard checks, Redis state (loopback): checks/s, one at a time",
      (r) => r.redis.checks_per_second,
      "",
      "",
    ],
    ["guard checks, Redis: p50 / p99 µs", (r) => `${r.redis.p50_us} / ${r.redis.p99_us}`, "", ""],
    ["guard checks, Redis, 32 in flight: checks/s", (r) => r.redis.concurrent_32_checks_per_second, "", ""],
    [
      "1,000,000 distinct callers at once, memory, default cap 100,000: RSS growth MB",
      (r) => r.million_burst.rss_growth_mb,
      "≤ 100",
      "1,670",
    ],
    [
      "same: allowed / denied 'Guard state capacity reached'",
      (r) => `${r.million_burst.results.allow ?? 0} / ${r.million_burst.results.state_capacity ?? 0}`,
      "",
      "",
    ],
    [
      "1,000,000 distinct callers over 1 h, 60 s windows (eviction keeps up): RSS growth MB",
      (r) => r.million_steady.rss_growth_mb,
      "≤ 100",
      "",
    ],
    ["same: allowed", (r) => r.million_steady.results.allow ?? 0, "", ""],
  ],
};

export function renderReadme(results) {
  const out = [
    "# Benchmarks",
    "",
    "Run `npm run bench` (or `npm run bench -- decide batch cold-start` for some suites). Each suite",
    "writes its figures and the machine it ran on into `results.json`; this page is regenerated from it.",
    "Medians throughout. The 0.9.0 column quotes the figures the issues give for the earlier Python",
    "implementation on this machine class; it cannot run here, so each suite also measures a baseline",
    "in the same run (bare `node`, `JSON.parse` alone, one thread vs two).",
    "",
  ];
  for (const [suite, data] of Object.entries(results.suites)) {
    const m = data.machine;
    out.push(
      `## ${suite}`,
      "",
      `Machine: ${m.cpu}, ${m.cores} cores, ${m.memory_gb} GB, Node ${m.node}; ${m.date}; load ${m.load_average}.`,
      "",
    );
    out.push("| measure | result | target | 0.9.0 |", "|---|---|---|---|");
    for (const [label, get, target, ref] of ROWS[suite] ?? []) {
      let value;
      try {
        value = get(data.results);
      } catch {
        value = "n/a";
      }
      out.push(
        `| ${label} | ${typeof value === "number" ? value.toLocaleString("en-US") : value} | ${target} | ${ref} |`,
      );
    }
    out.push("");
  }
  out.push("Raw figures, including every run, are in `results.json`.", "");
  return out.join("\n");
}
