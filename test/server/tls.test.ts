/**
 * TLS (`serve --tls-cert/--tls-key`, or `server.tls_cert/tls_key`): a real `agent-safe serve`
 * process with a self-signed certificate made by openssl. Clients that trust it (node:https, the
 * remote SDK with NODE_EXTRA_CA_CERTS, the Python client with `cafile`) get decisions; clients
 * that do not, or that speak plain HTTP to it, get no answer and the server keeps serving; with
 * TLS a non-loopback host is allowed.
 */
import { spawn, spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { request } from "node:https";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { http, issueToken, makeProject, ROOT, type ServeProcess, serveProcess, tempDir } from "./helpers.js";

const staging = { target: "staging/api-server", params: { namespace: "staging", deployment: "api-server" } };

let certDir: string;
let cert: string;
let key: string;
let dir: string;
let server: ServeProcess;
let base: string;
let token: string;

/** A self-signed certificate for 127.0.0.1 and localhost. */
function selfSigned(): { cert: string; key: string } {
  certDir = tempDir("agent-safe-tls-");
  const c = join(certDir, "tls.crt");
  const k = join(certDir, "tls.key");
  const r = spawnSync(
    "openssl",
    [
      "req",
      "-x509",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:prime256v1",
      "-nodes",
      "-keyout",
      k,
      "-out",
      c,
      "-days",
      "1",
      "-subj",
      "/CN=agent-safe-sidecar",
      "-addext",
      "subjectAltName=IP:127.0.0.1,DNS:localhost",
    ],
    { encoding: "utf8" },
  );
  if (r.status !== 0) throw new Error(`openssl failed: ${r.stderr}`);
  return { cert: c, key: k };
}

/** One HTTPS request with node:https; `ca` null: the system's trust store only. */
function httpsRequest(
  url: string,
  o: { method?: string; body?: unknown; token?: string; ca: string | null },
): Promise<{ status: number; json: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const payload = o.body === undefined ? undefined : JSON.stringify(o.body);
    const req = request(
      url,
      {
        method: o.method ?? (payload === undefined ? "GET" : "POST"),
        ...(o.ca === null ? {} : { ca: readFileSync(o.ca) }),
        headers: {
          ...(payload === undefined ? {} : { "content-type": "application/json" }),
          ...(o.token === undefined ? {} : { authorization: `Bearer ${o.token}` }),
        },
      },
      (res) => {
        let text = "";
        res.on("data", (d: Buffer) => {
          text += d.toString("utf8");
        });
        res.on("end", () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(text) }));
      },
    );
    req.on("error", reject);
    req.end(payload);
  });
}

function run(cmd: string, args: string[], env: Record<string, string>) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    const child = spawn(cmd, args, { env: { ...process.env, ...env } });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on("data", (d: Buffer) => {
      stderr += d.toString();
    });
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

beforeAll(async () => {
  ({ cert, key } = selfSigned());
  dir = makeProject();
  token = await issueToken(dir, { agentId: "deploy-bot", roles: ["deployer"] });
  // TLS makes a non-loopback bind acceptable (without it, serve refuses: see lifecycle.test.ts).
  server = await serveProcess(dir, ["--host", "0.0.0.0", "--tls-cert", cert, "--tls-key", key]);
  base = server.url.replace("0.0.0.0", "127.0.0.1");
});

afterAll(async () => {
  expect(await server?.stop()).toBe(0);
});

describe("TLS", () => {
  it("serves HTTPS on the non-loopback bind, to a client that trusts the certificate", async () => {
    expect(server.url).toMatch(/^https:\/\/0\.0\.0\.0:\d+$/);
    const health = await httpsRequest(`${base}/healthz`, { ca: cert });
    expect([health.status, health.json]).toEqual([200, { status: "ok" }]);
    const d = await httpsRequest(`${base}/v1/check`, {
      body: { action: "restart-deployment", ...staging },
      token,
      ca: cert,
    });
    expect([d.status, d.json.result, d.json.caller]).toEqual([200, "allow", "deploy-bot"]);
  });

  it("a client that does not trust it, or speaks plain HTTP, gets no answer; the server keeps serving", async () => {
    await expect(httpsRequest(`${base}/healthz`, { ca: null })).rejects.toThrow(/self[- ]signed/i);
    await expect(http(base.replace("https:", "http:"), "/healthz")).rejects.toThrow();
    const again = await httpsRequest(`${base}/healthz`, { ca: cert });
    expect(again.status).toBe(200);
  });

  it("the remote SDK (NODE_EXTRA_CA_CERTS) and the Python client (cafile) work over it", async () => {
    const sdk = await run(
      process.execPath,
      [
        "--input-type=module",
        "-e",
        [
          `import { AgentSafe } from ${JSON.stringify(join(ROOT, "dist", "index.js"))};`,
          "const safe = new AgentSafe({ url: process.env.URL, token: process.env.TOKEN });",
          `const d = await safe.check("restart-deployment", ${JSON.stringify(staging)});`,
          "const r = await safe.redeemTicket(d.ticket.token);",
          "console.log(d.result, r.valid);",
        ].join("\n"),
      ],
      { URL: base, TOKEN: token, NODE_EXTRA_CA_CERTS: cert },
    );
    expect([sdk.stderr, sdk.stdout]).toEqual(["", "allow true\n"]);

    const py = await run(
      "python3",
      [
        "-c",
        [
          "import sys",
          `sys.path.insert(0, ${JSON.stringify(join(ROOT, "examples", "python"))})`,
          "from agent_safe_client import AgentSafeClient, AgentSafeConnectionError",
          "c = AgentSafeClient(sys.argv[1], token=sys.argv[2], cafile=sys.argv[3])",
          `print(c.check("restart-deployment", target="staging/api-server", params=${JSON.stringify(staging.params)})["result"])`,
          "try:",
          "    AgentSafeClient(sys.argv[1], token=sys.argv[2]).check('restart-deployment')",
          "except AgentSafeConnectionError as e:",
          "    print('untrusted: refused')",
        ].join("\n"),
        base,
        token,
        cert,
      ],
      { PYTHONDONTWRITEBYTECODE: "1" },
    );
    expect([py.stderr, py.stdout]).toEqual(["", "allow\nuntrusted: refused\n"]);
  });

  it("server.tls_cert / server.tls_key in agent-safe.yaml serve HTTPS without flags", async () => {
    const project = makeProject({
      extra: `server:\n  tls_cert: ${JSON.stringify(cert)}\n  tls_key: ${JSON.stringify(key)}\n`,
    });
    const other = await serveProcess(project);
    try {
      expect(other.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
      expect((await httpsRequest(`${other.url}/readyz`, { ca: cert })).json.status).toBe("ready");
    } finally {
      expect(await other.stop()).toBe(0);
    }
  });
});
