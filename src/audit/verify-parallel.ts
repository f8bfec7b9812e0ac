/**
 * Spreading verification over threads. The segment set is cut into chunks of about 4 MB at line
 * starts; this thread and `threads - 1` workers claim chunks from a shared atomic counter, so a
 * worker that starts late (a worker takes ~100 ms to boot) simply claims fewer, and one that never
 * gets a chunk is not waited for. Results come back in chunk order for the caller to stitch.
 */
import { existsSync, statSync } from "node:fs";
import { Worker } from "node:worker_threads";
import { readLinesSync } from "./reader.js";
import { type RangeResult, type RangeTask, verifyRange } from "./verify-range.js";

export const CHUNK_BYTES = 4 * 1024 * 1024;

/** Chunks of the segments, in order, each ending at a line end. */
export function planChunks(
  segments: readonly string[],
  lookups: number[],
  maxIssues: number,
  chunkBytes = CHUNK_BYTES,
): RangeTask[] {
  const tasks: RangeTask[] = [];
  for (const path of segments) {
    const size = statSync(path).size;
    let start = 0;
    while (start < size) {
      const end = start + chunkBytes >= size ? size : nextLineStart(path, start + chunkBytes, size);
      tasks.push({ path, start, end, lookups, maxIssues });
      start = end;
    }
  }
  return tasks;
}

/** The offset just after the first newline at or after `at` (or `size`). */
function nextLineStart(path: string, at: number, size: number): number {
  for (const l of readLinesSync(path, { start: at, end: size, chunkSize: 64 * 1024 })) {
    return l.torn ? size : l.offset + (l.end - l.start) + 1;
  }
  return size;
}

export interface WorkerJob {
  tasks: RangeTask[];
  counter: SharedArrayBuffer;
}

/** Verifies every chunk with up to `threads` threads; results in chunk order. */
export async function runChunks(tasks: RangeTask[], threads: number): Promise<RangeResult[]> {
  const workerUrl = new URL("./verify-worker.js", import.meta.url);
  // From TypeScript sources (the tests) there is no compiled worker: same work, one thread.
  if (threads <= 1 || tasks.length <= 1 || !existsSync(workerUrl)) return tasks.map(verifyRange);
  const counter = new SharedArrayBuffer(4);
  const claim = new Int32Array(counter);
  const workers = Array.from({ length: threads - 1 }, () => {
    const w = new Worker(workerUrl, { workerData: { tasks, counter } satisfies WorkerJob });
    const done = new Promise<[number, RangeResult][]>((resolveP, rejectP) => {
      w.once("message", (m: { results?: [number, RangeResult][]; error?: string }) =>
        m.results ? resolveP(m.results) : rejectP(new Error(`audit verify worker failed: ${m.error}`)),
      );
      w.once("error", rejectP);
    });
    return { w, done };
  });
  const results: (RangeResult | undefined)[] = new Array(tasks.length);
  let mine = 0;
  for (;;) {
    const i = Atomics.add(claim, 0, 1);
    if (i >= tasks.length) break;
    results[i] = verifyRange(tasks[i]!);
    mine++;
  }
  try {
    if (mine < tasks.length) {
      for (const { done } of workers) for (const [i, r] of await done) results[i] = r;
    }
  } finally {
    await Promise.all(workers.map(({ w }) => w.terminate()));
  }
  // A chunk a failed worker claimed but never returned: verify it here.
  return results.map((r, i) => r ?? verifyRange(tasks[i]!));
}
