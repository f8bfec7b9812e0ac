/**
 * Commands are declared once, as data: their arguments, options and handler. The same declaration
 * feeds commander (help, usage errors) and a fast parser built on `node:util` `parseArgs`, which
 * runs well-formed invocations without loading commander at all.
 */
import { parseArgs } from "node:util";

export interface OptionSpec {
  /** Commander-style flags: `-t, --target <id>`, `--json`, `--no-cache`. */
  flags: string;
  description: string;
  choices?: readonly string[];
  /** Accepted but not shown in --help (the 0.9.0 spellings). */
  hidden?: boolean;
  /** May be given several times (`--header A=1 --header B=2`); the value is an array. */
  multiple?: boolean;
}

export interface ArgumentSpec {
  /** `<name>` (required), `[name]` (optional), `<name...>` / `[name...]` (variadic). */
  name: string;
  description: string;
  default?: string;
}

export interface CommandSpec {
  /** One word, or two for a subcommand (`ticket verify`): the group is created from the first. */
  name: string;
  /** For a subcommand: the group's one-line summary (the first spec of the group that sets it wins). */
  groupSummary?: string;
  /** For a subcommand: run it when the group is invoked alone (`agent-safe keys` = `keys show`). */
  isDefault?: boolean;
  summary: string;
  description: string;
  arguments: readonly ArgumentSpec[];
  options: readonly OptionSpec[];
  helpAfter?: string;
  /** Receives the positional arguments and the options (camelCased, as commander gives them). */
  run(args: unknown[], options: Record<string, unknown>): Promise<void> | void;
}

export interface ParsedFlag {
  short: string | undefined;
  long: string;
  /** The key in the options object: camelCased, `no-` stripped for negations. */
  key: string;
  takesValue: boolean;
  negate: boolean;
}

export function parseFlags(flags: string): ParsedFlag {
  const m = /^(?:-([A-Za-z]),\s*)?--([a-z][a-z0-9-]*)(?:\s+[<[][^>\]]+[>\]])?$/.exec(flags.trim());
  if (m === null) throw new Error(`bad option flags: ${flags}`);
  const long = m[2]!;
  const negate = long.startsWith("no-");
  return {
    short: m[1],
    long,
    key: camel(negate ? long.slice(3) : long),
    takesValue: /[<[]/.test(flags),
    negate,
  };
}

function camel(name: string): string {
  return name.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

/**
 * Parses `argv` (after the command name) the way commander would for this spec, or returns
 * `null` when commander should handle it: help, unknown or malformed options, bad choices,
 * missing or excess arguments. Commander then prints the proper usage error.
 */
export function fastParse(
  spec: CommandSpec,
  argv: readonly string[],
): { args: unknown[]; options: Record<string, unknown> } | null {
  if (argv.includes("--help") || argv.includes("-h")) return null;
  const flags = spec.options.map((o) => ({ spec: o, flag: parseFlags(o.flags) }));
  const config: Record<string, { type: "string" | "boolean"; short?: string; multiple?: boolean }> = {};
  for (const { spec: o, flag } of flags) {
    config[flag.long] =
      flag.short === undefined
        ? { type: flag.takesValue ? "string" : "boolean" }
        : { type: flag.takesValue ? "string" : "boolean", short: flag.short };
    if (o.multiple === true) config[flag.long]!.multiple = true;
  }
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args: [...argv], options: config, strict: true, allowPositionals: true });
  } catch {
    return null;
  }
  const options: Record<string, unknown> = {};
  for (const { spec: o, flag } of flags) {
    const value = parsed.values[flag.long];
    if (flag.negate) {
      options[flag.key] = value !== true;
      continue;
    }
    if (value === undefined) continue;
    if (o.choices !== undefined && !o.multiple && !o.choices.includes(value as string)) return null;
    options[flag.key] = value;
  }
  const positionals = [...parsed.positionals];
  const args: unknown[] = [];
  for (const a of spec.arguments) {
    const required = a.name.startsWith("<");
    if (a.name.includes("...")) {
      if (required && positionals.length === 0) return null;
      args.push(positionals.splice(0));
    } else {
      const value = positionals.shift() ?? a.default;
      if (required && value === undefined) return null;
      args.push(value);
    }
  }
  return positionals.length > 0 ? null : { args, options };
}
