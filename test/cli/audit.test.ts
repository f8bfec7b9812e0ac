/** `agent-safe audit ...` end to end: the built CLI as a real process, real files, real HTTP, moto. */
import { copyFileSync, existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AuditWriter, auditSettingsFromProject, checkpointsPath } from "../../src/audit/index.js";
import { findConfigFile, resolveProject } from "../../src/config/project.js";
import { readProjectFile } from "../../src/config/project-file.js";
import { auditKeys, decision, lines } from "../audit/helpers.js";
import { Recorder } from "../audit/http-recorder.js";
import { type Moto, motoEnv, startMoto } from "../audit/moto.js";
import { cli, cliAsync, ROOT, tempDir } from "../helpers/cli.js";

async function writeLog(
  path: string,
  n: number,
  opts: Partial<Parameters<typeof AuditWriter.open>[0]> = {},
): Promise<string[]> {
  const w = await AuditWriter.open({ path, fsync: "never", ...opts });
  const ids: string[] = [];
  for (let i = 0; i < n; i++) ids.push((await w.append(decision(i))).event_id);
  await w.close();
  return ids;
}

describe("audit verify", () => {
  it("VALID / INVALID / not found, with exit codes 0 / 1 / 1", async () => {
    const dir = tempDir();
    const log = join(dir, "audit.jsonl");
    await writeLog(log, 5);
    const ok = cli(["audit", "verify", log]);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain(`VALID — audit log chain is intact (${log})`);
    expect(ok.stdout).toContain("events: 5 (seq 1–5), segments: 1, chain: main");
    expect(ok.stdout).toContain("signatures: unsigned (no checkpoints)");

    writeFileSync(log, readFileSync(log, "utf8").replace('"n":2', '"n":20'));
    const bad = cli(["audit", "verify", log]);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toMatch(
      /^INVALID — 1 error\(s\) found:\n {2}- Line 3 \(seq 3\): hash mismatch — stored [0-9a-f]{16}\.\.\., computed [0-9a-f]{16}\.\.\.\n/,
    );
    const json = JSON.parse(cli(["audit", "verify", log, "--json"]).stdout);
    expect(json).toMatchObject({ ok: false, events: 5, issues: [{ line: 3, seq: 3, code: "hash" }] });

    const missing = cli(["audit", "verify", join(dir, "nope.jsonl")]);
    expect(missing.code).toBe(1);
    expect(missing.stdout.trim()).toBe(`Audit log not found: ${join(dir, "nope.jsonl")}`);
  });

  it("several replicas' logs: each chain verified on its own; a broken one is named", async () => {
    const dir = tempDir();
    const a = join(dir, "audit-a.jsonl");
    const b = join(dir, "audit-b.jsonl");
    await writeLog(a, 3, { chainId: "replica-a" });
    await writeLog(b, 4, { chainId: "replica-b" });
    const ok = cli(["audit", "verify", a, b]);
    expect(ok.code, ok.stdout).toBe(0);
    expect(ok.stdout).toContain(`VALID — audit log chain is intact (${a})`);
    expect(ok.stdout).toContain("events: 3 (seq 1–3), segments: 1, chain: replica-a");
    expect(ok.stdout).toContain("events: 4 (seq 1–4), segments: 1, chain: replica-b");
    expect(ok.stdout.trim().split("\n").at(-1)).toBe("2 chains, each intact.");
    const json = JSON.parse(cli(["audit", "verify", a, b, "--json"]).stdout);
    expect(json.ok).toBe(true);
    expect(json.chains.map((c: { chainId: string }) => c.chainId)).toEqual(["replica-a", "replica-b"]);

    writeFileSync(b, readFileSync(b, "utf8").replace('"n":2', '"n":20'));
    const bad = cli(["audit", "verify", a, b]);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toContain(`VALID — audit log chain is intact (${a})`);
    expect(bad.stdout).toMatch(/INVALID — 1 error\(s\) found:\n {2}- Line 3 \(seq 3\): hash mismatch/);
    expect(bad.stdout.trim().split("\n").at(-1)).toBe("1 of 2 chains INVALID.");
  });

  it("verifies 0.9.0 logs (the reference vectors), and accepts --audit-log", () => {
    const r = cli([
      "audit",
      "verify",
      "--audit-log",
      join(ROOT, "test", "fixtures", "audit", "v1-vectors.jsonl"),
    ]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("VALID — audit log chain is intact");
    expect(r.stdout).toContain("format: 0.9.0 (v1), 2 event(s)");
  });

  it("in a project: signed checkpoints, the side file by default, --public-key and --checkpoints", async () => {
    const dir = tempDir();
    expect(cli(["init", dir]).code).toBe(0);
    const file = findConfigFile(undefined, dir)!;
    const project = resolveProject(file, readProjectFile(file), {}, dir);
    const settings = auditSettingsFromProject(project);
    expect(settings.path).toBe(join(dir, "audit.jsonl"));
    expect(settings.signingKey).not.toBeNull();
    await writeLog(settings.path, 40, { ...settings, checkpointEveryEvents: 10 });
    const r = cli(["audit", "verify"], { cwd: dir });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/signatures: signed — 4 checkpoint\(s\) verified, newest at seq 44/);
    expect(r.stdout).toContain(`shipped checkpoints: 4 checked (${checkpointsPath(settings.path)})`);

    // Cut the tail; keep the shipped checkpoints elsewhere; verify with an exported public key.
    const shipped = join(dir, "offsite-checkpoints.jsonl");
    copyFileSync(checkpointsPath(settings.path), shipped);
    writeFileSync(settings.path, `${lines(settings.path).slice(0, 30).join("\n")}\n`);
    const pub = join(dir, ".agent-safe", "keys", "audit-checkpoint.pub.pem");
    const cut = cli(["audit", "verify", settings.path, "--checkpoints", shipped, "--public-key", pub], {
      cwd: dir,
    });
    expect(cut.code).toBe(1);
    expect(cut.stdout).toMatch(/- Seq 32: log truncated: a checkpoint signed at .* covers seq 32/);
    expect(cut.stdout).toMatch(/- Seq 43: log truncated/);
  });

  it("--repair cuts a torn line, records it, and the log verifies again; refused while a writer holds the lock", async () => {
    const dir = tempDir();
    const log = join(dir, "audit.jsonl");
    await writeLog(log, 3);
    writeFileSync(log, `${readFileSync(log, "utf8")}{"action":"restart-dep`);
    const torn = cli(["audit", "verify", log]);
    expect(torn.code).toBe(1);
    expect(torn.stdout).toContain("Line 4: torn last line (22 bytes without a newline");
    expect(torn.stdout).toContain("agent-safe audit verify --repair");

    const holder = await AuditWriter.open({ path: join(dir, "other.jsonl") });
    copyFileSync(log, join(dir, "other.jsonl.torn"));
    await holder.close();
    // A writer holding the lock: repair is refused with the holder's pid (exit 2).
    writeFileSync(join(dir, "held.jsonl"), readFileSync(log));
    const w2 = await AuditWriter.open({ path: join(dir, "held.jsonl"), repair: false }).catch(
      (e: Error) => e,
    );
    expect(w2).toBeInstanceOf(Error); // torn: a writer cannot open it either
    const lockHolder = await AuditWriter.open({ path: join(dir, "locked.jsonl") });
    writeFileSync(join(dir, "locked.jsonl"), readFileSync(log));
    const refused = await cliAsync(["audit", "verify", "--repair", join(dir, "locked.jsonl")]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain(
      `Audit log ${join(dir, "locked.jsonl")} is locked by pid ${process.pid}`,
    );
    await lockHolder.close();

    const fixed = cli(["audit", "verify", "--repair", log]);
    expect(fixed.code).toBe(0);
    expect(fixed.stdout).toContain(`REPAIRED — removed a torn line of 22 byte(s) at offset`);
    expect(fixed.stdout).toContain("VALID — audit log chain is intact");
    const events = lines(log).map((l) => JSON.parse(l));
    expect(events.at(-1)).toMatchObject({ event_type: "repair", seq: 4, context: { bytes: 22 } });
    expect(cli(["audit", "verify", "--repair", log]).stdout).toContain("Nothing to repair");
  });

  it("--workers splits a big log across threads and still names the right line", async () => {
    const dir = tempDir();
    const log = join(dir, "audit.jsonl");
    await writeLog(log, 6000, { rotateMaxBytes: 1_500_000 });
    const segs = ["audit.jsonl.000001", "audit.jsonl"].map((s) => join(dir, s));
    expect(existsSync(segs[0]!)).toBe(true);
    const ok = cli(["audit", "verify", log, "--workers", "2", "--json"]);
    expect(JSON.parse(ok.stdout)).toMatchObject({ ok: true, events: 6000, lastSeq: 6000 });
    const active = lines(log);
    active[500] = active[500]!.replace('"decision":"allow"', '"decision":"deny"');
    writeFileSync(log, `${active.join("\n")}\n`);
    const r = JSON.parse(cli(["audit", "verify", log, "--workers", "2", "--json"]).stdout);
    expect(r.ok).toBe(false);
    expect(r.issues).toEqual([expect.objectContaining({ segment: log, line: 501, code: "hash" })]);
    rmSync(dir, { recursive: true, force: true });
  });
});

describe("audit show, show-state, state-coverage", () => {
  let dir: string;
  let log: string;
  let first: string;
  beforeAll(async () => {
    dir = tempDir();
    log = join(dir, "audit.jsonl");
    const w = await AuditWriter.open({ path: log, signingKey: auditKeys(dir).key });
    const d = await w.append(decision(0, { timestamp: "2020-01-01T00:00:00Z" }));
    first = d.event_id;
    await w.append({
      event_type: "state_capture",
      action: "restart-deployment",
      target: "dev/test-app",
      caller: "agent-0",
      reason: `State capture for ${d.event_id}`,
      correlation_id: d.event_id,
      context: {
        type: "state_capture",
        original_audit_id: d.event_id,
        before_state: { replicas: 2 },
        after_state: { replicas: 3, image: "v2" },
        diff: {
          added: { image: "v2" },
          removed: {},
          changed: { replicas: { old: 2, new: 3 } },
          unchanged: [],
        },
        capture_duration_ms: 12.34,
      },
    });
    for (let i = 1; i < 6; i++)
      await w.append(
        decision(i, {
          action: i % 2 ? "scale-deployment" : "restart-deployment",
          decision: i === 5 ? "deny" : "allow",
        }),
      );
    await w.close();
  });

  it("shows the newest events oldest first, with filters; --last 0 shows none", () => {
    const r = cli(["audit", "show", log, "--last", "3"]);
    expect(r.code).toBe(0);
    const out = r.stdout.split("\n");
    expect(out[0]).toMatch(
      /^ {2}\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d {2}ALLOW {13}restart-deployment {8}target=dev\/test-app {2}caller=agent-4$/,
    );
    expect(out[1]).toMatch(/DENY {14}scale-deployment/);
    expect(out[2]).toMatch(/CHECKPOINT {8}audit-checkpoint {10}Checkpoint at seq 7$/);
    expect(r.stdout).toContain("\n3 event(s) shown.");
    expect(cli(["audit", "show", log, "--last", "0"]).stdout.trim()).toBe("0 event(s) shown.");
    const caps = cli(["audit", "show", log, "--event-type", "state_capture"]).stdout;
    expect(caps).toMatch(/STATE_CAPTURE {5}restart-deployment {8}target=dev\/test-app {2}audit_id=evt-/);
    expect(
      JSON.parse(cli(["audit", "show", "--log-file", log, "--event-type", "checkpoint", "--json"]).stdout),
    ).toHaveLength(1);
    const byCaller = JSON.parse(cli(["audit", "show", log, "--caller", "agent-3", "--json"]).stdout);
    expect(byCaller.map((e: { seq: number }) => e.seq)).toEqual([5]);
    const byAction = JSON.parse(
      cli(["audit", "show", log, "--action", "scale-deployment", "--all", "--json"]).stdout,
    );
    expect(byAction).toHaveLength(3);
    const recent = JSON.parse(
      cli(["audit", "show", log, "--since", "2021-01-01T00:00:00Z", "--all", "--json"]).stdout,
    );
    expect(recent.map((e: { seq: number }) => e.seq)).toEqual([2, 3, 4, 5, 6, 7, 8]);
    expect(JSON.parse(cli(["audit", "show", log, "--since", "10m", "--all", "--json"]).stdout)).toHaveLength(
      7,
    );
    expect(cli(["audit", "show", log, "--since", "last tuesday"]).code).toBe(2);
    expect(cli(["audit", "show", join(dir, "missing.jsonl")]).code).toBe(1);
  });

  it("show-state and state-coverage use the index", () => {
    const r = cli(["audit", "show-state", first, "--log", log]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`State Capture for ${first}`);
    expect(r.stdout).toContain("duration: 12.3ms");
    expect(r.stdout).toContain("    replicas: 2 -> 3");
    expect(r.stdout).toContain('    image: "v2"');
    expect(existsSync(`${log}.index`)).toBe(true);
    const none = cli(["audit", "show-state", "evt-000000000000", "--audit-log", log]);
    expect(none.code).toBe(1);
    expect(none.stderr).toContain("No state capture found for audit_id: evt-000000000000");
    const cov = JSON.parse(cli(["audit", "state-coverage", log, "--json"]).stdout);
    expect(cov).toEqual({
      total_decisions: 6,
      with_state_capture: 1,
      without_state_capture: 5,
      coverage_percent: 16.7,
    });
    expect(cli(["audit", "state-coverage", log]).stdout).toContain("State capture coverage: 1/6 (16.7%)");
  });
});

describe("audit ship", () => {
  let moto: Moto;
  beforeAll(async () => {
    moto = await startMoto();
  }, 60_000);
  afterAll(async () => {
    await moto?.stop();
  });

  it("filesystem: ships everything once; a re-run ships nothing new", async () => {
    const dir = tempDir();
    const log = join(dir, "audit.jsonl");
    await writeLog(log, 12);
    const copy = join(dir, "copy.jsonl");
    const r = cli(["audit", "ship", log, "--backend", "filesystem", "--path", copy]);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe("Shipped 12 event(s) via filesystem (seq 1–12).");
    expect(cli(["audit", "ship", log, "--backend", "filesystem", "--path", copy]).stdout.trim()).toBe(
      "No new events to ship (cursor at seq 12).",
    );
    await writeLog(log, 3);
    expect(cli(["audit", "ship", log, "--backend", "filesystem", "--path", copy]).stdout).toContain(
      "Shipped 3 event(s) via filesystem (seq 13–15).",
    );
    expect(readFileSync(copy, "utf8")).toBe(readFileSync(log, "utf8"));
    const usage = cli(["audit", "ship", log, "--backend", "webhook"]);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain("--url is required for the webhook backend");
  });

  it("webhook: an interrupted run (endpoint failing) is re-run without duplicates", async () => {
    const dir = tempDir();
    const log = join(dir, "audit.jsonl");
    const ids = await writeLog(log, 20);
    const recorder = await new Recorder().start();
    recorder.failWhen = (n) => (n >= 8 ? 503 : null);
    const args = [
      "audit",
      "ship",
      log,
      "--backend",
      "webhook",
      "--url",
      recorder.url,
      "--header",
      "X-A=1",
      "--header",
      "X-B=two=2",
      "--attempts",
      "2",
    ];
    const first = await cliAsync(args);
    expect(first.code).toBe(1);
    expect(first.stderr).toContain(`Error shipping ${ids[8]}: HTTP 503`);
    expect(first.stdout).toContain("Shipped 8 event(s), 1 error(s) via webhook (seq 1–8).");
    recorder.failWhen = null;
    const second = await cliAsync(args);
    expect(second.code).toBe(0);
    expect(second.stdout).toContain("Shipped 12 event(s) via webhook (seq 9–20).");
    expect(recorder.received.map((r) => r.eventId)).toEqual(ids);
    expect(recorder.received[0]!.headers["x-b"]).toBe("two=2");
    await recorder.stop();
  });

  it("s3 against moto: keys per event, and a re-run ships nothing twice", async () => {
    const dir = tempDir();
    const log = join(dir, "audit.jsonl");
    await writeLog(log, 6);
    const env = { ...motoEnv() };
    const create = await fetch(`${moto.endpoint}/cli-bucket`, { method: "PUT" });
    expect(create.status).toBe(200);
    const args = [
      "audit",
      "ship",
      log,
      "--backend",
      "s3",
      "--bucket",
      "cli-bucket",
      "--prefix",
      "a/",
      "--endpoint",
      moto.endpoint,
      "--force-path-style",
      "--region",
      "us-east-1",
    ];
    const first = await cliAsync(args, { env });
    expect(first.code).toBe(0);
    expect(first.stdout).toContain("Shipped 6 event(s) via s3 (seq 1–6).");
    const again = await cliAsync(args, { env });
    expect(again.stdout).toContain("No new events to ship (cursor at seq 6).");
    const list = await (await fetch(`${moto.endpoint}/cli-bucket?list-type=2&prefix=a/`)).text();
    expect(list.match(/<Key>/g)).toHaveLength(6);
    expect(list).toMatch(/<Key>a\/\d{4}-\d\d-\d\d\/000000000001-evt-[0-9a-f]{12}\.json<\/Key>/);
  });
});

describe("redaction through the CLI", () => {
  it("a sensitive param never appears in the log or in any command's output", async () => {
    const dir = tempDir();
    expect(cli(["init", dir]).code).toBe(0);
    const file = findConfigFile(undefined, dir)!;
    const project = resolveProject(file, readProjectFile(file), {}, dir);
    const secret = "cli-SECRET-payload-91ab";
    const w = await AuditWriter.open(auditSettingsFromProject(project));
    await w.append(
      decision(0, {
        action: "lambda-invoke-function",
        params: { function_name: "f", region: "us-east-1", payload: secret },
        sensitiveParams: ["payload"],
      }),
    );
    await w.close();
    const outputs = [
      cli(["audit", "show", "--json"], { cwd: dir }),
      cli(["audit", "show"], { cwd: dir }),
      cli(["audit", "verify", "--json"], { cwd: dir }),
      cli(["audit", "ship", "--backend", "filesystem", "--path", join(dir, "copy.jsonl")], { cwd: dir }),
    ];
    for (const o of outputs) expect(`${o.stdout}${o.stderr}`).not.toContain(secret);
    expect(readFileSync(join(dir, "audit.jsonl"), "utf8")).not.toContain(secret);
    expect(readFileSync(join(dir, "copy.jsonl"), "utf8")).not.toContain(secret);
    expect(outputs[0]!.stdout).toMatch(/"payload": "hmac-sha256:[0-9a-f]{64}"/);
  });
});

describe("check --batch --audit", () => {
  it("records every decision in the log (and nothing without --audit); files no approval requests", () => {
    const dir = join(tempDir(), "p");
    expect(cli(["init", dir]).code).toBe(0);
    const requests = [
      {
        action: "restart-deployment",
        target: "dev/test-app",
        params: { namespace: "dev", deployment: "test-app" },
      },
      {
        action: "restart-deployment",
        target: "prod/web-frontend",
        params: { namespace: "prod", deployment: "web-frontend" },
      },
      { action: "no-such-action", target: "dev/test-app" },
    ];
    const input = `${requests.map((r) => JSON.stringify(r)).join("\n")}\n`;
    const log = join(dir, "audit.jsonl");

    const plain = cli(["check", "--batch", "-"], { cwd: dir, input });
    expect(plain.code, plain.stderr).toBe(0);
    expect(existsSync(log)).toBe(false);

    const audited = cli(["check", "--batch", "-", "--audit"], { cwd: dir, input });
    expect(audited.code, audited.stderr).toBe(0);
    const decisions = audited.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { result: string });
    expect(decisions.map((d) => d.result)).toEqual(["allow", "require_approval", "deny"]);
    const all = lines(log).map(
      (l) => JSON.parse(l) as { event_type: string; decision: string; action: string },
    );
    const events = all.filter((e) => e.event_type === "decision");
    expect(events.map((e) => [e.action, e.decision])).toEqual(
      requests.map((r, i) => [r.action, decisions[i]!.result]),
    );
    expect(cli(["audit", "verify"], { cwd: dir }).code).toBe(0);
    // A what-if tool: no approval request was filed for the REQUIRE_APPROVAL.
    expect(all.some((e) => e.event_type === "approval")).toBe(false);
    expect(existsSync(join(dir, ".agent-safe", "approvals.db"))).toBe(false);
  });
});
