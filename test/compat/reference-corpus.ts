/**
 * A deterministic request corpus for the 0.9.0 release's own files (`../shared/compat/reference`),
 * which come with no request corpus of their own. It mixes every action with every target (and
 * unknown / missing ones), callers with and without roles, and parameters that are complete,
 * missing, empty, null, mistyped, out of range, or contradict the target's labels.
 */
import type { ActionDef } from "../../src/core/types.js";

/** mulberry32: small, fast, good enough to shuffle test inputs reproducibly. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SAMPLE_VALUES: Record<string, unknown[]> = {
  string: [
    "dev",
    "staging",
    "prod",
    "payments",
    "app",
    "i-0abc123def456",
    "company-audit-logs",
    "us-east-1",
    "BAD NAME",
    "",
  ],
  integer: [0, 1, 3, 101, -1, 5.5, "3"],
  number: [0, 1.5, 200],
  boolean: [true, false, "yes"],
  array: [["ls"], [], "ls"],
};

export function referenceCorpus(
  actions: readonly ActionDef[],
  targetIds: readonly string[],
  count: number,
  seed = 7,
): string {
  const random = rng(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const targets = [...targetIds, "no/such-target", null];
  const callers = [
    null,
    "deploy-01",
    {
      agent_id: "deploy-01",
      roles: ["deployer"],
      groups: [],
      delegation_chain: [],
      delegated_roles: [],
      delegation_depth: 0,
    },
    {
      agent_id: "reader-7",
      roles: ["reader"],
      groups: ["sre"],
      delegation_chain: [],
      delegated_roles: [],
      delegation_depth: 0,
    },
  ];
  const lines: string[] = [];
  for (let i = 0; i < count; i++) {
    const action = random() < 0.03 ? "no-such-action" : pick(actions).name;
    const def = actions.find((a) => a.name === action);
    const mode = pick(["full", "full", "required", "empty", "null", "mistyped", "extra"] as const);
    let params: Record<string, unknown> | null = {};
    if (mode === "null") params = null;
    else if (def !== undefined && mode !== "empty") {
      for (const p of def.parameters) {
        if (mode === "required" && !p.required) continue;
        if (mode !== "full" && mode !== "extra" && random() < 0.1) continue;
        const values = SAMPLE_VALUES[p.type]!;
        params[p.name] =
          mode === "mistyped" && random() < 0.5 ? pick(SAMPLE_VALUES.string!) : pick(values.slice(0, 3));
      }
      if (mode === "extra") params.evil_extra = "x";
    }
    const hour = String(Math.floor(random() * 24)).padStart(2, "0");
    lines.push(
      JSON.stringify({
        id: `ref-${i}`,
        action,
        target: pick(targets),
        caller: pick(callers),
        params,
        timestamp: `2025-06-0${1 + Math.floor(random() * 7)}T${hour}:00:00Z`,
        ticket_id: random() < 0.2 ? "CHG-1" : null,
      }),
    );
  }
  return `${lines.join("\n")}\n`;
}
