/**
 * S3 shipper: one object per event at `<prefix><YYYY-MM-DD>/<seq>-<event_id>.json` (the UTC date
 * of the event, the seq zero-padded to 12 digits so keys list in chain order). The body is the
 * event's canonical JSON (its log line without the newline). A re-delivery writes the same key
 * with the same bytes, so duplicates collapse. With Object Lock (`objectLockMode`, retention in
 * days) each object is immutable until its retain-until date; the bucket must have Object Lock
 * enabled. `@aws-sdk/client-s3` is an optional dependency, loaded only when this shipper is used.
 */
import type { S3Client } from "@aws-sdk/client-s3";
import { AuditError } from "../errors.js";
import { shortHash } from "./filesystem.js";
import type { ShipItem, ShipperRunOptions, ShipTarget } from "./types.js";

export interface S3ShipperOptions {
  bucket: string;
  /** Default `audit-logs/`. */
  prefix?: string;
  region?: string;
  /** A custom endpoint (MinIO, moto, a VPC endpoint). */
  endpoint?: string;
  forcePathStyle?: boolean;
  objectLockMode?: "GOVERNANCE" | "COMPLIANCE" | null;
  objectLockRetainDays?: number | null;
  name?: string;
  runOptions?: ShipperRunOptions;
}

type S3Module = typeof import("@aws-sdk/client-s3");

export class S3Shipper implements ShipTarget {
  readonly kind = "s3";
  readonly id: string;
  readonly describe: string;
  readonly runOptions: ShipperRunOptions | undefined;
  private client: S3Client | null = null;
  private mod: S3Module | null = null;
  private readonly prefix: string;

  constructor(private readonly options: S3ShipperOptions) {
    if (typeof options.bucket !== "string" || options.bucket === "") {
      throw new AuditError("CONFIG", "s3 shipper: bucket is required");
    }
    if ((options.objectLockMode ?? null) !== null && !(Number(options.objectLockRetainDays) > 0)) {
      throw new AuditError("CONFIG", "s3 shipper: object lock needs object_lock_retain_days > 0");
    }
    this.prefix = options.prefix ?? "audit-logs/";
    this.describe = `s3://${options.bucket}/${this.prefix}`;
    this.id = options.name ?? `s3-${shortHash(`${options.endpoint ?? ""}|${options.bucket}|${this.prefix}`)}`;
    this.runOptions = options.runOptions;
  }

  /** The object key of an event. */
  keyFor(item: ShipItem): string {
    const r = item.record;
    const ms = Date.parse(r.timestamp);
    const day = Number.isNaN(ms) ? String(r.timestamp).slice(0, 10) : new Date(ms).toISOString().slice(0, 10);
    return `${this.prefix}${day}/${String(r.seq).padStart(12, "0")}-${r.event_id}.json`;
  }

  private async ensureClient(): Promise<{ client: S3Client; mod: S3Module }> {
    if (this.client === null || this.mod === null) {
      const name = "@aws-sdk/client-s3";
      try {
        this.mod = (await import(name)) as S3Module;
      } catch (err) {
        throw new AuditError("CONFIG", "The S3 shipper needs the optional dependency @aws-sdk/client-s3", {
          cause: err,
        });
      }
      this.client = new this.mod.S3Client({
        ...(this.options.region !== undefined ? { region: this.options.region } : {}),
        ...(this.options.endpoint !== undefined ? { endpoint: this.options.endpoint } : {}),
        forcePathStyle: this.options.forcePathStyle ?? false,
        maxAttempts: 1, // the shipper runner retries
      });
    }
    return { client: this.client, mod: this.mod };
  }

  async send(item: ShipItem): Promise<void> {
    const { client, mod } = await this.ensureClient();
    const body = item.line.endsWith("\n") ? item.line.slice(0, -1) : item.line;
    const lock =
      this.options.objectLockMode != null
        ? {
            ObjectLockMode: this.options.objectLockMode,
            ObjectLockRetainUntilDate: new Date(
              Date.now() + Number(this.options.objectLockRetainDays) * 86_400_000,
            ),
          }
        : {};
    await client.send(
      new mod.PutObjectCommand({
        Bucket: this.options.bucket,
        Key: this.keyFor(item),
        Body: body,
        ContentType: "application/json",
        Metadata: {
          "event-id": item.record.event_id,
          seq: String(item.record.seq),
          "chain-id": String(item.record.chain_id ?? ""),
          "entry-hash": item.record.entry_hash,
        },
        ...lock,
      }),
    );
  }

  async close(): Promise<void> {
    this.client?.destroy();
    this.client = null;
  }
}
