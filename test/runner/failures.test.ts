/**
 * The runner's failure paths (issue 6), each with real parts: a failed run has a clear reason,
 * an `execution` event naming the step that stopped it, its credential revoked (when one was
 * obtained, before the event is written, so the event says so), and nothing done that the audit
 * does not show (the fake API server's request log, moto and the Vault fixture are the witnesses).
 */
import { join } from "node:path";
import * as ec2 from "@aws-sdk/client-ec2";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { AwsExecutor } from "../../src/runner/executors/aws/index.js";
import { KubectlExecutor } from "../../src/runner/executors/kubectl/executor.js";
import { type ExecutionResult, Runner } from "../../src/runner/index.js";
import { openStateBackend } from "../../src/state/index.js";
import { ticketServices } from "../../src/tickets/index.js";
import type { VaultFixture } from "../credentials/vault-fixture.js";
import { tempDir } from "../helpers/cli.js";
import { tempKeys } from "../helpers/tokens.js";
import { seedCluster } from "./k8s-fake/fixtures.js";
import { hasKubectl, processesWith, writes } from "./k8s-fake/helpers.js";
import { FakeK8s } from "./k8s-fake/server.js";
import { clients, configureMoto, type Moto, startMoto, startStub } from "./moto.js";
import { chainOk, ctxOf, openRig, type Rig, startVault } from "./rig.js";

const cache = tempDir("agent-safe-runner-fail-");
let k: FakeK8s;
let vault: VaultFixture;
let rig: Rig;

beforeEach(async () => {
  vault = await startVault();
  k = new FakeK8s();
  await k.start({ tls: true });
  seedCluster(k);
  rig = await openRig({ vault: { fixture: vault, k8sServer: k.url, k8sCaPem: k.caPem } });
});
afterEach(async () => {
  await rig.close();
  k.hang = false;
  await k.stop();
  await vault.close();
});

const kubectl = (extra: Partial<ConstructorParameters<typeof KubectlExecutor>[0]> = {}) =>
  new KubectlExecutor({ cacheDir: cache, ...extra });

/** The one execution event of the decision, checked against the result. */
function executionEvent(auditId: string, r: ExecutionResult): Record<string, unknown> {
  const events = rig.linked(auditId, "execution");
  expect(events).toHaveLength(1);
  const e = events[0]!;
  expect(e.decision).toBe(r.status === "success" ? "allow" : "deny");
  expect(e.reason).toBe(`Execution ${r.status}: ${r.error ?? r.output}`);
  expect(ctxOf(e)).toMatchObject({
    status: r.status,
    stage: r.stage,
    error: r.error,
    credential_id: r.credentialId,
    credential_revoked: r.credentialRevoked,
  });
  return e;
}

/** A credential was issued for this run, and its lease is revoked. */
function revoked(r: ExecutionResult): void {
  expect(r.credentialId).toMatch(/^cred-/);
  expect(r.credentialRevoked).toBe(true);
  expect(vault.requestsTo(/^kubernetes\/creds\/|^aws\/creds\//)).toHaveLength(1);
  expect(vault.requestsTo(/^sys\/leases\/revoke$/)).toHaveLength(1);
  expect(vault.activeLeases()).toEqual([]);
}

describe.skipIf(!hasKubectl)("kubectl failure paths", () => {
  it("timeout: the API server never answers → status timeout at execute, process killed, audited, revoked", async () => {
    const t = await rig.allow("scale-deployment", "cluster/web", {
      namespace: "prod",
      deployment: "web",
      replicas: 5,
    });
    k.hang = true;
    const started = Date.now();
    const r = await rig.runner().run(t.token, { executor: kubectl(), timeoutMs: 1000 });
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(r).toMatchObject({ status: "timeout", stage: "execute", afterState: {}, beforeState: {} });
    expect(r.error).toBe("kubectl timed out after 1000 ms and was killed");
    // Prechecks and state reads could not be done either; the audit says why, not just `{}`.
    expect(r.prechecks.map((p) => [p.name, p.passed])).toEqual([
      ["deployment-exists", false],
      ["hpa-present", false],
    ]);
    expect(r.prechecks[0]?.message).toMatch(/could not be evaluated: kubectl get timed out/);
    expect(r.captureErrors.before).toMatch(/timed out/);
    expect(r.captureErrors.after).toMatch(/timed out/);
    revoked(r);
    executionEvent(t.auditId, r);
    const [capture] = rig.linked(t.auditId, "state_capture");
    expect(ctxOf(capture)).toMatchObject({
      execution_status: "timeout",
      before_state: {},
      after_state: {},
      capture_errors: {
        before: expect.stringMatching(/timed out/),
        after: expect.stringMatching(/timed out/),
      },
    });
    // No kubectl is left running.
    expect(processesWith(cache)).toEqual([]);
    expect(await chainOk(rig)).toBe(true);
  });

  it("a missing kubectl binary → status error with the reason, nothing sent, credential revoked", async () => {
    const t = await rig.allow("scale-deployment", "cluster/web", {
      namespace: "prod",
      deployment: "web",
      replicas: 5,
    });
    const missing = join(cache, "no-such-kubectl");
    const r = await rig
      .runner()
      .run(t.token, { executor: kubectl({ kubectlPath: missing }), timeoutMs: 5000 });
    expect(r).toMatchObject({ status: "error", stage: "execute" });
    expect(r.error).toBe(
      `kubectl could not be started (ENOENT: ${missing}): install kubectl or configure the executor's kubectlPath`,
    );
    expect(r.prechecks.every((p) => !p.passed && /kubectl could not be started/.test(p.message))).toBe(true);
    expect(k.requests).toHaveLength(0);
    revoked(r);
    executionEvent(t.auditId, r);
  });

  it("an enforced precheck that fails stops the run before any change; audited; revoked", async () => {
    const t = await rig.allow("delete-namespace", "cluster/kube-system", { namespace: "kube-system" });
    const r = await rig.runner().run(t.token, { executor: kubectl(), timeoutMs: 10_000 });
    expect(r).toMatchObject({ status: "failure", stage: "prechecks" });
    expect(r.error).toBe("Precheck failed: not-system-namespace: kube-system is a system namespace");
    expect(r.prechecks.find((p) => p.name === "not-system-namespace")).toEqual({
      name: "not-system-namespace",
      passed: false,
      message: "kube-system is a system namespace",
      enforced: true,
    });
    expect(writes(k)).toEqual([]);
    expect(k.get("", "namespaces", "", "kube-system")).toBeDefined();
    revoked(r);
    const e = executionEvent(t.auditId, r);
    expect(ctxOf(e).precheck_results).toContainEqual({
      name: "not-system-namespace",
      passed: false,
      message: "kube-system is a system namespace",
      advisory: false,
    });
    // Nothing executed, so no state was captured.
    expect(rig.linked(t.auditId, "state_capture")).toEqual([]);
  });

  it("T1: no ticket, a forged one, a DENY's audit id → refused at the ticket, audited, nothing sent, no credential", async () => {
    const allowed = await rig.allow("scale-deployment", "cluster/web", {
      namespace: "prod",
      deployment: "web",
      replicas: 5,
    });
    // The same claims signed by a key the deployment does not trust.
    const stranger = tempKeys().keys;
    const forged = ticketServices(stranger, rig.state.nonces).issuer.issue({
      decision: {
        result: "allow",
        action: "scale-deployment",
        target: "cluster/web",
        caller: "test-agent",
        audit_id: allowed.auditId,
      },
      params: { namespace: "prod", deployment: "web", replicas: 5 },
      actionDef: { name: "scale-deployment", parameters: [] },
    }).token;
    rig.setPolicy(`rules:
  - name: deny-everything
    priority: 10
    match: {}
    decision: deny
    reason: Frozen
`);
    const denied = await rig.decide("scale-deployment", "cluster/web", {
      namespace: "prod",
      deployment: "web",
      replicas: 5,
    });
    expect([denied.result, denied.ticket]).toEqual(["deny", null]);
    const before = rig.events().filter((e) => e.event_type === "execution").length;
    for (const token of ["", forged, denied.audit_id!]) {
      const r = await rig.runner().run(token, { executor: kubectl(), timeoutMs: 20_000 });
      expect(r).toMatchObject({ status: "error", stage: "ticket", credentialId: null });
      expect(r.error).toMatch(/^Ticket validation failed: /);
    }
    const refusals = rig.events().filter((e) => e.event_type === "execution");
    expect(refusals).toHaveLength(before + 3);
    for (const e of refusals.slice(before)) expect(e).toMatchObject({ decision: "deny" });
    expect(writes(k)).toEqual([]);
    expect(vault.requestsTo(/creds/)).toEqual([]);
    expect(await chainOk(rig)).toBe(true);
  });

  it("a replayed ticket is refused by another runner on the shared nonce store: one change, one credential", async () => {
    const t = await rig.allow("scale-deployment", "cluster/web", {
      namespace: "prod",
      deployment: "web",
      replicas: 5,
    });
    const first = await rig.runner().run(t.token, { executor: kubectl(), timeoutMs: 20_000 });
    expect(first.status).toBe("success");
    // A second runner, as another process would be: its own handle on the same SQLite store.
    const other = await openStateBackend(`sqlite:${join(rig.dir, "state.db")}`);
    try {
      const runner = new Runner({
        world: rig.world,
        validator: ticketServices(rig.keys, other.nonces).validator,
        audit: rig.writer,
        credentials: rig.credentials,
      });
      const r = await runner.run(t.token, { executor: kubectl(), timeoutMs: 20_000 });
      expect(r).toMatchObject({
        status: "error",
        stage: "ticket",
        error: "Ticket validation failed: Ticket has already been used (replay detected)",
        credentialId: null,
        credentialRevoked: null,
      });
    } finally {
      await other.close();
    }
    const again = await rig.runner().run(t.token, { executor: kubectl(), timeoutMs: 20_000 });
    expect(again.error).toBe("Ticket validation failed: Ticket has already been used (replay detected)");
    expect(writes(k)).toHaveLength(1);
    expect(vault.requestsTo(/^kubernetes\/creds\//)).toHaveLength(1);
    // Each attempt is on the record; the refused ones name what the ticket claimed, unverified.
    const refusals = rig.events().filter((e) => e.event_type === "execution" && ctxOf(e).stage === "ticket");
    expect(refusals).toHaveLength(2);
    for (const e of refusals) {
      expect(e).toMatchObject({
        action: "unverified:scale-deployment",
        target: "unverified:cluster/web",
        decision: "deny",
        reason: "Execution error: Ticket validation failed: Ticket has already been used (replay detected)",
      });
    }
  });

  it("a ticket this executor cannot run is refused without being spent; it then runs with the right one", async () => {
    const t = await rig.allow("scale-deployment", "cluster/web", {
      namespace: "prod",
      deployment: "web",
      replicas: 5,
    });
    const wrong = new AwsExecutor({ endpoint: "http://127.0.0.1:1", maxAttempts: 1 });
    const r = await rig.runner().run(t.token, { executor: wrong, timeoutMs: 5000 });
    expect(r).toMatchObject({
      status: "error",
      stage: "action",
      error: "The aws executor has no mapping for action: scale-deployment; the ticket was not redeemed",
      auditId: t.auditId,
      credentialId: null,
    });
    executionEvent(t.auditId, r);
    expect(vault.requests).toHaveLength(0);
    expect(await rig.tickets.validator.verify(t.token)).toMatchObject({ valid: true, used: false });
    const ok = await rig.runner().run(t.token, { executor: kubectl(), timeoutMs: 20_000 });
    expect(ok.status).toBe("success");
  });

  it("a revocation that fails is recorded as credential_revoked: false with the reason", async () => {
    const t = await rig.allow("scale-deployment", "cluster/web", {
      namespace: "prod",
      deployment: "web",
      replicas: 4,
    });
    vault.failNext(500, ["storage unavailable"], /^sys\/leases\/revoke$/);
    const r = await rig.runner().run(t.token, { executor: kubectl(), timeoutMs: 20_000 });
    expect(r.status).toBe("success");
    expect(r.credentialRevoked).toBe(false);
    expect(r.credentialError).toMatch(/storage unavailable/);
    const e = executionEvent(t.auditId, r);
    expect(ctxOf(e).credential_error).toBe(r.credentialError);
  });
});

describe("Vault failure paths", () => {
  it("a credential the executor cannot use → status error at the prechecks, nothing sent", async () => {
    const kvVault = await startVault({ "secret/agent-safe/kube": { api_key: "kv-unusable-secret-0001" } });
    const kv = await openRig({
      vault: { fixture: kvVault, roles: { kubernetes: { engine: "kv", path: "agent-safe/kube" } } },
    });
    try {
      const t = await kv.allow("scale-deployment", "cluster/web", {
        namespace: "prod",
        deployment: "web",
        replicas: 5,
      });
      const r = await kv.runner().run(t.token, { executor: kubectl(), timeoutMs: 5000 });
      expect(r).toMatchObject({ status: "error", stage: "prechecks", credentialRevoked: true });
      expect(r.error).toBe(
        "Precheck error: credential of type 'kubernetes' has neither 'kubeconfig' nor 'token' + 'server'",
      );
      expect(r.credentialId).toMatch(/^cred-/);
      expect(k.requests).toHaveLength(0);
      expect(ctxOf(kv.linked(t.auditId, "execution")[0])).toMatchObject({
        status: "error",
        stage: "prechecks",
        error: r.error,
        credential_revoked: true,
      });
    } finally {
      await kv.close();
      await kvVault.close();
    }
  });

  it("an unreachable Vault → status error at the credentials step, nothing run, ticket spent", async () => {
    const down = await startVault();
    const address = down.url;
    await down.close();
    const cut = await openRig({ vault: { fixture: vault, address, k8sServer: k.url, k8sCaPem: k.caPem } });
    try {
      const t = await cut.allow("scale-deployment", "cluster/web", {
        namespace: "prod",
        deployment: "web",
        replicas: 5,
      });
      const r = await cut.runner().run(t.token, { executor: kubectl(), timeoutMs: 10_000 });
      expect(r).toMatchObject({
        status: "error",
        stage: "credentials",
        credentialId: null,
        credentialRevoked: null,
      });
      expect(r.error).toMatch(/^Credential resolution failed: .*(ECONNREFUSED|unreachable|connect)/i);
      expect(r.error).not.toContain(t.token);
      // Not a single request reached the cluster; no state was captured.
      expect(k.requests).toHaveLength(0);
      expect(cut.linked(t.auditId, "state_capture")).toEqual([]);
      const [e] = cut.linked(t.auditId, "execution");
      expect(ctxOf(e)).toMatchObject({ status: "error", stage: "credentials", error: r.error });
      // The ticket was redeemed before the vault was asked: it cannot be retried (fail closed).
      const retry = await cut.runner().run(t.token, { executor: kubectl(), timeoutMs: 10_000 });
      expect(retry.error).toBe("Ticket validation failed: Ticket has already been used (replay detected)");
    } finally {
      await cut.close();
    }
  });
});

describe("AWS failure paths", () => {
  let moto: Moto;
  beforeAll(async () => {
    moto = await startMoto();
    await configureMoto(moto.endpoint);
  });
  afterAll(async () => {
    await moto.stop();
  });

  it("a moto error (unknown instance) → status failure with the AWS code, audited, revoked", async () => {
    const params = { instance_id: "i-0123456789abcdef0", region: "us-east-1" };
    const t = await rig.allow("ec2-reboot-instance", "aws/instance", params);
    const exec = new AwsExecutor({ endpoint: moto.endpoint, maxAttempts: 1 });
    const r = await rig.runner().run(t.token, { executor: exec, timeoutMs: 10_000 });
    expect(r).toMatchObject({ status: "failure", stage: "execute" });
    expect(r.error).toMatch(/^AWS API error: InvalidInstanceID\.NotFound: /);
    expect(r.prechecks).toEqual([
      expect.objectContaining({ name: "instance-exists", passed: false, enforced: false }),
    ]);
    revoked(r);
    executionEvent(t.auditId, r);
    // The Vault-issued key reached moto, not the audit log.
    const log = rig.events();
    for (const s of vault.issuedSecrets()) expect(JSON.stringify(log)).not.toContain(s);
  });

  it("an AWS call that never returns → status timeout that says the change may have happened", async () => {
    const aws = clients(moto.endpoint);
    const id = (
      await aws.ec2.send(
        new ec2.RunInstancesCommand({
          ImageId: "ami-12c6146b",
          MinCount: 1,
          MaxCount: 1,
          InstanceType: "t3.micro",
        }),
      )
    ).Instances?.[0]?.InstanceId as string;
    aws.destroy();
    // Reads go to moto; the reboot itself hangs.
    const stub = await startStub((req) =>
      /Action=RebootInstances/.test(req.body) ? null : { status: 599, body: "" },
    );
    try {
      const proxy = new AwsExecutor({ endpoint: stub.endpoint, maxAttempts: 1 });
      const t = await rig.allow("ec2-reboot-instance", "aws/instance", {
        instance_id: id,
        region: "us-east-1",
      });
      const started = Date.now();
      const r = await rig.runner().run(t.token, { executor: proxy, timeoutMs: 800 });
      expect(Date.now() - started).toBeLessThan(10_000);
      expect(r).toMatchObject({ status: "timeout", stage: "execute" });
      expect(r.error).toMatch(
        /^AWS call ec2:RebootInstances timed out after 800 ms; ec2:RebootInstances may still have taken effect$/,
      );
      expect(stub.requests.some((q) => /Action=RebootInstances/.test(q.body))).toBe(true);
      revoked(r);
      const e = executionEvent(t.auditId, r);
      expect(String(e.reason)).toMatch(/may still have taken effect/);
    } finally {
      await stub.close();
    }
  });
});
