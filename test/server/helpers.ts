/**
 * Sidecars for the server tests: temporary projects (shipped catalogue or the compat fixture,
 * real Ed25519 keys), sidecars in this process listening on a loopback port, or real
 * `agent-safe serve` processes, and a small HTTP client over the global fetch.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { chmodSync, cpSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { openProject } from "../../src/config/open-project.js";
import { KEY_PURPOSES, KeyStore } from "../../src/keys/keystore.js";
import { type Sidecar, type SidecarOptions, startSidecar } from "../../src/server/index.js";
import { BIN, COMPAT, ROOT, tempDir } from "../helpers/cli.js";

export { COMPAT, ROOT, tempDir };

export interface ProjectOptions {
  /** The compat fixture's actions, policies and inventory instead of the shipped ones. */
  fixture?: boolean;
  /** More agent-safe.yaml (top-level keys). */
  extra?: string;
  /** Omit the keys: section. */
  noKeys?: boolean;
  profile?: "strict" | "reference";
  state?: string;
}

/** A project directory with keys (all three purposes), a redaction key and agent-safe.yaml. */
export function makeProject(o: ProjectOptions = {}): string {
  const dir = tempDir("agent-safe-server-");
  const source = o.fixture ? join(COMPAT, "fixture") : ROOT;
  for (const part of ["actions", "policies"])
    cpSync(join(source, part), join(dir, part), { recursive: true });
  cpSync(join(source, "inventory.yaml"), join(dir, "inventory.yaml"));
  const keysDir = join(dir, ".agent-safe", "keys");
  mkdirSync(keysDir, { recursive: true, mode: 0o700 });
  const store = new KeyStore(keysDir);
  for (const p of KEY_PURPOSES) store.generate(p);
  writeFileSync(join(keysDir, "redaction.key"), "0123456789abcdef0123456789abcdef\n", { mode: 0o600 });
  const lines = [
    `profile: ${o.profile ?? "strict"}`,
    `state: ${o.state ?? "memory"}`,
    ...(o.noKeys ? [] : ["keys:", "  dir: .agent-safe/keys"]),
    "world_cache: false",
    o.extra ?? "",
  ];
  writeFileSync(join(dir, "agent-safe.yaml"), `${lines.join("\n")}\n`);
  return dir;
}

/** A sidecar in this process, on a free loopback port, logging nothing. */
export async function startInProcess(dir: string, options: SidecarOptions = {}): Promise<Sidecar> {
  const opened = await openProject({ cwd: dir, cache: false });
  return startSidecar({ opened, port: 0, logger: false, ...options });
}

export interface HttpResult {
  status: number;
  headers: Headers;
  text: string;
  // biome-ignore lint/suspicious/noExplicitAny: test convenience
  json: any;
}

export async function http(
  base: string,
  path: string,
  o: {
    method?: string;
    body?: unknown;
    raw?: string;
    token?: string | null;
    headers?: Record<string, string>;
  } = {},
): Promise<HttpResult> {
  const headers: Record<string, string> = { ...(o.headers ?? {}) };
  let body: string | undefined;
  if (o.raw !== undefined) body = o.raw;
  else if (o.body !== undefined) body = JSON.stringify(o.body);
  if (body !== undefined && headers["content-type"] === undefined)
    headers["content-type"] = "application/json";
  if (o.token !== undefined && o.token !== null) headers.authorization = `Bearer ${o.token}`;
  const r = await fetch(`${base}${path}`, {
    method: o.method ?? (body === undefined ? "GET" : "POST"),
    headers,
    body,
  });
  const text = await r.text();
  let json: unknown = null;
  try {
    json = JSON.parse(text);
  } catch {
    json = null;
  }
  return { status: r.status, headers: r.headers, text, json };
}

/** An identity token signed with the project's identity key. */
export async function issueToken(
  dir: string,
  input: { agentId: string; roles?: string[]; groups?: string[]; ttlSeconds?: number },
): Promise<string> {
  const { identityServices, projectTokenKeys } = await import("../../src/identity/index.js");
  const { project } = await openProject({ cwd: dir, cache: false });
  const keys = projectTokenKeys(project, { refreshMs: 0 });
  if (keys === null) throw new Error("no keys");
  return identityServices(keys).issuer.issue(input).token;
}

export interface ServeProcess {
  child: ChildProcess;
  url: string;
  /** Every log line so far (JSON objects). */
  logs: Record<string, unknown>[];
  stderr: () => string;
  exited: Promise<number | null>;
  /** Waits for a log line matching `msg`. */
  waitForLog(msg: string, timeoutMs?: number): Promise<Record<string, unknown>>;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** `agent-safe serve --port 0 ...` as a real process (the built CLI); resolves once it listens. */
export function serveProcess(
  dir: string,
  args: string[] = [],
  env: Record<string, string> = {},
): Promise<ServeProcess> {
  const child = spawn(process.execPath, [BIN, "serve", "--port", "0", ...args], {
    cwd: dir,
    env: { ...process.env, NO_COLOR: "1", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const logs: Record<string, unknown>[] = [];
  let err = "";
  let buffered = "";
  const waiters: { msg: string; resolve: (l: Record<string, unknown>) => void }[] = [];
  child.stdout!.on("data", (d: Buffer) => {
    buffered += d.toString("utf8");
    let nl = buffered.indexOf("\n");
    while (nl !== -1) {
      const line = buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
      nl = buffered.indexOf("\n");
      try {
        const entry = JSON.parse(line) as Record<string, unknown>;
        logs.push(entry);
        for (const w of waiters.filter((x) => x.msg === entry.msg)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(entry);
        }
      } catch {
        // not a log line
      }
    }
  });
  child.stderr!.on("data", (d: Buffer) => {
    err += d.toString("utf8");
  });
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  const waitForLog = (msg: string, timeoutMs = 15_000) =>
    new Promise<Record<string, unknown>>((resolve, reject) => {
      const found = logs.find((l) => l.msg === msg);
      if (found !== undefined) {
        resolve(found);
        return;
      }
      const timer = setTimeout(
        () => reject(new Error(`no '${msg}' log within ${timeoutMs} ms; stderr: ${err}`)),
        timeoutMs,
      );
      waiters.push({
        msg,
        resolve: (l) => {
          clearTimeout(timer);
          resolve(l);
        },
      });
      void exited.then((code) => {
        clearTimeout(timer);
        reject(new Error(`serve exited with ${code} before '${msg}'; stderr: ${err}`));
      });
    });
  return waitForLog("listening").then((line) => ({
    child,
    url: line.url as string,
    logs,
    stderr: () => err,
    exited,
    waitForLog,
    stop: async (signal: NodeJS.Signals = "SIGTERM") => {
      if (child.exitCode === null) child.kill(signal);
      return exited;
    },
  }));
}

/** Writes `text` to a new file with mode 0600. */
export function secretFile(dir: string, name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text, { mode: 0o600 });
  chmodSync(path, 0o600);
  return path;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
