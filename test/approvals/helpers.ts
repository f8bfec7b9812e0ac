/**
 * A rig for the approval tests: real Ed25519 keys, the real decision pipeline (so requests come
 * from genuine REQUIRE_APPROVAL decisions), a real audit log, a real SQLite file or PostgreSQL
 * schema, and a loopback HTTP server that records what the notifiers send.
 */
import { type ChildProcessByStdio, spawn } from "node:child_process";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import { join } from "node:path";
import { createInterface } from "node:readline";
import type { Readable, Writable } from "node:stream";
import { PostgresApprovalStore } from "../../src/approvals/postgres-store.js";
import { sealerFromRing } from "../../src/approvals/seal.js";
import { ApprovalService, type ApprovalServiceOptions } from "../../src/approvals/service.js";
import { SqliteApprovalStore } from "../../src/approvals/sqlite-store.js";
import type { ApprovalStore } from "../../src/approvals/store.js";
import { AuditWriter } from "../../src/audit/writer.js";
import type { CallerIdentity, Params } from "../../src/core/types.js";
import type { World } from "../../src/core/world.js";
import { identityServices } from "../../src/identity/index.js";
import type { Decision } from "../../src/pdp/decision.js";
import { DecisionPipeline } from "../../src/pdp/pipeline.js";
import { ticketServices } from "../../src/tickets/index.js";
import { tempDir } from "../helpers/cli.js";
import { memoryNonces, tempKeys } from "../helpers/tokens.js";
import { action, param, rule, target, world } from "../helpers/world.js";
import { freePort } from "../state/helpers.js";

export const PROD = "prod/web";

export function approvalWorld(revision = "rev-1"): World {
  const w = world({
    actions: [
      action({
        name: "restart-deployment",
        risk_class: "medium",
        target_types: ["k8s-deployment"],
        parameters: [
          param({ name: "namespace", type: "string" }),
          param({ name: "token", type: "string", required: false, sensitive: true }),
          param({ name: "grace", type: "integer", required: false, default: 30 }),
        ],
      }),
      action({ name: "scale-deployment", risk_class: "high", target_types: ["k8s-deployment"] }),
      action({ name: "get-pods", risk_class: "low", target_types: ["k8s-deployment"] }),
    ],
    rules: [
      rule({
        name: "prod-scale-two-sres",
        priority: 100,
        match: { actions: ["scale-deployment"] },
        decision: "require_approval",
        reason: "Scaling production needs two SREs",
        approval: { quorum: 2, approver_roles: ["sre"] },
      }),
      rule({
        name: "require-approval-prod",
        priority: 50,
        match: { actions: ["restart-deployment"] },
        decision: "require_approval",
        reason: "Production actions require explicit approval",
        approval: { quorum: 1, approver_roles: ["sre", "oncall"] },
      }),
      rule({ name: "reads", priority: 10, match: { actions: ["get-pods"] }, decision: "allow" }),
    ],
    targets: [target({ id: PROD, type: "k8s-deployment", environment: "prod", sensitivity: "critical" })],
  });
  return { ...w, revision };
}

export interface RigOptions {
  revision?: string;
}

export class Rig {
  readonly dir = tempDir("agent-safe-approvals-");
  readonly keys = tempKeys();
  readonly identity = identityServices(this.keys.keys, { failureCacheMs: 0 });
  readonly nonces = memoryNonces();
  readonly tickets = ticketServices(this.keys.keys, this.nonces);
  world: World;
  audit: AuditWriter | null = null;
  private readonly services: ApprovalService[] = [];

  constructor(o: RigOptions = {}) {
    this.world = approvalWorld(o.revision);
  }

  get auditPath(): string {
    return join(this.dir, "audit.jsonl");
  }

  async openAudit(): Promise<AuditWriter> {
    this.audit ??= await AuditWriter.open({ path: this.auditPath, checkpointsFile: null });
    return this.audit;
  }

  token(agentId: string, roles: string[] = []): string {
    return this.identity.issuer.issue({ agentId, roles }).token;
  }

  async delegate(parentToken: string, childAgentId: string, roles: string[] = []): Promise<string> {
    return (await this.identity.delegation.createDelegation(parentToken, { childAgentId, roles })).token;
  }

  /** A genuine REQUIRE_APPROVAL decision from the pipeline, and the verified caller. */
  async decide(
    callerToken: string,
    act = "restart-deployment",
    params: Params = { namespace: "prod", token: "s3cr3t-value" },
  ): Promise<{ decision: Decision; caller: CallerIdentity; params: Params }> {
    const audit = await this.openAudit();
    const pipeline = new DecisionPipeline({
      world: () => this.world,
      clock: Date.now,
      identity: this.identity.verifier,
      keysConfigured: true,
      guards: null,
      audit,
      tickets: this.tickets.issuer,
    });
    const decision = await pipeline.check(
      { action: act, target: PROD, caller: callerToken, params, ticketId: null },
      { trusted: false },
    );
    return { decision, caller: await this.identity.verifier.verify(callerToken), params };
  }

  sqliteStore(name = "approvals.db"): SqliteApprovalStore {
    return new SqliteApprovalStore(join(this.dir, name), { pollIntervalMs: 50 });
  }

  service(
    store: ApprovalStore = this.sqliteStore(),
    o: Partial<ApprovalServiceOptions> = {},
  ): ApprovalService {
    const s = new ApprovalService({
      store,
      identity: this.identity.verifier,
      tickets: this.tickets.issuer,
      sealer: sealerFromRing(this.keys.keys.tickets),
      audit: this.audit,
      currentRevision: () => this.world.revision,
      trusted: false,
      ...o,
    });
    this.services.push(s);
    return s;
  }

  postgresStore(url: string): PostgresApprovalStore {
    return new PostgresApprovalStore(url, { timeoutMs: 3000 });
  }

  async close(): Promise<void> {
    for (const s of this.services.splice(0)) await s.close(100).catch(() => undefined);
    await this.audit?.close();
    this.audit = null;
  }
}

export interface Received {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
  at: number;
}

/** A loopback HTTP server that records every request; it can be started late, stopped and restarted. */
export class Recorder {
  readonly received: Received[] = [];
  private server: Server | null = null;
  status = 200;

  private constructor(readonly port: number) {}

  /** `listen: false` reserves a port nobody answers on (the endpoint is "down"). */
  static async create(listen = true): Promise<Recorder> {
    const r = new Recorder(await freePort());
    if (listen) await r.start();
    return r;
  }

  url(path = "/hook"): string {
    return `http://127.0.0.1:${this.port}${path}`;
  }

  start(): Promise<void> {
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        this.received.push({
          method: req.method ?? "",
          url: req.url ?? "",
          headers: req.headers,
          body: Buffer.concat(chunks).toString("utf8"),
          at: Date.now(),
        });
        res.statusCode = this.status;
        res.end("ok");
      });
    });
    this.server = server;
    return new Promise((resolve) => server.listen(this.port, "127.0.0.1", () => resolve()));
  }

  async stop(): Promise<void> {
    const s = this.server;
    this.server = null;
    if (s === null) return;
    s.closeAllConnections();
    await new Promise((resolve) => s.close(resolve));
  }

  on(path: string): Received[] {
    return this.received.filter((r) => r.url === path);
  }

  async waitFor(path: string, n: number, timeoutMs = 10_000): Promise<Received[]> {
    const until = Date.now() + timeoutMs;
    while (this.on(path).length < n && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
    return this.on(path);
  }
}

export async function rejection(p: Promise<unknown>): Promise<Error & { code?: string }> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  if (!(err instanceof Error)) throw new Error(`expected a rejection, got ${JSON.stringify(err)}`);
  return err as Error & { code?: string };
}

const WORKER = join(import.meta.dirname, "workers", "approval-worker.ts");

export interface ReplicaReply<T> {
  ok: boolean;
  value?: T;
  error?: string;
  code?: string | null;
}

/** One replica of the approval service over PostgreSQL, as its own OS process. */
export class ApprovalReplica {
  private readonly pending = new Map<number, (reply: ReplicaReply<unknown>) => void>();
  private seq = 0;
  private ready: ((v: { ready: boolean; error?: string }) => void) | null = null;

  private constructor(private readonly child: ChildProcessByStdio<Writable, Readable, null>) {
    createInterface({ input: child.stdout }).on("line", (line) => {
      const msg = JSON.parse(line) as {
        seq?: number;
        ready?: boolean;
        error?: string;
      } & ReplicaReply<unknown>;
      if (msg.seq === undefined) this.ready?.(msg as { ready: boolean; error?: string });
      else {
        this.pending.get(msg.seq)?.(msg);
        this.pending.delete(msg.seq);
      }
    });
  }

  static async start(setup: {
    url: string;
    keysDir: string;
    auditPath: string;
    revision: string;
  }): Promise<ApprovalReplica> {
    const child = spawn(process.execPath, ["--import", "tsx", WORKER], {
      stdio: ["pipe", "pipe", "inherit"],
    });
    const r = new ApprovalReplica(child);
    const ready = new Promise<{ ready: boolean; error?: string }>((resolve) => {
      r.ready = resolve;
    });
    child.stdin.write(`${JSON.stringify(setup)}\n`);
    const answer = await ready;
    if (!answer.ready) throw new Error(`replica did not start: ${answer.error}`);
    return r;
  }

  send<T>(command: Record<string, unknown>): Promise<ReplicaReply<T>> {
    const seq = ++this.seq;
    return new Promise((resolve) => {
      this.pending.set(seq, resolve as (reply: ReplicaReply<unknown>) => void);
      this.child.stdin.write(`${JSON.stringify({ ...command, seq })}\n`);
    });
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
