/**
 * Admin routes, with the admin token (`serve --admin-token-file`); without one configured they
 * do not exist (404).
 *
 * - `POST /v1/admin/reload`: reload the policy (actions, policies, inventory) without a restart,
 *   as SIGHUP does. A broken policy keeps the old one: 422 with every problem.
 * - `GET|POST /v1/admin/kill-switch`: show, engage or release the kill switch in the shared state
 *   store, as `agent-safe kill-switch` does: with Redis every replica denies on its next request.
 */

import type { z } from "zod";
import { KillSwitch, type KillSwitchEntry } from "../../guards/kill-switch.js";
import type { SidecarContext } from "../context.js";
import { HttpError } from "../errors.js";
import type { RouteGroup } from "../route.js";
import type { killSwitchRequestSchema } from "../schemas.js";

export const adminRoutes: RouteGroup = (ctx) => [
  {
    method: "POST",
    url: "/v1/admin/reload",
    operationId: "reload",
    summary: "Reload the policy",
    description:
      "Loads and validates actions, policies and inventory aside, then swaps them in atomically. " +
      "agent-safe.yaml itself (keys, state, audit) is read only at start.",
    tags: ["admin"],
    auth: "admin",
    responses: {
      200: { description: "Reloaded", schema: "Reload" },
      401: { description: "No admin token", schema: "Error" },
      403: { description: "Wrong admin token", schema: "Error" },
      422: { description: "The new policy does not load; the old one stays", schema: "Error" },
    },
    handler: async () => {
      const r = await ctx.reload("admin");
      if (!r.ok)
        throw new HttpError(
          422,
          "reload_failed",
          `The policy did not reload; the old one stays:\n${r.error}`,
        );
      return {
        body: {
          reloaded: true,
          policy_revision: r.revision,
          previous_revision: r.previous,
          warnings: r.warnings,
        },
      };
    },
  },
  {
    method: "GET",
    url: "/v1/admin/kill-switch",
    operationId: "killSwitchStatus",
    summary: "Show the kill switch",
    tags: ["admin"],
    auth: "admin",
    responses: {
      200: { description: "Every engaged switch", schema: "KillSwitchStatus" },
      401: { description: "No admin token", schema: "Error" },
      403: { description: "Wrong admin token", schema: "Error" },
    },
    handler: async () => ({ body: await status(ctx), headers: { "cache-control": "no-store" } }),
  },
  {
    method: "POST",
    url: "/v1/admin/kill-switch",
    operationId: "killSwitch",
    summary: "Engage or release the kill switch",
    description:
      "`mode: on` denies every request (or, with `caller`, one agent and its delegates) in every process " +
      "and replica sharing the state store, from their next request; `mode: off` releases it.",
    tags: ["admin"],
    auth: "admin",
    body: "KillSwitchRequest",
    responses: {
      200: { description: "The switches after the change", schema: "KillSwitchStatus" },
      400: { description: "Malformed body", schema: "Error" },
      401: { description: "No admin token", schema: "Error" },
      403: { description: "Wrong admin token", schema: "Error" },
      503: { description: "The state store is unavailable", schema: "Error" },
    },
    handler: async ({ body, request }) => {
      const b = body as z.output<typeof killSwitchRequestSchema>;
      const ks = new KillSwitch(ctx.composed.state.flags);
      await storeCall(async () => {
        if (b.mode === "on") {
          await ks.engage({
            caller: b.caller ?? null,
            reason: b.reason ?? null,
            by: `admin-api@${request.ip}`,
            ttlMs: b.ttl_seconds == null ? null : b.ttl_seconds * 1000,
          });
        } else {
          await ks.release(b.caller ?? null);
        }
      });
      ctx.log.warn(
        { mode: b.mode, caller: b.caller ?? null, reason: b.reason ?? null },
        "kill switch changed",
      );
      return { body: await status(ctx) };
    },
  },
];

async function status(ctx: SidecarContext) {
  const entries = await storeCall(() => new KillSwitch(ctx.composed.state.flags).status());
  const global = entries.find((e) => e.caller === null) ?? null;
  return {
    engaged: entries.length > 0,
    global: global === null ? null : entry(global),
    callers: entries.filter((e) => e.caller !== null).map(entry),
    state: ctx.composed.state.description,
  };
}

function entry(e: KillSwitchEntry) {
  return {
    caller: e.caller,
    reason: e.reason,
    engaged_at: e.engagedAt,
    engaged_by: e.engagedBy,
    expires_at: e.expiresAtMs === null ? null : new Date(e.expiresAtMs).toISOString(),
  };
}

async function storeCall<T>(f: () => Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (err) {
    throw new HttpError(503, "state_unavailable", `State store unavailable: ${(err as Error).message}`);
  }
}
