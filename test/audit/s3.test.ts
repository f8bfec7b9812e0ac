/** The S3 shipper against the local moto server: keys, bodies, Object Lock retention, cursor resume. */
import { join } from "node:path";
import {
  CreateBucketCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  S3Client,
} from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AuditWriter, S3Shipper, shipLog } from "../../src/audit/index.js";
import { decision, lines, tmp } from "./helpers.js";
import { type Moto, motoEnv, startMoto } from "./moto.js";

let moto: Moto;
let s3: S3Client;

beforeAll(async () => {
  Object.assign(process.env, motoEnv());
  moto = await startMoto();
  s3 = new S3Client({ endpoint: moto.endpoint, region: "us-east-1", forcePathStyle: true });
}, 60_000);

afterAll(async () => {
  s3?.destroy();
  await moto?.stop();
});

async function keys(bucket: string, prefix: string): Promise<string[]> {
  const out: string[] = [];
  let token: string | undefined;
  do {
    const page = await s3.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }),
    );
    for (const o of page.Contents ?? []) out.push(o.Key!);
    token = page.NextContinuationToken;
  } while (token);
  return out.sort();
}

describe("S3 shipper (moto)", () => {
  it("writes one object per event at <prefix><date>/<seq>-<event_id>.json, with Object Lock retention", async () => {
    await s3.send(new CreateBucketCommand({ Bucket: "audit-locked", ObjectLockEnabledForBucket: true }));
    const log = join(tmp(), "audit.jsonl");
    const target = new S3Shipper({
      bucket: "audit-locked",
      prefix: "prod/",
      endpoint: moto.endpoint,
      region: "us-east-1",
      forcePathStyle: true,
      objectLockMode: "GOVERNANCE",
      objectLockRetainDays: 30,
    });
    const w = await AuditWriter.open({ path: log, shippers: [target], shipperOptions: { retryBaseMs: 50 } });
    for (let i = 0; i < 12; i++) await w.append(decision(i, { timestamp: "2025-03-04T05:06:07Z" }));
    await w.close();
    const events = lines(log).map((l) => JSON.parse(l));
    const expected = events
      .map((e) => `prod/2025-03-04/${String(e.seq).padStart(12, "0")}-${e.event_id}.json`)
      .sort();
    expect(await keys("audit-locked", "prod/")).toEqual(expected);
    const obj = await s3.send(new GetObjectCommand({ Bucket: "audit-locked", Key: expected[3]! }));
    expect(await obj.Body!.transformToString()).toBe(lines(log)[3]);
    expect(obj.Metadata?.["event-id"]).toBe(events[3].event_id);
    const head = await s3.send(new HeadObjectCommand({ Bucket: "audit-locked", Key: expected[3]! }));
    expect(head.ObjectLockMode).toBe("GOVERNANCE");
    expect(head.ObjectLockRetainUntilDate!.getTime()).toBeGreaterThan(Date.now() + 29 * 86_400_000);
  });

  it("shipLog re-run after an interruption ships no duplicates", async () => {
    await s3.send(new CreateBucketCommand({ Bucket: "audit-replay" }));
    const log = join(tmp(), "audit.jsonl");
    const w = await AuditWriter.open({ path: log });
    for (let i = 0; i < 20; i++) await w.append(decision(i));
    await w.close();
    const target = () =>
      new S3Shipper({
        bucket: "audit-replay",
        endpoint: moto.endpoint,
        region: "us-east-1",
        forcePathStyle: true,
      });
    const stop = new AbortController();
    let sent = 0;
    const t = target();
    const counting = {
      ...t,
      id: t.id,
      kind: t.kind,
      describe: t.describe,
      send: async (item: Parameters<typeof t.send>[0]) => {
        await t.send(item);
        if (++sent === 7) stop.abort(); // interrupted (SIGINT) after the 7th event
      },
      close: () => t.close(),
    };
    const first = await shipLog({ path: log, target: counting, signal: stop.signal });
    expect(first).toMatchObject({ shipped: 7, interrupted: true, cursor: 7 });
    const second = await shipLog({ path: log, target: target() });
    expect(second).toMatchObject({ shipped: 13, firstSeq: 8, lastSeq: 20, cursor: 20, failed: null });
    const third = await shipLog({ path: log, target: target() });
    expect(third.shipped).toBe(0);
    expect(await keys("audit-replay", "audit-logs/")).toHaveLength(20);
  });
});
