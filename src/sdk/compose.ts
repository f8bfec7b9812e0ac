/**
 * The composition root: builds the pipeline's parts from a project's configuration. Only here
 * do the capabilities meet; each keeps its own small public face.
 */
import type { OpenApprovalsOptions } from "../approvals/open.js";
import type { ApprovalService } from "../approvals/service.js";
import type { OpenProject } from "../config/open-project.js";
import type { ProjectConfig } from "../config/project.js";
import type { World } from "../core/world.js";
import { Guards } from "../guards/guards.js";
import { openProjectState } from "../guards/open.js";
import { type IdentityServices, identityServices } from "../identity/index.js";
import { projectTokenKeys, type TokenKeys } from "../jwt/config.js";
import type { AuditSink, PipelineParts } from "../pdp/pipeline.js";
import type { CredentialProvider } from "../runner/runner.js";
import type { StateBackend } from "../state/interfaces.js";
import { type TicketServices, ticketServices } from "../tickets/index.js";

export interface ComposeOptions {
  /** Write decisions to the project's audit log (default true). */
  audit?: boolean;
  clock?: () => number;
  /**
   * Approvals: whether callers are in-process and trusted with identity objects (the SDK: true;
   * the command line and the sidecar: false), and how often a long-running process expires due
   * requests. `false` turns approvals off (REQUIRE_APPROVAL then files no request).
   */
  approvals?: { trusted: boolean; sweepIntervalMs?: number } | false;
  /** Where problems that do not change a decision are reported (default: process warnings). */
  onWarning?: (message: string) => void;
}

export interface Composed {
  parts: PipelineParts;
  keys: TokenKeys | null;
  identity: IdentityServices | null;
  tickets: TicketServices | null;
  state: StateBackend;
  audit: (AuditSink & { close(): Promise<void> }) | null;
  /**
   * The approval service, opened on first use (its store is not touched by decisions that need
   * no approval); null without agent-safe.yaml or with approvals turned off.
   */
  approvals(): Promise<ApprovalService | null>;
  /** Credentials for the runner, from the project's vault; null when none is configured. */
  credentials: CredentialProvider | null;
  /** Swaps the world decisions are made against (a policy reload). */
  setWorld(world: World): void;
  close(): Promise<void>;
}

export async function compose(
  opened: Pick<OpenProject, "project" | "world">,
  options: ComposeOptions = {},
): Promise<Composed> {
  const { project } = opened;
  const clock = options.clock ?? Date.now;
  const keys = projectTokenKeys(project);
  const identity = keys === null ? null : identityServices(keys, { clock });
  // Without agent-safe.yaml there is no deployment to share state with: keep it in memory
  // rather than creating files in whatever directory the command runs from.
  const stateSettings = project.file === null ? { ...project.settings, state: "memory" } : project.settings;
  const state = await openProjectState(stateSettings, project.root);
  const resources: { close(): Promise<void> }[] = [state];
  try {
    const guards = new Guards(state, {
      rate_limit: project.settings.rate_limit,
      cumulative_risk: project.settings.cumulative_risk,
    });
    const tickets = keys === null ? null : ticketServices(keys, state.nonces, { clock });
    let audit: Composed["audit"] = null;
    if (options.audit !== false && project.settings.audit?.enabled !== false) {
      const { AuditWriter, auditSettingsFromProject } = await import("../audit/index.js");
      audit = await AuditWriter.open(auditSettingsFromProject(project));
      resources.unshift(audit);
    }
    let world: World = opened.world;
    const onWarning = options.onWarning ?? ((m: string) => process.emitWarning(m, "AgentSafeWarning"));
    const approvals =
      project.file === null || options.approvals === false
        ? null
        : lazyApprovals(opened.project, {
            trusted: options.approvals?.trusted ?? false,
            ...(options.approvals?.sweepIntervalMs !== undefined
              ? { sweepIntervalMs: options.approvals.sweepIntervalMs }
              : {}),
            identityVerifier: identity?.verifier ?? null,
            ticketIssuer: tickets?.issuer ?? null,
            tokenKeys: keys,
            audit,
            world: () => world,
            clock,
            onWarning,
          });
    if (approvals !== null) resources.unshift(approvals);
    const credentials =
      project.settings.credentials === null || project.settings.credentials === undefined
        ? null
        : await credentialProvider(opened.project, tickets, state, () => world, clock);
    const parts: PipelineParts = {
      world: () => world,
      clock,
      identity: identity?.verifier ?? null,
      keysConfigured: keys !== null,
      guards,
      audit,
      tickets: tickets?.issuer ?? null,
      approvals:
        approvals === null
          ? null
          : {
              createRequest: async (input) => {
                const service = await approvals.get();
                return service.createRequest(input);
              },
            },
      onWarning,
    };
    return {
      parts,
      keys,
      identity,
      tickets,
      state,
      audit,
      approvals: async () => (approvals === null ? null : approvals.get()),
      credentials,
      setWorld: (next) => {
        world = next;
      },
      close: async () => {
        // Approvals first (their notifications), then audit (its final checkpoint), then the state store.
        for (const r of resources) await r.close();
      },
    };
  } catch (err) {
    for (const r of resources) await r.close().catch(() => undefined);
    throw err;
  }
}

/** Opens the approval service on first use; closing closes it only if it was opened. */
function lazyApprovals(
  project: ProjectConfig,
  options: OpenApprovalsOptions,
): { get(): Promise<ApprovalService>; close(): Promise<void> } {
  let opening: Promise<ApprovalService> | null = null;
  return {
    get() {
      opening ??= import("../approvals/open.js").then((m) => m.openApprovals(project, options));
      return opening;
    },
    async close() {
      if (opening === null) return;
      const service = await opening.catch(() => null);
      await service?.close();
    },
  };
}

/**
 * The runner's credentials: the resolver over the project's vault, on the deployment's shared
 * nonce store. Without keys there are no tickets, so nothing could be resolved: the vault is
 * then refused rather than silently ignored.
 */
async function credentialProvider(
  project: ProjectConfig,
  tickets: TicketServices | null,
  state: StateBackend,
  world: () => World,
  clock: () => number,
): Promise<CredentialProvider> {
  const { CredentialResolver, ResolverCredentialProvider, projectVault } = await import(
    "../credentials/index.js"
  );
  const vault = projectVault(project, { clock });
  if (vault === null || tickets === null)
    throw new Error("credentials: a vault needs execution tickets: add a keys: section to agent-safe.yaml");
  const resolver = new CredentialResolver({
    validator: tickets.validator,
    nonces: state.nonces,
    vault,
    actions: (name) => world().actions.get(name)?.def,
    strictTemplates: project.profile === "strict",
    clock,
  });
  return new ResolverCredentialProvider(resolver);
}
