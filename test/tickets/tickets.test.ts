/** REFERENCE.md §6 plus DESIGN.md §4 item 6 and THREATS.md T2, T13. */
import { spawnSync } from "node:child_process";
import { createLocalJWKSet, jwtVerify } from "jose";
import { describe, expect, it } from "vitest";
import type { ActionDef } from "../../src/core/types.js";
import { hmacTokenKeys } from "../../src/jwt/config.js";
import { paramsDigest, TicketError, ticketServices } from "../../src/tickets/index.js";
import {
  decodePart,
  ed25519Signer,
  forge,
  memoryNonces,
  T0,
  tempKeys,
  testClock,
  withPayload,
} from "../helpers/tokens.js";

const ACTION: Pick<ActionDef, "name" | "parameters"> = {
  name: "rotate-db-password",
  parameters: [
    {
      name: "namespace",
      type: "string",
      required: true,
      description: "",
      default: null,
      sensitive: false,
      constraints: null,
    },
    {
      name: "password",
      type: "string",
      required: true,
      description: "",
      default: null,
      sensitive: true,
      constraints: null,
    },
  ],
};
const DECISION = {
  result: "allow" as const,
  action: "rotate-db-password",
  target: "prod/db",
  caller: "deploy-bot",
  audit_id: "evt-0123456789ab",
};
const PARAMS = { namespace: "prod", password: "hunter2-S3cret!" };

function setup() {
  const k = tempKeys();
  const clock = testClock();
  const nonces = memoryNonces();
  return { ...k, ...ticketServices(k.keys, nonces, { clock: clock.now }), clock, nonces };
}

describe("ticket issuance", () => {
  it("carries 0.9.0's claims plus params_digest; sensitive params only as digests; EdDSA with kid", async () => {
    const s = setup();
    const t = s.issuer.issue({ decision: DECISION, params: PARAMS, actionDef: ACTION });
    expect(t.token).not.toContain(Buffer.from("hunter2").toString("base64url").slice(0, 8));
    expect(JSON.stringify(t)).not.toContain("hunter2");
    const header = decodePart(t.token, 0);
    const claims = decodePart(t.token, 1);
    expect(header).toEqual({ alg: "EdDSA", kid: s.store.signingKey("ticket-signing").kid, typ: "JWT" });
    const iat = Math.floor(T0 / 1000);
    const pwDigest = paramsDigest("hunter2-S3cret!");
    expect(claims).toEqual({
      type: "execution-ticket",
      action: "rotate-db-password",
      target: "prod/db",
      caller: "deploy-bot",
      params: { namespace: "prod", password: pwDigest },
      params_digest: paramsDigest(PARAMS),
      audit_id: "evt-0123456789ab",
      nonce: expect.stringMatching(/^[0-9a-f]{32}$/),
      iss: "agent-safe",
      iat,
      exp: iat + 300,
      redacted_params: ["password"],
    });
    expect(t).toMatchObject({
      action: "rotate-db-password",
      target: "prod/db",
      caller: "deploy-bot",
      audit_id: DECISION.audit_id,
      nonce: claims.nonce,
    });
    expect(t.issued_at).toBe("2026-03-02T10:00:00.250000Z");
    expect(t.expires_at).toBe("2026-03-02T10:05:00.250000Z");
    const jwks = createLocalJWKSet(s.store.jwks(["ticket-signing"]) as never);
    await expect(
      jwtVerify(t.token, jwks, { algorithms: ["EdDSA"], currentDate: new Date(T0) }),
    ).resolves.toBeDefined();
  });

  it("digests canonical params: key order and 5.0 vs 5 do not matter", () => {
    expect(paramsDigest({ b: 1, a: [1, "x"] })).toBe(paramsDigest({ a: [1, "x"], b: 1.0 }));
    expect(paramsDigest(null)).toBe(paramsDigest({}));
    expect(paramsDigest({ a: 1 })).toMatch(/^sha256:[0-9a-f]{64}$/);
  });

  it("refuses to issue for a non-ALLOW decision, another action, or no audit id", () => {
    const s = setup();
    expect(() =>
      s.issuer.issue({ decision: { ...DECISION, result: "deny" }, params: {}, actionDef: ACTION }),
    ).toThrow(TicketError);
    expect(() =>
      s.issuer.issue({ decision: { ...DECISION, action: "x" }, params: {}, actionDef: ACTION }),
    ).toThrow(/not the decided action/);
    expect(() =>
      s.issuer.issue({ decision: { ...DECISION, audit_id: null }, params: {}, actionDef: ACTION }),
    ).toThrow(/audit_id/);
    expect(() =>
      s.issuer.issue({ decision: DECISION, params: { x: Number.NaN }, actionDef: ACTION }),
    ).toThrow(TicketError);
  });
});

describe("ticket validation", () => {
  it("verify inspects without consuming; redeem consumes exactly once", async () => {
    const s = setup();
    const t = s.issuer.issue({ decision: DECISION, params: PARAMS, actionDef: ACTION });
    for (let i = 0; i < 3; i++) {
      expect(await s.validator.verify(t.token)).toMatchObject({
        valid: true,
        reason: "Ticket is valid",
        used: false,
        redeemed: false,
      });
    }
    const r = await s.validator.redeem(t.token, {
      expectedAction: DECISION.action,
      expectedTarget: "prod/db",
      expectedParams: PARAMS,
    });
    expect(r).toMatchObject({ valid: true, reason: "Ticket is valid", redeemed: true });
    expect(r.ticket).toMatchObject({
      params: PARAMS,
      params_checked: true,
      params_complete: true,
      redacted_params: ["password"],
      nonce: t.nonce,
      audit_id: DECISION.audit_id,
    });
    expect(r.ticket?.expires_at).toBe("2026-03-02T10:05:00Z");
    expect(await s.validator.redeem(t.token)).toMatchObject({
      valid: false,
      code: "replay",
      reason: "Ticket has already been used (replay detected)",
    });
    expect(await s.validator.verify(t.token)).toMatchObject({ valid: false, code: "replay", used: true });
  });

  it("binds action, target and params (T2), with the reference's reasons", async () => {
    const s = setup();
    const t = s.issuer.issue({ decision: DECISION, params: PARAMS, actionDef: ACTION });
    const cases: [object, string, string][] = [
      [
        { expectedAction: "delete-db" },
        "action_mismatch",
        "Action mismatch: ticket is for 'rotate-db-password', expected 'delete-db'",
      ],
      [
        { expectedTarget: "dev/db" },
        "target_mismatch",
        "Target mismatch: ticket is for 'prod/db', expected 'dev/db'",
      ],
      [
        { expectedParams: { ...PARAMS, namespace: "dev" } },
        "params_mismatch",
        "Params mismatch: the params differ from those the ticket was issued for",
      ],
      [
        { expectedParams: { ...PARAMS, password: "guess" } },
        "params_mismatch",
        "Params mismatch: the params differ from those the ticket was issued for",
      ],
      [
        { expectedParams: { namespace: "prod" } },
        "params_mismatch",
        "Params mismatch: the params differ from those the ticket was issued for",
      ],
    ];
    for (const [expect_, code, reason] of cases) {
      expect(await s.validator.redeem(t.token, expect_)).toMatchObject({
        valid: false,
        code,
        reason,
        redeemed: false,
      });
    }
    // None of the refusals consumed it; the right expectations still redeem it (key order is free).
    const ok = await s.validator.redeem(t.token, {
      expectedParams: { password: PARAMS.password, namespace: "prod" },
    });
    expect(ok).toMatchObject({ valid: true, redeemed: true });
    // Without expected params, sensitive ones stay digests and are flagged as not executable.
    const t2 = s.issuer.issue({ decision: DECISION, params: PARAMS, actionDef: ACTION });
    expect((await s.validator.verify(t2.token)).ticket).toMatchObject({
      params_checked: false,
      params_complete: false,
      params: { password: paramsDigest(PARAMS.password) },
    });
  });

  it("expired, wrong issuer, not a ticket, tampered, forged", async () => {
    const s = setup();
    const t = s.issuer.issue({ decision: DECISION, params: PARAMS, actionDef: ACTION });
    const key = s.store.signingKey("ticket-signing");
    const resign = (edit: (p: Record<string, unknown>) => void) => {
      const p = decodePart(t.token, 1);
      edit(p);
      return forge({ alg: "EdDSA", kid: key.kid, typ: "JWT" }, p, ed25519Signer(key.privateKey));
    };
    const reason = async (token: string) => (await s.validator.verify(token)).reason;
    expect(
      await reason(
        resign((p) => {
          p.iss = "other";
        }),
      ),
    ).toBe("Invalid ticket issuer");
    expect(
      await reason(
        resign((p) => {
          p.type = "identity";
        }),
      ),
    ).toBe("Token is not an execution ticket");
    expect(
      await reason(
        resign((p) => {
          delete p.nonce;
        }),
      ),
    ).toBe('Invalid ticket: Token is missing the "nonce" claim');
    expect(
      await reason(
        resign((p) => {
          p.iat = (p.iat as number) + 60;
        }),
      ),
    ).toBe("Invalid ticket: The token is not yet valid (iat)");
    expect(
      await reason(
        resign((p) => {
          p.nonce = "short";
        }),
      ),
    ).toBe('Invalid ticket: Invalid claim "nonce": must be 32 lowercase hex characters');
    expect(
      await reason(
        withPayload(t.token, (p) => {
          p.target = "prod/other";
        }),
      ),
    ).toBe("Invalid ticket: Signature verification failed");
    expect(await reason(forge({ alg: "none" }, decodePart(t.token, 1)))).toBe(
      "Invalid ticket: The specified alg value is not allowed",
    );
    expect(await reason("garbage")).toBe("Invalid ticket: Not enough segments");
    s.clock.advance(300);
    expect(await reason(t.token)).toBe("Ticket has expired");
    // PyJWT's precedence: expiry before issuer.
    expect(
      await reason(
        resign((p) => {
          p.iss = "other";
        }),
      ),
    ).toBe("Ticket has expired");
  });

  it("fails closed when the nonce store is down", async () => {
    const k = tempKeys();
    const broken = {
      consume: async () => {
        throw new Error("connection refused");
      },
      isUsed: async () => {
        throw new Error("connection refused");
      },
    };
    const { issuer, validator } = ticketServices(k.keys, broken);
    const t = issuer.issue({ decision: DECISION, params: PARAMS, actionDef: ACTION });
    for (const r of [await validator.verify(t.token), await validator.redeem(t.token)]) {
      expect(r).toMatchObject({
        valid: false,
        code: "state_unavailable",
        reason: "State store unavailable: connection refused",
      });
    }
  });

  it("a ticket signed before a key rotation verifies until keep_until, not after", async () => {
    const k = tempKeys();
    const clock = testClock(Date.now());
    const { issuer, validator } = ticketServices(k.keys, memoryNonces(), { clock: clock.now });
    const before = issuer.issue({ decision: DECISION, params: PARAMS, actionDef: ACTION });
    k.store.rotate("ticket-signing", 60, clock.now());
    const after = issuer.issue({ decision: DECISION, params: PARAMS, actionDef: ACTION });
    expect(decodePart(after.token, 0).kid).not.toBe(decodePart(before.token, 0).kid);
    expect((await validator.verify(before.token)).valid).toBe(true);
    clock.advance(61);
    // (The ticket is still within its own 5 minutes; only the key's keep period has ended.)
    expect((await validator.verify(before.token)).reason).toMatch(
      /^Invalid ticket: Key .* was retired and no longer verifies$/,
    );
    expect((await validator.verify(after.token)).valid).toBe(true);
  });

  it("HS256: verifies a ticket made like 0.9.0 (no digest) and compares its clear params", async () => {
    const now = Math.floor(Date.now() / 1000);
    const claims = {
      type: "execution-ticket",
      action: "scale-deployment",
      target: "unknown",
      caller: "anonymous",
      params: { replicas: 3 },
      audit_id: "evt-aaaaaaaaaaaa",
      nonce: "0f".repeat(16),
      iss: "agent-safe",
      iat: now,
      exp: now + 300,
    };
    const py = spawnSync(
      "python3",
      [
        "-c",
        `
import base64, hashlib, hmac, json, sys
b = lambda raw: base64.urlsafe_b64encode(raw).rstrip(b"=")
si = b(b'{"alg":"HS256","typ":"JWT"}') + b"." + b(json.dumps(json.loads(sys.argv[1]), separators=(",", ":")).encode())
print((si + b"." + b(hmac.new(b"legacy", si, hashlib.sha256).digest())).decode())`,
        JSON.stringify(claims),
      ],
      { encoding: "utf8" },
    );
    const token = py.stdout.trim();
    const { validator } = ticketServices(hmacTokenKeys("legacy"), memoryNonces());
    expect(await validator.verify(token, { expectedParams: { replicas: 3.0 } })).toMatchObject({
      valid: true,
    });
    expect(await validator.verify(token, { expectedParams: { replicas: 4 } })).toMatchObject({
      code: "params_mismatch",
    });
    expect(await validator.redeem(token, { expectedAction: "scale-deployment" })).toMatchObject({
      valid: true,
      redeemed: true,
    });
    expect(await validator.redeem(token)).toMatchObject({ code: "replay" });
  });
});
