/**
 * The examples and the documentation's shown output stay true: examples/quickstart validates and
 * passes its policy tests, examples/sdk/check.ts prints what its README shows, and every
 * `agent-safe check` / `explain` example in README.md's tour (and every `$ agent-safe ...` example in
 * examples/quickstart/README.md and the pages of docs/) gives the output shown beside it.
 * A page may capture a command's output in a shell variable (`DEPLOY=$(agent-safe identity issue
 * ...)`) and use it in later examples (`--caller "$DEPLOY"`).
 */
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { cli, ROOT, tempDir } from "./helpers/cli.js";

const QUICKSTART = join(ROOT, "examples", "quickstart");

/** One example command from a ```sh block, with the output shown after it (if any). */
interface ShownCommand {
  text: string;
  words: string[];
  /** The lines shown after a `$ ` prompt; `null` when the block shows commands only. */
  output: string[] | null;
}

/** The bodies of the ```sh fenced blocks of a Markdown file. */
function shellBlocks(markdown: string): string[] {
  return [...markdown.matchAll(/^```sh\n([\s\S]*?)^```$/gm)].map((m) => m[1]!);
}

/** Splits a block into commands; `\` at the end of a line continues the command. */
function shownCommands(block: string): ShownCommand[] {
  const lines = block.replace(/\n$/, "").split("\n");
  const prompted = lines.some((l) => l.startsWith("$ "));
  const commands: ShownCommand[] = [];
  for (let i = 0; i < lines.length; i++) {
    let line = lines[i]!;
    if (prompted && !line.startsWith("$ ")) {
      commands.at(-1)?.output?.push(line);
      continue;
    }
    if (line.trim() === "") continue;
    if (prompted) line = line.slice(2);
    while (line.endsWith("\\") && i + 1 < lines.length) line = `${line.slice(0, -1)} ${lines[++i]!.trim()}`;
    commands.push({ text: line, words: shellWords(line), output: prompted ? [] : null });
  }
  for (const c of commands) {
    while (c.output !== null && c.output.length > 0 && c.output.at(-1)!.trim() === "") c.output.pop();
  }
  return commands;
}

/** Shell variables set by `NAME=$(agent-safe ...)` examples, by name. */
type ShellVars = ReadonlyMap<string, string>;

/** `$NAME` or `${NAME}` at `line[i]`: the variable's name and where the reference ends, or null. */
function variableAt(line: string, i: number): { name: string; end: number } | null {
  const m = /^\$(?:([A-Za-z_][A-Za-z0-9_]*)|\{([A-Za-z_][A-Za-z0-9_]*)\})/.exec(line.slice(i));
  return m === null ? null : { name: (m[1] ?? m[2])!, end: i + m[0].length };
}

function expand(vars: ShellVars, name: string, line: string): string {
  const value = vars.get(name);
  if (value === undefined) throw new Error(`$${name} is used before it is set: ${line}`);
  return value;
}

/**
 * POSIX-shell word splitting for the examples: single and double quotes, `#` comments. Operators
 * (`>`, `|`, `&&`, `<`) come back as words of their own so callers can skip such commands. With
 * `vars`, `$NAME` and `${NAME}` outside single quotes are replaced by the variable's value (a value
 * is never split into several words); without it they stay as written.
 */
function shellWords(line: string, vars?: ShellVars): string[] {
  const words: string[] = [];
  let word: string | null = null;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    const ref = vars === undefined || c !== "$" ? null : variableAt(line, i);
    if (ref !== null) {
      word = (word ?? "") + expand(vars!, ref.name, line);
      i = ref.end - 1;
    } else if (c === "'") {
      const end = line.indexOf("'", i + 1);
      word = (word ?? "") + line.slice(i + 1, end);
      i = end;
    } else if (c === '"') {
      let j = i + 1;
      let text = "";
      for (; line[j] !== '"'; j++) {
        const inner = vars === undefined || line[j] !== "$" ? null : variableAt(line, j);
        if (inner !== null) {
          text += expand(vars!, inner.name, line);
          j = inner.end - 1;
        } else text += line[j] === "\\" ? line[++j] : line[j];
      }
      word = (word ?? "") + text;
      i = j;
    } else if (c === " " || c === "\t") {
      if (word !== null) words.push(word);
      word = null;
    } else if (c === "#" && word === null) {
      break;
    } else if (word === null && /[|&<>;]/.test(c)) {
      words.push(c);
    } else {
      word = (word ?? "") + c;
    }
  }
  if (word !== null) words.push(word);
  return words;
}

const isOperator = (w: string) => /^[|&<>;]$/.test(w);

/** `NAME=$(command)` (or `NAME="$(command)"`, `# comment` after): the variable and the command's text. */
function captureOf(text: string): { name: string; command: string } | null {
  const m = /^([A-Za-z_][A-Za-z0-9_]*)=("?)\$\(([^()]*)\)\2\s*(?:#.*)?$/.exec(text.trim());
  return m === null ? null : { name: m[1]!, command: m[3]! };
}

function exitCodeOf(firstLine: string): number {
  if (firstLine.startsWith("ALLOW")) return 0;
  if (firstLine.startsWith("REQUIRE_APPROVAL")) return 3;
  if (firstLine.startsWith("DENY")) return 1;
  return 0;
}

/**
 * Loose comparison: the first shown line must be the first line printed (unless it is `...`); every
 * other shown line must start an actual line, in order. `...` stands for any number of lines.
 */
/** A shown line starts the actual one; `...` inside it stands for any text (an id, a token). */
function shownMatches(want: string, line: string): boolean {
  if (want === "") return line === "";
  if (!want.includes("...")) return line.startsWith(want);
  const pattern = want
    .split("...")
    .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"))
    .join(".*");
  return new RegExp(`^${pattern}`).test(line);
}

function expectShownOutput(command: string, shown: readonly string[], actual: string): void {
  const lines = actual.replace(/\n$/, "").split("\n");
  const first = shown[0];
  if (first !== undefined && first !== "...") {
    if (first.includes("..."))
      expect(shownMatches(first, lines[0] ?? ""), `${command}\n${actual}`).toBe(true);
    else expect(lines[0], command).toBe(first);
  }
  let at = 0;
  for (const want of shown) {
    if (want === "...") continue;
    const found = lines.findIndex((l, i) => i >= at && shownMatches(want, l));
    expect(found, `${command}\nexpected a line starting with: ${want}\nactual output:\n${actual}`).not.toBe(
      -1,
    );
    at = found + 1;
  }
}

/** Examples that need files or state the page sets up elsewhere, or whose output varies per run. */
const NEEDS_SETUP = new Set(["--json", "--json-output", "--policies", "--plan", "--batch", "--config"]);

/**
 * Runs every `agent-safe` example of `markdown` (optionally only some subcommands) in `cwd`, except
 * those that need setup (see `NEEDS_SETUP`) or show an error or warning. Returns how many ran.
 * `NAME=$(agent-safe ...)` runs the command (whatever the subcommand) and keeps its stdout, trimmed,
 * for `$NAME` in the examples after it; a capture through a pipe is not run, and using its variable
 * in an example that runs fails the test.
 */
function checkShownCommands(markdown: string, cwd: string, subcommands?: readonly string[]): number {
  let ran = 0;
  const vars = new Map<string, string>();
  for (const block of shellBlocks(markdown)) {
    for (const c of shownCommands(block)) {
      const capture = captureOf(c.text);
      if (capture !== null) {
        // Only a plain `agent-safe ...` is run; the variable of any other capture stays unset.
        const plain = shellWords(capture.command);
        if (plain[0] !== "agent-safe" || plain.some(isOperator)) continue;
        const r = cli(shellWords(capture.command, vars).slice(1), { cwd });
        expect(r.stderr, c.text).toBe("");
        expect(r.code, `${c.text}\n${r.stdout}`).toBe(0);
        vars.set(capture.name, r.stdout.trim());
        continue;
      }
      if (c.words[0] !== "agent-safe" || c.words.some(isOperator)) continue;
      if (subcommands !== undefined && !subcommands.includes(c.words[1]!)) continue;
      if (subcommands !== undefined && c.words.some((w) => NEEDS_SETUP.has(w))) continue;
      if (c.output?.some((l) => /^(error|warning): /.test(l))) continue;
      const r = cli(shellWords(c.text, vars).slice(1), { cwd });
      ran++;
      expect(r.stderr, c.text).toBe("");
      if (c.output === null) {
        expect([0, 1, 3], `${c.text}\n${r.stdout}`).toContain(r.code);
        continue;
      }
      expectShownOutput(c.text, c.output, r.stdout);
      if (["check", "explain"].includes(c.words[1]!)) expect(r.code, c.text).toBe(exitCodeOf(c.output[0]!));
    }
  }
  return ran;
}

/** A project made by `agent-safe init my-platform`, where README.md and docs/ run their examples. */
function initProject(): string {
  const dir = tempDir();
  expect(cli(["init", "my-platform"], { cwd: dir }).code).toBe(0);
  return join(dir, "my-platform");
}

const cacheEnv = () => ({ AGENT_SAFE_CACHE_DIR: tempDir("agent-safe-examples-cache-") });

describe("examples/quickstart", () => {
  it("validates with --strict", () => {
    const r = cli(["validate", "--strict"], { cwd: QUICKSTART });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("OK  registry: 4 action(s) loaded\n");
    expect(r.stdout).toContain("OK  policies: 7 rule(s) loaded\n");
    expect(r.stdout).toContain("\nAll 4 config(s) valid.\n");
  });

  it("passes its policy tests, without warnings", () => {
    const r = cli(["test", "tests/"], { cwd: QUICKSTART });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("\nAll 12 test(s) passed.\n");
  });

  it("every command in its README prints what the README shows", () => {
    const readme = readFileSync(join(QUICKSTART, "README.md"), "utf8");
    expect(checkShownCommands(readme, QUICKSTART)).toBeGreaterThanOrEqual(8);
  });
});

describe("examples/sdk/check.ts", () => {
  let run: ReturnType<typeof spawnSync>;

  beforeAll(() => {
    run = spawnSync("npx", ["tsx", "examples/sdk/check.ts"], {
      cwd: ROOT,
      env: { ...process.env, ...cacheEnv() },
      encoding: "utf8",
    });
  });

  it("checks the plan against the quickstart project", () => {
    expect(run.stderr).toBe("");
    expect(run.status).toBe(0);
    expect(run.stdout).toBe(
      [
        "1. scale-deployment on staging/shop: ALLOW (Deployers may manage staging deployments)",
        "2. restart-deployment on prod/shop: REQUIRE_APPROVAL (Production changes require approval)",
        "3. scale-deployment on prod/shop: DENY (Invalid parameters: Parameter 'replicas': value 50 exceeds maximum 20.0)",
        "plan blocked: 2 of 3 steps",
        "",
      ].join("\n"),
    );
  });

  it("prints what examples/quickstart/README.md shows", () => {
    const readme = readFileSync(join(QUICKSTART, "README.md"), "utf8");
    const shown = shellBlocks(readme)
      .flatMap(shownCommands)
      .find((c) => c.words.join(" ") === "npx tsx examples/sdk/check.ts");
    expect(shown?.output).toBeDefined();
    expect(`${shown!.output!.join("\n")}\n`).toBe(run.stdout);
  });
});

describe("README.md tour", () => {
  it("every `agent-safe check` / `explain` example gives the output shown", () => {
    const readme = readFileSync(join(ROOT, "README.md"), "utf8");
    // The tour runs in a project made by `init` (`./bin/agent-safe.js init my-platform && cd my-platform`).
    expect(checkShownCommands(readme, initProject(), ["check", "explain"])).toBeGreaterThanOrEqual(4);
  });
});

describe("docs/ examples", () => {
  // Each page's `$ agent-safe check` / `explain` examples run in a project made by `init`.
  const pages = [
    ["docs/getting-started.md", 5],
    ["docs/writing-policies.md", 1],
    ["docs/compatibility.md", 6],
    ["docs/cli.md", 2],
  ] as const;
  it.each(pages)("%s: the check / explain examples give the output shown", (page, atLeast) => {
    const text = readFileSync(join(ROOT, page), "utf8");
    expect(checkShownCommands(text, initProject(), ["check", "explain"])).toBeGreaterThanOrEqual(atLeast);
  });
});

describe("the example parser", () => {
  it("splits prompted blocks into commands and outputs", () => {
    const cmds = shownCommands(
      '$ agent-safe check a -p \'{"x": 1}\'\nALLOW — ok\n  more\n\n$ agent-safe b \\\n  -c "q\\""\n',
    );
    expect(cmds.map((c) => c.words)).toEqual([
      ["agent-safe", "check", "a", "-p", '{"x": 1}'],
      ["agent-safe", "b", "-c", 'q"'],
    ]);
    expect(cmds[0]!.output).toEqual(["ALLOW — ok", "  more"]);
    expect(shellWords("agent-safe check --batch r.jsonl > out # note")).toEqual([
      "agent-safe",
      "check",
      "--batch",
      "r.jsonl",
      ">",
      "out",
    ]);
  });

  it("captures command output in variables and expands them outside single quotes", () => {
    expect(captureOf("DEPLOY=$(agent-safe identity issue --agent-id deploy-bot --roles deployer)")).toEqual({
      name: "DEPLOY",
      command: "agent-safe identity issue --agent-id deploy-bot --roles deployer",
    });
    expect(captureOf('T="$(agent-safe identity issue --agent-id a)"')?.command).toBe(
      "agent-safe identity issue --agent-id a",
    );
    expect(captureOf("R=$(agent-safe identity issue --agent-id r)  # a reader")?.command).toBe(
      "agent-safe identity issue --agent-id r",
    );
    expect(captureOf("agent-safe check x")).toBeNull();
    const vars = new Map([["DEPLOY", "ey.J W"]]);
    expect(
      shellWords(`agent-safe check a -c "$DEPLOY" -x $DEPLOY -y pre\${DEPLOY} -p '$DEPLOY'`, vars),
    ).toEqual([
      "agent-safe",
      "check",
      "a",
      "-c",
      "ey.J W",
      "-x",
      "ey.J W",
      "-y",
      "preey.J W",
      "-p",
      "$DEPLOY",
    ]);
    expect(shellWords('agent-safe check a -c "$DEPLOY"')).toEqual([
      "agent-safe",
      "check",
      "a",
      "-c",
      "$DEPLOY",
    ]);
    expect(() => shellWords("agent-safe check a -c $NOPE", vars)).toThrow("$NOPE is used before it is set");
  });
});
