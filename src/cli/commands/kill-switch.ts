/**
 * `agent-safe kill-switch on|off|status [--caller C] [--reason TEXT] [--json]`: engages, releases
 * or shows the kill switch in the project's shared state store (`state:` in agent-safe.yaml, or
 * `--state`). Every process and replica using that store denies on its next request.
 */
import { hostname, userInfo } from "node:os";
import { dirname, resolve } from "node:path";
import { findConfigFile } from "../../config/project.js";
import type { ProjectFile } from "../../config/project-schema.js";
import { KillSwitch, type KillSwitchEntry } from "../../guards/kill-switch.js";
import { openProjectState } from "../../guards/open.js";
import { parseStateUrl } from "../../state/factory.js";
import { StateConfigError } from "../../state/interfaces.js";
import { StateUnavailableError } from "../../state/types.js";
import { EXIT, JSON_OPTIONS, print, printErr, printJson, UsageError, wantsJson } from "../common.js";
import type { CommandSpec } from "../spec.js";

const MODES = ["on", "off", "status"] as const;
type Mode = (typeof MODES)[number];

interface KillSwitchOptions {
  caller?: string;
  reason?: string;
  state?: string;
  config?: string;
  json?: boolean;
  jsonOutput?: boolean;
}

export const killSwitchCommand: CommandSpec = {
  name: "kill-switch",
  summary: "deny every request, or one caller's, at once",
  description:
    "Engage (on), release (off) or show (status) the kill switch. While it is engaged every\n" +
    "decision is DENY — for everyone, or with --caller for one agent and its delegates — in every\n" +
    "process and replica that shares the project's state store (state: sqlite:… or redis://…).",
  arguments: [{ name: "<mode>", description: "on, off or status" }],
  options: [
    { flags: "--caller <id>", description: "only this agent id (default: everyone)" },
    { flags: "--reason <text>", description: "why (shown in every denied decision)" },
    { flags: "--state <url>", description: "state store to use (default: the state: setting)" },
    { flags: "--debug", description: "show stack traces on errors" },
    {
      flags: "--config <file>",
      description: "agent-safe.yaml to use (default: found from the working directory upwards)",
    },
    ...JSON_OPTIONS,
  ],
  helpAfter: `
Exit codes: 0 done (status: whatever the state), 1 the state store is unavailable,
2 usage or configuration error.

Examples:
  agent-safe kill-switch on --reason "incident 4711"
  agent-safe kill-switch on --caller deploy-bot
  agent-safe kill-switch status --json
  agent-safe kill-switch off`,
  async run([mode], options) {
    await runKillSwitch(mode as string, options as KillSwitchOptions);
  },
};

async function runKillSwitch(mode: string, opts: KillSwitchOptions): Promise<void> {
  if (!(MODES as readonly string[]).includes(mode))
    throw new UsageError(`mode must be one of: ${MODES.join(", ")} (got '${mode}')`);
  if (opts.reason !== undefined && mode !== "on") throw new UsageError("--reason goes with 'on'");
  if (opts.caller === "") throw new UsageError("--caller must not be empty");
  const cwd = process.cwd();
  const file = findConfigFile(opts.config, cwd);
  const { readProjectFile } = await import("../../config/project-file.js");
  const settings: ProjectFile = readProjectFile(file).settings;
  const root = file === null ? cwd : dirname(file);
  const state = { state: opts.state ?? settings.state, state_options: settings.state_options };
  try {
    if (parseStateUrl(state.state, root).kind === "memory")
      throw new UsageError(
        "the kill switch needs a shared state store, and state is 'memory' (each process has its own): " +
          "set state: sqlite:<path> or redis://… in agent-safe.yaml, or pass --state",
      );
  } catch (err) {
    if (err instanceof StateConfigError) throw new UsageError(err.message);
    throw err;
  }
  let backend: Awaited<ReturnType<typeof openProjectState>> | null = null;
  try {
    backend = await openProjectState(state, opts.state !== undefined ? resolve(cwd) : root);
    const ks = new KillSwitch(backend.flags);
    await perform(mode as Mode, ks, opts, backend.description);
    process.exitCode = EXIT.OK;
  } catch (err) {
    if (err instanceof StateConfigError) throw new UsageError(err.message);
    if (!(err instanceof StateUnavailableError)) throw err;
    printErr(`error: State store unavailable: ${err.message}`);
    process.exitCode = EXIT.FAILED;
  } finally {
    await backend?.close();
  }
}

async function perform(mode: Mode, ks: KillSwitch, opts: KillSwitchOptions, where: string): Promise<void> {
  const caller = opts.caller ?? null;
  const json = wantsJson(opts);
  const who = caller === null ? "all actions are denied" : `for caller '${caller}'`;
  if (mode === "on") {
    const entry = await ks.engage({ caller, reason: opts.reason ?? null, by: operator() });
    if (json) printJson({ engaged: true, ...entryJson(entry), state: where });
    else print(`Kill switch engaged${caller === null ? ": " : " "}${who} (state: ${where})`);
    return;
  }
  if (mode === "off") {
    const released = await ks.release(caller);
    if (json) printJson({ released, caller, state: where });
    else if (released) print(`Kill switch released${caller === null ? "" : ` for caller '${caller}'`}`);
    else print(`Kill switch was not engaged${caller === null ? "" : ` for caller '${caller}'`}`);
    return;
  }
  const entries = await ks.status();
  const global = entries.find((e) => e.caller === null) ?? null;
  const callers = entries.filter((e) => e.caller !== null && (caller === null || e.caller === caller));
  if (json) {
    printJson({
      state: where,
      engaged: global !== null || callers.length > 0,
      global: global === null ? null : entryJson(global),
      callers: callers.map(entryJson),
    });
    return;
  }
  print(`State: ${where}`);
  print(global === null ? "Global: not engaged" : `Global: ENGAGED${describe(global)}`);
  if (callers.length === 0)
    print(caller === null ? "Callers: none engaged" : `Caller '${caller}': not engaged`);
  for (const e of callers) print(`Caller '${e.caller}': ENGAGED${describe(e)}`);
}

function entryJson(e: KillSwitchEntry) {
  return {
    caller: e.caller,
    reason: e.reason,
    engaged_at: e.engagedAt,
    engaged_by: e.engagedBy,
    expires_at: e.expiresAtMs === null ? null : new Date(e.expiresAtMs).toISOString(),
  };
}

function describe(e: KillSwitchEntry): string {
  const parts = [
    e.engagedAt === null ? null : `since ${e.engagedAt}`,
    e.engagedBy === null ? null : `by ${e.engagedBy}`,
    e.reason === null ? null : `reason: ${e.reason}`,
  ].filter((p) => p !== null);
  return parts.length === 0 ? "" : ` (${parts.join(", ")})`;
}

function operator(): string {
  try {
    return `${userInfo().username}@${hostname()}`;
  } catch {
    return hostname();
  }
}
