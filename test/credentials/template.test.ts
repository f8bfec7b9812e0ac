// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${ENV} references and IAM policy variables are what these tests are about
/** REFERENCE.md §9 templating, and the lifetime rule. */
import { describe, expect, it } from "vitest";
import { PyFloat } from "../../src/core/pyvalue.js";
import type { CredentialScope } from "../../src/core/types.js";
import { CredentialError, lifetimeSeconds, renderScope } from "../../src/credentials/index.js";
import { registry } from "./helpers.js";

const scope = (fields: Record<string, unknown>, type = "aws"): CredentialScope =>
  ({ type, fields, ttl: 300 }) as CredentialScope;

function refusal(fn: () => unknown): CredentialError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(CredentialError);
    return err as CredentialError;
  }
  throw new Error("expected a CredentialError");
}

describe("renderScope", () => {
  it("renders the shipped AWS and Kubernetes templates", () => {
    const ec2 = registry().actions.get("ec2-reboot-instance")!.def.credentials!;
    expect(renderScope(ec2, { instance_id: "i-0abc", region: "eu-west-1" }).scope).toEqual({
      type: "aws",
      fields: {
        actions: ["ec2:RebootInstances", "ec2:DescribeInstances"],
        resources: ["arn:aws:ec2:eu-west-1:*:instance/i-0abc"],
      },
      ttl: 300,
    });
    const k8s = registry().actions.get("get-secret")!.def.credentials!;
    const r = renderScope(k8s, { namespace: "payments", secret: "db" });
    expect(r.scope.fields).toEqual({
      verbs: ["get"],
      resources: ["secrets"],
      namespaces: ["payments"],
      api_groups: [""],
    });
    expect(r.used).toEqual(["namespace"]);
  });

  it("substitutes Python str() of the value, recursively, leaving keys, type and non-strings alone", () => {
    const r = renderScope(
      scope(
        {
          "{{ params.a }}": "{{params.a}}-{{  params.b }}",
          nested: { list: ["x{{ params.c }}", 7, true, null, new PyFloat(2)], n: "{{ params.d }}" },
        },
        "{{ params.a }}",
      ),
      { a: 3, b: true, c: null, d: [1, "a"] },
    );
    expect(r.scope.type).toBe("{{ params.a }}");
    expect(r.scope.fields).toEqual({
      "{{ params.a }}": "3-True",
      nested: { list: ["xNone", 7, true, null, 2], n: "[1, 'a']" },
    });
  });

  it("has no other expression language", () => {
    const r = renderScope(scope({ a: "{{ target }} {{ params.x | upper }} {{ params.x }}" }), { x: "v" });
    expect(r.scope.fields.a).toBe("{{ target }} {{ params.x | upper }} v");
  });

  it("strict refuses a placeholder the ticket has no param for; reference keeps it verbatim (0.9.0)", () => {
    const s = scope({ resources: ["arn:aws:s3:::{{ params.bucket }}/{{ params.key }}"] });
    const e = refusal(() => renderScope(s, { bucket: "b" }));
    expect(e.code).toBe("template");
    expect(e.message).toBe(
      "Credential scope of type 'aws' references param 'key', which the ticket does not carry",
    );
    expect(renderScope(s, { bucket: "b" }, { strict: false }).scope.fields.resources).toEqual([
      "arn:aws:s3:::b/{{ params.key }}",
    ]);
  });

  it("refuses values that would widen the scope: wildcards, policy variables, control characters", () => {
    const s = scope({ resources: ["arn:aws:ec2:us-east-1:*:instance/{{ params.instance_id }}"] });
    for (const bad of ["*", "i-1?", "${aws:username}", "i-1\nx"]) {
      const e = refusal(() => renderScope(s, { instance_id: bad }, { strict: false }));
      expect(e.message).toContain(
        "Param 'instance_id' cannot be used in credential scope fields.resources[0]",
      );
    }
    // The declared wildcard (`:*:` account) is the action author's, not a param's: allowed.
    expect(renderScope(s, { instance_id: "i-0abc" }).scope.fields.resources).toEqual([
      "arn:aws:ec2:us-east-1:*:instance/i-0abc",
    ]);
  });

  it("refuses a sensitive param the ticket holds only as a digest", () => {
    const e = refusal(() =>
      renderScope(
        scope({ a: "{{ params.password }}" }),
        { password: "sha256:00" },
        { digestOnly: ["password"] },
      ),
    );
    expect(e.message).toContain("uses the sensitive param 'password'");
  });
});

describe("lifetimeSeconds", () => {
  const now = Date.parse("2026-03-02T10:00:00Z");
  it("is min(ttl, whole seconds left on the ticket)", () => {
    expect(lifetimeSeconds(300, { expires_at: "2026-03-02T10:05:00Z" }, now)).toBe(300);
    expect(lifetimeSeconds(300, { expires_at: "2026-03-02T10:01:00Z" }, now)).toBe(60);
    expect(lifetimeSeconds(120, { expires_at: "2026-03-02T10:01:00.900Z" }, now)).toBe(60);
  });
  it("refuses when no whole second is left, the ticket is expired or the ttl is not positive", () => {
    for (const [ttl, exp] of [
      [300, "2026-03-02T10:00:00.500Z"],
      [300, "2026-03-02T09:59:00Z"],
      [0, "2026-03-02T10:05:00Z"],
      [300, "not a date"],
    ] as const) {
      expect(refusal(() => lifetimeSeconds(ttl, { expires_at: exp }, now)).code).toBe("lifetime");
    }
  });
});
