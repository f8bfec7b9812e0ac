/**
 * The executors by name, loaded on first use (each pulls in its own client library).
 * `subprocess` is the 0.9.0 name of `kubectl`.
 */
import { DryRunExecutor } from "../dry-run.js";
import type { Executor } from "./types.js";

export const EXECUTOR_TYPES = ["dry-run", "kubectl", "k8s", "aws"] as const;
export type ExecutorType = (typeof EXECUTOR_TYPES)[number];

export interface ExecutorSettings {
  kubectl_path?: string | null;
  kubeconfig?: string | null;
  context?: string | null;
  kubectl_cache_dir?: string | null;
  aws_region?: string | null;
  aws_endpoint?: string | null;
}

export function executorType(name: string): ExecutorType | null {
  const normalised = name === "subprocess" ? "kubectl" : name === "kubernetes" ? "k8s" : name;
  return (EXECUTOR_TYPES as readonly string[]).includes(normalised) ? (normalised as ExecutorType) : null;
}

export async function createExecutor(type: ExecutorType, s: ExecutorSettings = {}): Promise<Executor> {
  switch (type) {
    case "dry-run":
      return new DryRunExecutor();
    case "kubectl": {
      const { KubectlExecutor } = await import("./kubectl/executor.js");
      return new KubectlExecutor({
        ...(s.kubectl_path ? { kubectlPath: s.kubectl_path } : {}),
        ...(s.kubeconfig ? { kubeconfig: s.kubeconfig } : {}),
        ...(s.context ? { context: s.context } : {}),
        ...(s.kubectl_cache_dir ? { cacheDir: s.kubectl_cache_dir } : {}),
      });
    }
    case "k8s": {
      const { KubernetesExecutor } = await import("./kubernetes/executor.js");
      return new KubernetesExecutor({
        ...(s.kubeconfig ? { kubeconfig: s.kubeconfig } : {}),
        ...(s.context ? { context: s.context } : {}),
      });
    }
    case "aws": {
      const { AwsExecutor } = await import("./aws/executor.js");
      return new AwsExecutor({
        ...(s.aws_region ? { region: s.aws_region } : {}),
        ...(s.aws_endpoint ? { endpoint: s.aws_endpoint } : {}),
      });
    }
  }
}
