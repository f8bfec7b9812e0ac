/**
 * The AWS executor against a local moto server (DESIGN.md §8), started once for this file: each of
 * the 13 shipped AWS actions runs as the runner runs it (prechecks, before-state, execute,
 * after-state) and its effect is read back through the SDK. Lambda Invoke runs on moto's
 * Docker-free backend; the request itself and a function error are checked against a loopback
 * stub that speaks the Invoke response shape. Then credentials, endpoints, timeouts and aborts.
 */
import * as ec2 from "@aws-sdk/client-ec2";
import * as ecs from "@aws-sdk/client-ecs";
import * as iam from "@aws-sdk/client-iam";
import * as lambda from "@aws-sdk/client-lambda";
import * as s3 from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import type { Target } from "../../src/core/types.js";
import { AWS_ACTIONS, AwsExecutor, AwsExecutorError } from "../../src/runner/executors/aws/index.js";
import {
  AWS_NAMES,
  check,
  credential,
  ctx,
  def,
  expectSuccess,
  instanceState,
  newInstance,
  noSecrets,
  registry,
  run,
  setupMoto,
  teardownMoto,
} from "./aws-harness.js";
import { type Clients, type Moto, REGION, startStub, TEST_CREDENTIALS } from "./moto.js";

let moto: Moto;
let aws: Clients;
let exec: AwsExecutor;

beforeAll(async () => {
  ({ moto, aws, exec } = await setupMoto());
});
afterAll(teardownMoto);

describe("catalogue coverage", () => {
  it("maps exactly the 13 shipped AWS actions and declares their state_fields and rollback sources", () => {
    expect(AWS_NAMES).toHaveLength(13);
    expect(Object.keys(AWS_ACTIONS).sort()).toEqual([...AWS_NAMES].sort());
    for (const name of AWS_NAMES) {
      const a = def(name);
      expect(exec.supports(name)).toBe(true);
      for (const f of a.state_fields) expect(exec.stateFields(name), `${name}.${f.name}`).toContain(f.name);
      for (const { source } of Object.values(a.rollback_params)) {
        if (source.startsWith("before_state.")) {
          expect(exec.stateFields(name)).toContain(source.slice("before_state.".length));
        }
      }
      // Every declared precheck has an implementation (dry-run would say "no AWS implementation").
      expect(exec.describe(ctx(name, paramsFor(name))).join("\n")).not.toContain("no AWS implementation");
    }
    expect(exec.supports("scale-deployment")).toBe(false);
  });
});

/** Plausible params for dry-run of each action. */
function paramsFor(name: string): Record<string, unknown> {
  if (name.startsWith("ec2-")) return { instance_id: "i-0123456789abcdef0" };
  if (name === "ecs-stop-task") return { cluster: "c", task: "t1" };
  if (name.startsWith("ecs-")) return { cluster: "c", service: "s", desired_count: 1 };
  if (name === "lambda-invoke-function") return { function_name: "f", payload: "{}" };
  if (name.startsWith("lambda-")) return { function_name: "f", memory_size: 256 };
  if (name === "s3-delete-object") return { bucket: "bkt", key: "k" };
  if (name === "s3-put-bucket-policy") return { bucket: "bkt", policy: "{}" };
  return { role_name: "r", policy_arn: "arn:aws:iam::123456789012:policy/p" };
}

describe("EC2", () => {
  it("ec2-stop-instance stops a running instance", async () => {
    const id = await newInstance();
    const r = await run("ec2-stop-instance", { instance_id: id });
    expectSuccess(r.result);
    expect(check(r.prechecks, "instance-exists")).toBe(true);
    expect(r.before).toMatchObject({ state: "running", instance_type: "t3.micro" });
    expect(r.after).toMatchObject({ state: "stopped", instance_type: "t3.micro" });
    expect(JSON.parse(r.result.output)).toMatchObject({
      StoppingInstances: [{ InstanceId: id, PreviousState: "running" }],
    });
    expect(r.result.details).toMatchObject({
      service: "ec2",
      operation: "ec2:StopInstances",
      region: REGION,
    });
    expect(await instanceState(id)).toBe("stopped");
  });

  it("ec2-start-instance starts a stopped instance; the precheck wants it stopped", async () => {
    const id = await newInstance();
    const early = await exec.runPrechecks(ctx("ec2-start-instance", { instance_id: id }));
    expect(early[0]).toMatchObject({ name: "instance-exists", passed: false, enforced: false });
    expect(early[0]?.message).toContain("is running, not stopped");
    await aws.ec2.send(new ec2.StopInstancesCommand({ InstanceIds: [id] }));
    const r = await run("ec2-start-instance", { instance_id: id });
    expectSuccess(r.result);
    expect(check(r.prechecks, "instance-exists")).toBe(true);
    expect(r.before).toMatchObject({ state: "stopped" });
    expect(r.after).toMatchObject({ state: "running" });
    expect(await instanceState(id)).toBe("running");
  });

  it("ec2-reboot-instance reboots (the instance stays running)", async () => {
    const id = await newInstance();
    const r = await run("ec2-reboot-instance", { instance_id: id });
    expectSuccess(r.result);
    expect(r.result.details?.["calls"]).toEqual(["ec2:RebootInstances"]);
    expect(r.before).toMatchObject({ state: "running" });
    expect(r.after).toMatchObject({ state: "running" });
    expect(typeof r.before["launch_time"]).toBe("string");
    expect(await instanceState(id)).toBe("running");
  });

  it("ec2-terminate-instance terminates; prechecks report protection and volumes", async () => {
    const id = await newInstance();
    const r = await run("ec2-terminate-instance", { instance_id: id });
    expectSuccess(r.result);
    expect(check(r.prechecks, "instance-exists")).toBe(true);
    expect(check(r.prechecks, "termination-protection")).toBe(true);
    expect(r.prechecks.find((p) => p.name === "volumes-at-risk")?.message).toMatch(
      /Deleted with the instance: vol-/,
    );
    expect(r.before).toMatchObject({ state: "running" });
    expect(r.after).toMatchObject({ state: "terminated" });
    expect(await instanceState(id)).toBe("terminated");
  });

  it("a protected instance: the precheck fails and AWS refuses (failure, not success)", async () => {
    const id = await newInstance();
    await aws.ec2.send(
      new ec2.ModifyInstanceAttributeCommand({ InstanceId: id, DisableApiTermination: { Value: true } }),
    );
    const r = await run("ec2-terminate-instance", { instance_id: id });
    expect(check(r.prechecks, "termination-protection")).toBe(false);
    expect(r.result.status).toBe("failure");
    expect(r.result.error).toMatch(/^AWS API error: OperationNotPermitted: /);
    expect(await instanceState(id)).toBe("running");
  });

  it("an unknown instance id is a failure carrying the AWS error", async () => {
    const c = ctx("ec2-stop-instance", { instance_id: "i-0123456789abcdef0" });
    const result = await exec.execute(c);
    expect(result.status).toBe("failure");
    expect(result.error).toMatch(/^AWS API error: InvalidInstanceID\.NotFound: .*i-0123456789abcdef0/);
    expect(result.details).toMatchObject({ aws_error_code: "InvalidInstanceID.NotFound", http_status: 400 });
    const pre = await exec.runPrechecks(c);
    expect(pre[0]?.passed).toBe(false);
    expect(pre[0]?.message).toMatch(/^Could not check: AWS API error: InvalidInstanceID\.NotFound/);
    await expect(exec.captureState(c)).rejects.toMatchObject({ name: "AwsExecutorError", code: "API" });
  });

  it("an invalid instance id is refused before any call", async () => {
    const result = await exec.execute(ctx("ec2-stop-instance", { instance_id: "i-1; rm -rf" }));
    expect(result).toMatchObject({
      status: "error",
      error: "Invalid parameter 'instance_id': not a valid instance id (i-…)",
    });
    expect(result.details).toEqual({});
    const extra = await exec.execute(
      ctx("ec2-stop-instance", { instance_id: "i-0123456789abcdef0", force: true }),
    );
    expect(extra).toMatchObject({
      status: "error",
      error: "Invalid parameter 'force': not declared by action 'ec2-stop-instance'",
    });
  });
});

describe("ECS", () => {
  const cluster = "agent-safe";
  let serviceTask = "";
  let otherTask = "";

  beforeAll(async () => {
    await aws.ecs.send(new ecs.CreateClusterCommand({ clusterName: cluster }));
    await aws.ecs.send(
      new ecs.RegisterTaskDefinitionCommand({
        family: "web",
        containerDefinitions: [{ name: "app", image: "nginx", memory: 128 }],
      }),
    );
    const id = await newInstance();
    const doc = JSON.stringify({
      instanceId: id,
      region: REGION,
      availabilityZone: "us-east-1a",
      accountId: "123456789012",
    });
    await aws.ecs.send(new ecs.RegisterContainerInstanceCommand({ cluster, instanceIdentityDocument: doc }));
    await aws.ecs.send(
      new ecs.CreateServiceCommand({ cluster, serviceName: "web", taskDefinition: "web", desiredCount: 1 }),
    );
    // moto does not launch service tasks: start one as the service would (group service:web).
    const a = await aws.ecs.send(
      new ecs.RunTaskCommand({ cluster, taskDefinition: "web", group: "service:web" }),
    );
    const b = await aws.ecs.send(
      new ecs.RunTaskCommand({ cluster, taskDefinition: "web", startedBy: "batch" }),
    );
    serviceTask = a.tasks?.[0]?.taskArn ?? "";
    otherTask = b.tasks?.[0]?.taskArn ?? "";
  });

  async function service() {
    const r = await aws.ecs.send(new ecs.DescribeServicesCommand({ cluster, services: ["web"] }));
    return r.services?.[0];
  }

  it("ecs-scale-service sets the desired count", async () => {
    const r = await run("ecs-scale-service", { cluster, service: "web", desired_count: 3 });
    expectSuccess(r.result);
    expect(check(r.prechecks, "service-exists")).toBe(true);
    expect(r.before).toMatchObject({ desired_count: 1, status: "ACTIVE" });
    expect(typeof r.before["running_count"]).toBe("number");
    expect(r.after).toMatchObject({ desired_count: 3 });
    expect(JSON.parse(r.result.output).service).toMatchObject({ serviceName: "web", desiredCount: 3 });
    expect((await service())?.desiredCount).toBe(3);
  });

  it("ecs-update-service sets desiredCount and forces a new deployment", async () => {
    const deployment = (await service())?.deployments?.[0]?.id;
    const r = await run("ecs-update-service", {
      cluster,
      service: "web",
      desired_count: 2,
      force_new_deployment: true,
    });
    expectSuccess(r.result);
    expect(r.before).toMatchObject({ desired_count: 3, status: "ACTIVE" });
    expect(r.after).toMatchObject({ desired_count: 2, status: "ACTIVE" });
    const svc = await service();
    expect(svc?.desiredCount).toBe(2);
    expect(svc?.deployments?.[0]?.id).not.toBe(deployment);
  });

  it("ecs-update-service with nothing to change is refused before any call", async () => {
    const r = await exec.execute(
      ctx("ecs-update-service", { cluster, service: "web", force_new_deployment: false }),
    );
    expect(r.status).toBe("error");
    expect(r.error).toContain("Nothing to update");
  });

  it("an unknown service is a failure", async () => {
    const r = await exec.execute(ctx("ecs-scale-service", { cluster, service: "nope", desired_count: 1 }));
    expect(r.status).toBe("failure");
    expect(r.error).toMatch(/^AWS API error: ServiceNotFoundException: /);
    const pre = await exec.runPrechecks(
      ctx("ecs-scale-service", { cluster, service: "nope", desired_count: 1 }),
    );
    expect(pre[0]).toMatchObject({ name: "service-exists", passed: false });
    expect(pre[0]?.message).toContain("MISSING");
  });

  const serviceTarget: Target = {
    id: "staging/web-service",
    type: "aws-ecs-service",
    environment: "staging",
    sensitivity: "internal",
    owner: "platform-team",
    labels: { cluster, service: "web", region: REGION },
  };

  it("task-in-target (enforced) refuses a task of another group when the target is the service", async () => {
    const pre = await exec.runPrechecks(
      ctx("ecs-stop-task", { cluster, task: otherTask }, { target: serviceTarget }),
    );
    const t = pre.find((p) => p.name === "task-in-target");
    expect(t).toMatchObject({ passed: false, enforced: true });
    expect(t?.message).toContain("does not belong to service web (group family:web, startedBy batch)");
    expect(pre.find((p) => p.name === "task-exists")).toMatchObject({ passed: true, enforced: false });
    const otherCluster = { ...serviceTarget, labels: { ...serviceTarget.labels, cluster: "elsewhere" } };
    const pre2 = await exec.runPrechecks(
      ctx("ecs-stop-task", { cluster, task: serviceTask }, { target: otherCluster }),
    );
    expect(pre2.find((p) => p.name === "task-in-target")?.passed).toBe(false);
  });

  it("task-in-target also accepts a task started by one of the service's deployments", async () => {
    const deployment = (await service())?.deployments?.[0]?.id ?? "";
    expect(deployment).toMatch(/^ecs-svc\//);
    const t = await aws.ecs.send(
      new ecs.RunTaskCommand({ cluster, taskDefinition: "web", startedBy: deployment }),
    );
    const task = t.tasks?.[0]?.taskArn ?? "";
    const pre = await exec.runPrechecks(ctx("ecs-stop-task", { cluster, task }, { target: serviceTarget }));
    expect(pre.find((p) => p.name === "task-in-target")).toMatchObject({ passed: true, enforced: true });
    expect(pre.find((p) => p.name === "task-in-target")?.message).toContain(
      "was started by a deployment of service web",
    );
  });

  it("ecs-stop-task stops a task of the target service", async () => {
    const taskId = serviceTask.split("/").pop() ?? "";
    const r = await run(
      "ecs-stop-task",
      { cluster, task: taskId, reason: "recycle bad task" },
      { target: serviceTarget },
    );
    expect(r.prechecks.every((p) => p.passed)).toBe(true);
    expectSuccess(r.result);
    expect(r.before).toMatchObject({ last_status: "RUNNING", group: "service:web" });
    expect(r.after).toMatchObject({ last_status: "STOPPED", stopped_reason: "recycle bad task" });
    const d = await aws.ecs.send(new ecs.DescribeTasksCommand({ cluster, tasks: [taskId] }));
    expect(d.tasks?.[0]).toMatchObject({ lastStatus: "STOPPED", stoppedReason: "recycle bad task" });
    const again = await exec.runPrechecks(
      ctx("ecs-stop-task", { cluster, task: taskId }, { target: serviceTarget }),
    );
    expect(again.find((p) => p.name === "task-exists")?.passed).toBe(false);
  });
});

describe("Lambda", () => {
  const fn = "payment-processor";
  const secretEnv = { DB_PASSWORD: "hunter2-very-secret-value", API_KEY: "sk_live_abcdef123456" };

  beforeAll(async () => {
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
    const emptyZip = new Uint8Array([80, 75, 5, 6, ...new Array<number>(18).fill(0)]);
    await aws.lambda.send(
      new lambda.CreateFunctionCommand({
        FunctionName: fn,
        Runtime: "python3.12",
        Role: role.Role?.Arn ?? "",
        Handler: "app.handler",
        Code: { ZipFile: emptyZip },
        MemorySize: 128,
        Timeout: 3,
        Environment: { Variables: { OLD_SECRET: "previous-secret-value" } },
      }),
    );
  });

  it("lambda-update-function-config changes memory, timeout and environment; no value is echoed", async () => {
    const envText = JSON.stringify(secretEnv);
    const c = ctx("lambda-update-function-config", {
      function_name: fn,
      memory_size: 512,
      timeout: 30,
      environment_variables: envText,
    });
    const dry = exec.describe(c).join("\n");
    expect(dry).toContain('"Variables":"<2 variables, redacted>"');
    const r = await run("lambda-update-function-config", c.params);
    expectSuccess(r.result);
    expect(check(r.prechecks, "function-exists")).toBe(true);
    expect(r.before).toMatchObject({
      memory_size: 128,
      timeout: 3,
      runtime: "python3.12",
      environment_variable_count: 1,
    });
    expect(r.after).toMatchObject({ memory_size: 512, timeout: 30, environment_variable_count: 2 });
    expect(JSON.parse(r.result.output)).toMatchObject({
      MemorySize: 512,
      Timeout: 30,
      EnvironmentVariables: "<2 variables, values not shown>",
    });
    noSecrets({ r, dry }, [...Object.values(secretEnv), "previous-secret-value", "DB_PASSWORD"]);
    const cfg = await aws.lambda.send(new lambda.GetFunctionConfigurationCommand({ FunctionName: fn }));
    expect(cfg.MemorySize).toBe(512);
    expect(cfg.Timeout).toBe(30);
    expect(cfg.Environment?.Variables).toEqual(secretEnv);
  });

  it("environment_variables that are not a JSON object are refused without echoing them", async () => {
    for (const bad of ['{"A": "sekret-value-1"', '["sekret-value-1"]', '{"A": {"B": "sekret-value-1"}}']) {
      const r = await exec.execute(
        ctx("lambda-update-function-config", { function_name: fn, environment_variables: bad }),
      );
      expect(r.status).toBe("error");
      expect(r.error).toMatch(/^Invalid parameter 'environment_variables': /);
      expect(JSON.stringify(r)).not.toContain("sekret-value-1");
    }
  });

  it("lambda-invoke-function invokes synchronously (moto without Docker); the payload is never echoed", async () => {
    const payload = JSON.stringify({ card: "4111111111111111", amount: 42 });
    const r = await run("lambda-invoke-function", { function_name: fn, payload });
    expectSuccess(r.result);
    expect(check(r.prechecks, "function-exists")).toBe(true);
    expect(r.before).toEqual({ state: "Active", last_update_status: "Successful" });
    // moto's Docker-free Lambda echoes the event: the response is as long as the payload.
    expect(JSON.parse(r.result.output)).toMatchObject({ StatusCode: 200, PayloadBytes: payload.length });
    expect(r.result.outputIsSecret).toBeUndefined();
    noSecrets(r, ["4111111111111111"]);
    expect(exec.describe(ctx("lambda-invoke-function", { function_name: fn, payload })).join("\n")).toContain(
      `"Payload":"<${payload.length} bytes, redacted>"`,
    );
  });

  it("returnInvokePayload returns the response as a secret output", async () => {
    const payload = JSON.stringify({ q: "balance" });
    const e = new AwsExecutor({ endpoint: moto.endpoint, maxAttempts: 1, returnInvokePayload: true });
    const r = await e.execute(ctx("lambda-invoke-function", { function_name: fn, payload }));
    expectSuccess(r);
    expect(r.output).toBe(payload);
    expect(r.outputIsSecret).toBe(true);
  });

  it("sends the Invoke request signed with the credential, and a FunctionError is a failure", async () => {
    const stub = await startStub(() => ({
      status: 200,
      headers: { "x-amz-function-error": "Unhandled", "x-amz-executed-version": "$LATEST" },
      body: JSON.stringify({ errorMessage: "card 4111111111111111 declined", errorType: "PaymentDeclined" }),
    }));
    try {
      const e = new AwsExecutor({ endpoint: stub.endpoint, maxAttempts: 1 });
      const payload = JSON.stringify({ card: "4111111111111111" });
      const r = await e.execute(ctx("lambda-invoke-function", { function_name: fn, payload }));
      expect(r.status).toBe("failure");
      expect(r.error).toBe("Lambda function error: Unhandled (PaymentDeclined)");
      expect(JSON.parse(r.output)).toMatchObject({
        StatusCode: 200,
        FunctionError: "Unhandled",
        ExecutedVersion: "$LATEST",
      });
      noSecrets(r, ["4111111111111111", "declined"]);
      expect(stub.requests).toHaveLength(1);
      const req = stub.requests[0];
      expect(req?.method).toBe("POST");
      expect(req?.url).toBe(`/2015-03-31/functions/${fn}/invocations`);
      expect(req?.headers["x-amz-invocation-type"]).toBe("RequestResponse");
      expect(req?.headers["x-amz-log-type"]).toBe("None");
      expect(req?.headers["x-amz-security-token"]).toBe("moto-session-token-never-shown");
      expect(req?.headers.authorization).toContain(`Credential=${TEST_CREDENTIALS.accessKeyId}/`);
      expect(req?.headers.authorization).toContain(`/${REGION}/lambda/aws4_request`);
      expect(req?.body).toBe(payload);
    } finally {
      await stub.close();
    }
  });

  it("a payload that is not JSON is refused before the call", async () => {
    const r = await exec.execute(
      ctx("lambda-invoke-function", { function_name: fn, payload: "card=4111111111111111" }),
    );
    expect(r.status).toBe("error");
    expect(r.error).toContain("Invalid parameter 'payload': not valid JSON text");
    noSecrets(r, ["4111111111111111"]);
  });
});

describe("S3", () => {
  const bucket = "company-audit-logs";
  const bodyText = "confidential-object-body";

  beforeAll(async () => {
    await aws.s3.send(new s3.CreateBucketCommand({ Bucket: bucket }));
    await aws.s3.send(
      new s3.PutObjectCommand({
        Bucket: bucket,
        Key: "reports/q1.csv",
        Body: bodyText,
        ContentType: "text/csv",
      }),
    );
  });

  it("s3-delete-object deletes the object; its body is never read", async () => {
    const r = await run("s3-delete-object", { bucket, key: "reports/q1.csv" });
    expectSuccess(r.result);
    expect(check(r.prechecks, "object-exists")).toBe(true);
    expect(r.prechecks.find((p) => p.name === "versioning-enabled")).toMatchObject({ passed: false });
    expect(r.before).toMatchObject({
      exists: true,
      content_length: bodyText.length,
      content_type: "text/csv",
    });
    expect(typeof r.before["last_modified"]).toBe("string");
    expect(r.after).toEqual({ exists: false });
    noSecrets(r, [bodyText]);
    await expect(
      aws.s3.send(new s3.HeadObjectCommand({ Bucket: bucket, Key: "reports/q1.csv" })),
    ).rejects.toMatchObject({
      $metadata: { httpStatusCode: 404 },
    });
  });

  const readOnly = (sid: string, extra: Record<string, unknown> = {}) =>
    JSON.stringify({
      Version: "2012-10-17",
      Statement: [
        {
          Sid: sid,
          Effect: "Allow",
          Principal: { AWS: "arn:aws:iam::123456789012:root" },
          Action: "s3:GetObject",
          Resource: `arn:aws:s3:::${bucket}/*`,
          ...extra,
        },
      ],
    });

  it("s3-put-bucket-policy replaces the policy; before-state has no policy key when there was none", async () => {
    const policy = readOnly("ReadForAccount");
    const r = await run("s3-put-bucket-policy", { bucket, policy });
    expectSuccess(r.result);
    expect(r.prechecks.map((p) => [p.name, p.passed, p.enforced])).toEqual([
      ["bucket-exists", true, false],
      ["policy-parses", true, false],
      ["no-public-grant", true, true],
    ]);
    expect(r.before).toEqual({});
    expect(JSON.parse(String(r.after?.["policy"]))).toEqual(JSON.parse(policy));
    const got = await aws.s3.send(new s3.GetBucketPolicyCommand({ Bucket: bucket }));
    expect(JSON.parse(got.Policy ?? "")).toEqual(JSON.parse(policy));
    // The rollback source is there on the next change.
    const r2 = await run("s3-put-bucket-policy", { bucket, policy: readOnly("Second") });
    expectSuccess(r2.result);
    expect(JSON.parse(String(r2.before["policy"]))).toEqual(JSON.parse(policy));
  });

  it("a public grant fails the enforced no-public-grant precheck and execute refuses it before the call", async () => {
    const current = (await aws.s3.send(new s3.GetBucketPolicyCommand({ Bucket: bucket }))).Policy;
    const policy = JSON.stringify({
      Version: "2012-10-17",
      Statement: [
        {
          Sid: "Everyone",
          Effect: "Allow",
          Principal: "*",
          Action: "s3:GetObject",
          Resource: `arn:aws:s3:::${bucket}/*`,
        },
      ],
    });
    const c = ctx("s3-put-bucket-policy", { bucket, policy });
    const pre = await exec.runPrechecks(c);
    expect(pre.find((p) => p.name === "no-public-grant")).toMatchObject({
      passed: false,
      enforced: true,
      message: 'Public grant: statement Everyone allows Principal "*" without a Condition',
    });
    const r = await exec.execute(c);
    expect(r.status).toBe("error");
    expect(r.error).toContain("Refused: the policy grants public access (statement Everyone)");
    expect(r.details?.["calls"]).toEqual([]);
    expect((await aws.s3.send(new s3.GetBucketPolicyCommand({ Bucket: bucket }))).Policy).toBe(current);
    // With a restricting Condition it is not a public grant.
    const conditioned = readOnly("FromVpc", {
      Principal: "*",
      Condition: { StringEquals: { "aws:SourceVpce": "vpce-1" } },
    });
    const ok = await exec.runPrechecks(ctx("s3-put-bucket-policy", { bucket, policy: conditioned }));
    expect(ok.find((p) => p.name === "no-public-grant")?.passed).toBe(true);
  });

  it("a policy that does not parse fails policy-parses and is never sent", async () => {
    const c = ctx("s3-put-bucket-policy", { bucket, policy: '{"Statement": "nope"' });
    const pre = await exec.runPrechecks(c);
    expect(pre.find((p) => p.name === "policy-parses")).toMatchObject({ passed: false });
    const r = await exec.execute(c);
    expect(r).toMatchObject({ status: "error" });
    expect(r.error).toMatch(/^Invalid parameter 'policy': not valid JSON/);
    expect(r.details?.["calls"]).toEqual([]);
  });

  it("a missing bucket is a failure", async () => {
    const r = await exec.execute(ctx("s3-delete-object", { bucket: "no-such-bucket-here", key: "k" }));
    expect(r.status).toBe("failure");
    expect(r.error).toMatch(/^AWS API error: NoSuchBucket: /);
  });
});

describe("IAM", () => {
  const role = "deployer";
  let adminArn = "";
  let readArn = "";

  beforeAll(async () => {
    await aws.iam.send(
      new iam.CreateRoleCommand({
        RoleName: role,
        AssumeRolePolicyDocument: JSON.stringify({
          Version: "2012-10-17",
          Statement: [
            { Effect: "Allow", Principal: { Service: "ec2.amazonaws.com" }, Action: "sts:AssumeRole" },
          ],
        }),
      }),
    );
    const doc = (action: string) =>
      JSON.stringify({
        Version: "2012-10-17",
        Statement: [{ Sid: "S", Effect: "Allow", Action: action, Resource: "*" }],
      });
    adminArn =
      (
        await aws.iam.send(
          new iam.CreatePolicyCommand({ PolicyName: "iam-admin", PolicyDocument: doc("iam:*") }),
        )
      ).Policy?.Arn ?? "";
    readArn =
      (
        await aws.iam.send(
          new iam.CreatePolicyCommand({ PolicyName: "s3-read", PolicyDocument: doc("s3:GetObject") }),
        )
      ).Policy?.Arn ?? "";
  });

  async function attachedArns(): Promise<string[]> {
    const r = await aws.iam.send(new iam.ListAttachedRolePoliciesCommand({ RoleName: role }));
    return (r.AttachedPolicies ?? []).map((p) => p.PolicyArn ?? "");
  }

  it("iam-attach-role-policy attaches; escalation-review passes a narrow policy", async () => {
    const r = await run("iam-attach-role-policy", { role_name: role, policy_arn: readArn });
    expectSuccess(r.result);
    expect(r.prechecks.map((p) => [p.name, p.passed])).toEqual([
      ["role-exists", true],
      ["policy-exists", true],
      ["escalation-review", true],
    ]);
    expect(r.before).toEqual({ attached_policies: [] });
    expect(r.after).toEqual({ attached_policies: [{ policy_name: "s3-read", policy_arn: readArn }] });
    expect(await attachedArns()).toEqual([readArn]);
  });

  it("escalation-review flags iam:*", async () => {
    const pre = await exec.runPrechecks(
      ctx("iam-attach-role-policy", { role_name: role, policy_arn: adminArn }),
    );
    expect(pre.find((p) => p.name === "escalation-review")).toMatchObject({
      passed: false,
      enforced: false,
      message: "Escalation risk, review before approving: S: iam:*",
    });
  });

  it("iam-detach-role-policy detaches", async () => {
    const r = await run("iam-detach-role-policy", { role_name: role, policy_arn: readArn });
    expectSuccess(r.result);
    expect(r.prechecks.map((p) => [p.name, p.passed])).toEqual([
      ["role-exists", true],
      ["policy-attached", true],
    ]);
    expect(r.before).toEqual({ attached_policies: [{ policy_name: "s3-read", policy_arn: readArn }] });
    expect(r.after).toEqual({ attached_policies: [] });
    expect(await attachedArns()).toEqual([]);
  });

  it("attaching a policy that does not exist is a failure; a missing role fails role-exists", async () => {
    const missing = "arn:aws:iam::123456789012:policy/none";
    const r = await exec.execute(ctx("iam-attach-role-policy", { role_name: role, policy_arn: missing }));
    expect(r.status).toBe("failure");
    expect(r.error).toMatch(/^AWS API error: NoSuchEntity(Exception)?: /);
    const pre = await exec.runPrechecks(
      ctx("iam-detach-role-policy", { role_name: "ghost", policy_arn: readArn }),
    );
    expect(pre.find((p) => p.name === "role-exists")).toMatchObject({
      passed: false,
      message: "Role ghost does not exist",
    });
  });
});

describe("credentials, endpoints, timeouts", () => {
  it("takes the endpoint and region from the credential, and refuses a credential it cannot use", async () => {
    const e = new AwsExecutor({ maxAttempts: 1 });
    const cred = { type: "aws", payload: { ...credential.payload, endpoint: moto.endpoint } };
    const id = await newInstance();
    const r = await e.execute(ctx("ec2-reboot-instance", { instance_id: id }, { credential: cred }));
    expectSuccess(r);
    expect(r.details?.["endpoint"]).toBe(moto.endpoint);
    for (const bad of [
      { type: "kubernetes", payload: { token: "k8s-token-value" } },
      { type: "aws", payload: { token: "env-vault-token-value" } },
      { type: "aws", payload: { access_key_id: "AKID" } },
    ]) {
      const x = await e.execute(ctx("ec2-reboot-instance", { instance_id: id }, { credential: bad }));
      expect(x.status).toBe("error");
      expect(x.details?.["calls"]).toBeUndefined();
      noSecrets(x, ["k8s-token-value", "env-vault-token-value"]);
    }
  });

  it("uses the standard AWS environment when the action ran without a credential", async () => {
    vi.stubEnv("AWS_ACCESS_KEY_ID", "AKIDFROMENVIRONMENT");
    vi.stubEnv("AWS_SECRET_ACCESS_KEY", "env-secret-value");
    vi.stubEnv("AWS_SESSION_TOKEN", "");
    vi.stubEnv("AWS_EC2_METADATA_DISABLED", "true");
    const stub = await startStub(() => ({
      status: 200,
      headers: { "content-type": "text/xml" },
      body: '<RebootInstancesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>r-1</requestId><return>true</return></RebootInstancesResponse>',
    }));
    try {
      const e = new AwsExecutor({ endpoint: stub.endpoint, maxAttempts: 1 });
      const c = ctx("ec2-reboot-instance", { instance_id: "i-0123456789abcdef0" }, { credential: null });
      expectSuccess(await e.execute(c));
      expect(stub.requests[0]?.headers.authorization).toContain("Credential=AKIDFROMENVIRONMENT/");
      expect(stub.requests[0]?.body).toContain("Action=RebootInstances");
      expect(stub.requests[0]?.body).toContain("InstanceId.1=i-0123456789abcdef0");
      expect(e.describe(c)[0]).toContain("credentials from the standard AWS environment");
    } finally {
      vi.unstubAllEnvs();
      await stub.close();
    }
  });

  it("a call that does not answer in time is a timeout, and says the mutation may have happened", async () => {
    const stub = await startStub(() => null);
    try {
      const e = new AwsExecutor({ endpoint: stub.endpoint, maxAttempts: 3 });
      const c = ctx("lambda-invoke-function", { function_name: "f" }, { timeoutMs: 300 });
      const t0 = Date.now();
      const r = await e.execute(c);
      expect(Date.now() - t0).toBeLessThan(3000);
      expect(r.status).toBe("timeout");
      expect(r.error).toBe(
        "AWS call lambda:Invoke timed out after 300 ms; lambda:Invoke may still have taken effect",
      );
      await expect(e.captureState(c)).rejects.toMatchObject({ code: "TIMEOUT" });
      const pre = await e.runPrechecks(c);
      expect(pre[0]?.message).toMatch(/^Could not check: AWS call lambda:GetFunction timed out after 300 ms/);
    } finally {
      await stub.close();
    }
  });

  it("the caller's abort signal stops a call", async () => {
    const stub = await startStub(() => null);
    try {
      const e = new AwsExecutor({ endpoint: stub.endpoint, maxAttempts: 1 });
      const controller = new AbortController();
      setTimeout(() => controller.abort(), 100);
      const r = await e.execute(
        ctx("ec2-stop-instance", { instance_id: "i-0123456789abcdef0" }, { signal: controller.signal }),
      );
      expect(r).toMatchObject({
        status: "error",
        error: "AWS call ec2:StopInstances was aborted by the caller",
      });
      const r2 = await e.execute(
        ctx(
          "ec2-stop-instance",
          { instance_id: "i-0123456789abcdef0" },
          { signal: AbortSignal.timeout(100) },
        ),
      );
      expect(r2.status).toBe("timeout");
    } finally {
      await stub.close();
    }
  });

  it("an unreachable endpoint is an error (not an AWS failure)", async () => {
    const stub = await startStub(() => null);
    const endpoint = stub.endpoint;
    await stub.close();
    const e = new AwsExecutor({ endpoint, maxAttempts: 1 });
    const r = await e.execute(ctx("ec2-stop-instance", { instance_id: "i-0123456789abcdef0" }));
    expect(r.status).toBe("error");
    expect(r.error).toMatch(/^AWS executor error: .*ECONNREFUSED/);
  });

  it("an action without an AWS mapping is an error; describe throws a typed error", async () => {
    const k8s = registry.get("scale-deployment");
    if (k8s === undefined) throw new Error("catalogue");
    const c = { ...ctx("ec2-stop-instance", {}), action: k8s };
    expect(await exec.execute(c)).toMatchObject({
      status: "error",
      error: "No AWS API mapping for action: scale-deployment",
    });
    expect(() => exec.describe(c)).toThrow(AwsExecutorError);
  });

  it("describe lists prechecks, state and the exact call", () => {
    const lines = exec.describe(
      ctx("ecs-update-service", { cluster: "c", service: "s", desired_count: 2, force_new_deployment: true }),
    );
    expect(lines).toEqual([
      `aws ecs-update-service in us-east-1 at ${moto.endpoint}, credentials from the resolved credential (static keys)`,
      "precheck service-exists (advisory): ecs:DescribeServices",
      'state before and after: ecs:DescribeServices {"cluster":"c","services":["s"]}',
      'execute: ecs:UpdateService {"cluster":"c","service":"s","desiredCount":2,"forceNewDeployment":true}',
    ]);
  });
});
