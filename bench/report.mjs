// Renders bench/README.md from bench/results.json: one table per suite, with the target and the
// 0.9.0 figure where the issues give one (0.9.0 cannot run here; its figures are quoted).

const ROWS = {
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
