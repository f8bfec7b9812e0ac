/** Shared helpers of the kubectl and Kubernetes API executor tests. */
import { execFileSync } from "node:child_process";
import { chmodSync, existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { FakeK8s } from "./server.js";

export interface Write {
  method: string;
  path: string;
  contentType: string | null;
  body: unknown;
}

/** The mutating requests the fake received, bodies parsed. */
export function writes(k: FakeK8s): Write[] {
  return k.writes().map((r) => ({
    method: r.method,
    path: r.path,
    contentType: r.contentType,
    body: r.body === "" ? null : (JSON.parse(r.body) as unknown),
  }));
}

/** A stand-in kubectl that records its argv, pid and kubeconfig file mode in `dir`, optionally sleeping. */
export function fakeKubectl(dir: string): string {
  const path = join(dir, "kubectl-fake.sh");
  writeFileSync(
    path,
    `#!/bin/sh
echo "$$" > "${dir}/pid"
for a in "$@"; do printf '%s\\n' "$a"; done > "${dir}/argv"
case "$1" in --kubeconfig=*) f="\${1#--kubeconfig=}"; stat -c %a "$f" > "${dir}/mode"; cp "$f" "${dir}/kc-copy";; esac
if [ -n "$FAKE_SLEEP" ]; then sleep 60 & echo $! > "${dir}/child"; wait; fi
echo '{}'
`,
  );
  chmodSync(path, 0o755);
  return path;
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    // A zombie is dead for our purposes.
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return !/\) Z /.test(stat);
  } catch {
    return false;
  }
}

/** Pids of live processes whose command line contains `needle`. */
export function processesWith(needle: string): number[] {
  const out: number[] = [];
  for (const d of readdirSync("/proc")) {
    if (!/^\d+$/.test(d) || Number(d) === process.pid) continue;
    try {
      const cmd = readFileSync(`/proc/${d}/cmdline`, "utf8");
      if (cmd.includes(needle) && alive(Number(d))) out.push(Number(d));
    } catch {
      // gone
    }
  }
  return out;
}

export function readIf(path: string): string | null {
  return existsSync(path) ? readFileSync(path, "utf8") : null;
}

/** Whether the image's kubectl is on PATH (the kubectl tests are skipped without it). */
export const hasKubectl: boolean = (() => {
  try {
    execFileSync("kubectl", ["version", "--client"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
})();
