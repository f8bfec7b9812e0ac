/** A batch worker thread: receives the world once, then decides chunks of lines. */
import { parentPort } from "node:worker_threads";
import { decodeTagged } from "../../codec/tagged-json.js";
import type { EvalTime } from "../../core/time.js";
import { compileWorld, type WorldInput } from "../../core/world.js";
import { decideParts, type LineContext } from "./line.js";

export interface WorkerInit {
  world: string;
  defaultTime: EvalTime;
  forcedTime: EvalTime | null;
}

export interface ChunkMessage {
  seq: number;
  /** Consecutive pieces of input that together end at a newline. */
  parts: Uint8Array[];
  firstLineNo: number;
}

export type WorkerMessage = { init: WorkerInit } | { chunk: ChunkMessage };

export interface ChunkResult {
  seq: number;
  out: Uint8Array;
}

let ctx: LineContext | null = null;

parentPort!.on("message", (msg: WorkerMessage) => {
  if ("init" in msg) {
    const { world, defaultTime, forcedTime } = msg.init;
    ctx = { world: compileWorld(decodeTagged<WorldInput>(world)), defaultTime, forcedTime };
    return;
  }
  if (ctx === null) throw new Error("batch worker received a chunk before its world");
  const { seq, parts, firstLineNo } = msg.chunk;
  const out = decideParts(parts, firstLineNo, ctx).out;
  parentPort!.postMessage({ seq, out } satisfies ChunkResult, [out.buffer as ArrayBuffer]);
});
