/** Worker thread of `verifyLog`: claims chunks from the shared counter until none are left. */
import { parentPort, workerData } from "node:worker_threads";
import type { WorkerJob } from "./verify-parallel.js";
import { type RangeResult, verifyRange } from "./verify-range.js";

const { tasks, counter } = workerData as WorkerJob;
const claim = new Int32Array(counter);
const out: [number, RangeResult][] = [];
try {
  for (;;) {
    const i = Atomics.add(claim, 0, 1);
    if (i >= tasks.length) break;
    out.push([i, verifyRange(tasks[i]!)]);
  }
  parentPort?.postMessage({ results: out });
} catch (err) {
  parentPort?.postMessage({ error: err instanceof Error ? err.message : String(err) });
}
