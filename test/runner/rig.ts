/**
 * The runner tests' rig: a real deployment in a temp directory, in process. The shipped action
 * catalogue with a test policy and an inventory of the fake cluster's objects; Ed25519 keys; a
 * SQLite state store (ticket nonces, credential claims); the audit writer with an HMAC redactor
 * and a filesystem shipper; the decision pipeline (every ticket comes from a real ALLOW); and,
 * optionally, credentials from the loopback Vault fixture through the resolver. Nothing of ours is
 * mocked: `runner()` builds the real `Runner` over these parts.
 */
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { AuditWriter, FilesystemShipper, Redactor, verifyLog } from "../../src/audit/index.js";
import { loadWorld } from "../../src/config/load-world.js";
import type { World } from "../../src/core/world.js";
import { CredentialResolver, ResolverCredentialProvider } from "../../src/credentials/index.js";
import { type IdentityServices, identityServices } from "../../src/identity/index.js";
import type { TokenKeys } from "../../src/jwt/config.js";
import type { Decision } from "../../src/pdp/decision.js";
import { DecisionPipeline } from "../../src/pdp/pipeline.js";
import { type CredentialProvider, Runner } from "../../src/runner/index.js";
import { openStateBackend } from "../../src/state/index.js";
import type { StateBackend } from "../../src/state/interfaces.js";
import { type TicketServices, ticketServices } from "../../src/tickets/index.js";
import { AWS_ROLE, hashicorp, K8S_ROLE, ROOT_TOKEN } from "../credentials/helpers.js";
import { VaultFixture } from "../credentials/vault-fixture.js";
import { ROOT, tempDir } from "../helpers/cli.js";
import { tempKeys } from "../helpers/tokens.js";

export { ROOT_TOKEN };

/** Targets standing for the fake cluster's objects (test/runner/k8s-fake/fixtures.ts) and AWS. */
export const INVENTORY = `targets:
  - id: cluster/web
    type: k8s-deployment
    environment: dev
    sensitivity: internal
    owner: test
    labels: {namespace: prod, deployment: web}
  - id: cluster/db-creds
    type: k8s-secret
    environment: dev
    sensitivity: internal
    owner: test
    labels: {namespace: prod, secret: db-creds}
  - id: cluster/kube-system
    type: k8s-namespace
    environment: dev
    sensitivity: internal
    owner: test
    labels: {namespace: kube-system}
  - id: cluster/dev
    type: k8s-namespace
    environment: dev
    sensitivity: internal
    owner: test
    labels: {namespace: dev}
  - id: cluster/worker-1
    type: k8s-node
    environment: dev
    sensitivity: internal
    owner: test
    labels: {node: worker-1}
  - id: aws/instance
    type: aws-ec2-instance
    environment: dev
    sensitivity: internal
    owner: test
    labels: {region: us-east-1}
  - id: aws/payments-fn
    type: aws-lambda-function
    environment: dev
    sensitivity: internal
    owner: test
    labels: {function_name: payments-fn, region: us-east-1}
`;

export const ALLOW_ALL = `rules:
  - name: allow-dev
    priority: 10
    match:
      targets:
        environments: [dev]
    decision: allow
    reason: The test environment is open
`;

export interface RigOptions {
  /** Policy file text (default: allow everything on the dev targets). */
  policy?: string;
  /** Credentials from this Vault fixture (kubernetes → `k8sServer`, aws → the AWS engine). */
  vault?: {
    fixture: VaultFixture;
    k8sServer?: string;
    k8sCaPem?: string;
    /** Another address than the fixture's (e.g. one nothing listens on). */
    address?: string;
    /** Replaces the credential types' engine settings. */
    roles?: Record<string, Record<string, unknown>>;
  } | null;
}

export interface Rig {
  dir: string;
  logPath: string;
  shippedPath: string;
  writer: AuditWriter;
  state: StateBackend;
  keys: TokenKeys;
  tickets: TicketServices;
  identity: IdentityServices;
  /** An identity token for the test agent (a secret: never in any log). */
  callerToken: string;
  world(): World;
  /** Replaces the policy file and reloads the world (a policy change). */
  setPolicy(text: string): void;
  pipeline: DecisionPipeline;
  credentials: CredentialProvider | null;
  runner(credentials?: CredentialProvider | null): Runner;
  /** A real decision; throws unless it is ALLOW. Returns its ticket token and audit id. */
  allow(action: string, target: string, params: Record<string, unknown>): Promise<Allowed>;
  decide(action: string, target: string, params: Record<string, unknown>): Promise<Decision>;
  /** The events written so far (the writer appends with fsync: always). */
  events(): Record<string, unknown>[];
  /** The `execution` events (and `state_capture`s) linked to a decision. */
  linked(auditId: string, type: "execution" | "state_capture"): Record<string, unknown>[];
  close(): Promise<void>;
}

export interface Allowed {
  token: string;
  auditId: string;
  nonce: string;
}

export async function openRig(options: RigOptions = {}): Promise<Rig> {
  const dir = tempDir("agent-safe-runner-rig-");
  mkdirSync(join(dir, "policies"));
  writeFileSync(join(dir, "policies", "test.yaml"), options.policy ?? ALLOW_ALL);
  writeFileSync(join(dir, "inventory.yaml"), INVENTORY);
  const load = () =>
    loadWorld(
      {
        actions: join(ROOT, "actions"),
        policies: join(dir, "policies"),
        inventory: join(dir, "inventory.yaml"),
      },
      { profile: "strict" },
    ).world;
  let world = load();
  const { keys } = tempKeys();
  const state = await openStateBackend(`sqlite:${join(dir, "state.db")}`);
  const tickets = ticketServices(keys, state.nonces);
  const identity = identityServices(keys);
  const logPath = join(dir, "audit.jsonl");
  const shippedPath = join(dir, "shipped.jsonl");
  const writer = await AuditWriter.open({
    path: logPath,
    fsync: "always",
    redactor: Redactor.withKey(randomBytes(32)),
    shippers: [new FilesystemShipper({ path: shippedPath })],
  });
  const pipeline = new DecisionPipeline({
    world: () => world,
    clock: Date.now,
    identity: identity.verifier,
    keysConfigured: true,
    guards: null,
    audit: writer,
    tickets: tickets.issuer,
  });
  let credentials: CredentialProvider | null = null;
  if (options.vault) {
    if (options.vault.k8sCaPem !== undefined) writeFileSync(join(dir, "ca.pem"), options.vault.k8sCaPem);
    const vault = hashicorp(
      options.vault.address ?? options.vault.fixture.url,
      options.vault.roles ?? {
        aws: AWS_ROLE,
        kubernetes: {
          ...K8S_ROLE,
          // Cluster-scoped actions (delete-namespace, cordon-node) get a ClusterRoleBinding.
          cluster_role_binding: true,
          namespace: "agent-safe",
          ...(options.vault.k8sServer ? { server: options.vault.k8sServer } : {}),
          ...(options.vault.k8sCaPem !== undefined ? { certificate_authority: "ca.pem" } : {}),
        },
      },
      {},
      { root: dir },
    );
    credentials = new ResolverCredentialProvider(
      new CredentialResolver({
        validator: tickets.validator,
        nonces: state.nonces,
        vault,
        actions: (name) => world.actions.get(name)?.def,
        strictTemplates: true,
      }),
    );
  }
  const callerToken = identity.issuer.issue({ agentId: "agent-1", roles: ["deployer"] }).token;
  const readEvents = () =>
    existsSync(logPath)
      ? readFileSync(logPath, "utf8")
          .split("\n")
          .filter((l) => l.trim() !== "")
          .map((l) => JSON.parse(l) as Record<string, unknown>)
      : [];
  const decide = (action: string, target: string, params: Record<string, unknown>) =>
    pipeline.check({ action, target, caller: callerToken, params: params as never }, { trusted: false });
  let closed = false;
  return {
    dir,
    logPath,
    shippedPath,
    writer,
    state,
    keys,
    tickets,
    identity,
    callerToken,
    world: () => world,
    setPolicy(text) {
      writeFileSync(join(dir, "policies", "test.yaml"), text);
      world = load();
    },
    pipeline,
    credentials,
    runner: (c = credentials) =>
      new Runner({ world: () => world, validator: tickets.validator, audit: writer, credentials: c }),
    decide,
    async allow(action, target, params) {
      const d = await decide(action, target, params);
      if (d.result !== "allow" || !d.ticket) throw new Error(`expected ALLOW, got ${d.result}: ${d.reason}`);
      return { token: d.ticket.token, auditId: d.ticket.audit_id, nonce: d.ticket.nonce };
    },
    events: readEvents,
    linked: (auditId, type) =>
      readEvents().filter(
        (e) =>
          e.event_type === type &&
          (e.context as Record<string, unknown> | null)?.original_audit_id === auditId,
      ),
    async close() {
      if (closed) return;
      closed = true;
      await writer.close();
      await state.close();
    },
  };
}

/** Starts the Vault fixture with the AWS and Kubernetes engines the rig's vault uses. */
export function startVault(kv: Record<string, Record<string, unknown>> = {}): Promise<VaultFixture> {
  return VaultFixture.start({
    kv,
    tokens: { [ROOT_TOKEN]: { ttl: 0 } },
    awsRoles: { "agent-safe-ec2": { credential_type: "iam_user" } },
    awsIamUserLeaseSeconds: 120,
    k8sRoles: {
      "agent-safe": { allowed_kubernetes_namespaces: ["*"], kubernetes_role_type: "ClusterRole" },
    },
  });
}

/** The context of an event, typed loosely. */
export function ctxOf(e: Record<string, unknown> | undefined): Record<string, unknown> {
  return (e?.context ?? {}) as Record<string, unknown>;
}

/** Checks the hash chain of the rig's log. */
export async function chainOk(rig: Rig): Promise<boolean> {
  return (await verifyLog([rig.logPath])).ok;
}
