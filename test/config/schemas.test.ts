import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { jsonSchemas } from "../../src/config/json-schemas.js";
import { ROOT } from "../helpers/cli.js";

describe("JSON Schemas in schemas/", () => {
  it("are up to date with the zod schemas that validate the files (run `npm run schemas`)", () => {
    for (const [name, schema] of Object.entries(jsonSchemas())) {
      const committed = JSON.parse(readFileSync(join(ROOT, "schemas", name), "utf8"));
      expect(committed, name).toEqual(schema);
    }
  });

  it("describe the fields a policy author writes, and reject unknown keys", () => {
    const policy = jsonSchemas()["policy.schema.json"] as {
      properties: { rules: { items: Record<string, unknown> } };
    };
    const rule = policy.properties.rules.items as {
      properties: Record<string, unknown>;
      required: string[];
      additionalProperties: boolean;
    };
    expect(Object.keys(rule.properties)).toEqual([
      "name",
      "description",
      "priority",
      "match",
      "decision",
      "reason",
      "approval",
    ]);
    expect(rule.required).toEqual(["name", "match", "decision", "reason"]);
    expect(rule.additionalProperties).toBe(false);
  });
});
