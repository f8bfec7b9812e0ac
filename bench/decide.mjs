// decide() throughput and per-call latency: on the shipped catalogue and default policies, and on
// a synthetic world of 1,000 actions and 1,000 rules (~900 naming exact actions, ~100 globs).
import { join } from "node:path";
import { loadWorld } from "../dist/config/load-world.js";
import { decide } from "../dist/core/decide.js";
import { evalTimeFromEpoch } from "../dist/core/time.js";
import { compileWorld } from "../dist/core/world.js";
import { clockOverheadNs, fmt, quantile, rng } from "./lib.mjs";

const ROOT = new URL("..", import.meta.url).pathname;

export function shippedRequests(world, count, seed = 1) {
  const random = rng(seed);
  const pick = (xs) => xs[Math.floor(random() * xs.length)];
  const actions = [...world.actions.values()].map((a) => a.def);
  const targets = [...world.targets.values()];
  const callers = [
    null,
    {
      agent_id: "deploy-01",
      agent_name: "",
      roles: ["deployer"],
      groups: [],
      delegation_chain: [],
      delegated_roles: [],
      delegation_depth: 0,
    },
    {
      agent_id: "bot-7",
      agent_name: "",
      roles: ["reader"],
      groups: ["sre"],
      delegation_chain: [],
      delegated_roles: [],
      delegation_depth: 0,
    },
  ];
  const out = [];
  for (let i = 0; i < count; i++) {
    const def = pick(actions);
    const target = random() < 0.9 ? pick(targets) : null;
    const params = {};
    for (const p of def.parameters) {
      if (!p.required && random() < 0.5) continue;
      const label = target?.labels[p.name];
      params[p.name] = label ?? { string: "x", integer: 3, number: 1.5, boolean: true, array: ["a"] }[p.type];
    }
    out.push({
      action: def.name,
      target: target?.id ?? null,
      caller: pick(callers),
      params,
      ticketId: random() < 0.2 ? "CHG-1" : null,
    });
  }
  return out;
}

export function syntheticWorld(profile = "strict", seed = 2) {
  const random = rng(seed);
  const pick = (xs) => xs[Math.floor(random() * xs.length)];
  const envs = ["dev", "staging", "prod"];
  const sens = ["public", "internal", "restricted", "critical"];
  const risks = ["low", "medium", "high", "critical"];
  const actions = [];
  for (let i = 0; i < 1000; i++) {
    actions.push({
      name: `svc${String(i).padStart(4, "0")}-op`,
      version: "1.0.0",
      description: "",
      parameters: [
        {
          name: "namespace",
          type: "string",
          required: true,
          description: "",
          default: null,
          sensitive: false,
          constraints: null,
        },
        {
          name: "count",
          type: "integer",
          required: false,
          description: "",
          default: null,
          sensitive: false,
          constraints: {
            min_value: 0,
            max_value: 100,
            min_length: null,
            max_length: null,
            pattern: null,
            enum: null,
          },
        },
      ],
      risk_class: pick(risks),
      target_types: ["svc"],
      prechecks: [],
      reversible: false,
      rollback_action: null,
      required_privileges: [],
      tags: [],
      credentials: null,
      state_fields: [],
      rollback_params: {},
    });
  }
  const targets = [];
  for (let i = 0; i < 200; i++) {
    targets.push({
      id: `t-${i}`,
      type: "svc",
      environment: pick(envs),
      sensitivity: pick(sens),
      owner: "",
      labels: { team: pick(["a", "b", "c"]) },
    });
  }
  const rules = [];
  for (let i = 0; i < 1000; i++) {
    const glob = i % 10 === 0;
    const actionsList = glob
      ? [`svc${String(Math.floor(random() * 100)).padStart(2, "0")}*`]
      : [pick(actions).name];
    const match = {
      actions: actionsList,
      targets: null,
      callers: null,
      risk_classes: null,
      time_windows: null,
      require_ticket: null,
    };
    const kind = random();
    if (kind < 0.4)
      match.targets = {
        environments: [pick(envs)],
        sensitivities: null,
        types: null,
        labels: random() < 0.3 ? { team: pick(["a", "b", "c"]) } : null,
      };
    else if (kind < 0.6)
      match.callers = {
        agent_ids: null,
        roles: [pick(["deployer", "reader", "admin"])],
        groups: null,
        delegated_from: null,
        max_delegation_depth: null,
        require_delegation: null,
      };
    else if (kind < 0.8) match.risk_classes = [pick(risks), pick(risks)];
    else match.time_windows = [{ days: [0, 1, 2, 3, 4], start_hour: 8, end_hour: 18 }];
    rules.push({
      name: `r${i}`,
      description: "",
      priority: Math.floor(random() * 100),
      match,
      decision: pick(["allow", "deny", "require_approval"]),
      reason: `rule ${i}`,
      approval: null,
      source: null,
    });
  }
  return compileWorld({ actions, targets, rules, profile, revision: "synthetic" });
}

export function syntheticRequests(world, count, seed = 3) {
  const random = rng(seed);
  const pick = (xs) => xs[Math.floor(random() * xs.length)];
  const names = [...world.actions.keys()];
  const targets = [...world.targets.keys()];
  const callers = [
    null,
    {
      agent_id: "a",
      agent_name: "",
      roles: ["deployer"],
      groups: [],
      delegation_chain: [],
      delegated_roles: [],
      delegation_depth: 0,
    },
  ];
  const out = [];
  for (let i = 0; i < count; i++) {
    out.push({
      action: pick(names),
      target: pick(targets),
      caller: pick(callers),
      params: { namespace: "x", count: Math.floor(random() * 120) },
      ticketId: null,
    });
  }
  return out;
}

function measure(world, requests, rounds) {
  const time = evalTimeFromEpoch(Date.UTC(2025, 5, 4, 12));
  // Warm up so the optimising compiler has settled before we time anything.
  for (let r = 0; r < 3; r++) for (const q of requests) decide(q, world, time);
  const overhead = clockOverheadNs();
  const samples = new Float64Array(requests.length * rounds);
  let k = 0;
  let sink = 0;
  const t0 = process.hrtime.bigint();
  for (let r = 0; r < rounds; r++) {
    for (const q of requests) {
      const a = process.hrtime.bigint();
      sink += decide(q, world, time).result.length;
      samples[k++] = Number(process.hrtime.bigint() - a) - overhead;
    }
  }
  const wallNs = Number(process.hrtime.bigint() - t0);
  // Throughput without per-call clock reads.
  const t1 = process.hrtime.bigint();
  for (let r = 0; r < rounds; r++) for (const q of requests) sink += decide(q, world, time).result.length;
  const plainNs = Number(process.hrtime.bigint() - t1);
  samples.sort();
  if (sink === 0) throw new Error("unreachable");
  return {
    decisions: samples.length,
    decisions_per_second: Math.round(samples.length / (plainNs / 1e9)),
    p50_us: fmt(Math.max(0, quantile(samples, 0.5)) / 1000, 3),
    p99_us: fmt(Math.max(0, quantile(samples, 0.99)) / 1000, 3),
    clock_overhead_ns: overhead,
    timed_wall_s: fmt(wallNs / 1e9, 2),
  };
}

export function runDecideBench() {
  const shipped = loadWorld(
    {
      actions: join(ROOT, "actions"),
      policies: join(ROOT, "policies"),
      inventory: join(ROOT, "inventory.yaml"),
    },
    { profile: "strict" },
  ).world;
  const synthetic = syntheticWorld();
  return {
    shipped_strict: measure(shipped, shippedRequests(shipped, 20_000), 25),
    shipped_reference: measure(
      loadWorld(
        {
          actions: join(ROOT, "actions"),
          policies: join(ROOT, "policies"),
          inventory: join(ROOT, "inventory.yaml"),
        },
        { profile: "reference" },
      ).world,
      shippedRequests(shipped, 20_000),
      25,
    ),
    synthetic_1000_rules: measure(synthetic, syntheticRequests(synthetic, 20_000), 25),
  };
}

if (import.meta.url === `file://${process.argv[1]}`) console.log(JSON.stringify(runDecideBench(), null, 2));
