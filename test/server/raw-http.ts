/**
 * A minimal HTTP/1.1 keep-alive client over one socket, one request at a time. The global fetch
 * costs ~5 ms per sequential request on this machine; this costs the loopback round trip, which
 * lets the compat test send 20,000 requests one by one (the server's clock moves between them).
 */
import { connect, type Socket } from "node:net";

export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

export class RawHttpClient {
  private socket: Socket | null = null;
  private buffer: Buffer = Buffer.alloc(0);
  private waiting: ((r: RawResponse | Error) => void) | null = null;

  constructor(
    private readonly host: string,
    private readonly port: number,
  ) {}

  static fromUrl(url: string): RawHttpClient {
    const u = new URL(url);
    return new RawHttpClient(u.hostname, Number(u.port));
  }

  async request(
    method: string,
    path: string,
    headers: Record<string, string>,
    body?: string,
  ): Promise<RawResponse> {
    const socket = await this.connected();
    const payload = body === undefined ? Buffer.alloc(0) : Buffer.from(body, "utf8");
    let head = `${method} ${path} HTTP/1.1\r\nhost: ${this.host}:${this.port}\r\n`;
    for (const [k, v] of Object.entries(headers)) head += `${k}: ${v}\r\n`;
    if (body !== undefined) head += `content-length: ${payload.length}\r\n`;
    head += "\r\n";
    const done = new Promise<RawResponse | Error>((resolve) => {
      this.waiting = resolve;
    });
    socket.write(Buffer.concat([Buffer.from(head, "latin1"), payload]));
    const r = await done;
    if (r instanceof Error) throw r;
    if (r.headers.connection?.toLowerCase() === "close") this.close();
    return r;
  }

  close(): void {
    this.socket?.destroy();
    this.socket = null;
    this.buffer = Buffer.alloc(0);
  }

  private connected(): Promise<Socket> {
    if (this.socket !== null && !this.socket.destroyed) return Promise.resolve(this.socket);
    return new Promise((resolve, reject) => {
      const s = connect(this.port, this.host);
      s.setNoDelay(true);
      s.once("connect", () => {
        this.socket = s;
        resolve(s);
      });
      s.once("error", reject);
      s.on("data", (d: Buffer) => {
        this.buffer = this.buffer.length === 0 ? d : Buffer.concat([this.buffer, d]);
        this.parse();
      });
      s.on("close", () => {
        if (this.socket === s) this.socket = null;
        const w = this.waiting;
        this.waiting = null;
        w?.(new Error("connection closed"));
      });
    });
  }

  private parse(): void {
    const end = this.buffer.indexOf("\r\n\r\n");
    if (end === -1) return;
    const lines = this.buffer.subarray(0, end).toString("latin1").split("\r\n");
    const status = Number(lines[0]!.split(" ")[1]);
    const headers: Record<string, string> = {};
    for (const line of lines.slice(1)) {
      const i = line.indexOf(":");
      headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
    }
    const length = Number(headers["content-length"] ?? 0);
    if (this.buffer.length < end + 4 + length) return;
    const body = this.buffer.subarray(end + 4, end + 4 + length).toString("utf8");
    this.buffer = this.buffer.subarray(end + 4 + length);
    const w = this.waiting;
    this.waiting = null;
    w?.({ status, headers, body });
  }
}
