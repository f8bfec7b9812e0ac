/**
 * The `runner:` section of agent-safe.yaml (docs/runner.md): which executors this deployment runs
 * and how they reach their targets. The sidecar's `POST /v1/execute` takes these settings from here
 * only: a client may pick an executor from `executors`, never an endpoint, a kubeconfig or a binary
 * (a client that could name the AWS endpoint could send the vault's credentials anywhere).
 */
import * as z from "zod";
import { enumOf, laxFloat, str } from "./coerce.js";

export const EXECUTOR_NAMES = ["dry-run", "kubectl", "k8s", "aws"] as const;

const nullableStr = (what: string) => str().nullable().default(null).describe(what);

export const runnerSchema = z
  .strictObject({
    executor: enumOf(EXECUTOR_NAMES)
      .default("dry-run")
      .describe("The executor used when a request names none."),
    executors: z
      .array(enumOf(EXECUTOR_NAMES))
      .nullable()
      .default(null)
      .describe("Executors a request may choose (default: only `executor`)."),
    timeout_seconds: laxFloat()
      .refine((n) => n > 0, "must be greater than 0")
      .default(300)
      .describe("Execution timeout."),
    kubectl_path: nullableStr("kubectl binary (kubectl executor; default: kubectl on PATH)."),
    kubeconfig: nullableStr("kubeconfig when an action gets no credential from the vault (kubectl, k8s)."),
    context: nullableStr("kubeconfig context (kubectl, k8s)."),
    aws_region: nullableStr("Default AWS region when the params name none (aws)."),
    aws_endpoint: nullableStr("AWS endpoint override, e.g. a VPC endpoint or a local emulator (aws)."),
  })
  .transform((r) => ({ ...r, executors: r.executors ?? [r.executor] }));

export type RunnerSettings = z.output<typeof runnerSchema>;

export function defaultRunnerSettings(): RunnerSettings {
  return runnerSchema.parse({});
}
