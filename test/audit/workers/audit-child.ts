/**
 * A process that writes an audit log, driven by the tests through argv (JSON) and read through
 * stdout lines. Modes:
 * - `flood`: appends decisions at full speed with `concurrency` callers, printing `ack <event_id>`
 *   for each append that resolved (so the test knows exactly what was acknowledged).
 * - `hold`: opens the log, appends `count` events, holds the lock `holdMs`, closes.
 * - `fill`: appends until an append rejects (disk full), then reports what happened as JSON.
 */
import { AuditWriter } from "../../../src/audit/writer.js";
import { KeyStore } from "../../../src/keys/keystore.js";

interface Config {
  mode: "flood" | "hold" | "fill";
  path: string;
  keysDir?: string;
  fsync?: "always" | "batch" | "never";
  concurrency?: number;
  count?: number;
  holdMs?: number;
  startAt?: number;
}

const config = JSON.parse(process.argv[2] ?? "{}") as Config;
const say = (line: string) => process.stdout.write(`${line}\n`);

function event(i: number) {
  return {
    action: "scale-deployment",
    target: "staging/api-server",
    caller: `child-${process.pid}`,
    params: { namespace: "staging", deployment: "api-server", replicas: (i % 9) + 1 },
    decision: "allow" as const,
    reason: "Staging scaling is allowed",
    policy_matched: "allow-staging-scale",
    risk_class: "medium" as const,
    effective_risk: "medium" as const,
  };
}

async function main(): Promise<void> {
  if (config.startAt !== undefined)
    await new Promise((r) => setTimeout(r, Math.max(0, config.startAt! - Date.now())));
  const signingKey = config.keysDir ? new KeyStore(config.keysDir).signingKey("audit-checkpoint") : null;
  let writer: AuditWriter;
  try {
    writer = await AuditWriter.open({
      path: config.path,
      fsync: config.fsync ?? "batch",
      signingKey,
      checkpointEveryEvents: 200,
    });
  } catch (err) {
    const e = err as { code?: string; message?: string };
    say(`error ${e.code ?? "?"} ${e.message ?? String(err)}`);
    process.exitCode = 3;
    return;
  }
  say(`opened ${process.pid} ${writer.lastSeq}`);
  if (config.mode === "flood") {
    let i = 0;
    const caller = async () => {
      for (;;) {
        const r = await writer.append(event(i++));
        say(`ack ${r.event_id} ${r.seq}`);
      }
    };
    await Promise.all(Array.from({ length: config.concurrency ?? 16 }, caller));
  } else if (config.mode === "hold") {
    for (let i = 0; i < (config.count ?? 100); i++) await writer.append(event(i));
    say("appended");
    await new Promise((r) => setTimeout(r, config.holdMs ?? 0));
    await writer.close();
    say("closed");
  } else {
    process.on("SIGXFSZ", () => {}); // writes past RLIMIT_FSIZE then fail with EFBIG instead of killing us
    const acked: number[] = [];
    const errors: { code?: string; errno?: string; message?: string }[] = [];
    // Batches of 8 until three batches failed: after a failure the writer must keep working.
    for (let i = 0; i < 100_000 && errors.length < 3; i++) {
      await Promise.all(
        Array.from({ length: 8 }, (_, k) =>
          writer.append(event(i * 8 + k)).then(
            (r) => acked.push(r.seq),
            (err) => errors.push(err as { code?: string }),
          ),
        ),
      );
    }
    say(
      JSON.stringify({
        acked: acked.length,
        lastAcked: Math.max(0, ...acked),
        errors: errors.map((e) => ({ code: e.code, errno: e.errno, message: e.message })),
        lastSeq: writer.lastSeq,
        durableSeq: writer.durableSeq,
      }),
    );
    await writer.close().catch((err: Error) => say(`close ${err.message}`));
  }
}

main().catch((err) => {
  say(`fatal ${(err as Error).stack ?? err}`);
  process.exitCode = 4;
});
