/**
 * `POST /v1/execute`: the runner over HTTP. The ticket is redeemed here, once, by the deployment
 * (credentials come from its vault, the executor's settings from its `runner:` section; a client
 * may only choose an executor the deployment lists). The bearer must be the agent the ticket was
 * issued to: a ticket that leaked to another agent does not run. Every step is in the audit log.
 */
import { defaultRunnerSettings } from "../../config/runner-schema.js";
import { createExecutor, type Executor, type ExecutorType } from "../../runner/index.js";
import { executeTicket } from "../../sdk/execution.js";
import { badRequest, HttpError } from "../errors.js";
import type { RouteGroup } from "../route.js";

export const executeRoutes: RouteGroup = (ctx) => {
  const settings = ctx.project.settings.runner ?? defaultRunnerSettings();
  const executors = new Map<ExecutorType, Promise<Executor>>();
  const executorFor = (type: ExecutorType): Promise<Executor> => {
    let e = executors.get(type);
    if (e === undefined) {
      e = createExecutor(type, settings);
      executors.set(type, e);
    }
    return e;
  };
  return [
    {
      method: "POST",
      url: "/v1/execute",
      operationId: "execute",
      summary: "Run the action of an execution ticket issued to the caller",
      description:
        "Redeems the ticket (once, across replicas), obtains scoped credentials from the vault when the " +
        "action declares them, runs the prechecks, captures the state before and after, executes with the " +
        "deployment's timeout, and records every step. A refused or failed run is a result (`status`, " +
        "`stage`, `error`), audited like a success.",
      tags: ["execution"],
      auth: "identity",
      body: "ExecuteRequest",
      responses: {
        200: { description: "The execution record", schema: "ExecutionResult" },
        400: { description: "Malformed body, or an executor this deployment does not run", schema: "Error" },
        401: { description: "No valid identity token", schema: "Error" },
        403: { description: "The ticket was issued to another agent", schema: "Error" },
        501: { description: "No ticket keys or no audit log configured", schema: "Error" },
        503: { description: "The execution could not be recorded in the audit log", schema: "Error" },
      },
      handler: async ({ body, identity }) => {
        const { token, executor, params } = body as {
          token: string;
          executor?: ExecutorType;
          params?: Record<string, unknown>;
        };
        const type = executor ?? settings.executor;
        if (!settings.executors.includes(type))
          throw badRequest(
            `executor '${type}' is not one this deployment runs (runner.executors: ${settings.executors.join(", ")})`,
          );
        const tickets = ctx.composed.tickets;
        if (tickets === null || ctx.composed.audit === null)
          throw new HttpError(501, "not_configured", "Execution needs ticket keys and the audit log");
        // Look (without consuming) whose ticket it is; the runner checks everything else.
        const look = await tickets.validator.verify(token);
        if (look.ticket !== null && look.ticket.caller !== identity?.agent_id)
          throw new HttpError(403, "forbidden", "The ticket was issued to another agent");
        const result = await executeTicket(ctx.composed, () => ctx.reloader.current(), token, {
          executor: await executorFor(type),
          ...(params !== undefined ? { params } : {}),
          timeoutMs: settings.timeout_seconds * 1000,
        });
        return { body: result };
      },
    },
  ];
};
