/**
 * `agent-safe.yaml`: the project configuration (DESIGN.md §2). Every key is optional; without the
 * file, every command uses the 0.9.0 defaults. Unknown keys are errors: this is our own format.
 */
import * as z from "zod";
import { PROFILES } from "../core/types.js";
import { enumOf, laxBool, laxFloat, laxInt, str } from "./coerce.js";

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

export const auditSchema = z.strictObject({
  path: str().default("./audit.jsonl"),
  fsync: enumOf(["always", "batch", "never"] as const).default("batch"),
  checkpoint_every_events: laxInt({ min: 1 }).default(1000),
  checkpoint_every_seconds: positive().default(60),
  rotate_max_bytes: laxInt({ min: 0 }).nullable().default(null),
  rotate_max_age_seconds: positive().nullable().default(null),
  redaction_key: str()
    .nullable()
    .default(null)
    .describe("A file holding the HMAC key for redaction, or an $ENV reference."),
  shippers: z.array(z.record(z.string(), z.unknown())).default([]),
});

export const keysSchema = z.strictObject({
  dir: str().default(".agent-safe/keys").describe("Where `init` and `keys rotate` keep key files."),
  issuer: str().default("agent-safe"),
  algorithm: enumOf(["EdDSA", "HS256"] as const).default("EdDSA"),
  hmac_secret: str()
    .nullable()
    .default(null)
    .describe("HS256 only: a file holding the secret, or an $ENV reference."),
});

export const projectSchema = z.strictObject({
  profile: enumOf(PROFILES).default("strict"),
  actions: str().default("./actions"),
  policies: str().default("./policies"),
  inventory: str().nullable().default("./inventory.yaml"),
  state: str()
    .default("sqlite:.agent-safe/state.db")
    .describe("memory | sqlite:<path> | redis://… | postgres://…"),
  audit: auditSchema.nullable().default(null),
  keys: keysSchema.nullable().default(null),
  rate_limit: rateLimitSchema.nullable().default(null),
  cumulative_risk: cumulativeRiskSchema.nullable().default(null),
  approvals: z.record(z.string(), z.unknown()).nullable().default(null),
  credentials: z.record(z.string(), z.unknown()).nullable().default(null),
  runner: z.record(z.string(), z.unknown()).nullable().default(null),
  server: z.record(z.string(), z.unknown()).nullable().default(null),
  world_cache: laxBool()
    .default(true)
    .describe("Cache the compiled world in .agent-safe/cache for fast start-up."),
});

export type ProjectFile = z.output<typeof projectSchema>;
