/**
 * `check --batch`: streams JSONL requests (plain or gzip, file or stdin) through worker threads
 * and writes JSONL decisions to stdout in input order. The main thread only moves bytes: it cuts
 * the input at newlines and hands each chunk's memory to a worker, which decodes, decides and
 * encodes. Small inputs are decided on the main thread, where starting workers would cost more
 * than it saves.
 */
import { createReadStream } from "node:fs";
import { availableParallelism } from "node:os";
import { Readable } from "node:stream";
import { Worker } from "node:worker_threads";
import { createGunzip } from "node:zlib";
import { encodeTagged } from "../../codec/tagged-json.js";
import { openProject } from "../../config/open-project.js";
import type { ProjectOverrides } from "../../config/project.js";
import { evalTimeFromEpoch } from "../../core/time.js";
import { EXIT, UsageError } from "../common.js";
import { evalTimeFromFlag } from "../request-input.js";
import { countNewlines, decideParts, type LineContext } from "./line.js";
import type { ChunkResult, WorkerInit, WorkerMessage } from "./worker.js";

const CHUNK_BYTES = 1 << 20;
const NEWLINE = 0x0a;

export interface BatchOptions {
  overrides: ProjectOverrides;
  cache: boolean;
  workers: number | undefined;
  at: string | undefined;
  /** Also write every decision to the project's audit log. */
  audit: boolean;
}

export async function runBatch(source: string, options: BatchOptions): Promise<number> {
  const defaultTime = evalTimeFromEpoch(Date.now());
  const forcedTime = options.at === undefined ? null : evalTimeFromFlag(options.at, Date.now());
  if (options.audit) {
    const opened = await openProject({ overrides: options.overrides, cache: options.cache });
    const { runAuditedBatch } = await import("./audited.js");
    await runAuditedBatch(opened, lineChunks(await openInput(source)), { defaultTime, forcedTime }, write);
    return EXIT.OK;
  }
  const chunks = lineChunks(await openInput(source))[Symbol.asyncIterator]();
  const first = await chunks.next();
  const second = first.done ? first : await chunks.next();
  // Workers start while the project loads: their start-up overlaps ours.
  const pool = second.done ? null : new Pool(options.workers ?? availableParallelism());
  let opened: Awaited<ReturnType<typeof openProject>>;
  try {
    opened = await openProject({ overrides: options.overrides, cache: options.cache });
  } catch (err) {
    await pool?.close();
    throw err;
  }
  if (first.done) return EXIT.OK;
  if (pool === null) {
    const ctx: LineContext = { world: opened.world, defaultTime, forcedTime };
    await write(decideParts(first.value, 1, ctx).out);
    return EXIT.OK;
  }
  pool.init({ world: encodeTagged(opened.input), defaultTime, forcedTime });
  try {
    const inFlight: Promise<Uint8Array>[] = [];
    const maxInFlight = pool.size * 3;
    let lineNo = 1;
    let next: IteratorResult<Uint8Array[]> = first;
    let lookahead: IteratorResult<Uint8Array[]> | null = second;
    while (!next.done) {
      const chunk = next.value;
      const lines = countNewlines(chunk);
      inFlight.push(pool.run(chunk, lineNo));
      lineNo += lines;
      if (inFlight.length >= maxInFlight) await write(await inFlight.shift()!);
      next = lookahead ?? (await chunks.next());
      lookahead = null;
    }
    for (const p of inFlight) await write(await p);
  } finally {
    await pool.close();
  }
  return EXIT.OK;
}

async function openInput(source: string): Promise<Readable> {
  const raw = source === "-" ? process.stdin : createReadStream(source, { highWaterMark: CHUNK_BYTES });
  await new Promise<void>((resolve, reject) => {
    if (source === "-") return resolve();
    raw.once("open", () => resolve());
    raw.once("error", (err: NodeJS.ErrnoException) =>
      reject(new UsageError(`--batch: cannot read ${source}: ${err.code ?? err.message}`)),
    );
  });
  return raw;
}

/**
 * Yields runs of byte pieces that together end at a newline (the last run may not), gunzipping if
 * needed. Pieces that own their memory are passed on as they are, to be transferred, not copied;
 * only the partial line after the last newline is copied.
 */
async function* lineChunks(raw: Readable): AsyncGenerator<Uint8Array[]> {
  const input = raw[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  const head = await input.next();
  if (head.done) return;
  const all = Readable.from(
    (async function* () {
      yield head.value;
      for (let next = await input.next(); !next.done; next = await input.next()) yield next.value;
    })(),
    { objectMode: false },
  );
  const gzipped = head.value[0] === 0x1f && head.value[1] === 0x8b;
  const bytes: AsyncIterable<Buffer> = gzipped ? all.pipe(createGunzip({ chunkSize: CHUNK_BYTES })) : all;
  let pending: Uint8Array[] = [];
  let size = 0;
  for await (const piece of bytes) {
    const owned = ownsMemory(piece) ? piece : new Uint8Array(piece);
    const newline = owned.lastIndexOf(NEWLINE);
    if (newline === -1 || size + owned.length < CHUNK_BYTES / 2) {
      pending.push(owned);
      size += owned.length;
      continue;
    }
    // Copied before the piece's memory is transferred away with the rest of it.
    const tail = new Uint8Array(owned.subarray(newline + 1));
    pending.push(owned.subarray(0, newline + 1));
    yield pending;
    pending = tail.length > 0 ? [tail] : [];
    size = tail.length;
  }
  if (pending.length > 0) yield pending;
}

function ownsMemory(bytes: Uint8Array): boolean {
  return bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength;
}

function write(bytes: Uint8Array | string): Promise<void> {
  if (bytes.length === 0) return Promise.resolve();
  return new Promise((resolve, reject) => {
    process.stdout.write(bytes, (err) => (err ? reject(err) : resolve()));
  });
}

/** Round-robin worker threads; chunk memory is transferred, never copied. */
class Pool {
  private readonly workers: Worker[] = [];
  private readonly waiting = new Map<
    number,
    { resolve: (out: Uint8Array) => void; reject: (e: Error) => void }
  >();
  private seq = 0;

  constructor(readonly size: number) {
    for (let i = 0; i < size; i++) {
      const worker = new Worker(new URL("./worker.js", import.meta.url));
      worker.on("message", (msg: ChunkResult) => {
        this.waiting.get(msg.seq)?.resolve(msg.out);
        this.waiting.delete(msg.seq);
      });
      worker.on("error", (err) => this.failAll(err));
      this.workers.push(worker);
    }
  }

  /** The world and clock; must come before the first chunk (messages arrive in order). */
  init(init: WorkerInit): void {
    for (const w of this.workers) w.postMessage({ init } satisfies WorkerMessage);
  }

  run(parts: Uint8Array[], firstLineNo: number): Promise<Uint8Array> {
    const seq = this.seq++;
    const worker = this.workers[seq % this.workers.length]!;
    const transfer = [...new Set(parts.map((p) => p.buffer as ArrayBuffer))];
    const result = new Promise<Uint8Array>((resolve, reject) => {
      this.waiting.set(seq, { resolve, reject });
      worker.postMessage({ chunk: { seq, parts, firstLineNo } } satisfies WorkerMessage, transfer);
    });
    // Awaited later, in order; until then a failure must not count as an unhandled rejection.
    result.catch(() => undefined);
    return result;
  }

  private failAll(err: Error): void {
    for (const w of this.waiting.values()) w.reject(new Error(`batch worker failed: ${err.message}`));
    this.waiting.clear();
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
