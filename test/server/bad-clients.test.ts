/**
 * Bad clients (THREATS.md T20, T11): malformed JSON, a 10 MB body, wrong types, a missing or
 * forged token, a token for one caller with a body naming another, 1,000 idle connections,
 * clients that stall or disconnect mid-request. Each gets a clean 4xx or a closed connection;
 * the sidecar stays up and keeps answering others promptly; and nothing is ALLOWed that should
 * not be (checked in the responses and in the audit log).
 */
import { connect, type Socket } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Sidecar } from "../../src/server/index.js";
import { cli } from "../helpers/cli.js";
import { readEvents } from "./audit-read.js";
import { http, issueToken, makeProject, sleep, startInProcess } from "./helpers.js";

const staging = { target: "staging/api-server", params: { namespace: "staging", deployment: "api-server" } };

let dir: string;
let sidecar: Sidecar;
let deployer: string;
let reader: string;

beforeAll(async () => {
  dir = makeProject({ extra: "audit:\n  path: ./audit.jsonl\n" });
  sidecar = await startInProcess(dir, {
    requestTimeout: 1500,
    headersTimeout: 1000,
    connectionTimeout: 3000,
  });
  deployer = await issueToken(dir, { agentId: "deploy-bot", roles: ["deployer"] });
  reader = await issueToken(dir, { agentId: "reader-7", roles: ["reader"] });
});

afterAll(async () => {
  await sidecar?.close();
});

/** A well-behaved request still gets its answer, quickly. */
async function stillServing(): Promise<number> {
  const started = performance.now();
  const r = await http(sidecar.url, "/v1/check", {
    body: { action: "restart-deployment", ...staging },
    token: deployer,
  });
  expect([r.status, r.json.result]).toEqual([200, "allow"]);
  return performance.now() - started;
}

function rawSocket(): Promise<Socket> {
  const u = new URL(sidecar.url);
  return new Promise((resolve, reject) => {
    const s = connect(Number(u.port), u.hostname);
    s.once("connect", () => resolve(s));
    s.once("error", reject);
  });
}

/** Everything the socket receives until the server closes it (or `ms` pass). */
function readUntilClose(s: Socket, ms: number): Promise<{ data: string; closed: boolean }> {
  return new Promise((resolve) => {
    let data = "";
    s.on("data", (d: Buffer) => {
      data += d.toString("latin1");
    });
    s.on("error", () => undefined);
    const timer = setTimeout(() => resolve({ data, closed: false }), ms);
    s.on("close", () => {
      clearTimeout(timer);
      resolve({ data, closed: true });
    });
  });
}

describe("bad clients", () => {
  it("malformed JSON and wrong types: 400 with {error, message}", async () => {
    for (const raw of ["{", "nul", '{"action": "x",}', "\u0000", '{"action": NaN'] as const) {
      const r = await http(sidecar.url, "/v1/check", { raw, token: deployer });
      expect([r.status, r.json?.error], raw).toEqual([400, "invalid_json"]);
      expect(typeof r.json.message).toBe("string");
    }
    for (const body of [
      { action: ["restart-deployment"] },
      { action: "x", params: "namespace=prod" },
      { action: "x", ticket_id: 1 },
    ]) {
      const r = await http(sidecar.url, "/v1/check", { body, token: deployer });
      expect([r.status, r.json.error]).toEqual([400, "invalid_request"]);
    }
    await stillServing();
  });

  it("a 10 MB body: 413 and the connection closed, without reading it", async () => {
    const s = await rawSocket();
    const size = 10 * 1024 * 1024;
    s.write(
      `POST /v1/check HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: ${size}\r\n` +
        `authorization: Bearer ${deployer}\r\n\r\n`,
    );
    const chunk = Buffer.alloc(64 * 1024, 0x20);
    let written = 0;
    const writer = (async () => {
      while (written < size && !s.destroyed) {
        if (!s.write(chunk)) await new Promise((r) => s.once("drain", r).once("close", r));
        written += chunk.length;
      }
    })();
    const { data, closed } = await readUntilClose(s, 10_000);
    await writer.catch(() => undefined);
    expect(data).toMatch(/^HTTP\/1\.1 413 /);
    expect(data).toContain('"error":"payload_too_large"');
    expect(closed).toBe(true);
    // Also when the size is only discovered while reading (chunked, no Content-Length).
    const c = await rawSocket();
    c.write(
      "POST /v1/check HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n",
    );
    for (let i = 0; i < 40 && !c.destroyed; i++)
      c.write(`${(chunk.length).toString(16)}\r\n${chunk.toString("latin1")}\r\n`);
    const chunked = await readUntilClose(c, 10_000);
    expect(chunked.data).toMatch(/^HTTP\/1\.1 413 /);
    await stillServing();
  });

  it("a missing or forged token is an unauthenticated DENY; other routes answer 401", async () => {
    const forged = [
      null,
      "",
      `${deployer.slice(0, -2)}xx`,
      deployer.replace(/^[^.]+/, Buffer.from('{"alg":"none","typ":"JWT"}').toString("base64url")),
      `${deployer.split(".").slice(0, 2).join(".")}.`,
      "deploy-bot",
    ];
    for (const token of forged) {
      const r = await http(sidecar.url, "/v1/check", {
        body: { action: "restart-deployment", ...staging },
        token,
      });
      expect([r.status, r.json.result, r.json.code, r.json.ticket], String(token)).toEqual([
        200,
        "deny",
        "unauthenticated",
        null,
      ]);
      const t = await http(sidecar.url, "/v1/tickets/verify", { body: { token: "x" }, token });
      expect(t.status).toBe(401);
    }
  });

  it("a token for one caller cannot act as another: the body may not name one (400), and the bearer decides", async () => {
    const named = await http(sidecar.url, "/v1/check", {
      body: {
        action: "restart-deployment",
        ...staging,
        caller: { agent_id: "deploy-bot", roles: ["deployer"] },
      },
      token: reader,
    });
    expect([named.status, named.json.error]).toEqual([400, "invalid_request"]);
    const asReader = await http(sidecar.url, "/v1/check", {
      body: { action: "restart-deployment", ...staging },
      token: reader,
    });
    expect([asReader.json.caller, asReader.json.result]).toEqual(["reader-7", "deny"]);
  });

  it("1,000 idle connections do not stall others, and are reaped by the timeouts", async () => {
    const idle: Socket[] = [];
    for (let i = 0; i < 1000; i++) {
      const s = await rawSocket();
      s.on("error", () => undefined);
      s.resume(); // read whatever comes (a 408), so the server's FIN is seen
      // Half say nothing at all; half start a request and stop.
      if (i % 2 === 1) s.write("POST /v1/check HTTP/1.1\r\nhost: x\r\n");
      idle.push(s);
    }
    const latencies: number[] = [];
    for (let i = 0; i < 20; i++) latencies.push(await stillServing());
    expect(Math.max(...latencies)).toBeLessThan(1000);
    // headersTimeout (1 s here) closes them.
    const deadline = Date.now() + 8000;
    while (idle.some((s) => !s.destroyed) && Date.now() < deadline) await sleep(200);
    expect(idle.filter((s) => !s.destroyed).length).toBe(0);
    await stillServing();
  });

  it("a client that stops mid-body gets 408 and is closed; one that disconnects is forgotten", async () => {
    const stalled = await rawSocket();
    stalled.write(
      "POST /v1/check HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 100\r\n" +
        `authorization: Bearer ${deployer}\r\n\r\n{"action": "restart-`,
    );
    const waiting = readUntilClose(stalled, 8000);
    await stillServing(); // while it stalls
    const { data, closed } = await waiting;
    expect(closed).toBe(true);
    if (data !== "") expect(data).toMatch(/^HTTP\/1\.1 408 /);

    for (let i = 0; i < 50; i++) {
      const gone = await rawSocket();
      gone.write(
        "POST /v1/check HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 500\r\n\r\n" +
          '{"action": "restart-deployment", "target": "staging/api-server", "params": {"namespace": "st',
      );
      gone.destroy();
    }
    await stillServing();
  });

  it("clients that send a whole request and hang up before the answer: each decision is recorded whole or not at all", async () => {
    const sent: string[] = [];
    await Promise.all(
      Array.from({ length: 50 }, async (_, i) => {
        const s = await rawSocket();
        s.on("error", () => undefined);
        const id = `hangup-${i}`;
        const body = JSON.stringify({ action: "restart-deployment", ...staging, correlation_id: id });
        s.write(
          "POST /v1/check HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n" +
            `authorization: Bearer ${deployer}\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
        );
        sent.push(id);
        // Half hang up at once, half after the server has started on it.
        if (i % 2 === 0) s.destroy();
        else setTimeout(() => s.destroy(), 1);
      }),
    );
    await stillServing();
    await sleep(200);
    const events = readEvents(join(dir, "audit.jsonl")).filter((e) =>
      sent.includes(String(e.correlation_id)),
    );
    expect(events.length).toBeLessThanOrEqual(50);
    for (const e of events)
      expect([e.event_type, e.caller, e.decision]).toEqual(["decision", "deploy-bot", "allow"]);
    console.log(
      `hang-ups: ${events.length} of 50 requests were decided (and recorded) before the client left`,
    );
  });

  it("nothing unauthenticated was ever ALLOWed (responses above, and the audit log)", async () => {
    const events = readEvents(join(dir, "audit.jsonl")).filter((e) => e.event_type === "decision");
    expect(events.length).toBeGreaterThan(20);
    for (const e of events) {
      if (e.decision === "allow") expect(e.caller).toBe("deploy-bot");
      if (e.caller === "anonymous") expect(e.decision).toBe("deny");
    }
    const ready = await http(sidecar.url, "/readyz");
    expect(ready.status).toBe(200);
    // The log stayed whole through all of it.
    const verify = cli(["audit", "verify", "audit.jsonl"], { cwd: dir });
    expect(verify.code, verify.stdout + verify.stderr).toBe(0);
  });
});
