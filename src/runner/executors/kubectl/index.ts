/** The kubectl executor. */
export { actionStep, type KubectlStep } from "./argv.js";
export { KubectlExecutor, type KubectlExecutorOptions } from "./executor.js";
export { type RunOptions, type RunResult, runProcess } from "./process.js";
