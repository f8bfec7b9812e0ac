/** The Kubernetes API executor and the pieces it shares with the kubectl executor. */
export {
  K8S_ACTIONS,
  type K8sAction,
  type K8sParams,
  SECRET_OUTPUT_ACTIONS,
  validateParams,
} from "./actions.js";
export { type ExecutorKubeDefaults, type KubeconfigSource, kubeconfigSource } from "./credentials.js";
export {
  CredentialError,
  InvalidParameterError,
  K8sApiError,
  type K8sErrorCode,
  K8sExecutorError,
  UnsupportedActionError,
} from "./errors.js";
export { KubernetesExecutor, type KubernetesExecutorOptions } from "./executor.js";
export { stateFromObject, stateResource } from "./state.js";
