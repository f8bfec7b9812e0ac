#!/usr/bin/env node
// Writes schemas/*.schema.json from the zod schemas (run `npm run schemas` after changing a format).
import { mkdirSync, writeFileSync } from "node:fs";
import { jsonSchemas } from "../dist/config/json-schemas.js";

mkdirSync("schemas", { recursive: true });
for (const [name, schema] of Object.entries(jsonSchemas())) {
  writeFileSync(`schemas/${name}`, `${JSON.stringify(schema, null, 2)}\n`);
  console.log(`schemas/${name}`);
}
