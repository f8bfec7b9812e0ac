/** S3: delete one object, replace a bucket policy. Object bodies are never read. */
import { AwsExecutorError, awsErrorCode, awsHttpStatus } from "./errors.js";
import { defined, iso } from "./output.js";
import type { ParamReader } from "./params.js";
import { type ParsedPolicy, parsePolicy, publicGrants } from "./policy.js";
import type { AwsSession } from "./session.js";
import { type AwsAction, defineAction, type ExecuteEnv } from "./spec.js";

const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const bucketOpts = { max: 63, pattern: BUCKET, what: "bucket name" };

interface ObjectParams {
  bucket: string;
  key: string;
  region: string;
}

interface PolicyParams {
  bucket: string;
  policy: string;
  parsed: ParsedPolicy;
  region: string;
}

function isNotFound(err: unknown): boolean {
  const code = awsErrorCode(err);
  return (
    code === "NotFound" || code === "NoSuchKey" || (awsHttpStatus(err) === 404 && code !== "NoSuchBucket")
  );
}

async function headObject(s: AwsSession, p: ObjectParams) {
  return s.memo(`s3:head:${p.bucket}/${p.key}`, async () => {
    const { client, m } = await s.s3();
    try {
      return await s.call("s3:HeadObject", (abortSignal) =>
        client.send(new m.HeadObjectCommand({ Bucket: p.bucket, Key: p.key }), { abortSignal }),
      );
    } catch (err) {
      if (isNotFound(err)) return null;
      throw err;
    }
  });
}

const deleteObject = defineAction<ObjectParams>({
  service: "s3",
  operation: "s3:DeleteObject",
  stateOperation: "s3:HeadObject",
  stateFields: ["exists", "content_length", "content_type", "last_modified", "etag", "version_id"],
  parse: (r: ParamReader) => ({
    bucket: r.str("bucket", bucketOpts),
    key: r.str("key", { max: 1024 }),
    region: r.region(),
  }),
  request: (p) => ({ Bucket: p.bucket, Key: p.key }),
  stateRequest: (p) => ({ Bucket: p.bucket, Key: p.key }),
  async execute(s, p) {
    const { client, m } = await s.s3();
    const res = await s.call("s3:DeleteObject", (abortSignal) =>
      client.send(new m.DeleteObjectCommand({ Bucket: p.bucket, Key: p.key }), { abortSignal }),
    );
    return {
      output: defined({
        Bucket: p.bucket,
        Key: p.key,
        DeleteMarker: res.DeleteMarker,
        VersionId: res.VersionId,
      }),
    };
  },
  async state(s, p) {
    const head = await headObject(s, p);
    if (head === null) return { exists: false };
    return defined({
      exists: true,
      content_length: head.ContentLength,
      content_type: head.ContentType,
      last_modified: iso(head.LastModified),
      etag: head.ETag,
      version_id: head.VersionId,
    });
  },
  prechecks: {
    "object-exists": {
      calls: ["s3:HeadObject"],
      async run(s, p) {
        const head = await headObject(s, p);
        return {
          passed: head !== null,
          message:
            head === null
              ? `Object s3://${p.bucket}/${p.key} does not exist`
              : `Object s3://${p.bucket}/${p.key} exists (${head.ContentLength ?? "?"} bytes)`,
        };
      },
    },
    "versioning-enabled": {
      calls: ["s3:GetBucketVersioning"],
      async run(s, p) {
        const { client, m } = await s.s3();
        const res = await s.call("s3:GetBucketVersioning", (abortSignal) =>
          client.send(new m.GetBucketVersioningCommand({ Bucket: p.bucket }), { abortSignal }),
        );
        const on = res.Status === "Enabled";
        return {
          passed: on,
          message: on
            ? `Bucket ${p.bucket} is versioned: the previous version can be restored by hand`
            : `Bucket ${p.bucket} is not versioned (${res.Status ?? "never enabled"}): the delete is permanent`,
        };
      },
    },
  },
});

/** Whether the action definition enforces `no-public-grant` (the shipped one does). */
function enforcesNoPublicGrant(env: ExecuteEnv): boolean {
  return env.action.prechecks.some((pc) => pc.name === "no-public-grant" && pc.enforce);
}

const putBucketPolicy = defineAction<PolicyParams>({
  service: "s3",
  operation: "s3:PutBucketPolicy",
  stateOperation: "s3:GetBucketPolicy",
  stateFields: ["policy"],
  parse(r: ParamReader) {
    const policy = r.str("policy", { max: 20 * 1024 });
    return { bucket: r.str("bucket", bucketOpts), policy, parsed: parsePolicy(policy), region: r.region() };
  },
  request: (p) => ({ Bucket: p.bucket, Policy: p.policy }),
  stateRequest: (p) => ({ Bucket: p.bucket }),
  async execute(s, p, env) {
    // Checked again here, whatever the runner did: S3 rejects (or moto crashes on) a malformed
    // policy, and an enforced no-public-grant must hold even if the prechecks were skipped.
    if (!p.parsed.ok) {
      throw new AwsExecutorError("INVALID_PARAMS", `Invalid parameter 'policy': ${p.parsed.reason}`);
    }
    const open = publicGrants(p.parsed.statements);
    if (open.length > 0 && enforcesNoPublicGrant(env)) {
      throw new AwsExecutorError(
        "REFUSED",
        `Refused: the policy grants public access (statement ${open.join(", ")}) and no-public-grant is enforced`,
      );
    }
    const { client, m } = await s.s3();
    await s.call("s3:PutBucketPolicy", (abortSignal) =>
      client.send(new m.PutBucketPolicyCommand({ Bucket: p.bucket, Policy: p.policy }), { abortSignal }),
    );
    return {
      output: { Bucket: p.bucket, PolicyApplied: true, Statements: p.parsed.statements.map((x) => x.label) },
    };
  },
  async state(s, p) {
    const { client, m } = await s.s3();
    try {
      const res = await s.call("s3:GetBucketPolicy", (abortSignal) =>
        client.send(new m.GetBucketPolicyCommand({ Bucket: p.bucket }), { abortSignal }),
      );
      return defined({ policy: res.Policy });
    } catch (err) {
      // No policy: the state has no `policy` key, as the action's state_fields say.
      if (awsErrorCode(err) === "NoSuchBucketPolicy") return {};
      throw err;
    }
  },
  prechecks: {
    "bucket-exists": {
      calls: ["s3:HeadBucket"],
      async run(s, p) {
        const { client, m } = await s.s3();
        try {
          await s.call("s3:HeadBucket", (abortSignal) =>
            client.send(new m.HeadBucketCommand({ Bucket: p.bucket }), { abortSignal }),
          );
          return {
            passed: true,
            message: `Bucket ${p.bucket} exists and is accessible with this credential`,
          };
        } catch (err) {
          const status = awsHttpStatus(err);
          if (status === 404) return { passed: false, message: `Bucket ${p.bucket} does not exist` };
          if (status === 403) {
            return {
              passed: false,
              message: `Bucket ${p.bucket} is not accessible (another account's bucket?)`,
            };
          }
          throw err;
        }
      },
    },
    "policy-parses": {
      calls: [],
      async run(_s, p) {
        return p.parsed.ok
          ? { passed: true, message: `The policy parses (${p.parsed.statements.length} statements)` }
          : { passed: false, message: `The policy does not parse: ${p.parsed.reason}` };
      },
    },
    "no-public-grant": {
      calls: [],
      async run(_s, p) {
        if (!p.parsed.ok) return { passed: false, message: `The policy does not parse: ${p.parsed.reason}` };
        const open = publicGrants(p.parsed.statements);
        return open.length === 0
          ? { passed: true, message: "No statement allows everyone without a condition" }
          : {
              passed: false,
              message: `Public grant: statement ${open.join(", ")} allows Principal "*" without a Condition`,
            };
      },
    },
  },
});

export const S3_ACTIONS: Record<string, AwsAction> = {
  "s3-delete-object": deleteObject,
  "s3-put-bucket-policy": putBucketPolicy,
};
