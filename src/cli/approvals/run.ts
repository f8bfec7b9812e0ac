/** The handlers of `approval list|show|approve|deny|wait`. */
import { ApprovalError } from "../../approvals/errors.js";
import { EXIT, print, printErr, printJson, UsageError, wantsJson } from "../common.js";
import { type ApprovalFlags, identityToken, type Opened, openForReading, openForWriting } from "./context.js";
import { countLine, printListed, printOutcome, printRequest, printWaited } from "./format.js";

/** ApprovalErrors are refusals or an unavailable store: `ERROR  <msg>` on stderr, exit 1 (config: 2). */
async function guarded(
  open: () => Opened | null | Promise<Opened | null>,
  fn: (o: Opened | null) => Promise<void>,
): Promise<void> {
  let opened: Opened | null = null;
  try {
    opened = await open();
    await fn(opened);
  } catch (err) {
    if (!(err instanceof ApprovalError)) throw err;
    if (err.code === "config") throw new UsageError(err.message);
    printErr(`ERROR  ${err.message}`);
    process.exitCode = EXIT.FAILED;
  } finally {
    await opened?.close();
  }
}

export async function runList(options: Record<string, unknown>): Promise<void> {
  const flags = options as ApprovalFlags;
  const status = flags.status ?? "pending";
  await guarded(
    () => openForReading(flags),
    async (opened) => {
      if (opened === null) {
        if (wantsJson(flags)) printJson([]);
        else print("No approval store found (no pending requests).");
        return;
      }
      const requests = await opened.service.list({ status: status as "pending" });
      if (wantsJson(flags)) {
        printJson(requests);
        return;
      }
      for (const r of requests) printListed(r, status !== "pending");
      print(`${requests.length > 0 ? "\n" : ""}${countLine(requests.length, status)}`);
    },
  );
}

export async function runShow(id: string, options: Record<string, unknown>): Promise<void> {
  const flags = options as ApprovalFlags;
  await guarded(
    () => openForReading(flags),
    async (opened) => {
      const r = opened === null ? null : await opened.service.get(id);
      if (r === null) {
        printErr(opened === null ? "No approval store found." : `Approval request not found: ${id}`);
        process.exitCode = EXIT.FAILED;
        return;
      }
      if (wantsJson(flags)) printJson(r);
      else printRequest(r);
    },
  );
}

export async function runResolve(
  mode: "approve" | "deny",
  id: string,
  options: Record<string, unknown>,
): Promise<void> {
  const flags = options as ApprovalFlags;
  const token = identityToken(flags);
  await guarded(
    () => openForWriting(flags),
    async (opened) => {
      const service = opened!.service;
      const outcome =
        mode === "approve"
          ? await service.approve(id, token, flags.reason ?? null)
          : await service.deny(id, token, flags.reason ?? null);
      if (wantsJson(flags)) printJson(outcome);
      else printOutcome(outcome);
    },
  );
}

export async function runWait(id: string, options: Record<string, unknown>): Promise<void> {
  const flags = options as ApprovalFlags;
  const timeout = flags.timeout === undefined ? 60 : Number(flags.timeout);
  if (
    flags.timeout !== undefined &&
    (!/^\s*[0-9]+(\.[0-9]+)?\s*$/.test(flags.timeout) || !Number.isFinite(timeout))
  )
    throw new UsageError(`--timeout must be a number of seconds >= 0, got '${flags.timeout}'`);
  const token = identityToken(flags);
  await guarded(
    () => openForWriting(flags),
    async (opened) => {
      const w = await opened!.service.waitForApproval(id, {
        timeout,
        requester: token,
        onWaiting: () => printErr(`waiting for ${id} (up to ${timeout} s)…`),
      });
      if (wantsJson(flags))
        printJson({
          status: w.status,
          timed_out: w.timedOut,
          ticket_delivery: w.ticket,
          ticket_note: w.ticketNote,
          decision: w.decision,
          request: w.request,
        });
      else printWaited(w);
      process.exitCode = w.timedOut ? EXIT.APPROVAL : w.status === "approved" ? EXIT.OK : EXIT.FAILED;
    },
  );
}
