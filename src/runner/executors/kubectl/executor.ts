/**
 * The kubectl executor: the 20 Kubernetes actions through the `kubectl` binary, argv arrays only.
 * Parameters are validated before any process starts; the credential becomes a kubeconfig file
 * (`--kubeconfig=`, never a token on argv); every process runs in its own group and is killed with it
 * at the deadline; get-secret and get-pod-logs never return their content (a size summary instead).
 */

import {
  displayArgv,
  hpaLimitsPatch,
  isK8sAction,
  type K8sAction,
  type K8sParams,
  SECRET_OUTPUT_ACTIONS,
  validateParams,
} from "../kubernetes/actions.js";
import { kubeconfigFile, kubeconfigSource } from "../kubernetes/credentials.js";
import { errorMessage, K8sApiError, K8sExecutorError, UnsupportedActionError } from "../kubernetes/errors.js";
import { refusedPrechecks, runPrechecksWith } from "../kubernetes/prechecks.js";
import {
  type ClusterReader,
  type K8sObject,
  type ListRef,
  obj,
  type ResourceRef,
  stripSecretData,
} from "../kubernetes/resources.js";
import { captureWith } from "../kubernetes/state.js";
import { logSummary, secretSummary } from "../kubernetes/summary.js";
import type { ExecutionContext, Executor, ExecutorResult, PrecheckResult } from "../types.js";
import {
  actionStep,
  getArgs,
  globalArgs,
  hpaPatchPlaceholder,
  hpaPatchStep,
  type KubectlStep,
  listArgs,
} from "./argv.js";
import { type RunResult, runProcess } from "./process.js";

export interface KubectlExecutorOptions {
  /** The kubectl binary (default `kubectl` on PATH). */
  kubectlPath?: string;
  /** The executor's own kubeconfig, for actions without a credential. */
  kubeconfig?: string;
  context?: string;
  /** kubectl's discovery cache (`--cache-dir`); tests point it at a temp dir. */
  cacheDir?: string;
  /** Environment of the kubectl processes (default: this process's). */
  env?: NodeJS.ProcessEnv;
  /** Deadline of each state/precheck read (default 30 s). */
  readTimeoutMs?: number;
  /** Cap on the output returned in a result (default 64 KiB). */
  maxOutputChars?: number;
}

interface Session {
  global: string[];
  cleanup(): Promise<void>;
}

const KUBECONFIG_PLACEHOLDER = "<kubeconfig from the credential>";

function cap(s: string, n: number): string {
  return s.length > n ? `${s.slice(0, n)}\n…[truncated ${s.length - n} characters]` : s;
}

export class KubectlExecutor implements Executor {
  readonly type = "kubectl";
  private readonly bin: string;

  constructor(private readonly opts: KubectlExecutorOptions = {}) {
    this.bin = opts.kubectlPath ?? "kubectl";
  }

  supports(action: string): boolean {
    return isK8sAction(action);
  }

  private params(ctx: ExecutionContext): { action: K8sAction; p: K8sParams } {
    const name = ctx.action.name;
    if (!isK8sAction(name)) throw new UnsupportedActionError(name);
    return { action: name, p: validateParams(ctx.action, ctx.params) };
  }

  private async session(ctx: ExecutionContext): Promise<Session> {
    const kc = await kubeconfigFile(
      kubeconfigSource(ctx.credential, { kubeconfig: this.opts.kubeconfig, context: this.opts.context }),
    );
    return { global: globalArgs(kc.path, kc.context, this.opts.cacheDir), cleanup: kc.cleanup };
  }

  private run(s: Session, step: KubectlStep, timeoutMs: number, signal?: AbortSignal): Promise<RunResult> {
    return runProcess({
      file: this.bin,
      args: [...s.global, ...step.args],
      stdin: step.stdin,
      timeoutMs,
      signal,
      env: this.opts.env,
    });
  }

  private notFound(r: RunResult): string {
    return `kubectl could not be started (${r.spawnError?.code ?? "error"}: ${this.bin}): install kubectl or configure the executor's kubectlPath`;
  }

  describe(ctx: ExecutionContext): string[] {
    const { action, p } = this.params(ctx);
    const src = kubeconfigSource(ctx.credential, {
      kubeconfig: this.opts.kubeconfig,
      context: this.opts.context,
    });
    const kcPath = src.kind === "path" ? src.path : src.kind === "content" ? KUBECONFIG_PLACEHOLDER : null;
    const g = globalArgs(kcPath, src.context, this.opts.cacheDir);
    const step = actionStep(action, p);
    const line = (args: string[], stdin?: string) =>
      displayArgv([this.bin, ...g, ...args]) + (stdin !== undefined ? ` <<< ${stdin}` : "");
    if (action === "update-hpa-limits") return [line(step.args), line(hpaPatchPlaceholder(p))];
    return [line(step.args, step.stdin)];
  }

  async execute(ctx: ExecutionContext): Promise<ExecutorResult> {
    const started = Date.now();
    const done = (r: Omit<ExecutorResult, "durationMs">): ExecutorResult => ({
      ...r,
      durationMs: Date.now() - started,
    });
    let action: K8sAction;
    let p: K8sParams;
    let s: Session;
    try {
      ({ action, p } = this.params(ctx));
      s = await this.session(ctx);
    } catch (e) {
      return done({ status: "error", output: "", error: errorMessage(e), details: { refused: true } });
    }
    const secret = SECRET_OUTPUT_ACTIONS.has(action);
    try {
      let step = actionStep(action, p);
      const deadline = started + ctx.timeoutMs;
      if (action === "update-hpa-limits") {
        const r = await this.run(s, step, Math.max(1, deadline - Date.now()), ctx.signal);
        const fail = this.failed(r, ctx, false);
        if (fail) return done(fail);
        const hpa = JSON.parse(r.stdout) as K8sObject;
        step = hpaPatchStep(p, hpaLimitsPatch(hpa, p));
      }
      const r = await this.run(s, step, Math.max(1, deadline - Date.now()), ctx.signal);
      if (step.longRunning && r.timedOut && !r.aborted) {
        // port-forward: the tunnel ran for its whole allowed time and was then closed.
        const forwarded = /Forwarding from/.test(r.stdout);
        return done(
          forwarded
            ? {
                status: "success",
                output: cap(`${r.stdout.trim()}\nTunnel closed after ${ctx.timeoutMs} ms`, this.maxOut),
                error: null,
              }
            : {
                status: "timeout",
                output: "",
                error: `kubectl port-forward did not establish the tunnel within ${ctx.timeoutMs} ms`,
              },
        );
      }
      const fail = this.failed(r, ctx, secret);
      if (fail) return done(fail);
      if (action === "get-secret") {
        return done({
          status: "success",
          output: secretSummary(JSON.parse(r.stdout) as K8sObject),
          error: null,
          outputIsSecret: true,
        });
      }
      if (action === "get-pod-logs") {
        return done({
          status: "success",
          output: logSummary(r.stdout, p),
          error: null,
          outputIsSecret: true,
        });
      }
      return done({ status: "success", output: cap(r.stdout.trim(), this.maxOut), error: null });
    } catch (e) {
      return done({
        status: "error",
        output: "",
        error: `kubectl executor error: ${errorMessage(e)}`,
        outputIsSecret: secret || undefined,
      });
    } finally {
      await s.cleanup();
    }
  }

  private get maxOut(): number {
    return this.opts.maxOutputChars ?? 65_536;
  }

  /** The result for a process that did not succeed, or null when it did. */
  private failed(
    r: RunResult,
    ctx: ExecutionContext,
    secret: boolean,
  ): Omit<ExecutorResult, "durationMs"> | null {
    const stdout = secret ? "" : cap(r.stdout.trim(), this.maxOut);
    if (r.spawnError && r.code === null) return { status: "error", output: "", error: this.notFound(r) };
    if (r.timedOut)
      return {
        status: "timeout",
        output: stdout,
        error: `kubectl timed out after ${ctx.timeoutMs} ms and was killed`,
      };
    if (r.aborted) return { status: "error", output: stdout, error: "kubectl was cancelled and killed" };
    if (r.code !== 0) {
      return {
        status: "failure",
        output: stdout,
        error: cap(r.stderr.trim(), 8192) || `kubectl exited with ${r.code ?? r.signal}`,
      };
    }
    return null;
  }

  /** A ClusterReader over `kubectl get -o json`, for state capture and prechecks. */
  private reader(s: Session, ctx: ExecutionContext): ClusterReader {
    const timeout = Math.min(this.opts.readTimeoutMs ?? 30_000, Math.max(1000, ctx.timeoutMs));
    const run = async (args: string[]): Promise<string> => {
      const r = await this.run(s, { args }, timeout, ctx.signal);
      if (r.spawnError && r.code === null) throw new K8sExecutorError("binary_not_found", this.notFound(r));
      if (r.timedOut) throw new K8sApiError(null, `kubectl ${args[0]} timed out after ${timeout} ms`);
      if (r.code !== 0)
        throw new K8sApiError(null, cap(r.stderr.trim(), 2048) || `kubectl exited with ${r.code}`);
      return r.stdout;
    };
    return {
      get: async (ref: ResourceRef) => {
        const out = (await run(getArgs(ref))).trim();
        if (out === "") return null;
        const o = JSON.parse(out) as K8sObject;
        return ref.kind === "secrets" ? stripSecretData(o) : o;
      },
      list: async (ref: ListRef) => {
        const items = (JSON.parse(await run(listArgs(ref))) as { items?: unknown[] }).items ?? [];
        return items.map((i) => (ref.kind === "secrets" ? stripSecretData(obj(i)) : obj(i)));
      },
    };
  }

  async captureState(ctx: ExecutionContext): Promise<Record<string, unknown>> {
    const { action, p } = this.params(ctx);
    const s = await this.session(ctx);
    try {
      return await captureWith(this.reader(s, ctx), action, p);
    } finally {
      await s.cleanup();
    }
  }

  async runPrechecks(ctx: ExecutionContext): Promise<PrecheckResult[]> {
    let action: K8sAction;
    let p: K8sParams;
    try {
      ({ action, p } = this.params(ctx));
    } catch (e) {
      return refusedPrechecks(ctx.action.prechecks, e);
    }
    const s = await this.session(ctx);
    try {
      return await runPrechecksWith(
        this.reader(s, ctx),
        action,
        p,
        ctx.action.prechecks,
        ctx.target,
        ctx.targetId,
      );
    } finally {
      await s.cleanup();
    }
  }
}
