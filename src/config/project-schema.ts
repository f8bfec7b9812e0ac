/**
 * `agent-safe.yaml`: the project configuration (DESIGN.md §2). Every key is optional; without the
 * file, every command uses the 0.9.0 defaults. Unknown keys are errors: this is our own format.
 */
import * as z from "zod";
import { PROFILES } from "../core/types.js";
import { approvalsSchema } from "./approvals-schema.js";
import { enumOf, laxBool, laxFloat, laxInt, str } from "./coerce.js";
import { credentialsSchema } from "./credentials-schema.js";
import { runnerSchema } from "./runner-schema.js";
import { serverSettingsSchema } from "./server-schema.js";

const positive = () => laxFloat().refine((n) => n > 0, "must be greater than 0");

export const rateLimitSchema = z.strictObject({
  max_requests: laxInt({ min: 1 }).default(100),
  window_seconds: positive().default(60),
  circuit_breaker_threshold: laxInt({ min: 0 })
    .default(0)
    .describe("Denies that open the breaker; 0 disables it."),
  circuit_breaker_window_seconds: positive().default(60),
  circuit_breaker_cooldown_seconds: positive().default(300),
});

export const cumulativeRiskSchema = z.strictObject({
  window_seconds: positive().default(3600),
  risk_scores: z
    .record(z.string(), laxInt())
    .default({ low: 1, medium: 5, high: 15, critical: 50 })
    .describe("A partial map replaces the whole default; missing classes score 0."),
  escalation_threshold: laxInt({ min: 1 }).default(30),
  deny_threshold: laxInt({ min: 1 }).default(75),
});

export const stateOptionsSchema = z.strictObject({
  max_callers: laxInt({ min: 1 })
    .nullable()
    .default(null)
    .describe(
      "Cap on live per-caller keys for each kind of guard state; beyond it new callers are denied. " +
        "Default 100,000 in memory, 1,000,000 in SQLite and Redis.",
    ),
  max_nonces: laxInt({ min: 1 })
    .nullable()
    .default(null)
    .describe("memory only: cap on live ticket nonces (default 1,000,000)."),
  key_prefix: str().default("agent-safe:").describe("Redis: namespace of every key."),
  timeout_ms: positive()
    .nullable()
    .default(null)
    .describe("Redis command timeout (default 1000) or SQLite busy timeout (default 2000), in ms."),
});

const shipperCommon = {
  name: str()
    .nullable()
    .default(null)
    .describe("Names the cursor file; default derived from the destination."),
  queue_size: laxInt({ min: 1 }).default(10000),
  retry_max_seconds: positive().default(5),
};

export const auditShipperSchema = z.discriminatedUnion("type", [
  z.strictObject({ type: z.literal("filesystem"), path: str(), ...shipperCommon }),
  z.strictObject({
    type: z.literal("webhook"),
    url: str().describe("http(s) URL; $ENV references are expanded when used."),
    headers: z.record(z.string(), str()).default({}),
    hmac_secret: str()
      .nullable()
      .default(null)
      .describe("Key of the X-Agent-Safe-Signature HMAC: a file, or an $ENV reference."),
    timeout_seconds: positive().default(10),
    ...shipperCommon,
  }),
  z.strictObject({
    type: z.literal("s3"),
    bucket: str(),
    prefix: str().default("audit-logs/"),
    region: str().nullable().default(null),
    endpoint: str().nullable().default(null),
    force_path_style: laxBool().default(false),
    object_lock_mode: enumOf(["GOVERNANCE", "COMPLIANCE"] as const)
      .nullable()
      .default(null),
    object_lock_retain_days: laxInt({ min: 1 }).nullable().default(null),
    ...shipperCommon,
  }),
]);

export const auditSchema = z.strictObject({
  enabled: laxBool().default(true).describe("Write every decision to the audit log (default true)."),
  path: str().default("./audit.jsonl"),
  fsync: enumOf(["always", "batch", "never"] as const).default("batch"),
  chain_id: str()
    .default("main")
    .describe("This writer's chain; each replica writes its own log with its own chain id."),
  checkpoint_every_events: laxInt({ min: 0 }).default(1000),
  checkpoint_every_seconds: laxFloat()
    .refine((n) => n >= 0, "must be 0 or more")
    .default(60),
  checkpoints_path: str().nullable().default(null).describe("Default <path>.checkpoints.jsonl."),
  rotate_max_bytes: laxInt({ min: 0 }).nullable().default(null),
  rotate_max_age_seconds: positive().nullable().default(null),
  redaction_key: str()
    .nullable()
    .default(null)
    .describe(
      "A file holding the HMAC key for redaction (default <keys.dir>/redaction.key), or an $ENV reference.",
    ),
  shippers: z.array(auditShipperSchema).default([]),
});

export const keysSchema = z.strictObject({
  dir: str().default(".agent-safe/keys").describe("Where `init` and `keys rotate` keep key files."),
  issuer: str().default("agent-safe"),
  algorithm: enumOf(["EdDSA", "HS256"] as const).default("EdDSA"),
  hmac_secret: str()
    .nullable()
    .default(null)
    .describe("HS256 only: a file holding the secret, or an $ENV reference."),
  max_delegation_depth: laxInt({ min: 1, max: 100 })
    .default(5)
    .describe("The deepest delegation chain accepted; callers cannot raise it."),
  identity_ttl_seconds: laxInt({ min: 1 }).default(3600).describe("Default lifetime of identity tokens."),
  ticket_ttl_seconds: laxInt({ min: 1 }).default(300).describe("Lifetime of execution tickets."),
  leeway_seconds: laxInt({ min: 0, max: 300 })
    .default(0)
    .describe("Clock tolerance for exp/iat/nbf between replicas (0.9.0: 0)."),
});

export const projectSchema = z.strictObject({
  profile: enumOf(PROFILES).default("strict"),
  actions: str().default("./actions"),
  policies: str().default("./policies"),
  inventory: str().nullable().default("./inventory.yaml"),
  state: str()
    .default("sqlite:.agent-safe/state.db")
    .describe("memory | sqlite:<path> | redis://… | postgres://…"),
  state_options: stateOptionsSchema.nullable().default(null),
  audit: auditSchema.nullable().default(null),
  keys: keysSchema.nullable().default(null),
  rate_limit: rateLimitSchema.nullable().default(null),
  cumulative_risk: cumulativeRiskSchema.nullable().default(null),
  approvals: approvalsSchema.nullable().default(null),
  credentials: credentialsSchema
    .nullable()
    .default(null)
    .describe("The vault that issues credentials to executions (docs/credentials.md)."),
  runner: runnerSchema
    .nullable()
    .default(null)
    .describe("The executors this deployment runs and how they reach targets (docs/runner.md)."),
  server: serverSettingsSchema.nullable().default(null),
  world_cache: laxBool()
    .default(true)
    .describe("Cache the compiled world in .agent-safe/cache for fast start-up."),
});

export type ProjectFile = z.output<typeof projectSchema>;
