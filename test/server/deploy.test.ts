/**
 * deploy/kubernetes/agent-safe.yaml and the Dockerfile, checked against what `serve` does (there is
 * no cluster and no Docker engine here): the manifest parses; the probes ask for routes the ops
 * listener serves, on the port the configuration gives it; the mounts put the keys, the policy,
 * the data and the config where the configuration (in the Secret) and the command look for them;
 * the containers run as non-root on a read-only root filesystem with resource limits; the agent's
 * container gets the sidecar's loopback URL and no keys. Then the sidecar is started with exactly
 * the Secret's configuration and the ConfigMap's policy (their absolute paths mapped into a
 * temporary directory) and answers the probes and a decision.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseAllDocuments, parse as parseYaml } from "yaml";
import { KEY_PURPOSES, KeyStore } from "../../src/keys/keystore.js";
import type { SidecarContext } from "../../src/server/index.js";
import { opsRoutes } from "../../src/server/routes/ops.js";
import { http, issueToken, ROOT, secretFile, serveProcess, tempDir } from "./helpers.js";

// biome-ignore lint/suspicious/noExplicitAny: walking Kubernetes objects
type Obj = any;

const docs: Obj[] = parseAllDocuments(
  readFileSync(join(ROOT, "deploy", "kubernetes", "agent-safe.yaml"), "utf8"),
).map((d) => {
  if (d.errors.length > 0) throw new Error(d.errors.map((e) => e.message).join("\n"));
  return d.toJS();
});
const find = (kind: string, name: string) => {
  const found = docs.find((d) => d?.kind === kind && d.metadata?.name === name);
  if (found === undefined) throw new Error(`no ${kind} ${name} in the manifest`);
  return found;
};

const deployment = find("Deployment", "agent");
const pod = deployment.spec.template.spec;
const sidecar = pod.containers.find((c: Obj) => c.name === "agent-safe");
const agent = pod.containers.find((c: Obj) => c.name === "agent");
const init = pod.initContainers.find((c: Obj) => c.name === "install-keys");
const configSecret = find("Secret", "agent-safe-config");
const config = parseYaml(configSecret.stringData["agent-safe.yaml"]);
const policyMap = find("ConfigMap", "agent-safe-policy");

const volume = (name: string) => pod.volumes.find((v: Obj) => v.name === name);
const mountOf = (container: Obj, name: string) =>
  container.volumeMounts?.find((m: Obj) => m.name === name)?.mountPath as string | undefined;
/** The volume (and mount) of `container` holding `path`, and the path inside the volume. */
function volumeAt(container: Obj, path: string): { name: string; mountPath: string; rest: string } {
  const mounts = [...(container.volumeMounts ?? [])].sort(
    (a: Obj, b: Obj) => b.mountPath.length - a.mountPath.length,
  );
  const m = mounts.find((x: Obj) => path === x.mountPath || path.startsWith(`${x.mountPath}/`));
  if (m === undefined) throw new Error(`${path} is on no volume of ${container.name}`);
  return { name: m.name, mountPath: m.mountPath, rest: path.slice(m.mountPath.length + 1) };
}
const arg = (flag: string) => {
  const i = sidecar.args.indexOf(flag);
  return i === -1 ? undefined : sidecar.args[i + 1];
};
const sqlitePath = (url: string) => url.replace(/^sqlite:/, "");

describe("deploy/kubernetes/agent-safe.yaml", () => {
  it("probes ask the ops listener for routes it serves, on the port the configuration gives it", () => {
    const served = opsRoutes({} as SidecarContext).map((r) => `${r.method} ${r.url}`);
    const ops = sidecar.ports.find((p: Obj) => p.name === "ops");
    expect(ops.containerPort).toBe(config.server.ops_port);
    expect(config.server.ops_host).toBe("0.0.0.0");
    for (const [probe, path] of [
      ["startupProbe", "/healthz"],
      ["livenessProbe", "/healthz"],
      ["readinessProbe", "/readyz"],
    ] as const) {
      expect(sidecar[probe].httpGet, probe).toEqual({ path, port: "ops" });
      expect(served).toContain(`GET ${path}`);
    }
    // The API itself is not exposed outside the Pod: loopback, for the agent container.
    expect(config.server.host).toBe("127.0.0.1");
    expect(sidecar.ports.map((p: Obj) => p.containerPort)).not.toContain(config.server.port);
    expect(agent.env.find((e: Obj) => e.name === "AGENT_SAFE_URL").value).toBe(
      `http://127.0.0.1:${config.server.port}`,
    );
    const annotations = deployment.spec.template.metadata.annotations;
    expect(annotations["prometheus.io/port"]).toBe(String(config.server.ops_port));
  });

  it("mounts the config, policy, keys and data where the configuration and the command look for them", () => {
    const configFile = arg("--config");
    expect(configFile).toBe(`${mountOf(sidecar, "config")}/agent-safe.yaml`);
    expect(volume("config").secret.secretName).toBe("agent-safe-config");
    expect(Object.keys(configSecret.stringData)).toEqual(["agent-safe.yaml"]);

    // Policy and inventory: the ConfigMap's items, at the paths the config names.
    const policy = volumeAt(sidecar, config.policies);
    const inventory = volumeAt(sidecar, config.inventory);
    expect([policy.name, inventory.name]).toEqual(["policy", "policy"]);
    const items = volume("policy").configMap.items.map((i: Obj) => [i.key, i.path]);
    expect(items).toEqual([
      ["policies.yaml", `${policy.rest}/policies.yaml`],
      ["inventory.yaml", inventory.rest],
    ]);
    expect(volume("policy").configMap.name).toBe("agent-safe-policy");
    expect(Object.keys(policyMap.data).sort()).toEqual(["inventory.yaml", "policies.yaml"]);
    expect(config.actions).toBe("/app/actions"); // in the image (Dockerfile: COPY actions/)

    // Keys: the Secret, copied by the init container into the memory volume the config names.
    const keys = volumeAt(sidecar, config.keys.dir);
    expect(keys.name).toBe("keys");
    expect(volume("keys").emptyDir.medium).toBe("Memory");
    expect(volumeAt(sidecar, config.server.admin_token_file).name).toBe("keys");
    expect(volume("keys-secret").secret.secretName).toBe("agent-safe-keys");
    expect(mountOf(init, "keys")).toBe(keys.mountPath);
    const script = init.command.join(" ");
    expect(script).toContain(`${mountOf(init, "keys-secret")}/*`);
    expect(script).toContain(`install -m 0600`);
    expect(script).toContain(config.keys.dir);
    expect(mountOf(sidecar, "keys-secret")).toBeUndefined(); // only the 0600 copies

    // Everything written: the data volume (an emptyDir; docs say to ship the log or use a PVC).
    for (const path of [config.audit.path, sqlitePath(config.state), sqlitePath(config.approvals.store)]) {
      expect(volumeAt(sidecar, path).name, path).toBe("data");
    }
    expect(volume("data").emptyDir).toBeDefined();
    expect(config.world_cache).toBe(false); // the config directory is a read-only Secret
    expect(arg("--chain-id")).toBe("$(POD_NAME)");
    expect(sidecar.env.find((e: Obj) => e.name === "POD_NAME").valueFrom.fieldRef.fieldPath).toBe(
      "metadata.name",
    );
  });

  it("runs as non-root on read-only root filesystems, with resource limits; the agent holds no keys", () => {
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 10001, fsGroup: 10001 });
    for (const c of [...pod.containers, ...pod.initContainers]) {
      expect(c.securityContext, c.name).toMatchObject({
        allowPrivilegeEscalation: false,
        readOnlyRootFilesystem: true,
        capabilities: { drop: ["ALL"] },
      });
      expect(c.resources.limits.cpu, c.name).toBeDefined();
      expect(c.resources.limits.memory, c.name).toBeDefined();
    }
    expect(agent.volumeMounts).toBeUndefined();
    expect(agent.env.find((e: Obj) => e.name === "AGENT_SAFE_TOKEN").valueFrom.secretKeyRef).toEqual({
      name: "agent-identity",
      key: "token",
    });
    expect(pod.terminationGracePeriodSeconds * 1000).toBeGreaterThan(config.server.drain_timeout_ms);
    expect(pod.automountServiceAccountToken).toBe(false);
  });

  it("the sidecar starts with exactly this configuration and answers the probes and a decision", async () => {
    const root = tempDir("agent-safe-deploy-");
    const map = (p: string) => (p.startsWith("/app/") ? join(ROOT, p.slice(5)) : join(root, p));
    const yaml = configSecret.stringData["agent-safe.yaml"].replace(
      /(\/(?:app|etc\/agent-safe|run\/agent-safe|var\/lib\/agent-safe)\/[^\s#]*)/g,
      (p: string) => map(p),
    );
    const configFile = map(arg("--config"));
    mkdirSync(dirname(configFile), { recursive: true });
    writeFileSync(configFile, yaml);
    for (const item of volume("policy").configMap.items) {
      const path = join(map(mountOf(sidecar, "policy")!), item.path);
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, policyMap.data[item.key]);
    }
    // What `kubectl create secret generic agent-safe-keys --from-file=.agent-safe/keys/
    // --from-file=admin.token` and the init container put in place.
    const keysDir = map(config.keys.dir);
    mkdirSync(keysDir, { recursive: true, mode: 0o700 });
    const store = new KeyStore(keysDir);
    for (const p of KEY_PURPOSES) store.generate(p);
    secretFile(keysDir, "redaction.key", "0123456789abcdef0123456789abcdef\n");
    const admin = "deploy-admin-token-0123456789abcdef";
    secretFile(keysDir, "admin.token", `${admin}\n`);
    mkdirSync(map("/var/lib/agent-safe"), { recursive: true });

    // --port 0 / --ops-port 0: the fixed ports of the manifest may be taken on this machine.
    const server = await serveProcess(map("/var/lib/agent-safe"), [
      "--config",
      configFile,
      "--chain-id",
      "agent-7d9f8b6c5-x2x9z",
      "--ops-port",
      "0",
      "--ops-host",
      "127.0.0.1",
    ]);
    try {
      const listening = server.logs.find((l) => l.msg === "listening")!;
      expect(listening.url).toMatch(/^http:\/\/127\.0\.0\.1:/);
      expect([listening.chain_id, listening.state]).toEqual([
        "agent-7d9f8b6c5-x2x9z",
        expect.stringMatching(/sqlite/),
      ]);
      const ops = String(listening.ops_url);
      expect((await http(ops, sidecar.livenessProbe.httpGet.path)).status).toBe(200);
      expect((await http(ops, sidecar.readinessProbe.httpGet.path)).json.status).toBe("ready");
      const token = await issueToken(dirname(configFile), { agentId: "deploy-bot", roles: ["deployer"] });
      const d = await http(server.url, "/v1/check", {
        token,
        body: {
          action: "restart-deployment",
          target: "staging/shop-web",
          params: { namespace: "shop-staging", deployment: "shop-web" },
        },
      });
      expect([d.json.result, d.json.policy_matched]).toEqual(["allow", "allow-deployer-staging"]);
      const prod = await http(server.url, "/v1/check", {
        token,
        body: {
          action: "restart-deployment",
          target: "prod/shop-web",
          params: { namespace: "shop", deployment: "shop-web" },
        },
      });
      expect(prod.json.result).toBe("require_approval");
      const reload = await http(server.url, "/v1/admin/reload", { method: "POST", token: admin });
      expect(reload.status).toBe(200);
    } finally {
      expect(await server.stop()).toBe(0);
    }
    const events = readFileSync(map(config.audit.path), "utf8").trim().split("\n");
    expect(events.length).toBeGreaterThanOrEqual(2);
  });
});

describe("Dockerfile", () => {
  const dockerfile = readFileSync(join(ROOT, "Dockerfile"), "utf8");
  const lines = dockerfile
    .replace(/\\\n/g, " ")
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "" && !l.startsWith("#"));

  it("is a node:20-slim multi-stage build with npm ci, running serve as the manifest's non-root user", () => {
    expect(lines.filter((l) => l.startsWith("FROM ")).map((l) => l.split(" ")[1])).toEqual([
      "node:20-slim",
      "node:20-slim",
    ]);
    expect(lines.some((l) => /^RUN npm ci\b/.test(l))).toBe(true);
    expect(lines.some((l) => l.includes("npm run build"))).toBe(true);
    expect(lines.filter((l) => l.startsWith("USER "))).toEqual(["USER 10001:10001"]);
    expect(lines).toContain('ENTRYPOINT ["node", "/app/bin/agent-safe.js"]');
    expect(lines).toContain('CMD ["serve", "--host", "0.0.0.0"]');
    const exposed = lines
      .find((l) => l.startsWith("EXPOSE "))!
      .split(" ")
      .slice(1)
      .map(Number);
    expect(exposed).toEqual([config.server.port, config.server.ops_port]);
    expect(pod.securityContext.runAsUser).toBe(10001);
    expect(sidecar.image).toBe(init.image);
  });

  it("copies only files that exist, and the build context keeps secrets and logs out", () => {
    for (const l of lines.filter((x) => x.startsWith("COPY ") && !x.includes("--from="))) {
      const sources = l.split(/\s+/).slice(1, -1);
      for (const s of sources) expect(existsSync(join(ROOT, s)), s).toBe(true);
    }
    const ignored = readFileSync(join(ROOT, ".dockerignore"), "utf8").split("\n");
    for (const pattern of ["node_modules", "**/.agent-safe", "**/audit.jsonl*", ".git"]) {
      expect(ignored).toContain(pattern);
    }
  });
});
