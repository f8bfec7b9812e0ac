/** The two-word commands (`ticket verify`, `keys rotate`, …): found, and parsed as commander parses them. */
import { describe, expect, it } from "vitest";
import { COMMANDS, findCommand } from "../../src/cli/main.js";
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
  if (captured === undefined) throw new Error("commander did not run the command");
  return captured;
}

const byName = (name: string) => COMMANDS.find((c) => c.name === name)!;

describe("subcommands", () => {
  it.each([
    ["ticket verify", ["TOKEN", "--action", "a", "--target", "t", "--params", '{"a":1}', "--json"]],
    ["ticket redeem", ["TOKEN", "--config", "c.yaml", "--signing-key", "s", "--issuer", "i"]],
    ["identity issue", ["--agent-id", "a", "--roles", "x,y", "--groups", "g", "--ttl", "60", "--name", "N"]],
    [
      "delegation create",
      ["TOKEN", "--child-id", "c", "--child-name", "C", "--roles", "r", "--ttl", "5", "--max-depth", "2"],
    ],
    ["delegation verify", ["TOKEN", "--json-output"]],
    ["keys show", ["--json"]],
    ["keys rotate", ["ticket-signing", "--keep", "600"]],
    ["keys export", ["--jwks", "out.json"]],
    ["keys generate", ["identity-issuer"]],
  ] as [string, string[]][])("%s %j parses as commander parses it", async (name, argv) => {
    const spec = byName(name);
    const fast = fastParse(spec, argv);
    expect(fast).not.toBeNull();
    expect(fast).toEqual(await viaCommander(spec, argv));
  });

  it("finds two-word commands before one-word ones", () => {
    expect(findCommand(["node", "agent-safe", "ticket", "verify", "T"])).toMatchObject({
      spec: { name: "ticket verify" },
      rest: ["T"],
    });
    expect(findCommand(["node", "agent-safe", "check", "x"])).toMatchObject({
      spec: { name: "check" },
      rest: ["x"],
    });
    expect(findCommand(["node", "agent-safe", "keys"])).toBeUndefined();
  });

  it("`keys` alone runs `keys show` through commander", async () => {
    let ran = "";
    const specs = COMMANDS.filter((c) => c.name.startsWith("keys ")).map((c) => ({
      ...c,
      run: () => {
        ran = c.name;
      },
    }));
    await buildProgram(specs).parseAsync(["node", "agent-safe", "keys"]);
    expect(ran).toBe("keys show");
  });
});
