/**
 * Filesystem shipper: appends each event's exact log line to another file (another disk, a
 * mounted share, a directory a collector tails). Shipped lines keep their hashes, so the copy
 * verifies with `audit verify` like the original. The directory must exist.
 */
import { createHash } from "node:crypto";
import { closeSync, fsyncSync, openSync, writeSync } from "node:fs";
import { resolve } from "node:path";
import { AuditError } from "../errors.js";
import type { ShipItem, ShipperRunOptions, ShipTarget } from "./types.js";

export interface FilesystemShipperOptions {
  path: string;
  /** Cursor name; default `filesystem-<sha256(path)[:12]>`. */
  name?: string;
  runOptions?: ShipperRunOptions;
}

export class FilesystemShipper implements ShipTarget {
  readonly kind = "filesystem";
  readonly id: string;
  readonly describe: string;
  readonly runOptions: ShipperRunOptions | undefined;
  private fd: number | null = null;
  private readonly path: string;

  constructor(options: FilesystemShipperOptions) {
    if (typeof options.path !== "string" || options.path === "") {
      throw new AuditError("CONFIG", "filesystem shipper: path is required");
    }
    this.path = resolve(options.path);
    this.id = options.name ?? `filesystem-${shortHash(this.path)}`;
    this.runOptions = options.runOptions;
    this.describe = `filesystem ${this.path}`;
  }

  async send(item: ShipItem): Promise<void> {
    if (this.fd === null) this.fd = openSync(this.path, "a", 0o640);
    const buf = Buffer.from(item.line, "utf8");
    let done = 0;
    while (done < buf.length) done += writeSync(this.fd, buf, done, buf.length - done);
  }

  async close(): Promise<void> {
    if (this.fd === null) return;
    const fd = this.fd;
    this.fd = null;
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  }
}

export function shortHash(text: string): string {
  return createHash("sha256").update(text).digest("hex").slice(0, 12);
}
