/** JSON Schemas for editors, generated from the same zod schemas that validate the files. */
import * as z from "zod";
import { projectSchema } from "./project-schema.js";
import { actionSchema, inventorySchema, policyFileSchema, policyTestFileSchema } from "./schemas.js";

const BASE = "https://agent-safe.dev/schemas";

const FILES = {
  "action.schema.json": {
    title: "Agent-Safe action definition (actions/*.yaml)",
    schema: () => actionSchema("strict"),
  },
  "policy.schema.json": {
    title: "Agent-Safe policy file (policies/*.yaml)",
    schema: () => policyFileSchema("strict"),
  },
  "inventory.schema.json": {
    title: "Agent-Safe target inventory (inventory.yaml)",
    schema: () => inventorySchema("strict"),
  },
  "policy-test.schema.json": {
    title: "Agent-Safe policy tests (agent-safe test)",
    schema: () => policyTestFileSchema("strict"),
  },
  "config.schema.json": {
    title: "Agent-Safe project configuration (agent-safe.yaml)",
    schema: () => projectSchema,
  },
} as const;

export function jsonSchemas(): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, { title, schema }] of Object.entries(FILES)) {
    const generated = z.toJSONSchema(schema(), {
      io: "input",
      unrepresentable: "any",
      target: "draft-2020-12",
    });
    out[name] = { ...generated, $id: `${BASE}/${name}`, title };
  }
  return out;
}
