/**
 * A separate OS process acting as one replica of the approval service over PostgreSQL: set up by
 * its first stdin line, then one JSON command per line, one JSON answer line each (in order).
 * Started by `test/approvals/helpers.ts` (`ApprovalReplica`) with `node --import tsx`.
 */
import { createInterface } from "node:readline";
import { ApprovalError } from "../../../src/approvals/errors.js";
import { PostgresApprovalStore } from "../../../src/approvals/postgres-store.js";
import { sealerFromRing } from "../../../src/approvals/seal.js";
import { ApprovalService } from "../../../src/approvals/service.js";
import { AuditWriter } from "../../../src/audit/writer.js";
import { IdentityVerifier } from "../../../src/identity/verifier.js";
import { ed25519TokenKeys } from "../../../src/jwt/config.js";
import { KeyStore } from "../../../src/keys/keystore.js";
import { TicketIssuer } from "../../../src/tickets/issuer.js";

interface Setup {
  url: string;
  keysDir: string;
  auditPath: string;
  revision: string;
}

type Command =
  | { op: "listen" }
  | { op: "approve"; id: string; token: string; reason?: string }
  | { op: "wait"; id: string; timeout: number; requester?: string }
  | { op: "exit" };

let service: ApprovalService | null = null;
let store: PostgresApprovalStore | null = null;
let audit: AuditWriter | null = null;

const out = (value: unknown) => process.stdout.write(`${JSON.stringify(value)}\n`);

async function setup(s: Setup): Promise<void> {
  const keys = ed25519TokenKeys(new KeyStore(s.keysDir), {}, { refreshMs: 0 });
  audit = await AuditWriter.open({
    path: s.auditPath,
    checkpointsFile: null,
    chainId: `replica-${process.pid}`,
  });
  // A long safety poll: a waiter that wakes fast was woken by NOTIFY.
  store = new PostgresApprovalStore(s.url, { pollIntervalMs: 60_000 });
  service = new ApprovalService({
    store,
    identity: new IdentityVerifier(keys.identity, keys.settings),
    tickets: new TicketIssuer(keys.tickets, keys.settings),
    sealer: sealerFromRing(keys.tickets),
    audit,
    currentRevision: () => s.revision,
    trusted: false,
  });
}

async function run(cmd: Command): Promise<unknown> {
  const svc = service!;
  switch (cmd.op) {
    case "listen": {
      // Opens the LISTEN connection now (it stays open), so a later wait is subscribed at once.
      (await store!.watch("apr-000000000000")).close();
      return true;
    }
    case "approve": {
      const o = await svc.approve(cmd.id, cmd.token, cmd.reason ?? null);
      return { status: o.request.status, reason: o.reason, at: Date.now() };
    }
    case "wait": {
      const r = await svc.waitForApproval(cmd.id, { timeout: cmd.timeout, requester: cmd.requester ?? null });
      return { status: r.status, ticket: r.ticket, token: r.decision.ticket?.token ?? null, at: Date.now() };
    }
    case "exit":
      await svc.close(100);
      await audit?.close();
      process.exit(0);
  }
}

const lines = createInterface({ input: process.stdin });
let first = true;
let queue: Promise<unknown> = Promise.resolve();
lines.on("line", (line) => {
  const msg = JSON.parse(line) as Setup | Command;
  if (first) {
    first = false;
    queue = queue.then(() =>
      setup(msg as Setup).then(
        () => out({ ready: true }),
        (err: Error) => out({ ready: false, error: err.message }),
      ),
    );
    return;
  }
  // Commands run concurrently (a wait must not hold up the next command); answers carry an id.
  const cmd = msg as Command & { seq: number };
  void run(cmd).then(
    (value) => out({ seq: cmd.seq, ok: true, value }),
    (err: unknown) =>
      out({
        seq: cmd.seq,
        ok: false,
        error: err instanceof Error ? err.message : String(err),
        code: err instanceof ApprovalError ? err.code : null,
      }),
  );
});
lines.on("close", () => {
  void service
    ?.close(100)
    .then(() => audit?.close())
    .then(() => process.exit(0));
});
