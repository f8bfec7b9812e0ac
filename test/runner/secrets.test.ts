/**
 * THREATS T9 for the runner: no secret value reaches the audit log, the filesystem shipper's
 * copy or what the runner returns (which the CLI prints). The secrets: the Kubernetes Secret's
 * data (and its base64), a pod's log body, a Lambda's environment values (a sensitive param),
 * every credential the Vault fixture issued (service account tokens, AWS keys) and its root
 * token, the execution tickets and the caller's identity token. Everything runs for real:
 * decisions, kubectl against the fake API server over TLS, the AWS SDK against moto, Vault.
 */
import { readFileSync } from "node:fs";
import * as iam from "@aws-sdk/client-iam";
import * as lambda from "@aws-sdk/client-lambda";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AwsExecutor } from "../../src/runner/executors/aws/index.js";
import { KubectlExecutor } from "../../src/runner/executors/kubectl/executor.js";
import type { VaultFixture } from "../credentials/vault-fixture.js";
import { tempDir } from "../helpers/cli.js";
import { LOG_SECRET, SECRET_VALUE, seedCluster } from "./k8s-fake/fixtures.js";
import { hasKubectl } from "./k8s-fake/helpers.js";
import { FakeK8s } from "./k8s-fake/server.js";
import { clients, configureMoto, type Moto, startMoto } from "./moto.js";
import { ctxOf, openRig, type Rig, ROOT_TOKEN, startVault } from "./rig.js";

const ENV = { DB_PASSWORD: "hunter2-lambda-env-secret", API_KEY: "sk_live_lambda_0123456789" };
const cache = tempDir("agent-safe-runner-secrets-");
let k: FakeK8s;
let vault: VaultFixture;
let moto: Moto;
let rig: Rig;
/** Everything the runner returned, and every ticket token minted. */
const returned: unknown[] = [];
const tokens: string[] = [];

beforeAll(async () => {
  [vault, moto] = await Promise.all([startVault(), startMoto()]);
  await configureMoto(moto.endpoint);
  k = new FakeK8s();
  await k.start({ tls: true });
  seedCluster(k);
  rig = await openRig({ vault: { fixture: vault, k8sServer: k.url, k8sCaPem: k.caPem } });
  const aws = clients(moto.endpoint);
  const role = await aws.iam.send(
    new iam.CreateRoleCommand({
      RoleName: "lambda-exec",
      AssumeRolePolicyDocument: JSON.stringify({
        Version: "2012-10-17",
        Statement: [
          { Effect: "Allow", Principal: { Service: "lambda.amazonaws.com" }, Action: "sts:AssumeRole" },
        ],
      }),
    }),
  );
  await aws.lambda.send(
    new lambda.CreateFunctionCommand({
      FunctionName: "payments-fn",
      Runtime: "python3.12",
      Role: role.Role?.Arn ?? "",
      Handler: "app.handler",
      Code: { ZipFile: new Uint8Array([80, 75, 5, 6, ...new Array<number>(18).fill(0)]) },
      Environment: { Variables: { OLD_SECRET: "previous-lambda-env-secret" } },
    }),
  );
  aws.destroy();
});
afterAll(async () => {
  await rig.close();
  await Promise.all([k.stop(), vault.close(), moto.stop()]);
});

async function allow(action: string, target: string, params: Record<string, unknown>) {
  const t = await rig.allow(action, target, params);
  tokens.push(t.token);
  return t;
}

describe.skipIf(!hasKubectl)("no secret in the audit log, the shipped copy or the runner's results", () => {
  it("get-secret and get-pod-logs with Vault credentials: summaries only", async () => {
    const kubectl = new KubectlExecutor({ cacheDir: cache });
    const s = await allow("get-secret", "cluster/db-creds", { namespace: "prod", secret: "db-creds" });
    const dry = await rig.runner().dryRun(s.token, { executor: kubectl });
    returned.push(dry.steps, dry.reason);
    const secret = await rig.runner().run(s.token, { executor: kubectl, timeoutMs: 20_000 });
    returned.push(secret);
    expect(secret).toMatchObject({ status: "success", outputIsSecret: true, credentialRevoked: true });
    expect(secret.output).toMatch(
      /^\[secret content withheld\] Secret prod\/db-creds \(type Opaque\): 2 key\(s\)/,
    );
    expect(secret.afterState).toMatchObject({ exists: true, key_count: 2 });

    const l = await allow("get-pod-logs", "cluster/web", { namespace: "prod", pod: "web-bbb-x1" });
    const logs = await rig.runner().run(l.token, { executor: kubectl, timeoutMs: 20_000 });
    returned.push(logs);
    expect(logs).toMatchObject({ status: "success", outputIsSecret: true });
    expect(logs.output).toMatch(/^\[log content withheld\] pod prod\/web-bbb-x1: 3 line\(s\)/);
    // The execution event keeps the summary only as a digest.
    const [event] = rig.linked(s.auditId, "execution");
    expect(ctxOf(event).output).toMatch(/^hmac-sha256:[0-9a-f]{64}$/);
  });

  it("lambda-update-function-config: the sensitive environment is supplied, never recorded", async () => {
    const aws = new AwsExecutor({ endpoint: moto.endpoint, maxAttempts: 1 });
    const params = {
      function_name: "payments-fn",
      region: "us-east-1",
      environment_variables: JSON.stringify(ENV),
    };
    const t = await allow("lambda-update-function-config", "aws/payments-fn", params);
    // The ticket holds the environment only as a digest: without it the run is refused, and the
    // ticket is not spent.
    const refused = await rig.runner().run(t.token, { executor: aws, timeoutMs: 10_000 });
    returned.push(refused);
    expect(refused).toMatchObject({ status: "error", stage: "ticket" });
    expect(refused.error).toBe(
      "Parameters environment_variables are sensitive: supply them (they are checked against the ticket's digest); the ticket was not redeemed",
    );
    const dry = await rig.runner().dryRun(t.token, { executor: aws, params });
    returned.push(dry.steps);
    expect(dry.steps.join("\n")).toContain("<2 variables, redacted>");
    const r = await rig.runner().run(t.token, { executor: aws, params, timeoutMs: 10_000 });
    returned.push(r);
    expect(r).toMatchObject({ status: "success", credentialRevoked: true });
    expect(r.afterState).toMatchObject({ environment_variable_count: 2 });
    const events = rig.linked(t.auditId, "execution");
    expect(events.map((e) => ctxOf(e).stage)).toEqual(["ticket", "completed"]);
    for (const e of events) {
      expect((e.params as Record<string, unknown>).environment_variables).toMatch(
        /^hmac-sha256:[0-9a-f]{64}$/,
      );
    }
    // It did reach the function.
    const aws2 = clients(moto.endpoint);
    const cfg = await aws2.lambda.send(
      new lambda.GetFunctionConfigurationCommand({ FunctionName: "payments-fn" }),
    );
    aws2.destroy();
    expect(cfg.Environment?.Variables).toEqual(ENV);
  });

  it("after every run: none of the secrets in the log, the shipped copy or any result", async () => {
    await rig.close(); // drains the shipper
    const log = readFileSync(rig.logPath, "utf8");
    const shipped = readFileSync(rig.shippedPath, "utf8");
    expect(shipped.trim().split("\n")).toHaveLength(log.trim().split("\n").length);
    const secrets = [
      SECRET_VALUE,
      Buffer.from(SECRET_VALUE).toString("base64"),
      LOG_SECRET,
      ...Object.values(ENV),
      "previous-lambda-env-secret",
      ...vault.issuedSecrets(),
      ROOT_TOKEN,
      rig.callerToken,
      ...tokens,
    ];
    expect(vault.issuedSecrets().length).toBeGreaterThanOrEqual(4); // 2 SA tokens, 1 AWS key pair
    const results = JSON.stringify(returned);
    for (const s of secrets) {
      expect(log).not.toContain(s);
      expect(shipped).not.toContain(s);
      expect(results).not.toContain(s);
    }
  });
});

describe.skipIf(!hasKubectl)("a credential quoted by an executor's output is scrubbed by the runner", () => {
  it("kubectl's error quotes the KV credential's server URL: [REDACTED] everywhere", async () => {
    const quoted = "https://127.0.0.1:1/clusters/c-7f3kv-secret-segment-0451";
    const kvToken = "kv-static-token-0123456789abcdef";
    const kvVault = await startVault({ "secret/agent-safe/kube": { token: kvToken, server: quoted } });
    const kv = await openRig({
      vault: { fixture: kvVault, roles: { kubernetes: { engine: "kv", path: "agent-safe/kube" } } },
    });
    try {
      const t = await kv.allow("scale-deployment", "cluster/web", {
        namespace: "prod",
        deployment: "web",
        replicas: 2,
      });
      const r = await kv
        .runner()
        .run(t.token, { executor: new KubectlExecutor({ cacheDir: cache }), timeoutMs: 10_000 });
      expect(r).toMatchObject({ status: "failure", stage: "execute", credentialRevoked: true });
      // kubectl printed the URL; the runner replaced it.
      expect(r.error).toContain("[REDACTED]");
      expect(r.captureErrors.before).toContain("[REDACTED]");
      expect(r.prechecks[0]?.message).toContain("[REDACTED]");
      await kv.close();
      for (const text of [
        JSON.stringify(r),
        readFileSync(kv.logPath, "utf8"),
        readFileSync(kv.shippedPath, "utf8"),
      ]) {
        expect(text).not.toContain(quoted);
        expect(text).not.toContain("secret-segment-0451");
        expect(text).not.toContain(kvToken);
      }
    } finally {
      await kv.close();
      await kvVault.close();
    }
  });
});
