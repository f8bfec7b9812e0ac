/** The commander-free fast path must read every invocation exactly as commander does. */
import { describe, expect, it } from "vitest";
import { COMMANDS } from "../../src/cli/main.js";
import { buildProgram } from "../../src/cli/program.js";
import { type CommandSpec, fastParse } from "../../src/cli/spec.js";

async function viaCommander(
  spec: CommandSpec,
  argv: string[],
): Promise<{ args: unknown[]; options: Record<string, unknown> }> {
  let captured: { args: unknown[]; options: Record<string, unknown> } | undefined;
  const spy: CommandSpec = {
    ...spec,
    run(args, options) {
      captured = { args, options: { ...options } };
    },
  };
  await buildProgram([spy]).parseAsync(["node", "agent-safe", spec.name, ...argv]);
  if (captured === undefined) throw new Error("commander did not run the command");
  return captured;
}

const byName = (name: string) => COMMANDS.find((c) => c.name === name)!;

const CASES: [string, string[]][] = [
  ["check", ["restart-deployment", "-t", "dev/a", "--params", '{"a":1}', "--json"]],
  [
    "check",
    [
      "x",
      "--target=dev/a",
      "-c",
      "bot",
      "--ticket-id",
      "CHG-1",
      "--at",
      "2025-01-01T00:00:00Z",
      "--no-cache",
    ],
  ],
  [
    "check",
    ["--batch", "-", "--workers", "2", "--profile", "reference", "--registry", "acts", "--json-output"],
  ],
  ["check", ["--plan", "p.yaml", "--config", "c.yaml", "--debug"]],
  ["explain", ["delete-namespace", "--policies", "pol", "--inventory", "inv.yaml"]],
  ["test", ["a.yaml", "b.yaml", "--json"]],
  ["validate", ["--strict"]],
  ["list-actions", ["--tag", "aws", "--risk", "high"]],
  ["init", []],
  ["init", ["proj", "--json"]],
];

describe("fast path", () => {
  it.each(CASES)("%s %j parses as commander parses it", async (name, argv) => {
    const spec = byName(name);
    const fast = fastParse(spec, argv);
    expect(fast).not.toBeNull();
    expect(fast).toEqual(await viaCommander(spec, argv));
  });

  it.each([
    ["check", ["--bogus"]],
    ["check", ["--profile", "lenient"]],
    ["check", ["--target"]],
    ["explain", []],
    ["test", []],
    ["validate", ["extra-arg"]],
    ["list-actions", ["--risk", "severe"]],
    ["check", ["--help"]],
  ] as [string, string[]][])("hands %s %j to commander (help or a usage error)", (name, argv) => {
    expect(fastParse(byName(name), argv)).toBeNull();
  });
});
