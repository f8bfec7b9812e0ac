/**
 * The AWS executor test harness: the shipped catalogue, a moto server per test file, and `run()`,
 * which does what the runner does (prechecks, before-state, execute, after-state) and checks that
 * nothing secret came out and that captured keys are the executor's declared state fields.
 */
import { fileURLToPath } from "node:url";
import * as ec2 from "@aws-sdk/client-ec2";
import { expect } from "vitest";
import { loadActions } from "../../src/config/actions.js";
import type { ActionDef } from "../../src/core/types.js";
import { AwsExecutor } from "../../src/runner/executors/aws/index.js";
import type { ExecutionContext, ExecutorResult } from "../../src/runner/executors/types.js";
import {
  type Clients,
  clients,
  configureMoto,
  type Moto,
  REGION,
  startMoto,
  TEST_CREDENTIALS,
} from "./moto.js";

export const registry = new Map(
  loadActions(fileURLToPath(new URL("../../actions", import.meta.url)), {
    profile: "strict",
    strictKeys: false,
  }).actions.map((a) => [a.name, a]),
);
export const AWS_NAMES = [...registry.values()].filter((a) => a.tags.includes("aws")).map((a) => a.name);

export function def(name: string): ActionDef {
  const a = registry.get(name);
  if (a === undefined) throw new Error(`no action ${name}`);
  return a;
}

export const credential = {
  type: "aws",
  payload: {
    access_key_id: TEST_CREDENTIALS.accessKeyId,
    secret_access_key: TEST_CREDENTIALS.secretAccessKey,
    session_token: "moto-session-token-never-shown",
  },
};
const SECRETS = [TEST_CREDENTIALS.secretAccessKey, "moto-session-token-never-shown"];

export interface MotoEnv {
  moto: Moto;
  aws: Clients;
  exec: AwsExecutor;
}

let current: MotoEnv | null = null;

function env(): MotoEnv {
  if (current === null) throw new Error("setupMoto() has not run");
  return current;
}

/** Starts moto for this test file (call from `beforeAll`). */
export async function setupMoto(): Promise<MotoEnv> {
  const moto = await startMoto();
  await configureMoto(moto.endpoint);
  current = {
    moto,
    aws: clients(moto.endpoint),
    exec: new AwsExecutor({ endpoint: moto.endpoint, maxAttempts: 1 }),
  };
  return current;
}

export async function teardownMoto(): Promise<void> {
  current?.aws.destroy();
  await current?.moto.stop();
  current = null;
}

export function ctx(
  action: string,
  params: Record<string, unknown>,
  extra: Partial<ExecutionContext> = {},
): ExecutionContext {
  return {
    action: def(action),
    target: null,
    targetId: "test-target",
    params: { region: REGION, ...params },
    credential,
    timeoutMs: 20_000,
    ...extra,
  };
}

export function noSecrets(value: unknown, extra: string[] = []): void {
  const text = JSON.stringify(value);
  for (const s of [...SECRETS, ...extra]) expect(text).not.toContain(s);
}

/** What the runner does: prechecks, before-state, execute, after-state. */
export async function run(
  action: string,
  params: Record<string, unknown>,
  extra: Partial<ExecutionContext> = {},
) {
  const { exec } = env();
  const c = ctx(action, params, extra);
  const prechecks = await exec.runPrechecks(c);
  const before = await exec.captureState(c);
  const result = await exec.execute(c);
  const after = result.status === "success" ? await exec.captureState(c) : null;
  const all = { prechecks, before, result, after };
  noSecrets(all);
  // Captured keys are the executor's declared ones, which carry the action's state_fields names.
  for (const k of [...Object.keys(before), ...Object.keys(after ?? {})]) {
    expect(exec.stateFields(action)).toContain(k);
  }
  return all;
}

export function check(prechecks: { name: string; passed: boolean }[], name: string): boolean | undefined {
  return prechecks.find((p) => p.name === name)?.passed;
}

export function expectSuccess(r: ExecutorResult): void {
  expect(r.error).toBeNull();
  expect(r.status).toBe("success");
}

export async function newInstance(): Promise<string> {
  const r = await env().aws.ec2.send(
    new ec2.RunInstancesCommand({
      ImageId: "ami-12c6146b",
      MinCount: 1,
      MaxCount: 1,
      InstanceType: "t3.micro",
    }),
  );
  const id = r.Instances?.[0]?.InstanceId;
  if (id === undefined) throw new Error("RunInstances returned no instance");
  return id;
}

export async function instanceState(id: string): Promise<string | undefined> {
  const r = await env().aws.ec2.send(new ec2.DescribeInstancesCommand({ InstanceIds: [id] }));
  return r.Reservations?.[0]?.Instances?.[0]?.State?.Name;
}
