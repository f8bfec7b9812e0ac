import { describe, expect, it } from "vitest";
import { decide } from "../../src/core/decide.js";
import { PyFloat } from "../../src/core/pyvalue.js";
import { evalTimeFromEpoch, parseTimestamp } from "../../src/core/time.js";
import type { CallerIdentity, DecisionRequest } from "../../src/core/types.js";
import { bareCaller } from "../../src/pdp/caller.js";
import { action, param, referenceWorld, rule, shippedWorld, target, world } from "../helpers/world.js";

const NOON = parseTimestamp("2025-06-04T12:00:00Z");
const deployer: CallerIdentity = { ...bareCaller("deploy-01"), roles: ["deployer"] };

function req(r: Partial<DecisionRequest> & { action: string }): DecisionRequest {
  return { target: null, caller: null, params: null, ticketId: null, ...r };
}

describe("golden decisions of 0.9.0 (REFERENCE.md Appendix C), reference profile", () => {
  const w = referenceWorld("reference");
  const cases: [DecisionRequest, string, string, string | null, string][] = [
    [
      req({ action: "restart-deployment", target: "staging/api-server", caller: deployer }),
      "allow",
      "medium",
      "allow-deployer-staging",
      "Deployer agents are authorized for staging deployment management",
    ],
    [
      req({ action: "restart-deployment", target: "staging/api-server", caller: bareCaller("deploy-01") }),
      "deny",
      "medium",
      null,
      "No matching policy (default deny)",
    ],
    [
      req({ action: "get-pod-logs", target: "staging/api-server" }),
      "allow",
      "low",
      "allow-read-actions-staging",
      "Read-only actions are safe on staging",
    ],
    [
      req({ action: "get-secret", target: "staging/api-server", caller: deployer }),
      "deny",
      "high",
      null,
      "No matching policy (default deny)",
    ],
    [
      req({ action: "restart-deployment", target: "prod/web-frontend", caller: deployer }),
      "require_approval",
      "high",
      "require-approval-prod",
      "Production actions require explicit approval",
    ],
    [
      req({ action: "delete-namespace", target: "prod/payments-ns", caller: deployer }),
      "require_approval",
      "critical",
      "require-approval-critical-risk",
      "Critical-risk actions always require human approval",
    ],
    [
      req({ action: "delete-namespace", target: "dev/test-app", caller: deployer }),
      "allow",
      "high",
      "allow-dev-all",
      "Development environment is unrestricted",
    ],
    [
      req({ action: "restart-deployment", caller: deployer }),
      "require_approval",
      "critical",
      "require-approval-critical-risk",
      "Critical-risk actions always require human approval",
    ],
    [
      req({ action: "get-pod-logs", target: "no/such-target", caller: deployer }),
      "deny",
      "high",
      null,
      "No matching policy (default deny)",
    ],
    [
      req({ action: "exec-pod", target: "dev/debug-pod" }),
      "allow",
      "medium",
      "allow-dev-all",
      "Development environment is unrestricted",
    ],
    [
      req({ action: "ec2-stop-instance", target: "prod/api-instance", caller: deployer }),
      "require_approval",
      "critical",
      "require-approval-critical-risk",
      "Critical-risk actions always require human approval",
    ],
    [
      req({
        action: "scale-deployment",
        target: "dev/test-app",
        params: { namespace: "dev", deployment: "app", replicas: new PyFloat(5) },
      }),
      "deny",
      "low",
      null,
      "Invalid parameters: Parameter 'replicas': expected integer, got float",
    ],
    [
      req({ action: "scale-deployment", target: "dev/test-app", params: {} }),
      "allow",
      "low",
      "allow-dev-all",
      "Development environment is unrestricted",
    ],
  ];
  it.each(cases)("%# %j", (request, result, risk, policy, reason) => {
    const d = decide(request, w, NOON);
    expect([d.result, d.effective_risk, d.policy_matched, d.reason]).toEqual([result, risk, policy, reason]);
  });

  it("reports an unresolved target as 'unknown' (0.9.0 drops the requested id)", () => {
    expect(decide(req({ action: "get-pod-logs", target: "no/such-target" }), w, NOON).target).toBe("unknown");
  });
});

describe("strict profile deviations (DESIGN.md §4 items 1-3)", () => {
  const w = referenceWorld("strict");

  it("validates parameters even when they are empty: missing required → DENY", () => {
    const d = decide(req({ action: "scale-deployment", target: "dev/test-app", params: {} }), w, NOON);
    expect(d.result).toBe("deny");
    expect(d.code).toBe("invalid_params");
    expect(d.reason).toBe(
      "Invalid parameters: Missing required parameter: namespace; Missing required parameter: deployment; Missing required parameter: replicas",
    );
  });

  it("denies a target whose type the action does not accept", () => {
    const d = decide(
      req({ action: "delete-namespace", target: "dev/test-app", params: { namespace: "dev" } }),
      w,
      NOON,
    );
    expect([d.result, d.code, d.reason]).toEqual([
      "deny",
      "target_type",
      "Target type 'k8s-deployment' is not allowed for action 'delete-namespace'",
    ]);
  });

  it("binds a parameter to the target's label of the same name", () => {
    const bound = world({
      actions: [
        action({
          name: "restart",
          target_types: ["svc"],
          parameters: [param({ name: "namespace", type: "string" })],
        }),
      ],
      targets: [target({ id: "dev/test-app", labels: { namespace: "dev" } })],
      rules: [rule({ name: "allow-all" })],
    });
    const ok = decide(
      req({ action: "restart", target: "dev/test-app", params: { namespace: "dev" } }),
      bound,
      NOON,
    );
    expect(ok.result).toBe("allow");
    const bad = decide(
      req({ action: "restart", target: "dev/test-app", params: { namespace: "prod" } }),
      bound,
      NOON,
    );
    expect([bad.result, bad.code, bad.reason]).toEqual([
      "deny",
      "param_binding",
      "Parameter 'namespace' does not match target 'dev/test-app'",
    ]);
  });

  it("keeps the requested id of an unknown target", () => {
    const d = decide(
      req({ action: "get-pod-logs", target: "no/such-target", params: { namespace: "x", pod: "y" } }),
      w,
      NOON,
    );
    expect([d.target, d.target_known, d.effective_risk]).toEqual(["no/such-target", false, "high"]);
  });
});

describe("rule evaluation", () => {
  const base = {
    actions: [action({ name: "svc-restart" }), action({ name: "svc-stop", risk_class: "high" })],
    targets: [target({ id: "dev/a" })],
  };

  it("orders by priority, highest first, keeping load order on ties", () => {
    const w = world({
      ...base,
      rules: [
        rule({ name: "first-tie", priority: 5, decision: "deny" }),
        rule({ name: "second-tie", priority: 5, decision: "allow" }),
        rule({ name: "low", priority: -1 }),
      ],
    });
    expect(decide(req({ action: "svc-restart", target: "dev/a", params: {} }), w, NOON).policy_matched).toBe(
      "first-tie",
    );
  });

  it("treats empty lists as never matching, and absent selectors as no constraint", () => {
    const w = world({
      ...base,
      rules: [
        rule({ name: "empty-actions", priority: 9, match: { actions: [] } }),
        rule({
          name: "empty-envs",
          priority: 8,
          match: { targets: { environments: [], sensitivities: null, types: null, labels: null } },
        }),
        rule({ name: "catch-all", priority: 0 }),
      ],
    });
    expect(decide(req({ action: "svc-restart", target: "dev/a", params: {} }), w, NOON).policy_matched).toBe(
      "catch-all",
    );
  });

  it("never matches an anonymous caller with a callers selector, even an empty one", () => {
    const w = world({
      ...base,
      rules: [
        rule({
          name: "any-caller",
          match: {
            callers: {
              agent_ids: null,
              roles: null,
              groups: null,
              delegated_from: null,
              max_delegation_depth: null,
              require_delegation: null,
            },
          },
        }),
      ],
    });
    expect(decide(req({ action: "svc-restart", target: "dev/a", params: {} }), w, NOON).code).toBe(
      "default_deny",
    );
    expect(
      decide(req({ action: "svc-restart", target: "dev/a", params: {}, caller: bareCaller("") }), w, NOON)
        .result,
    ).toBe("allow");
  });

  it("matches time windows on the hour and weekday written in the timestamp, wrapping midnight", () => {
    const w = world({
      ...base,
      rules: [
        rule({ name: "monday-night", match: { time_windows: [{ days: [0], start_hour: 22, end_hour: 4 }] } }),
      ],
    });
    const at = (iso: string) =>
      decide(req({ action: "svc-restart", target: "dev/a", params: {} }), w, parseTimestamp(iso)).result;
    expect(at("2025-06-02T23:30:00Z")).toBe("allow"); // Monday 23h
    expect(at("2025-06-02T04:59:59Z")).toBe("allow"); // Monday 04h (end hour inclusive)
    expect(at("2025-06-03T01:00:00Z")).toBe("deny"); // Tuesday 01h: the day is the request's own
    expect(at("2025-06-02T12:00:00+13:00")).toBe("deny"); // Monday 12h local
    expect(at("2025-06-02T23:00:00-05:00")).toBe("allow"); // Monday 23h local, Tuesday in UTC
  });

  it("matches require_ticket on presence, with an empty id counting as none", () => {
    const w = world({
      ...base,
      rules: [
        rule({ name: "ticketed", match: { require_ticket: true } }),
        rule({ name: "unticketed", match: { require_ticket: false }, decision: "deny" }),
      ],
    });
    const withTicket = (ticketId: string | null) =>
      decide(req({ action: "svc-restart", target: "dev/a", params: {}, ticketId }), w, NOON).policy_matched;
    expect([withTicket("CHG-1"), withTicket(" "), withTicket(""), withTicket(null)]).toEqual([
      "ticketed",
      "ticketed",
      "unticketed",
      "unticketed",
    ]);
  });

  it("only consults rules that can match the action (compiled index)", () => {
    const w = world({
      ...base,
      rules: [
        rule({ name: "exact", match: { actions: ["svc-stop"] } }),
        rule({ name: "glob", match: { actions: ["svc-r*"] } }),
      ],
    });
    expect(w.rulesFor("svc-restart").map((r) => r.rule.name)).toEqual(["glob"]);
    expect(w.rulesFor("svc-stop").map((r) => r.rule.name)).toEqual(["exact"]);
    expect(
      decide(req({ action: "svc-restart", target: "dev/a", params: {} }), w, evalTimeFromEpoch(0))
        .policy_matched,
    ).toBe("glob");
  });
});

describe("the shipped catalogue", () => {
  it("loads in the strict profile and allows a well-formed dev restart", () => {
    const w = shippedWorld("strict");
    expect(w.actions.size).toBe(33);
    const d = decide(
      req({
        action: "restart-deployment",
        target: "dev/test-app",
        params: { namespace: "dev", deployment: "test-app" },
      }),
      w,
      NOON,
    );
    expect([d.result, d.policy_matched]).toEqual(["allow", "allow-dev-all"]);
  });
});
