/** `agent-safe runner execute|dry-run`: run (or preview) the action an execution ticket allows. */
import { JSON_OPTIONS, PROJECT_OPTIONS } from "../common.js";
import type { CommandSpec, OptionSpec } from "../spec.js";

const EXECUTOR_OPTIONS: readonly OptionSpec[] = [
  {
    flags: "--executor <type>",
    description:
      "dry-run, kubectl, k8s or aws (default: runner.executor, else dry-run; subprocess is the 0.9.0 name of kubectl)",
    choices: ["dry-run", "kubectl", "subprocess", "k8s", "kubernetes", "aws"],
  },
  {
    flags: "--params <json>",
    description: "the params to execute (required when the ticket holds sensitive ones as digests)",
  },
  { flags: "--timeout <seconds>", description: "execution timeout (default: runner.timeout_seconds, 300)" },
  { flags: "--kubectl-path <path>", description: "kubectl binary (kubectl executor)" },
  {
    flags: "--kubeconfig <file>",
    description: "kubeconfig when the action gets no credential (kubectl, k8s)",
  },
  { flags: "--context <name>", description: "kubeconfig context (kubectl, k8s)" },
  { flags: "--aws-region <region>", description: "default region (aws)" },
  { flags: "--aws-endpoint <url>", description: "AWS endpoint override, e.g. a local emulator (aws)" },
  { flags: "--signing-key <key>", description: "0.9.0 option; keys come from agent-safe.yaml", hidden: true },
  {
    flags: "--audit-log <file>",
    description: "0.9.0 option; the log comes from agent-safe.yaml",
    hidden: true,
  },
];

export const runnerExecuteCommand: CommandSpec = {
  name: "runner execute",
  groupSummary: "execute or preview ticketed actions",
  summary: "execute the action an execution ticket allows",
  description:
    "Redeem TOKEN (once), get scoped credentials from the vault when the action declares them, run the\n" +
    "prechecks, capture the state before and after, execute with a timeout, and record every step in\n" +
    "the audit log (state_capture and execution events), failures included.",
  arguments: [{ name: "<token>", description: "the execution ticket (JWT) from an ALLOW decision" }],
  options: [...EXECUTOR_OPTIONS, ...JSON_OPTIONS, ...PROJECT_OPTIONS],
  helpAfter:
    "\nExit codes: 0 success (or skipped by dry-run), 1 failure, timeout, refused ticket or error, 2 usage or configuration error.",
  async run([token], options) {
    const { runRunner } = await import("../runner/run.js");
    await runRunner("execute", token as string, options);
  },
};

export const runnerDryRunCommand: CommandSpec = {
  name: "runner dry-run",
  summary: "show exactly what would run, without redeeming the ticket",
  description:
    "Verify TOKEN (without consuming it) and print every step `runner execute` would take with the\n" +
    "chosen executor: the credential it would request, the prechecks, the exact argv or API calls.",
  arguments: [{ name: "<token>", description: "the execution ticket (JWT)" }],
  options: [...EXECUTOR_OPTIONS, ...JSON_OPTIONS, ...PROJECT_OPTIONS],
  helpAfter:
    "\nExit codes: 0 the ticket would be accepted, 1 it would be refused, 2 usage or configuration error.",
  async run([token], options) {
    const { runRunner } = await import("../runner/run.js");
    await runRunner("dry-run", token as string, options);
  },
};
