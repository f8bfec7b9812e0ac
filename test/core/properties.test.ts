/** Property tests of the decision engine (fast-check), on the compatibility fixture world. */

import { join } from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { loadWorldInput } from "../../src/config/load-world.js";
import { DEFAULT_DENY_REASON, decide } from "../../src/core/decide.js";
import { validateParams } from "../../src/core/params.js";
import { PyFloat, type PyValue } from "../../src/core/pyvalue.js";
import { RISK_MATRIX, riskRank } from "../../src/core/risk.js";
import { evalTimeFromEpoch } from "../../src/core/time.js";
import { type DecisionRequest, RISK_CLASSES, SENSITIVITIES, type Target } from "../../src/core/types.js";
import { compileWorld } from "../../src/core/world.js";
import { COMPAT } from "../helpers/cli.js";

const dir = join(COMPAT, "fixture");
const input = loadWorldInput(
  { actions: join(dir, "actions"), policies: join(dir, "policies"), inventory: join(dir, "inventory.yaml") },
  { profile: "reference" },
).input;
const worlds = { reference: compileWorld(input), strict: compileWorld({ ...input, profile: "strict" }) };
const actionNames = input.actions.map((a) => a.name);
const paramNames = [...new Set(input.actions.flatMap((a) => a.parameters.map((p) => p.name)))];
const targetIds = input.targets.map((t) => t.id);
const words = [
  "admin",
  "reader",
  "sre",
  "deployer",
  "netops",
  "secops",
  "platform",
  "night-ops",
  "web",
  "orchestrator-01",
  "break-glass-bot",
  "netops-bot",
];

const value: fc.Arbitrary<PyValue> = fc.oneof(
  fc.string(),
  fc.integer({ min: -5, max: 2000 }),
  fc.double({ noNaN: true }),
  fc.integer({ min: -3, max: 100 }).map((n) => new PyFloat(n)),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.oneof(fc.string(), fc.integer()), { maxLength: 3 }),
  fc.constantFrom("node-01", "node-٠١", "10.0.0.1/24", "tcp", "viewer", "rolling", "a_b", "x"),
);

const request: fc.Arbitrary<DecisionRequest> = fc.record({
  action: fc.oneof(
    fc.constantFrom(...actionNames),
    fc.string(),
    fc.constantFrom("iam-x", "svc-stop", "cache-flush"),
  ),
  target: fc.oneof(fc.constantFrom(...targetIds), fc.constant(null), fc.string()),
  caller: fc.oneof(
    fc.constant(null),
    fc.record({
      agent_id: fc.oneof(fc.constantFrom(...words), fc.string()),
      agent_name: fc.constant(""),
      roles: fc.subarray(words),
      groups: fc.subarray(words),
      delegation_chain: fc.array(
        fc.record({
          agent_id: fc.constantFrom(...words),
          agent_name: fc.constant(""),
          roles: fc.constant<string[]>([]),
          groups: fc.constant<string[]>([]),
          delegated_at: fc.constant<string | null>(null),
        }),
        { maxLength: 3 },
      ),
      delegated_roles: fc.constant<string[]>([]),
      delegation_depth: fc.integer({ min: 0, max: 4 }),
    }),
  ),
  params: fc.oneof(
    fc.constant(null),
    fc.dictionary(fc.oneof(fc.constantFrom(...paramNames), fc.string()), value, { maxKeys: 5 }),
  ),
  ticketId: fc.oneof(fc.constant(null), fc.constant(""), fc.string()),
});
const time = fc.integer({ min: 1_600_000_000_000, max: 1_900_000_000_000 }).map(evalTimeFromEpoch);

describe("decision engine properties", () => {
  for (const profile of ["reference", "strict"] as const) {
    const w = worlds[profile];
    it(`${profile}: an unknown action or invalid parameters never ALLOW`, () => {
      fc.assert(
        fc.property(request, time, (r, t) => {
          const d = decide(r, w, t);
          const known = w.actions.get(r.action);
          if (known === undefined) return d.result === "deny" && d.code === "unknown_action";
          const params = r.params ?? {};
          const validated = profile === "strict" || Object.keys(params).length > 0;
          if (validated && validateParams(known.params, params) !== null)
            return d.result === "deny" && d.code === "invalid_params";
          return true;
        }),
        { numRuns: 3000 },
      );
    });

    it(`${profile}: the same request and world always give the same decision`, () => {
      const fresh = compileWorld({ ...input, profile });
      fc.assert(
        fc.property(request, time, (r, t) => {
          const a = decide(r, w, t);
          expect(decide(r, w, t)).toEqual(a);
          expect(decide(r, fresh, t)).toEqual(a);
        }),
        { numRuns: 1000 },
      );
    });

    it(`${profile}: denies by default when no rule matches`, () => {
      fc.assert(
        fc.property(request, time, (r, t) => {
          const d = decide(r, w, t);
          if (d.code !== "default_deny") return;
          expect([d.result, d.reason, d.policy_matched]).toEqual(["deny", DEFAULT_DENY_REASON, null]);
        }),
        { numRuns: 2000 },
      );
      const empty = compileWorld({ ...input, rules: [], profile });
      fc.assert(
        fc.property(request, time, (r, t) => decide(r, empty, t).result === "deny"),
        { numRuns: 1000 },
      );
    });
  }

  it("raising a target's sensitivity never lowers the effective risk", () => {
    for (const risk of RISK_CLASSES) {
      for (let i = 1; i < SENSITIVITIES.length; i++) {
        expect(riskRank(RISK_MATRIX[risk][SENSITIVITIES[i]!])).toBeGreaterThanOrEqual(
          riskRank(RISK_MATRIX[risk][SENSITIVITIES[i - 1]!]),
        );
      }
    }
    fc.assert(
      fc.property(
        request,
        time,
        fc.constantFrom(...targetIds),
        fc.constantFrom(...SENSITIVITIES),
        (r, t, id, raised) => {
          const original = input.targets.find((x) => x.id === id)!;
          fc.pre(SENSITIVITIES.indexOf(raised) >= SENSITIVITIES.indexOf(original.sensitivity));
          const targets: Target[] = input.targets.map((x) =>
            x.id === id ? { ...x, sensitivity: raised } : x,
          );
          const higher = compileWorld({ ...input, targets });
          const before = decide({ ...r, target: id }, worlds.reference, t).effective_risk;
          const after = decide({ ...r, target: id }, higher, t).effective_risk;
          return riskRank(after) >= riskRank(before);
        },
      ),
      { numRuns: 2000 },
    );
  });
});
