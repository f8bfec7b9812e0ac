/** EC2: start, stop, reboot and terminate one instance. */
import type { Instance } from "@aws-sdk/client-ec2";
import { apiError } from "./errors.js";
import { iso, jsonSafe } from "./output.js";
import type { ParamReader } from "./params.js";
import type { AwsSession } from "./session.js";
import { type ActionSpec, type AwsAction, defineAction, type PrecheckSpec } from "./spec.js";

interface Ec2Params {
  instanceId: string;
  region: string;
}

type Verb = "start" | "stop" | "reboot" | "terminate";

const INSTANCE_ID = /^i-[0-9a-f]{8,32}$/;

function parse(r: ParamReader): Ec2Params {
  return {
    instanceId: r.str("instance_id", { max: 40, pattern: INSTANCE_ID, what: "instance id (i-…)" }),
    region: r.region(),
  };
}

async function describe(s: AwsSession, id: string): Promise<Instance> {
  return s.memo(`ec2:instance:${id}`, async () => {
    const { client, m } = await s.ec2();
    const res = await s.call("ec2:DescribeInstances", (abortSignal) =>
      client.send(new m.DescribeInstancesCommand({ InstanceIds: [id] }), { abortSignal }),
    );
    const inst = res.Reservations?.flatMap((r) => r.Instances ?? []).find((i) => i.InstanceId === id);
    if (inst === undefined)
      throw apiError("InvalidInstanceID.NotFound", `The instance ID '${id}' does not exist`);
    return inst;
  });
}

async function state(s: AwsSession, p: Ec2Params): Promise<Record<string, unknown>> {
  const inst = await describe(s, p.instanceId);
  const out: Record<string, unknown> = {
    state: inst.State?.Name ?? null,
    instance_type: inst.InstanceType ?? null,
  };
  const launched = iso(inst.LaunchTime);
  if (launched !== undefined) out["launch_time"] = launched;
  return out;
}

/** instance-exists: the instance is there and in the state the verb needs. */
function instanceExists(verb: Verb): PrecheckSpec<Ec2Params> {
  const wanted: Record<Verb, string | null> = {
    start: "stopped",
    stop: "running",
    reboot: "running",
    terminate: null,
  };
  return {
    calls: ["ec2:DescribeInstances"],
    async run(s, p) {
      const inst = await describe(s, p.instanceId);
      const name = inst.State?.Name ?? "unknown";
      const want = wanted[verb];
      if (want === null) {
        const gone = name === "terminated" || name === "shutting-down";
        return {
          passed: !gone,
          message: gone
            ? `Instance ${p.instanceId} is already ${name}`
            : `Instance ${p.instanceId} is ${name}`,
        };
      }
      return {
        passed: name === want,
        message:
          name === want
            ? `Instance ${p.instanceId} is ${name}`
            : `Instance ${p.instanceId} is ${name}, not ${want}`,
      };
    },
  };
}

const terminationProtection: PrecheckSpec<Ec2Params> = {
  calls: ["ec2:DescribeInstanceAttribute"],
  async run(s, p) {
    const { client, m } = await s.ec2();
    const res = await s.call("ec2:DescribeInstanceAttribute", (abortSignal) =>
      client.send(
        new m.DescribeInstanceAttributeCommand({
          InstanceId: p.instanceId,
          Attribute: "disableApiTermination",
        }),
        { abortSignal },
      ),
    );
    const on = res.DisableApiTermination?.Value === true;
    return {
      passed: !on,
      message: on
        ? `Termination protection is on for ${p.instanceId}: AWS will refuse to terminate it`
        : `Termination protection is off for ${p.instanceId}`,
    };
  },
};

const volumesAtRisk: PrecheckSpec<Ec2Params> = {
  calls: ["ec2:DescribeInstances"],
  async run(s, p) {
    const inst = await describe(s, p.instanceId);
    const doomed = (inst.BlockDeviceMappings ?? [])
      .filter((b) => b.Ebs?.DeleteOnTermination === true)
      .map((b) => `${b.Ebs?.VolumeId ?? "?"} (${b.DeviceName ?? "?"})`);
    return {
      passed: true,
      message:
        doomed.length === 0
          ? "No attached EBS volume is deleted with the instance"
          : `Deleted with the instance: ${doomed.join(", ")}`,
    };
  },
};

interface StateChange {
  InstanceId?: string;
  PreviousState?: { Name?: string };
  CurrentState?: { Name?: string };
}

function changes(list: StateChange[] | undefined): unknown[] {
  return (list ?? []).map((c) => ({
    InstanceId: c.InstanceId,
    PreviousState: c.PreviousState?.Name,
    CurrentState: c.CurrentState?.Name,
  }));
}

function ec2Action(verb: Verb): AwsAction {
  const op = {
    start: "StartInstances",
    stop: "StopInstances",
    reboot: "RebootInstances",
    terminate: "TerminateInstances",
  }[verb];
  const prechecks: ActionSpec<Ec2Params>["prechecks"] = { "instance-exists": instanceExists(verb) };
  if (verb === "terminate") {
    prechecks["termination-protection"] = terminationProtection;
    prechecks["volumes-at-risk"] = volumesAtRisk;
  }
  return defineAction<Ec2Params>({
    service: "ec2",
    operation: `ec2:${op}`,
    stateOperation: "ec2:DescribeInstances",
    stateFields: ["state", "instance_type", "launch_time"],
    parse,
    request: (p) => ({ InstanceIds: [p.instanceId] }),
    stateRequest: (p) => ({ InstanceIds: [p.instanceId] }),
    async execute(s, p) {
      const { client, m } = await s.ec2();
      const input = { InstanceIds: [p.instanceId] };
      const name = `ec2:${op}`;
      switch (verb) {
        case "start": {
          const r = await s.call(name, (a) =>
            client.send(new m.StartInstancesCommand(input), { abortSignal: a }),
          );
          return { output: { StartingInstances: changes(r.StartingInstances) } };
        }
        case "stop": {
          const r = await s.call(name, (a) =>
            client.send(new m.StopInstancesCommand(input), { abortSignal: a }),
          );
          return { output: { StoppingInstances: changes(r.StoppingInstances) } };
        }
        case "reboot": {
          await s.call(name, (a) => client.send(new m.RebootInstancesCommand(input), { abortSignal: a }));
          return { output: { RebootRequested: [p.instanceId] } };
        }
        case "terminate": {
          const r = await s.call(name, (a) =>
            client.send(new m.TerminateInstancesCommand(input), { abortSignal: a }),
          );
          return { output: jsonSafe({ TerminatingInstances: changes(r.TerminatingInstances) }) };
        }
      }
    },
    state,
    prechecks,
  });
}

export const EC2_ACTIONS: Record<string, AwsAction> = {
  "ec2-start-instance": ec2Action("start"),
  "ec2-stop-instance": ec2Action("stop"),
  "ec2-reboot-instance": ec2Action("reboot"),
  "ec2-terminate-instance": ec2Action("terminate"),
};
