/** A batch worker thread: holds its own compiled world and decides chunks of lines. */
import { parentPort, workerData } from "node:worker_threads";
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

export interface ChunkResult {
  seq: number;
  out: Uint8Array;
}

const init = workerData as WorkerInit;
const ctx: LineContext = {
  world: compileWorld(decodeTagged<WorldInput>(init.world)),
  defaultTime: init.defaultTime,
  forcedTime: init.forcedTime,
};

parentPort!.on("message", (msg: ChunkMessage) => {
  const out = decideParts(msg.parts, msg.firstLineNo, ctx).out;
  parentPort!.postMessage({ seq: msg.seq, out } satisfies ChunkResult, [out.buffer as ArrayBuffer]);
});
