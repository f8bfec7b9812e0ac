/**
 * The whole story, through the SDK on a project made by `agent-safe init`: an agent asks to scale
 * a production ECS service → REQUIRE_APPROVAL and a stored request → a second, identified person
 * approves → the agent collects the one ticket → the runner redeems it, gets a scoped credential
 * from Vault (the loopback fixture), scales the service on moto, captures state and revokes the
 * credential → the rollback is planned from the captured state and decided by the policy like any
 * action → executed on its own ticket. The audit log verifies and links every step by ids, and no
 * secret appears in it.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import * as ecs from "@aws-sdk/client-ecs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AgentSafe } from "../../src/index.js";
import { ROOT_TOKEN } from "../credentials/helpers.js";
import { VaultFixture } from "../credentials/vault-fixture.js";
import { cli, tempDir } from "../helpers/cli.js";
import { clients, configureMoto, type Moto, REGION, startMoto } from "../runner/moto.js";

const CLUSTER = "payments";
const SERVICE = "api";
const TARGET = "prod/payments-api";

const POLICY = `rules:
  - name: sre-may-scale-back
    priority: 200
    match:
      actions: [ecs-scale-service]
      callers:
        roles: [sre]
    decision: allow
    reason: SREs may scale production services back
  - name: prod-needs-approval
    priority: 100
    match:
      targets:
        environments: [prod]
    decision: require_approval
    reason: Production changes need an approver
    approval:
      approver_roles: [approver]
`;

const INVENTORY = `targets:
  - id: ${TARGET}
    type: aws-ecs-service
    environment: prod
    sensitivity: internal
    owner: payments-team
    labels:
      cluster: ${CLUSTER}
      service: ${SERVICE}
      region: ${REGION}
`;

/** The fields of an audit line this test reads. */
interface AuditLine {
  event_id: string;
  event_type: string;
  decision: string;
  correlation_id: string | null;
  context: Record<string, unknown>;
}

let moto: Moto;
let vault: VaultFixture;
let dir: string;
let aws: ReturnType<typeof clients>;

async function desiredCount(): Promise<number | undefined> {
  const r = await aws.ecs.send(new ecs.DescribeServicesCommand({ cluster: CLUSTER, services: [SERVICE] }));
  return r.services?.[0]?.desiredCount;
}

beforeAll(async () => {
  moto = await startMoto();
  await configureMoto(moto.endpoint);
  aws = clients(moto.endpoint);
  await aws.ecs.send(new ecs.CreateClusterCommand({ clusterName: CLUSTER }));
  await aws.ecs.send(
    new ecs.RegisterTaskDefinitionCommand({
      family: SERVICE,
      containerDefinitions: [{ name: "app", image: "nginx", memory: 128 }],
    }),
  );
  await aws.ecs.send(
    new ecs.CreateServiceCommand({
      cluster: CLUSTER,
      serviceName: SERVICE,
      taskDefinition: SERVICE,
      desiredCount: 2,
    }),
  );
  vault = await VaultFixture.start({
    tokens: { [ROOT_TOKEN]: { ttl: 0 } },
    awsRoles: { "agent-safe-ecs": { credential_type: "iam_user" } },
    awsIamUserLeaseSeconds: 120,
  });
  dir = join(tempDir("agent-safe-e2e-"), "platform");
  expect(cli(["init", dir]).code).toBe(0);
  writeFileSync(join(dir, "policies", "default.yaml"), POLICY);
  writeFileSync(join(dir, "inventory.yaml"), INVENTORY);
  writeFileSync(
    join(dir, "agent-safe.yaml"),
    `${readFileSync(join(dir, "agent-safe.yaml"), "utf8")}credentials:
  type: hashicorp
  address: ${vault.url}
  auth:
    method: token
    token: \${E2E_VAULT_TOKEN}
  timeout_seconds: 2
  roles:
    aws:
      engine: aws
      role: agent-safe-ecs
`,
  );
  process.env.E2E_VAULT_TOKEN = ROOT_TOKEN;
}, 60_000);

afterAll(async () => {
  aws?.destroy();
  await vault?.close();
  await moto?.stop();
});

describe("end to end", () => {
  it("check → approval → ticket → Vault credential → execute on moto → state → rollback through the PDP → executed", async () => {
    const safe = await AgentSafe.open({ cwd: dir });
    const agent = safe.issueIdentity({ agentId: "scaler-bot", roles: ["deployer"] });
    const approver = safe.issueIdentity({ agentId: "alice", roles: ["approver"] });
    const sre = safe.issueIdentity({ agentId: "oncall-sre", roles: ["sre"] });
    const params = { cluster: CLUSTER, service: SERVICE, desired_count: 5, region: REGION };
    const executorSettings = { aws_endpoint: moto.endpoint, aws_region: REGION };

    // 1. The agent asks; production needs an approver.
    const asked = await safe.check("ecs-scale-service", { target: TARGET, caller: agent, params });
    expect(asked.result).toBe("require_approval");
    expect(asked.ticket).toBeNull();
    const requestId = asked.request_id;
    expect(requestId).toMatch(/^apr-[0-9a-f]{12}$/);

    // 2. The agent cannot approve its own request; alice can.
    await expect(safe.approve(requestId!, agent)).rejects.toThrow(/requester/i);
    const approved = await safe.approve(requestId!, approver, "change 4711");
    expect(approved.request.status).toBe("approved");
    expect(approved.reason).toBe("Approval approved by alice: change 4711");

    // 3. The agent collects the one ticket.
    const collected = await safe.waitForApproval(requestId!, { timeout: 5, requester: agent });
    expect(collected.decision.result).toBe("allow");
    const ticket = collected.decision.ticket?.token;
    expect(typeof ticket).toBe("string");
    const again = await safe.waitForApproval(requestId!, { timeout: 0, requester: agent });
    expect(again.decision.ticket?.token).toBeUndefined();

    // 4. Executed with a Vault credential, on moto; the lease is revoked afterwards.
    const run = await safe.execute(ticket!, { executor: "aws", executorSettings });
    expect(run.error).toBeNull();
    expect(run.status).toBe("success");
    expect(run.beforeState).toMatchObject({ desired_count: 2 });
    expect(run.afterState).toMatchObject({ desired_count: 5 });
    expect(await desiredCount()).toBe(5);
    expect(vault.requestsTo(/^aws\/creds\//).length).toBe(1);
    expect(vault.activeLeases()).toEqual([]);

    // The same ticket again: refused, nothing runs, no second credential.
    const replay = await safe.execute(ticket!, { executor: "aws", executorSettings });
    expect(replay.status).toBe("error");
    expect(replay.error).toMatch(/Ticket validation failed/);
    expect(vault.requestsTo(/^aws\/creds\//).length).toBe(1);

    // 5. The rollback plan comes from the captured state; the agent itself may not run it…
    const grantId = collected.decision.ticket!.audit_id;
    expect(grantId).toBe(approved.event_id);
    const plan = await safe.planRollback(grantId);
    expect(plan.rollback_action).toBe("ecs-scale-service");
    expect(plan.rollback_params).toEqual({ ...params, desired_count: 2 });
    expect((await safe.planRollback(asked.audit_id!)).rollback_params).toEqual(plan.rollback_params);
    const byAgent = await safe.checkRollback(grantId, { caller: agent });
    expect(byAgent.decision.result).toBe("require_approval");
    // …an SRE may, and the rollback runs on its own ticket.
    const bySre = await safe.checkRollback(grantId, { caller: sre });
    expect(bySre.decision.result).toBe("allow");
    expect(bySre.decision.policy_matched).toBe("sre-may-scale-back");
    const rolledBack = await safe.execute(bySre.decision.ticket!.token, {
      executor: "aws",
      executorSettings,
    });
    expect(rolledBack.status).toBe("success");
    expect(await desiredCount()).toBe(2);
    expect(vault.activeLeases()).toEqual([]);
    await safe.close();

    // 6. The audit log verifies and tells the story, linked by ids.
    const logPath = join(dir, "audit.jsonl");
    const verified = cli(["audit", "verify", "--require-signed", "--json"], { cwd: dir });
    expect(verified.code, verified.stdout + verified.stderr).toBe(0);
    expect(JSON.parse(verified.stdout)).toMatchObject({ ok: true });
    const text = readFileSync(logPath, "utf8");
    const events = text
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as AuditLine);
    const byId = new Map(events.map((e) => [e.event_id, e]));
    const decision = byId.get(asked.audit_id!)!;
    expect(decision).toMatchObject({ event_type: "decision", decision: "require_approval" });
    const approvalEvents = events.filter((e) => e.event_type === "approval");
    expect(approvalEvents.map((e) => e.context.type)).toEqual([
      "approval_request",
      "approval_resolution",
      "approval_ticket",
      "approval_request", // the agent's own rollback request (REQUIRE_APPROVAL)
    ]);
    for (const e of approvalEvents.slice(0, 3)) {
      expect(e.correlation_id).toBe(asked.audit_id);
      expect(e.context.request_id).toBe(requestId);
    }
    const grant = byId.get(grantId)!;
    expect(grant.context).toMatchObject({ type: "approval_resolution", resolution: "approve" });
    const executions = events.filter((e) => e.event_type === "execution");
    expect(executions).toHaveLength(3);
    expect(executions[0]!.context.original_audit_id).toBe(grantId);
    expect(executions[0]!.context).toMatchObject({ status: "success", credential_revoked: true });
    expect(executions[1]!.context).toMatchObject({ status: "error", stage: "ticket" });
    const captures = events.filter((e) => e.event_type === "state_capture");
    expect(captures[0]!.context.original_audit_id).toBe(grantId);
    const rollbackDecision = byId.get(bySre.decision.audit_id!)!;
    expect(rollbackDecision).toMatchObject({ decision: "allow", correlation_id: grantId });
    expect(executions[2]!.context.original_audit_id).toBe(bySre.decision.audit_id);

    // 7. No secret: Vault's credentials, its token, the tickets, the identity tokens.
    const secrets = [...vault.issuedSecrets(), ROOT_TOKEN, ticket!, bySre.decision.ticket!.token, agent, sre];
    expect(secrets.length).toBeGreaterThan(5);
    for (const s of secrets) expect(text).not.toContain(s);
  }, 60_000);
});
