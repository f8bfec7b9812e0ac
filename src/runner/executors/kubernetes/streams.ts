/**
 * exec-pod and port-forward through the API. Both stream over WebSocket (the library's Exec and
 * PortForward). Each is bounded: exec by the call's deadline (the socket is closed there), the tunnel
 * by its deadline (the listener and every connection are closed there, which is its normal end).
 */
import { createServer, type Socket } from "node:net";
import { PassThrough, Writable } from "node:stream";
import type { K8sParams } from "./actions.js";
import type { Api } from "./client.js";
import { errorMessage } from "./errors.js";

export interface StreamOutcome {
  status: "success" | "failure" | "timeout";
  output: string;
  error: string | null;
  details?: Record<string, unknown>;
}

function sink(cap: number): { stream: Writable; text: () => string } {
  const chunks: Buffer[] = [];
  let len = 0;
  let cut = 0;
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      if (len + chunk.length <= cap) {
        chunks.push(chunk);
        len += chunk.length;
      } else cut += chunk.length;
      cb();
    },
  });
  return {
    stream,
    text: () => Buffer.concat(chunks).toString("utf8") + (cut ? `\n…[truncated ${cut} bytes]` : ""),
  };
}

export async function execInPod(
  api: Api,
  p: K8sParams,
  container: string,
  deadline: number,
  signal?: AbortSignal,
): Promise<StreamOutcome> {
  const out = sink(64 * 1024);
  const err = sink(8 * 1024);
  let finalStatus: { status?: string; message?: string } | undefined;
  const exec = new api.lib.Exec(api.kc);
  let ws: Awaited<ReturnType<typeof exec.exec>>;
  const remaining = () => Math.max(1, deadline - Date.now());
  try {
    ws = await Promise.race([
      exec.exec(p.namespace, p.pod, container, p.command, out.stream, err.stream, null, false, (s) => {
        finalStatus = s as { status?: string; message?: string };
      }),
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error("deadline")), remaining()).unref()),
    ]);
  } catch (e) {
    const msg = errorMessage(e);
    if (msg === "deadline")
      return { status: "timeout", output: "", error: `exec did not connect within the deadline` };
    return { status: "failure", output: "", error: `exec failed: ${msg}` };
  }
  const closed = new Promise<"closed">((resolve) => ws.once("close", () => resolve("closed")));
  const timer = new Promise<"deadline">((resolve) =>
    setTimeout(() => resolve("deadline"), remaining()).unref(),
  );
  const aborted = new Promise<"aborted">((resolve) =>
    signal?.addEventListener("abort", () => resolve("aborted"), { once: true }),
  );
  const how = await Promise.race([closed, timer, aborted]);
  if (how !== "closed") {
    ws.terminate();
    return {
      status: "timeout",
      output: out.text(),
      error: how === "aborted" ? "exec cancelled" : "exec timed out and its stream was closed",
    };
  }
  if (finalStatus?.status === "Success") return { status: "success", output: out.text(), error: null };
  return {
    status: "failure",
    output: out.text(),
    error: finalStatus?.message ?? (err.text() || "exec ended without a status"),
  };
}

export async function portForward(
  api: Api,
  p: K8sParams,
  deadline: number,
  signal?: AbortSignal,
): Promise<StreamOutcome> {
  const pf = new api.lib.PortForward(api.kc);
  const remaining = () => Math.max(1, deadline - Date.now());
  // Dial once first, as kubectl does: an API server that refuses the upgrade fails the action now.
  try {
    const probeIn = new PassThrough();
    const first = await Promise.race([
      pf.portForward(p.namespace, p.pod, [p.remotePort], sink(0).stream, null, probeIn),
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error("deadline")), remaining()).unref()),
    ]);
    probeIn.end();
    if (typeof first !== "function") first.close();
  } catch (e) {
    const msg = errorMessage(e);
    if (msg === "deadline")
      return { status: "timeout", output: "", error: "port-forward did not connect within the deadline" };
    return { status: "failure", output: "", error: `port-forward failed: ${msg}` };
  }
  const sockets = new Set<Socket>();
  const server = createServer((sock) => {
    sockets.add(sock);
    sock.on("close", () => sockets.delete(sock));
    pf.portForward(p.namespace, p.pod, [p.remotePort], sock, null, sock).catch(() => sock.destroy());
  });
  try {
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(p.localPort, "127.0.0.1", () => resolve());
    });
  } catch (e) {
    return {
      status: "failure",
      output: "",
      error: `cannot listen on 127.0.0.1:${p.localPort}: ${errorMessage(e)}`,
    };
  }
  const started = Date.now();
  await new Promise<void>((resolve) => {
    const t = setTimeout(resolve, remaining());
    signal?.addEventListener(
      "abort",
      () => {
        clearTimeout(t);
        resolve();
      },
      { once: true },
    );
  });
  for (const s of sockets) s.destroy();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return {
    status: "success",
    output: `Forwarded 127.0.0.1:${p.localPort} -> ${p.namespace}/${p.pod}:${p.remotePort}; tunnel closed after ${Date.now() - started} ms`,
    error: null,
    details: { local_port: p.localPort, remote_port: p.remotePort },
  };
}
