/** `agent-safe rollback show|check`: plan the undo of an executed decision, and check it through policy. */
import { JSON_OPTIONS, PROJECT_OPTIONS } from "../common.js";
import type { CommandSpec } from "../spec.js";

export const rollbackShowCommand: CommandSpec = {
  name: "rollback show",
  groupSummary: "plan and check rollbacks of executed actions",
  summary: "show the rollback plan of an executed decision",
  description:
    "Build the rollback of the decision AUDIT_ID from the runner's state capture: the rollback action,\n" +
    "its params (from the original params and the state before), and any warnings. Changes nothing.",
  arguments: [{ name: "<audit_id>", description: "the decision's audit id (evt-...)" }],
  options: [
    {
      flags: "--audit-log <file>",
      description: "0.9.0 option; the log comes from agent-safe.yaml",
      hidden: true,
    },
    ...JSON_OPTIONS,
    ...PROJECT_OPTIONS,
  ],
  helpAfter:
    "\nExit codes: 0 a plan was built, 1 no plan (not executed, not reversible, ...), 2 usage or configuration error.",
  async run([auditId], options) {
    const { runRollback } = await import("../runner/rollback-run.js");
    await runRollback("show", auditId as string, options);
  },
};

export const rollbackCheckCommand: CommandSpec = {
  name: "rollback check",
  summary: "decide whether the rollback may run, as a new request",
  description:
    "Build the rollback plan and send it through the decision point like any request (and into the\n" +
    "audit log): a rollback to a state that policy now forbids is denied. On ALLOW it carries a ticket.",
  arguments: [{ name: "<audit_id>", description: "the decision's audit id (evt-...)" }],
  options: [
    {
      flags: "-c, --caller <token>",
      description: "who asks for the rollback (an identity token when keys are configured)",
    },
    {
      flags: "--signing-key <key>",
      description: "0.9.0 option; keys come from agent-safe.yaml",
      hidden: true,
    },
    ...JSON_OPTIONS,
    ...PROJECT_OPTIONS,
  ],
  helpAfter:
    "\nExit codes: as check: 0 ALLOW, 1 DENY (or no plan), 3 REQUIRE_APPROVAL, 2 usage or configuration error.",
  async run([auditId], options) {
    const { runRollback } = await import("../runner/rollback-run.js");
    await runRollback("check", auditId as string, options);
  },
};
