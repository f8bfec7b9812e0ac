/**
 * One AWS session per executor call: the SDK modules (optional dependencies, imported on first
 * use), clients built from the resolved credential or the standard AWS environment, and a single
 * deadline that bounds every call made in the session, retries and credential look-ups included.
 */
import type { EC2Client } from "@aws-sdk/client-ec2";
import type { ECSClient } from "@aws-sdk/client-ecs";
import type { IAMClient } from "@aws-sdk/client-iam";
import type { LambdaClient } from "@aws-sdk/client-lambda";
import type { S3Client } from "@aws-sdk/client-s3";
import { AwsExecutorError } from "./errors.js";

export type Ec2Module = typeof import("@aws-sdk/client-ec2");
export type EcsModule = typeof import("@aws-sdk/client-ecs");
export type LambdaModule = typeof import("@aws-sdk/client-lambda");
export type S3Module = typeof import("@aws-sdk/client-s3");
export type IamModule = typeof import("@aws-sdk/client-iam");

export type AwsService = "ec2" | "ecs" | "lambda" | "s3" | "iam";

const PACKAGES: Record<AwsService, string> = {
  ec2: "@aws-sdk/client-ec2",
  ecs: "@aws-sdk/client-ecs",
  lambda: "@aws-sdk/client-lambda",
  s3: "@aws-sdk/client-s3",
  iam: "@aws-sdk/client-iam",
};

const modules = new Map<AwsService, Promise<unknown>>();

async function load<M>(service: AwsService): Promise<M> {
  let p = modules.get(service);
  if (p === undefined) {
    const name = PACKAGES[service]; // a variable: bundlers must not inline the optional SDK
    p = import(name);
    modules.set(service, p);
    p.catch(() => modules.delete(service));
  }
  try {
    return (await p) as M;
  } catch (err) {
    throw new AwsExecutorError(
      "SDK_MISSING",
      `The AWS executor needs the optional dependency ${PACKAGES[service]} (npm install ${PACKAGES[service]})`,
      { cause: err },
    );
  }
}

/** Everything a client needs, resolved from options, the credential and params. */
export interface ClientSettings {
  region: string;
  /** A custom endpoint (moto, LocalStack, a VPC endpoint); absent means the SDK's own resolution. */
  endpoint?: string;
  forcePathStyle: boolean;
  maxAttempts: number;
  /** Static keys from the resolved credential; absent means the SDK's default provider chain. */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  /** A named profile from the credential (`profile_name`). */
  profile?: string;
}

/** A timer and the caller's signal folded into one abort signal, with a typed reason. */
export class Deadline {
  private readonly controller = new AbortController();
  private readonly timer: NodeJS.Timeout;
  private readonly onExternal: () => void;
  private expired = false;

  constructor(
    readonly timeoutMs: number,
    private readonly external?: AbortSignal,
  ) {
    this.timer = setTimeout(() => {
      this.expired = true;
      this.controller.abort();
    }, timeoutMs);
    this.timer.unref();
    this.onExternal = () => this.controller.abort();
    if (external?.aborted) this.controller.abort();
    else external?.addEventListener("abort", this.onExternal, { once: true });
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** The error to report once the signal has fired, naming the call that was cut short. */
  error(operation: string): AwsExecutorError {
    const reason: unknown = this.external?.reason;
    if (this.expired || (reason instanceof Error && reason.name === "TimeoutError")) {
      const ms = this.expired ? this.timeoutMs : undefined;
      return new AwsExecutorError(
        "TIMEOUT",
        `AWS call ${operation} timed out${ms !== undefined ? ` after ${ms} ms` : ""}`,
      );
    }
    return new AwsExecutorError("ABORTED", `AWS call ${operation} was aborted by the caller`);
  }

  dispose(): void {
    clearTimeout(this.timer);
    this.external?.removeEventListener("abort", this.onExternal);
  }
}

interface Destroyable {
  destroy(): void;
}

export class AwsSession {
  private readonly clients = new Map<AwsService, Destroyable>();
  private readonly memos = new Map<string, Promise<unknown>>();
  /** The operations called, in order (`ec2:DescribeInstances`), for the result's details. */
  readonly calls: string[] = [];

  constructor(
    readonly settings: ClientSettings,
    readonly deadline: Deadline,
  ) {}

  private base() {
    const s = this.settings;
    // A plain object: the SDK builds its Node HTTP handler with these socket timeouts.
    const requestHandler = {
      requestTimeout: this.deadline.timeoutMs,
      connectionTimeout: Math.min(this.deadline.timeoutMs, 10_000),
    };
    return {
      region: s.region,
      maxAttempts: s.maxAttempts,
      requestHandler,
      ...(s.endpoint !== undefined ? { endpoint: s.endpoint } : {}),
      ...(s.credentials !== undefined ? { credentials: s.credentials } : {}),
      ...(s.profile !== undefined ? { profile: s.profile } : {}),
    };
  }

  private remember<C extends Destroyable>(service: AwsService, make: () => C): C {
    const existing = this.clients.get(service);
    if (existing !== undefined) return existing as C;
    const client = make();
    this.clients.set(service, client);
    return client;
  }

  async ec2(): Promise<{ client: EC2Client; m: Ec2Module }> {
    const m = await load<Ec2Module>("ec2");
    return { m, client: this.remember("ec2", () => new m.EC2Client(this.base())) };
  }

  async ecs(): Promise<{ client: ECSClient; m: EcsModule }> {
    const m = await load<EcsModule>("ecs");
    return { m, client: this.remember("ecs", () => new m.ECSClient(this.base())) };
  }

  async lambda(): Promise<{ client: LambdaClient; m: LambdaModule }> {
    const m = await load<LambdaModule>("lambda");
    return { m, client: this.remember("lambda", () => new m.LambdaClient(this.base())) };
  }

  async s3(): Promise<{ client: S3Client; m: S3Module }> {
    const m = await load<S3Module>("s3");
    const forcePathStyle = this.settings.forcePathStyle;
    return { m, client: this.remember("s3", () => new m.S3Client({ ...this.base(), forcePathStyle })) };
  }

  async iam(): Promise<{ client: IAMClient; m: IamModule }> {
    const m = await load<IamModule>("iam");
    return { m, client: this.remember("iam", () => new m.IAMClient(this.base())) };
  }

  /**
   * Runs one AWS call under the session deadline. `fn` gets the abort signal to pass to
   * `client.send`; should the SDK not honour it, the race still returns on time.
   */
  async call<T>(operation: string, fn: (abortSignal: AbortSignal) => Promise<T>): Promise<T> {
    const signal = this.deadline.signal;
    if (signal.aborted) throw this.deadline.error(operation);
    this.calls.push(operation);
    return await new Promise<T>((resolve, reject) => {
      const onAbort = () => reject(this.deadline.error(operation));
      signal.addEventListener("abort", onAbort, { once: true });
      let pending: Promise<T>;
      try {
        pending = fn(signal);
      } catch (err) {
        signal.removeEventListener("abort", onAbort);
        reject(err);
        return;
      }
      pending.then(
        (v) => {
          signal.removeEventListener("abort", onAbort);
          resolve(v);
        },
        (err: unknown) => {
          signal.removeEventListener("abort", onAbort);
          reject(signal.aborted ? this.deadline.error(operation) : err);
        },
      );
    });
  }

  /** One result per key for the session: prechecks and state share a `Describe*` call. */
  memo<T>(key: string, fn: () => Promise<T>): Promise<T> {
    let p = this.memos.get(key) as Promise<T> | undefined;
    if (p === undefined) {
      p = fn();
      this.memos.set(key, p);
    }
    return p;
  }

  close(): void {
    this.deadline.dispose();
    for (const c of this.clients.values()) {
      try {
        c.destroy();
      } catch {
        // closing idle sockets only
      }
    }
    this.clients.clear();
  }
}
