/** Small pieces: the ticket seal, store URLs, the approvals settings, the rules on their own. */
import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { sealerFromRing, sealerWithKey } from "../../src/approvals/seal.js";
import { parseApprovalStoreUrl } from "../../src/approvals/store.js";
import { approvalsSchema, defaultApprovalsSettings } from "../../src/config/approvals-schema.js";
import { projectSchema } from "../../src/config/project-schema.js";
import { ed25519TokenKeys } from "../../src/jwt/config.js";
import { tempKeys } from "../helpers/tokens.js";

const code = (fn: () => unknown) => {
  try {
    fn();
  } catch (err) {
    return { code: (err as { code?: string }).code, message: (err as Error).message };
  }
  return null;
};

describe("ticket seal", () => {
  it("opens only for its request, only with its key; tampering and rotation are told apart", () => {
    const s = sealerWithKey(randomBytes(32));
    const sealed = s.seal("eyJ.token.sig", "apr-0123456789ab");
    expect(sealed).not.toContain("eyJ");
    expect(s.open(sealed, "apr-0123456789ab")).toBe("eyJ.token.sig");
    expect(code(() => s.open(sealed, "apr-ffffffffffff"))).toEqual({
      code: "ticket_unavailable",
      message: "The stored ticket of apr-ffffffffffff does not open (tampered?)",
    });
    // Change the second-to-last character (always significant, unlike the last one's padding bits).
    const flipped = `${sealed.slice(0, -2)}${sealed.at(-2) === "A" ? "B" : "A"}${sealed.slice(-1)}`;
    expect(flipped).not.toBe(sealed);
    expect(code(() => s.open(flipped, "apr-0123456789ab"))?.code).toBe("ticket_unavailable");
    expect(code(() => sealerWithKey(randomBytes(32)).open(sealed, "apr-0123456789ab"))?.message).toMatch(
      /sealed with a ticket-signing key that has since been rotated/,
    );
  });

  it("derives the same key in every process holding the ticket key, another after rotation", () => {
    const k = tempKeys();
    const a = sealerFromRing(k.keys.tickets);
    const sealed = a.seal("tok", "apr-0123456789ab");
    expect(sealerFromRing(tempKeys().keys.tickets).open.bind(null, sealed, "apr-0123456789ab")).toThrow(
      /rotated/,
    );
    expect(
      sealerFromRing(ed25519TokenKeys(k.store, {}, { refreshMs: 0 }).tickets).open(
        sealed,
        "apr-0123456789ab",
      ),
    ).toBe("tok");
    k.store.rotate("ticket-signing", 600);
    expect(
      code(() =>
        sealerFromRing(ed25519TokenKeys(k.store, {}, { refreshMs: 0 }).tickets).open(
          sealed,
          "apr-0123456789ab",
        ),
      )?.message,
    ).toMatch(/rotated/);
  });
});

describe("approval store URLs", () => {
  it("sqlite paths (relative to the project), postgres URLs; refuses the rest clearly", () => {
    expect(parseApprovalStoreUrl("sqlite:.agent-safe/approvals.db", "/srv/p")).toEqual({
      kind: "sqlite",
      path: "/srv/p/.agent-safe/approvals.db",
    });
    expect(parseApprovalStoreUrl("/var/lib/a.db", "/srv/p")).toEqual({
      kind: "sqlite",
      path: "/var/lib/a.db",
    });
    expect(parseApprovalStoreUrl("postgresql://db/x?schema=s", "/")).toEqual({
      kind: "postgres",
      url: "postgresql://db/x?schema=s",
    });
    expect(code(() => parseApprovalStoreUrl("redis://u:pw@h:6379", "/"))).toEqual({
      code: "config",
      message: "approvals.store 'redis://***@h:6379': use sqlite:<path> or postgres://…",
    });
    expect(code(() => parseApprovalStoreUrl("sqlite:", "/"))?.message).toMatch(/needs a file path/);
    expect(code(() => parseApprovalStoreUrl("./approvals.jsonl", "/"))?.message).toMatch(
      /JSONL approval file is not supported/,
    );
  });
});

describe("approvals settings", () => {
  it("defaults, coercions, unknown keys refused", () => {
    expect(defaultApprovalsSettings()).toEqual({
      store: "sqlite:.agent-safe/approvals.db",
      ttl_seconds: 3600,
      notifiers: [],
    });
    const parsed = approvalsSchema.parse({
      ttl_seconds: "600",
      notifiers: [{ type: "slack", webhook_url: "https://h/x" }],
    });
    expect(parsed.ttl_seconds).toBe(600);
    expect(parsed.notifiers[0]).toEqual({
      type: "slack",
      webhook_url: "https://h/x",
      channel: null,
      timeout_seconds: 10,
      queue_size: 1000,
      max_attempts: 10,
      retry_max_seconds: 30,
    });
    expect(() => approvalsSchema.parse({ ttl: 5 })).toThrow();
    expect(() => approvalsSchema.parse({ ttl_seconds: 0 })).toThrow();
    expect(() => approvalsSchema.parse({ notifiers: [{ type: "email", to: "x" }] })).toThrow();
    expect(projectSchema.parse({ approvals: { store: "postgres://db/x" } }).approvals?.store).toBe(
      "postgres://db/x",
    );
  });
});
