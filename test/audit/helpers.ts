/** Shared by the audit tests: temp dirs, keys, events, and child processes that write logs. */
import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { build } from "esbuild";
import { afterAll } from "vitest";
import type { AuditInput } from "../../src/audit/index.js";
import { KeyStore, type SigningKey } from "../../src/keys/keystore.js";
import { ROOT } from "../helpers/cli.js";

const made: string[] = [];

/** A fresh temp directory, removed after the test file. */
export function tmp(prefix = "agent-safe-audit-"): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  made.push(dir);
  return dir;
}

afterAll(() => {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
});

export function auditKeys(dir: string): {
  store: KeyStore;
  key: SigningKey;
  publicKeys: Map<string, import("node:crypto").KeyObject>;
} {
  const store = new KeyStore(join(dir, "keys"));
  store.generate("audit-checkpoint");
  const key = store.signingKey("audit-checkpoint");
  return { store, key, publicKeys: new Map([[key.kid, key.publicKey]]) };
}

export function decision(i = 0, extra: Partial<AuditInput> = {}): AuditInput {
  return {
    action: "restart-deployment",
    target: "dev/test-app",
    caller: `agent-${i % 7}`,
    params: { namespace: "dev", deployment: "test-app", n: i },
    decision: "allow",
    reason: "Development environment is unrestricted",
    policy_matched: "allow-dev-all",
    risk_class: "medium",
    effective_risk: "low",
    ...extra,
  };
}

export function lines(path: string): string[] {
  return readFileSync(path, "utf8")
    .split("\n")
    .filter((l) => l !== "");
}

let childBundle: Promise<string> | undefined;

/**
 * `workers/audit-child.ts` bundled into one file under node_modules/.cache (so `better-sqlite3`
 * resolves): a child starts in ~50 ms instead of ~800 ms through tsx, which keeps the 20-kill
 * crash test fast.
 */
export function childScript(): Promise<string> {
  childBundle ??= (async () => {
    const dir = join(ROOT, "node_modules", ".cache", "agent-safe-audit-tests");
    mkdirSync(dir, { recursive: true });
    const out = await build({
      entryPoints: [join(import.meta.dirname, "workers", "audit-child.ts")],
      bundle: true,
      write: false,
      format: "esm",
      platform: "node",
      target: "node20",
      logLevel: "warning",
      banner: {
        js: 'import { createRequire as __cr } from "node:module"; const require = __cr(import.meta.url);',
      },
    });
    const code = out.outputFiles[0]!.contents;
    // Named by content: parallel test files share one file per version of the code.
    const outfile = join(
      dir,
      `audit-child-${createHash("sha256").update(code).digest("hex").slice(0, 16)}.mjs`,
    );
    if (!existsSync(outfile)) {
      const tmpFile = `${outfile}.${process.pid}.tmp`;
      writeFileSync(tmpFile, code);
      renameSync(tmpFile, outfile);
    }
    return outfile;
  })();
  return childBundle;
}

export interface Child {
  proc: ChildProcessWithoutNullStreams;
  out: string[];
  err: string[];
  /** Resolves with the first stdout line matching. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<string>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export async function startChild(
  config: Record<string, unknown>,
  env: Record<string, string> = {},
): Promise<Child> {
  const script = await childScript();
  const proc = spawn(process.execPath, [script, JSON.stringify(config)], { env: { ...process.env, ...env } });
  return wrapChild(proc);
}

export function wrapChild(proc: ChildProcessWithoutNullStreams): Child {
  const out: string[] = [];
  const err: string[] = [];
  const waiters: { pattern: RegExp; resolve: (l: string) => void }[] = [];
  let partial = "";
  proc.stdout.setEncoding("utf8");
  proc.stdout.on("data", (d: string) => {
    const parts = (partial + d).split("\n");
    partial = parts.pop() ?? "";
    for (const line of parts) {
      out.push(line);
      for (let i = waiters.length - 1; i >= 0; i--) {
        if (waiters[i]!.pattern.test(line)) waiters.splice(i, 1)[0]!.resolve(line);
      }
    }
  });
  proc.stderr.setEncoding("utf8");
  proc.stderr.on("data", (d: string) => err.push(d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    proc.on("close", (code, signal) => resolve({ code, signal })),
  );
  return {
    proc,
    out,
    err,
    exited,
    waitFor(pattern, timeoutMs = 20_000) {
      const hit = out.find((l) => pattern.test(l));
      if (hit !== undefined) return Promise.resolve(hit);
      return new Promise((resolve, reject) => {
        const t = setTimeout(
          () => reject(new Error(`child did not print ${pattern}; stderr: ${err.join("")}`)),
          timeoutMs,
        );
        waiters.push({
          pattern,
          resolve: (l) => {
            clearTimeout(t);
            resolve(l);
          },
        });
        void exited.then(() =>
          setTimeout(() => reject(new Error(`child exited before ${pattern}; stderr: ${err.join("")}`)), 50),
        );
      });
    },
  };
}
