/** IAM: attach or detach a managed policy on a role. */
import type { AttachedPolicy } from "@aws-sdk/client-iam";
import { awsErrorCode } from "./errors.js";
import type { ParamReader } from "./params.js";
import { decodePolicyDocument, escalations, parsePolicy } from "./policy.js";
import type { AwsSession } from "./session.js";
import { type AwsAction, defineAction, type PrecheckSpec } from "./spec.js";

const ROLE = /^[\w+=,.@-]{1,64}$/;
const POLICY_ARN = /^arn:aws[a-z-]*:iam::(?:\d{12}|aws):policy\/[\w+=,.@/-]{1,512}$/;
const MAX_PAGES = 20;

/** The SDK names the exception `NoSuchEntityException`; the wire code is `NoSuchEntity`. */
function isNoSuchEntity(err: unknown): boolean {
  const code = awsErrorCode(err);
  return code === "NoSuchEntity" || code === "NoSuchEntityException";
}

interface RolePolicyParams {
  roleName: string;
  policyArn: string;
  region: string;
}

function parse(r: ParamReader): RolePolicyParams {
  return {
    roleName: r.str("role_name", { max: 64, pattern: ROLE, what: "role name (not an ARN)" }),
    policyArn: r.str("policy_arn", { max: 2048, pattern: POLICY_ARN, what: "managed policy ARN" }),
    region: r.region(),
  };
}

/** Every managed policy attached to the role (paginated, bounded). */
async function attached(s: AwsSession, roleName: string): Promise<AttachedPolicy[]> {
  return s.memo(`iam:attached:${roleName}`, async () => {
    const { client, m } = await s.iam();
    const all: AttachedPolicy[] = [];
    let marker: string | undefined;
    for (let page = 0; page < MAX_PAGES; page++) {
      const res = await s.call("iam:ListAttachedRolePolicies", (abortSignal) =>
        client.send(
          new m.ListAttachedRolePoliciesCommand({
            RoleName: roleName,
            ...(marker !== undefined ? { Marker: marker } : {}),
          }),
          { abortSignal },
        ),
      );
      all.push(...(res.AttachedPolicies ?? []));
      if (res.IsTruncated !== true || res.Marker === undefined) break;
      marker = res.Marker;
    }
    return all;
  });
}

async function state(s: AwsSession, p: RolePolicyParams): Promise<Record<string, unknown>> {
  const list = await attached(s, p.roleName);
  const attachedPolicies = list
    .map((a) => ({ policy_name: a.PolicyName ?? null, policy_arn: a.PolicyArn ?? null }))
    .sort((a, b) => String(a.policy_arn).localeCompare(String(b.policy_arn)));
  return { attached_policies: attachedPolicies };
}

const roleExists: PrecheckSpec<RolePolicyParams> = {
  calls: ["iam:ListAttachedRolePolicies"],
  async run(s, p) {
    try {
      const list = await attached(s, p.roleName);
      return {
        passed: true,
        message: `Role ${p.roleName} exists (${list.length} managed policies attached)`,
      };
    } catch (err) {
      if (isNoSuchEntity(err)) return { passed: false, message: `Role ${p.roleName} does not exist` };
      throw err;
    }
  },
};

async function getPolicy(s: AwsSession, arn: string) {
  return s.memo(`iam:policy:${arn}`, async () => {
    const { client, m } = await s.iam();
    try {
      const res = await s.call("iam:GetPolicy", (abortSignal) =>
        client.send(new m.GetPolicyCommand({ PolicyArn: arn }), { abortSignal }),
      );
      return res.Policy ?? null;
    } catch (err) {
      if (isNoSuchEntity(err)) return null;
      throw err;
    }
  });
}

const policyExists: PrecheckSpec<RolePolicyParams> = {
  calls: ["iam:GetPolicy"],
  async run(s, p) {
    const pol = await getPolicy(s, p.policyArn);
    if (pol === null) return { passed: false, message: `Policy ${p.policyArn} does not exist` };
    if (pol.IsAttachable === false)
      return { passed: false, message: `Policy ${p.policyArn} is not attachable` };
    return { passed: true, message: `Policy ${p.policyArn} exists and is attachable` };
  },
};

const escalationReview: PrecheckSpec<RolePolicyParams> = {
  calls: ["iam:GetPolicy", "iam:GetPolicyVersion"],
  async run(s, p) {
    const pol = await getPolicy(s, p.policyArn);
    if (pol === null || pol.DefaultVersionId === undefined) {
      return { passed: false, message: `Policy ${p.policyArn} not found: nothing to review` };
    }
    const { client, m } = await s.iam();
    const res = await s.call("iam:GetPolicyVersion", (abortSignal) =>
      client.send(
        new m.GetPolicyVersionCommand({ PolicyArn: p.policyArn, VersionId: pol.DefaultVersionId }),
        {
          abortSignal,
        },
      ),
    );
    const doc = res.PolicyVersion?.Document;
    if (doc === undefined) return { passed: false, message: "The policy document was not returned" };
    const parsed = parsePolicy(decodePolicyDocument(doc));
    if (!parsed.ok) return { passed: false, message: `The policy document does not parse: ${parsed.reason}` };
    const found = escalations(parsed.statements);
    return found.length === 0
      ? { passed: true, message: "No statement grants *, iam:*, sts:* or sts:AssumeRole" }
      : { passed: false, message: `Escalation risk, review before approving: ${found.join("; ")}` };
  },
};

const policyAttached: PrecheckSpec<RolePolicyParams> = {
  calls: ["iam:ListAttachedRolePolicies"],
  async run(s, p) {
    const list = await attached(s, p.roleName);
    const on = list.some((a) => a.PolicyArn === p.policyArn);
    return {
      passed: on,
      message: on
        ? `Policy ${p.policyArn} is attached to role ${p.roleName}`
        : `Policy ${p.policyArn} is not attached to role ${p.roleName}`,
    };
  },
};

function iamAction(verb: "attach" | "detach"): AwsAction {
  const op = verb === "attach" ? "iam:AttachRolePolicy" : "iam:DetachRolePolicy";
  return defineAction<RolePolicyParams>({
    service: "iam",
    operation: op,
    stateOperation: "iam:ListAttachedRolePolicies",
    stateFields: ["attached_policies"],
    parse,
    request: (p) => ({ RoleName: p.roleName, PolicyArn: p.policyArn }),
    stateRequest: (p) => ({ RoleName: p.roleName }),
    async execute(s, p) {
      const { client, m } = await s.iam();
      const input = { RoleName: p.roleName, PolicyArn: p.policyArn };
      if (verb === "attach") {
        await s.call(op, (abortSignal) => client.send(new m.AttachRolePolicyCommand(input), { abortSignal }));
      } else {
        await s.call(op, (abortSignal) => client.send(new m.DetachRolePolicyCommand(input), { abortSignal }));
      }
      return { output: { RoleName: p.roleName, PolicyArn: p.policyArn, Attached: verb === "attach" } };
    },
    state,
    prechecks:
      verb === "attach"
        ? { "role-exists": roleExists, "policy-exists": policyExists, "escalation-review": escalationReview }
        : { "role-exists": roleExists, "policy-attached": policyAttached },
  });
}

export const IAM_ACTIONS: Record<string, AwsAction> = {
  "iam-attach-role-policy": iamAction("attach"),
  "iam-detach-role-policy": iamAction("detach"),
};
