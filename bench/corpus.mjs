// Writes N request lines (DESIGN.md §9 format) against the shipped catalogue, deterministically.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { loadWorld } from "../dist/config/load-world.js";
import { shippedRequests } from "./decide.mjs";

const ROOT = new URL("..", import.meta.url).pathname;

export function writeShippedCorpus(path, count) {
  const world = loadWorld(
    {
      actions: join(ROOT, "actions"),
      policies: join(ROOT, "policies"),
      inventory: join(ROOT, "inventory.yaml"),
    },
    { profile: "strict" },
  ).world;
  const lines = shippedRequests(world, count, 11).map((r, i) =>
    JSON.stringify({
      id: `req-${i}`,
      action: r.action,
      target: r.target,
      caller: r.caller === null ? null : i % 3 === 0 ? r.caller.agent_id : r.caller,
      params: r.params,
      timestamp: new Date(Date.UTC(2025, 0, 1) + i * 61_000).toISOString(),
      ticket_id: r.ticketId,
    }),
  );
  writeFileSync(path, `${lines.join("\n")}\n`);
  return path;
}

if (import.meta.url === `file://${process.argv[1]}`)
  writeShippedCorpus(process.argv[2] ?? "/tmp/shipped200k.jsonl", Number(process.argv[3] ?? 200_000));
