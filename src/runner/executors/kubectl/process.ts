/**
 * Runs one program from an argv array (never a shell), in its own process group, with a deadline:
 * at the deadline (or on abort) the whole group gets SIGTERM, then SIGKILL two seconds later, and the
 * promise settles only once the process is gone. Output is captured up to a cap.
 */
import { spawn } from "node:child_process";

export interface RunOptions {
  file: string;
  args: string[];
  stdin?: string;
  timeoutMs: number;
  signal?: AbortSignal;
  env?: NodeJS.ProcessEnv;
  maxOutputBytes?: number;
}

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  aborted: boolean;
  /** Set when the program could not be started at all (e.g. ENOENT). */
  spawnError: NodeJS.ErrnoException | null;
  truncated: boolean;
  pid: number | undefined;
  durationMs: number;
}

const KILL_GRACE_MS = 2000;

function killGroup(pid: number | undefined, sig: NodeJS.Signals): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, sig);
  } catch {
    try {
      process.kill(pid, sig);
    } catch {
      // already gone
    }
  }
}

export function runProcess(o: RunOptions): Promise<RunResult> {
  const started = Date.now();
  const cap = o.maxOutputBytes ?? 4 * 1024 * 1024;
  return new Promise((resolve) => {
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let outLen = 0;
    let errLen = 0;
    let truncated = false;
    let timedOut = false;
    let aborted = false;
    let spawnError: NodeJS.ErrnoException | null = null;
    let settled = false;
    let killTimer: NodeJS.Timeout | undefined;

    const child = spawn(o.file, o.args, {
      shell: false,
      detached: true,
      stdio: ["pipe", "pipe", "pipe"],
      env: o.env ?? process.env,
      windowsHide: true,
    });

    const stop = (why: "timeout" | "abort") => {
      if (why === "timeout") timedOut = true;
      else aborted = true;
      killGroup(child.pid, "SIGTERM");
      killTimer = setTimeout(() => killGroup(child.pid, "SIGKILL"), KILL_GRACE_MS);
      killTimer.unref();
    };
    const deadline = setTimeout(() => stop("timeout"), Math.max(1, o.timeoutMs));
    const onAbort = () => stop("abort");
    if (o.signal?.aborted) queueMicrotask(onAbort);
    else o.signal?.addEventListener("abort", onAbort, { once: true });

    child.stdout.on("data", (b: Buffer) => {
      if (outLen + b.length > cap) truncated = true;
      else {
        out.push(b);
        outLen += b.length;
      }
    });
    child.stderr.on("data", (b: Buffer) => {
      if (errLen + b.length <= 256 * 1024) {
        err.push(b);
        errLen += b.length;
      }
    });
    child.stdin.on("error", () => {});
    child.stdin.end(o.stdin ?? "");

    const finish = (code: number | null, sig: NodeJS.Signals | null) => {
      if (settled) return;
      settled = true;
      clearTimeout(deadline);
      o.signal?.removeEventListener("abort", onAbort);
      // The leader is gone; make sure no member of its group outlives it.
      if (timedOut || aborted) killGroup(child.pid, "SIGKILL");
      if (killTimer) clearTimeout(killTimer);
      resolve({
        code,
        signal: sig,
        stdout: Buffer.concat(out).toString("utf8"),
        stderr: Buffer.concat(err).toString("utf8"),
        timedOut,
        aborted,
        spawnError,
        truncated,
        pid: child.pid,
        durationMs: Date.now() - started,
      });
    };
    child.on("error", (e: NodeJS.ErrnoException) => {
      spawnError = e;
      if (child.pid === undefined) finish(null, null);
    });
    child.on("close", (code, sig) => finish(code, sig));
  });
}
