/** The audit commands parse the same through the fast path and commander (repeatable options too). */
import { describe, expect, it } from "vitest";
import { AUDIT_COMMANDS } from "../../src/cli/commands/audit.js";
import { buildProgram } from "../../src/cli/program.js";
import { type CommandSpec, fastParse } from "../../src/cli/spec.js";

async function viaCommander(spec: CommandSpec, argv: string[]) {
  let captured: { args: unknown[]; options: Record<string, unknown> } | undefined;
  const spy: CommandSpec = {
    ...spec,
    run(args, options) {
      captured = { args, options: { ...options } };
    },
  };
  await buildProgram([spy]).parseAsync(["node", "agent-safe", ...spec.name.split(" "), ...argv]);
  return captured!;
}

const byName = (name: string) => AUDIT_COMMANDS.find((c) => c.name === name)!;

describe("audit command parsing", () => {
  it.each([
    ["audit verify", ["a.jsonl", "b.jsonl", "--checkpoints", "x", "--checkpoints", "y", "--json"]],
    ["audit verify", ["--audit-log", "a.jsonl", "--repair", "--public-key", "k.pem"]],
    ["audit show", ["log.jsonl", "--last", "0", "--event-type", "gap", "--since", "2h"]],
    ["audit show-state", ["evt-0123456789ab", "--log-file", "x.jsonl"]],
    ["audit ship", ["--backend", "webhook", "--url", "http://x/", "--header", "A=1", "--header", "B=2=3"]],
  ])("%s %j", async (name, argv) => {
    const spec = byName(name);
    const fast = fastParse(spec, argv);
    expect(fast).not.toBeNull();
    expect(fast).toEqual(await viaCommander(spec, argv));
  });

  it("repeated --header arrives as a list", () => {
    const parsed = fastParse(byName("audit ship"), [
      "--backend",
      "webhook",
      "--header",
      "A=1",
      "--header",
      "B=2",
    ]);
    expect(parsed?.options.header).toEqual(["A=1", "B=2"]);
  });
});
