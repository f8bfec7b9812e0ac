/** The AWS executor (SDK v3, loaded only when used). */

export { AwsExecutorError, type AwsExecutorErrorCode } from "./errors.js";
export { AWS_ACTIONS, AwsExecutor, type AwsExecutorOptions } from "./executor.js";
export { parsePolicy, publicGrants } from "./policy.js";
