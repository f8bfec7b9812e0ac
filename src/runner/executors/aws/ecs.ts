/** ECS: scale or update a service, stop a task. */
import type { Service, Task } from "@aws-sdk/client-ecs";
import { AwsExecutorError, apiError } from "./errors.js";
import { defined, iso } from "./output.js";
import { lastSegment } from "./params.js";
import type { AwsSession } from "./session.js";
import { type AwsAction, defineAction, type PrecheckEnv, type PrecheckSpec } from "./spec.js";

/** Names and ARNs of clusters, services and tasks. */
const ECS_ID = /^[A-Za-z0-9][A-Za-z0-9:/_.-]*$/;
const ref = { max: 512, pattern: ECS_ID, what: "name or ARN" };

interface ServiceParams {
  cluster: string;
  service: string;
  region: string;
  desiredCount?: number;
  forceNewDeployment?: boolean;
}

interface TaskParams {
  cluster: string;
  task: string;
  reason: string;
  region: string;
}

const DEFAULT_STOP_REASON = "Stopped by Agent-Safe";

async function describeService(s: AwsSession, cluster: string, service: string): Promise<Service> {
  return s.memo(`ecs:service:${cluster}:${service}`, async () => {
    const { client, m } = await s.ecs();
    const res = await s.call("ecs:DescribeServices", (abortSignal) =>
      client.send(new m.DescribeServicesCommand({ cluster, services: [service] }), { abortSignal }),
    );
    const svc = res.services?.[0];
    if (svc === undefined) {
      const why = res.failures?.[0]?.reason ?? "MISSING";
      throw apiError(why, `service '${service}' not found in cluster '${cluster}'`);
    }
    return svc;
  });
}

async function describeTask(s: AwsSession, cluster: string, task: string): Promise<Task> {
  return s.memo(`ecs:task:${cluster}:${task}`, async () => {
    const { client, m } = await s.ecs();
    const res = await s.call("ecs:DescribeTasks", (abortSignal) =>
      client.send(new m.DescribeTasksCommand({ cluster, tasks: [task] }), { abortSignal }),
    );
    const t = res.tasks?.[0];
    if (t === undefined) {
      const why = res.failures?.[0]?.reason ?? "MISSING";
      throw apiError(why, `task '${task}' not found in cluster '${cluster}'`);
    }
    return t;
  });
}

function serviceSummary(svc: Service | undefined): Record<string, unknown> {
  return defined({
    serviceName: svc?.serviceName,
    status: svc?.status,
    desiredCount: svc?.desiredCount,
    runningCount: svc?.runningCount,
    pendingCount: svc?.pendingCount,
    taskDefinition: svc?.taskDefinition,
    deployments: svc?.deployments?.map((d) =>
      defined({ id: d.id, status: d.status, desiredCount: d.desiredCount, rolloutState: d.rolloutState }),
    ),
  });
}

async function serviceState(s: AwsSession, p: ServiceParams): Promise<Record<string, unknown>> {
  const svc = await describeService(s, p.cluster, p.service);
  return defined({
    desired_count: svc.desiredCount,
    running_count: svc.runningCount,
    pending_count: svc.pendingCount,
    status: svc.status,
    task_definition: svc.taskDefinition,
  });
}

const serviceExists: PrecheckSpec<ServiceParams> = {
  calls: ["ecs:DescribeServices"],
  async run(s, p) {
    const svc = await describeService(s, p.cluster, p.service);
    const ok = svc.status === "ACTIVE";
    return {
      passed: ok,
      message: `Service ${p.service} in cluster ${p.cluster} is ${svc.status ?? "in an unknown state"}`,
    };
  },
};

function serviceAction(kind: "scale" | "update"): AwsAction {
  return defineAction<ServiceParams>({
    service: "ecs",
    operation: "ecs:UpdateService",
    stateOperation: "ecs:DescribeServices",
    stateFields: ["desired_count", "running_count", "pending_count", "status", "task_definition"],
    parse(r) {
      const base = { cluster: r.str("cluster", ref), service: r.str("service", ref), region: r.region() };
      if (kind === "scale") return { ...base, desiredCount: r.int("desired_count", 0, 100_000) };
      const desiredCount = r.optInt("desired_count", 0, 100_000);
      const forceNewDeployment = r.optBool("force_new_deployment");
      if (desiredCount === undefined && forceNewDeployment !== true) {
        throw new AwsExecutorError(
          "INVALID_PARAMS",
          "Nothing to update: pass desired_count and/or force_new_deployment: true",
        );
      }
      return {
        ...base,
        ...(desiredCount !== undefined ? { desiredCount } : {}),
        ...(forceNewDeployment === true ? { forceNewDeployment } : {}),
      };
    },
    request: (p) =>
      defined({
        cluster: p.cluster,
        service: p.service,
        desiredCount: p.desiredCount,
        forceNewDeployment: p.forceNewDeployment,
      }),
    stateRequest: (p) => ({ cluster: p.cluster, services: [p.service] }),
    async execute(s, p) {
      const { client, m } = await s.ecs();
      const input = {
        cluster: p.cluster,
        service: p.service,
        ...(p.desiredCount !== undefined ? { desiredCount: p.desiredCount } : {}),
        ...(p.forceNewDeployment === true ? { forceNewDeployment: true } : {}),
      };
      const res = await s.call("ecs:UpdateService", (abortSignal) =>
        client.send(new m.UpdateServiceCommand(input), { abortSignal }),
      );
      return { output: { service: serviceSummary(res.service) } };
    },
    state: serviceState,
    prechecks: { "service-exists": serviceExists },
  });
}

const taskExists: PrecheckSpec<TaskParams> = {
  calls: ["ecs:DescribeTasks"],
  async run(s, p) {
    const t = await describeTask(s, p.cluster, p.task);
    const stopped = t.lastStatus === "STOPPED" || t.desiredStatus === "STOPPED";
    return {
      passed: !stopped,
      message: stopped
        ? `Task ${p.task} is already stopped or stopping (${t.lastStatus ?? "?"})`
        : `Task ${p.task} is ${t.lastStatus ?? "in an unknown state"}`,
    };
  },
};

/**
 * task-in-target: a service target covers only its own tasks. The task's `group` must be
 * `service:<name>`, or its `startedBy` one of the service's deployment ids (`ecs-svc/…`).
 */
const taskInTarget: PrecheckSpec<TaskParams> = {
  calls: ["ecs:DescribeTasks", "ecs:DescribeServices (only when the task's group does not name the service)"],
  async run(s, p, env: PrecheckEnv) {
    const target = env.target;
    if (target === null) return { passed: true, message: "No inventory target: nothing to check" };
    if (target.type === "aws-ecs-task") {
      const label = target.labels["task"];
      if (label === undefined) return { passed: true, message: `The target ${target.id} is the task itself` };
      const same = lastSegment(label) === lastSegment(p.task);
      return {
        passed: same,
        message: same
          ? `Task ${p.task} is the target ${target.id}`
          : `Task ${p.task} is not the target ${target.id} (task ${label})`,
      };
    }
    if (target.type !== "aws-ecs-service") {
      return { passed: false, message: `A target of type '${target.type}' cannot contain an ECS task` };
    }
    const wanted = target.labels["service"];
    if (wanted === undefined || wanted === "") {
      return {
        passed: false,
        message: `Target ${target.id} has no 'service' label to check the task against`,
      };
    }
    const cluster = target.labels["cluster"];
    if (cluster !== undefined && lastSegment(cluster) !== lastSegment(p.cluster)) {
      return { passed: false, message: `Cluster ${p.cluster} is not the target's cluster ${cluster}` };
    }
    const name = lastSegment(wanted);
    const t = await describeTask(s, p.cluster, p.task);
    if (t.group === `service:${name}`) {
      return { passed: true, message: `Task ${p.task} belongs to service ${name} (group ${t.group})` };
    }
    if (t.startedBy?.startsWith("ecs-svc/") === true) {
      const svc = await describeService(s, p.cluster, wanted);
      if ((svc.deployments ?? []).some((d) => d.id === t.startedBy)) {
        return { passed: true, message: `Task ${p.task} was started by a deployment of service ${name}` };
      }
    }
    return {
      passed: false,
      message: `Task ${p.task} does not belong to service ${name} (group ${t.group ?? "none"}, startedBy ${t.startedBy ?? "none"})`,
    };
  },
};

const stopTask = defineAction<TaskParams>({
  service: "ecs",
  operation: "ecs:StopTask",
  stateOperation: "ecs:DescribeTasks",
  stateFields: [
    "last_status",
    "desired_status",
    "group",
    "started_by",
    "stopped_reason",
    "started_at",
    "stopped_at",
  ],
  parse: (r) => ({
    cluster: r.str("cluster", ref),
    task: r.str("task", ref),
    reason: r.optStr("reason", { max: 255 }) ?? DEFAULT_STOP_REASON,
    region: r.region(),
  }),
  request: (p) => ({ cluster: p.cluster, task: p.task, reason: p.reason }),
  stateRequest: (p) => ({ cluster: p.cluster, tasks: [p.task] }),
  async execute(s, p) {
    const { client, m } = await s.ecs();
    const res = await s.call("ecs:StopTask", (abortSignal) =>
      client.send(new m.StopTaskCommand({ cluster: p.cluster, task: p.task, reason: p.reason }), {
        abortSignal,
      }),
    );
    const t = res.task;
    return {
      output: {
        task: defined({
          taskArn: t?.taskArn,
          group: t?.group,
          lastStatus: t?.lastStatus,
          desiredStatus: t?.desiredStatus,
          stoppedReason: t?.stoppedReason,
        }),
      },
    };
  },
  async state(s, p) {
    const t = await describeTask(s, p.cluster, p.task);
    return defined({
      last_status: t.lastStatus,
      desired_status: t.desiredStatus,
      group: t.group,
      started_by: t.startedBy,
      stopped_reason: t.stoppedReason === "" ? undefined : t.stoppedReason,
      started_at: iso(t.startedAt),
      stopped_at: iso(t.stoppedAt),
    });
  },
  prechecks: { "task-exists": taskExists, "task-in-target": taskInTarget },
});

export const ECS_ACTIONS: Record<string, AwsAction> = {
  "ecs-scale-service": serviceAction("scale"),
  "ecs-update-service": serviceAction("update"),
  "ecs-stop-task": stopTask,
};
