/**
 * The executor interface shared by every executor (dry-run, kubectl, Kubernetes API, AWS). The runner
 * owns tickets, credentials, auditing and rollback; an executor only knows how to act on one kind of
 * infrastructure. Keep this file minimal: every executor implements exactly this.
 */
import type { ActionDef, Target } from "../../core/types.js";

export interface ExecutionContext {
  action: ActionDef;
  target: Target | null;
  targetId: string;
  params: Record<string, unknown>;
  credential: { type: string; payload: Record<string, unknown> } | null;
  timeoutMs: number;
  signal?: AbortSignal;
}

export interface ExecutorResult {
  status: "success" | "failure" | "timeout" | "error" | "skipped";
  output: string;
  error: string | null;
  outputIsSecret?: boolean;
  durationMs: number;
  details?: Record<string, unknown>;
}

export interface PrecheckResult {
  name: string;
  passed: boolean;
  message: string;
  enforced: boolean;
}

export interface Executor {
  readonly type: string;
  supports(action: string): boolean;
  execute(ctx: ExecutionContext): Promise<ExecutorResult>;
  captureState(ctx: ExecutionContext): Promise<Record<string, unknown>>;
  runPrechecks(ctx: ExecutionContext): Promise<PrecheckResult[]>;
  /** Dry-run: exactly what would be called. */
  describe(ctx: ExecutionContext): string[];
}
