/** Replicas as real OS processes, each running `workers/guard-worker.ts`. */
import { type ChildProcessByStdio, spawn } from "node:child_process";
import { join } from "node:path";
import { createInterface, type Interface } from "node:readline";
import type { Readable, Writable } from "node:stream";
import type { GuardsConfig } from "../../src/guards/guards.js";
import type { StateBackendOptions } from "../../src/state/interfaces.js";

const WORKER = join(import.meta.dirname, "workers", "guard-worker.ts");

export class Replica {
  private readonly pending: ((line: string) => void)[] = [];
  private readonly lines: Interface;

  private constructor(private readonly child: ChildProcessByStdio<Writable, Readable, null>) {
    this.lines = createInterface({ input: child.stdout });
    this.lines.on("line", (line) => this.pending.shift()?.(line));
  }

  static async start(url: string, options: StateBackendOptions, guards: GuardsConfig): Promise<Replica> {
    const child = spawn(process.execPath, ["--import", "tsx", WORKER], {
      stdio: ["pipe", "pipe", "inherit"],
    });
    const r = new Replica(child);
    const ready = (await r.send({ url, options, guards })) as { ready?: boolean };
    if (ready.ready !== true) throw new Error(`replica did not start: ${JSON.stringify(ready)}`);
    return r;
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  send(message: unknown): Promise<unknown> {
    return new Promise((resolve, reject) => {
      if (this.child.exitCode !== null) reject(new Error("replica has exited"));
      this.pending.push((line) => resolve(JSON.parse(line)));
      this.child.stdin.write(`${JSON.stringify(message)}\n`);
    });
  }

  /** Runs a command; returns its value or throws its error. */
  async run<T = unknown>(command: Record<string, unknown>): Promise<T> {
    const reply = (await this.send(command)) as { ok: boolean; value?: T; error?: string };
    if (!reply.ok) throw new Error(reply.error);
    return reply.value as T;
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise((resolve) => this.child.once("exit", resolve));
    this.child.stdin.end();
    const timer = setTimeout(() => this.child.kill("SIGKILL"), 5000);
    await exited;
    clearTimeout(timer);
  }
}

export async function startReplicas(
  n: number,
  url: string,
  options: StateBackendOptions,
  guards: GuardsConfig,
): Promise<Replica[]> {
  return Promise.all(Array.from({ length: n }, () => Replica.start(url, options, guards)));
}
