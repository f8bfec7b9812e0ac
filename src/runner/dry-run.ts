/** The dry-run executor: supports every action, changes nothing, says what it would do. */
import type { ExecutionContext, Executor, ExecutorResult, PrecheckResult } from "./executors/types.js";

export class DryRunExecutor implements Executor {
  readonly type = "dry-run";

  supports(): boolean {
    return true;
  }

  async execute(ctx: ExecutionContext): Promise<ExecutorResult> {
    return { status: "skipped", output: this.describe(ctx).join("\n"), error: null, durationMs: 0 };
  }

  async captureState(): Promise<Record<string, unknown>> {
    return {};
  }

  async runPrechecks(ctx: ExecutionContext): Promise<PrecheckResult[]> {
    return ctx.action.prechecks.map((p) => ({
      name: p.name,
      passed: true,
      message: "[dry-run] skipped",
      enforced: p.enforce,
    }));
  }

  describe(ctx: ExecutionContext): string[] {
    const credentials = ctx.action.credentials === null ? "" : " (credentials required)";
    return [`[dry-run] Would execute ${ctx.action.name} on ${ctx.targetId}${credentials}`];
  }
}
