/**
 * Signals: SIGHUP reloads the policy (a broken one is logged and the old one stays); SIGTERM and
 * SIGINT shut down gracefully — stop accepting, drain in-flight requests, flush and checkpoint
 * the audit log, close the state store — and the returned promise resolves with the exit code
 * (0 after a clean shutdown, 1 if closing failed). A second signal while draining is logged and
 * ignored: the drain timeout bounds the wait (SIGKILL remains for the impatient).
 */
import type { Sidecar } from "./sidecar.js";

export function handleSignals(sidecar: Sidecar, proc: NodeJS.Process = process): Promise<number> {
  const log = sidecar.log;
  const onHup = () => {
    log.info({ signal: "SIGHUP" }, "reloading the policy");
    void sidecar.reload("signal");
  };
  proc.on("SIGHUP", onHup);
  return new Promise((resolve) => {
    let stopping = false;
    const stop = (signal: NodeJS.Signals) => {
      if (stopping) {
        log.warn({ signal }, "already shutting down");
        return;
      }
      stopping = true;
      log.info({ signal }, "shutting down: draining in-flight requests");
      sidecar.close().then(
        () => {
          log.info("stopped: audit log flushed and checkpointed");
          finish(0);
        },
        (err: unknown) => {
          log.error({ err }, "shutdown failed");
          finish(1);
        },
      );
    };
    const finish = (code: number) => {
      proc.off("SIGHUP", onHup);
      proc.off("SIGTERM", stop);
      proc.off("SIGINT", stop);
      resolve(code);
    };
    proc.on("SIGTERM", stop);
    proc.on("SIGINT", stop);
  });
}
