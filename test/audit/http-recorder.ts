/** A real HTTP server on loopback that records what it receives (a SIEM stand-in). */
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";

export interface Received {
  headers: IncomingHttpHeaders;
  body: string;
  eventId: string;
  seq: number;
}

export class Recorder {
  readonly received: Received[] = [];
  private server: Server | null = null;
  /** Answer with this status instead of 200 (e.g. to fail after N events). */
  failWhen: ((n: number) => number | null) | null = null;
  port = 0;

  private handler = (req: import("node:http").IncomingMessage, res: import("node:http").ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const status = this.failWhen?.(this.received.length) ?? null;
      if (status !== null) {
        res.writeHead(status).end();
        return;
      }
      const body = Buffer.concat(chunks).toString("utf8");
      this.received.push({
        headers: req.headers,
        body,
        eventId: String(req.headers["idempotency-key"] ?? ""),
        seq: Number(req.headers["x-agent-safe-seq"]),
      });
      res.writeHead(200, { "content-type": "application/json" }).end("{}");
    });
  };

  async start(port = 0): Promise<this> {
    const server = createServer(this.handler);
    server.keepAliveTimeout = 60_000;
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, "127.0.0.1", () => resolve());
    });
    this.server = server;
    this.port = (server.address() as AddressInfo).port;
    return this;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}/ingest`;
  }

  /** Stops listening (clients get connection refused) but keeps the port number. */
  async stop(): Promise<void> {
    const s = this.server;
    this.server = null;
    if (s === null) return;
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }

  /** Unique event ids in arrival order, and the number of duplicates. */
  unique(): { ids: string[]; seqs: number[]; duplicates: number } {
    const seen = new Set<string>();
    const ids: string[] = [];
    const seqs: number[] = [];
    for (const r of this.received) {
      if (seen.has(r.eventId)) continue;
      seen.add(r.eventId);
      ids.push(r.eventId);
      seqs.push(r.seq);
    }
    return { ids, seqs, duplicates: this.received.length - ids.length };
  }
}

export async function waitUntil(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
