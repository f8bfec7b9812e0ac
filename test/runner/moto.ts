/**
 * The moto server for the runner tests (DESIGN.md §8), started once per test file on a free port
 * (the audit tests' helper), plus SDK clients to create resources and read them back, and loopback
 * stubs for what moto cannot do (Lambda function errors, a server that never answers).
 */
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { EC2Client } from "@aws-sdk/client-ec2";
import { ECSClient } from "@aws-sdk/client-ecs";
import { IAMClient } from "@aws-sdk/client-iam";
import { LambdaClient } from "@aws-sdk/client-lambda";
import { S3Client } from "@aws-sdk/client-s3";
import { type Moto, startMoto } from "../audit/moto.js";

export { type Moto, startMoto };

export const REGION = "us-east-1";
export const TEST_CREDENTIALS = {
  accessKeyId: "AKIDMOTOTESTING0001",
  secretAccessKey: "moto-secret-key-do-not-log",
};

/**
 * Makes the moto server deterministic for these tests: Lambda Invoke without Docker (moto's
 * "simple" backend echoes the payload), and ECS tasks that stay RUNNING until stopped (moto
 * otherwise advances a task's status on every describe).
 */
export async function configureMoto(endpoint: string): Promise<void> {
  const post = async (path: string, body: unknown) => {
    const res = await fetch(`${endpoint}${path}`, { method: "POST", body: JSON.stringify(body) });
    if (!res.ok) throw new Error(`moto ${path}: HTTP ${res.status}`);
  };
  await post("/moto-api/config", { lambda: { use_docker: false } });
  await post("/moto-api/state-manager/set-transition", {
    model_name: "ecs::task",
    transition: { progression: "manual", times: 1_000_000 },
  });
}

export interface Clients {
  ec2: EC2Client;
  ecs: ECSClient;
  lambda: LambdaClient;
  s3: S3Client;
  iam: IAMClient;
  destroy(): void;
}

/** SDK clients pointed at moto, for seeding resources and reading the effect back. */
export function clients(endpoint: string): Clients {
  const cfg = { region: REGION, endpoint, credentials: TEST_CREDENTIALS, maxAttempts: 1 };
  const c = {
    ec2: new EC2Client(cfg),
    ecs: new ECSClient(cfg),
    lambda: new LambdaClient(cfg),
    s3: new S3Client({ ...cfg, forcePathStyle: true }),
    iam: new IAMClient(cfg),
  };
  return {
    ...c,
    destroy() {
      for (const x of Object.values(c)) x.destroy();
    },
  };
}

export interface RecordedRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

export interface Stub {
  endpoint: string;
  requests: RecordedRequest[];
  close(): Promise<void>;
}

/**
 * A loopback HTTP server that records each request and answers with `respond` (or never, when it
 * returns null: the request hangs until the client gives up).
 */
export async function startStub(
  respond: (
    req: RecordedRequest,
  ) => { status: number; headers?: Record<string, string>; body: string } | null,
): Promise<Stub> {
  const requests: RecordedRequest[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const rec = {
        method: req.method ?? "",
        url: req.url ?? "",
        headers: req.headers,
        body: Buffer.concat(chunks).toString("utf8"),
      };
      requests.push(rec);
      const answer = respond(rec);
      if (answer === null) return; // hang
      res.writeHead(answer.status, { "content-type": "application/json", ...answer.headers });
      res.end(answer.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
