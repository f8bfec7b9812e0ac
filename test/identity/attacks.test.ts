/**
 * THREATS.md T11, T14–T16: the JWT attack suite. Each forged or abused token is refused, by the
 * verifier with a precise reason and, in the strict profile, by caller resolution as
 * `Unauthenticated caller: <reason>`, never reused as an agent id.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { identityServices, resolveCaller } from "../../src/identity/index.js";
import { hmacTokenKeys } from "../../src/jwt/config.js";
import { ticketServices } from "../../src/tickets/index.js";
import {
  decodePart,
  ed25519Signer,
  forge,
  hmacSigner,
  memoryNonces,
  strangerKey,
  tempKeys,
  testClock,
  withPayload,
} from "../helpers/tokens.js";

function setup(settings = {}) {
  const k = tempKeys(settings);
  const clock = testClock(Date.now());
  const svc = identityServices(k.keys, { clock: clock.now, failureCacheMs: 0 });
  const iat = Math.floor(clock.now() / 1000);
  const claims = {
    agent_id: "deploy-bot",
    agent_name: "",
    roles: ["deployer"],
    groups: ["sre"],
    iss: "agent-safe",
    iat,
    exp: iat + 600,
  };
  const signingKey = k.store.signingKey("identity-issuer");
  const realSign = (payload: Record<string, unknown>, header: Record<string, unknown> = {}) =>
    forge(
      { alg: "EdDSA", kid: signingKey.kid, typ: "JWT", ...header },
      payload,
      ed25519Signer(signingKey.privateKey),
    );
  return { ...k, ...svc, clock, claims, signingKey, realSign };
}

async function refused(s: ReturnType<typeof setup>, token: string, reason: string): Promise<void> {
  await expect(s.verifier.verify(token)).rejects.toThrow(reason);
  const r = await resolveCaller(token, { profile: "strict", verifier: s.verifier, trusted: true });
  expect(r.error).toBe(`Unauthenticated caller: ${reason}`);
  expect(r.caller).toBeUndefined();
}

describe("JWT attack suite (identity)", () => {
  it("alg: none", async () => {
    const s = setup();
    await refused(
      s,
      forge({ alg: "none", typ: "JWT" }, s.claims),
      "Invalid token: The specified alg value is not allowed",
    );
    for (const alg of ["None", "NONE", "", "HS512", "ES256", "Ed25519"]) {
      await refused(
        s,
        forge({ alg, typ: "JWT" }, s.claims),
        "Invalid token: The specified alg value is not allowed",
      );
    }
    await refused(
      s,
      forge({ typ: "JWT" }, s.claims),
      "Invalid token: The specified alg value is not allowed",
    );
  });

  it("HS256 signed with the Ed25519 public key (algorithm confusion), in every encoding of the key", async () => {
    const s = setup();
    const pem = readFileSync(join(s.dir, "identity-issuer.pub.pem"), "utf8");
    const spki = s.signingKey.publicKey.export({ type: "spki", format: "der" });
    const raw = spki.subarray(spki.length - 32);
    const jwkX = s.store.jwks(["identity-issuer"]).keys[0]!.x;
    for (const secret of [pem, spki, raw, jwkX]) {
      const token = forge({ alg: "HS256", kid: s.signingKey.kid, typ: "JWT" }, s.claims, hmacSigner(secret));
      await refused(s, token, "Invalid token: The specified alg value is not allowed");
    }
    // And the reverse: an HS256 deployment refuses an EdDSA token.
    const hs = identityServices(hmacTokenKeys("secret"));
    await expect(hs.verifier.verify(s.realSign(s.claims))).rejects.toThrow(
      "Invalid token: The specified alg value is not allowed",
    );
  });

  it("unknown kid, missing kid, and a known kid over a stranger's signature", async () => {
    const s = setup();
    const stranger = strangerKey();
    await refused(
      s,
      forge({ alg: "EdDSA", kid: "made-up", typ: "JWT" }, s.claims, ed25519Signer(stranger.privateKey)),
      "Invalid token: Unknown key id (kid)",
    );
    await refused(
      s,
      forge({ alg: "EdDSA", typ: "JWT" }, s.claims, ed25519Signer(s.signingKey.privateKey)),
      "Invalid token: Token has no key id (kid)",
    );
    await refused(
      s,
      forge({ alg: "EdDSA", kid: s.signingKey.kid }, s.claims, ed25519Signer(stranger.privateKey)),
      "Invalid token: Signature verification failed",
    );
  });

  it("expired, at and after exp", async () => {
    const s = setup();
    const token = s.issuer.issue({ agentId: "a", ttlSeconds: 60 }).token;
    await expect(s.verifier.verify(token)).resolves.toMatchObject({ agent_id: "a" });
    s.clock.set((decodePart(token, 1).exp as number) * 1000);
    await refused(s, token, "Token has expired");
  });

  it("iat or nbf in the future", async () => {
    const s = setup();
    await refused(
      s,
      s.realSign({ ...s.claims, iat: s.claims.iat + 30 }),
      "Invalid token: The token is not yet valid (iat)",
    );
    await refused(
      s,
      s.realSign({ ...s.claims, nbf: s.claims.iat + 30 }),
      "Invalid token: The token is not yet valid (nbf)",
    );
    await expect(s.verifier.verify(s.realSign({ ...s.claims, nbf: s.claims.iat }))).resolves.toBeDefined();
  });

  it("tampered payload, header or signature", async () => {
    const s = setup();
    const token = s.issuer.issue({ agentId: "reader", roles: ["reader"] }).token;
    await refused(
      s,
      withPayload(token, (p) => {
        p.roles = ["admin"];
      }),
      "Invalid token: Signature verification failed",
    );
    await refused(
      s,
      withPayload(token, (p) => {
        p.exp = (p.exp as number) + 86400;
      }),
      "Invalid token: Signature verification failed",
    );
    const [h, p, sig] = token.split(".") as [string, string, string];
    const flipped = sig.slice(0, 10) + (sig[10] === "A" ? "B" : "A") + sig.slice(11);
    await refused(s, `${h}.${p}.${flipped}`, "Invalid token: Signature verification failed");
    await refused(s, `${h}.${p}`, "Invalid token: Not enough segments");
    await refused(s, `${h}.${p}.${sig}.x`, "Invalid token: Too many segments");
    await refused(s, `${h}.!!.${sig}`, "Invalid token: Invalid payload padding");
    await refused(
      s,
      `${h}.${p}.${sig}`.replace(/^[^.]+/, Buffer.from("[1]").toString("base64url")),
      "Invalid token: Invalid header string: must be a json object",
    );
  });

  it("wrong issuer, a missing claim, and an audience", async () => {
    const s = setup();
    await refused(
      s,
      s.realSign({ ...s.claims, iss: "someone-else" }),
      "Invalid token issuer: Invalid issuer",
    );
    const { agent_id: _, ...noId } = s.claims;
    await refused(s, s.realSign(noId), 'Invalid token: Token is missing the "agent_id" claim');
    await refused(s, s.realSign({ ...s.claims, aud: "api" }), "Invalid token: Invalid audience");
    // PyJWT's precedence: an expired token from the wrong issuer reports the expiry.
    await refused(s, s.realSign({ ...s.claims, iss: "x", exp: s.claims.iat - 1 }), "Token has expired");
  });

  it("an identity token presented as a ticket, and a ticket presented as an identity", async () => {
    // Separate keys: each kind fails on the other's kid.
    const s = setup();
    const nonces = memoryNonces();
    const { issuer: tickets, validator } = ticketServices(s.keys, nonces, { clock: s.clock.now });
    const identityToken = s.issuer.issue({ agentId: "a" }).token;
    const ticket = tickets.issue({
      decision: {
        result: "allow",
        action: "restart-deployment",
        target: "dev/app",
        caller: "a",
        audit_id: "evt-000000000001",
      },
      params: {},
      actionDef: { name: "restart-deployment", parameters: [] },
    });
    expect((await validator.verify(identityToken)).reason).toBe("Invalid ticket: Unknown key id (kid)");
    await refused(s, ticket.token, "Invalid token: Unknown key id (kid)");

    // One shared key (HS256, as 0.9.0): the type claim tells them apart, both ways.
    const shared = hmacTokenKeys("one-secret");
    const hsIdentity = identityServices(shared);
    const hsTickets = ticketServices(shared, nonces);
    const hsTicket = hsTickets.issuer.issue({
      decision: { result: "allow", action: "a", target: "t", caller: "c", audit_id: "evt-000000000002" },
      params: {},
      actionDef: { name: "a", parameters: [] },
    });
    expect((await hsTickets.validator.verify(hsIdentity.issuer.issue({ agentId: "a" }).token)).reason).toBe(
      'Invalid ticket: Token is missing the "type" claim',
    );
    await expect(hsIdentity.verifier.verify(hsTicket.token)).rejects.toThrow(
      "Invalid token: Token is an execution ticket, not an identity token",
    );
    // An identity token that carries some type claim is not a ticket either.
    const typed = forge(
      { alg: "HS256", typ: "JWT" },
      {
        ...s.claims,
        type: "identity",
        action: "a",
        target: "t",
        caller: "c",
        audit_id: "e",
        nonce: "0".repeat(32),
      },
      hmacSigner("one-secret"),
    );
    expect((await hsTickets.validator.verify(typed)).reason).toBe("Token is not an execution ticket");
    await expect(hsIdentity.verifier.verify(typed)).rejects.toThrow(
      'Invalid token: Token is not an identity token (unexpected "type" claim)',
    );
  });

  it("garbage, oversize and non-string tokens; bare ids and no caller in strict", async () => {
    const s = setup();
    await refused(s, "a.b.c", "Invalid token: Invalid header padding");
    await refused(s, "YWJj.b.c", "Invalid token: Invalid header string: not valid JSON");
    await refused(s, `${"a".repeat(70_000)}.b.c`, "Invalid token: Token is too large");
    const strict = { profile: "strict" as const, verifier: s.verifier, trusted: true };
    expect(await resolveCaller("deploy-bot", strict)).toMatchObject({
      error: "Unauthenticated caller: a bare agent id is not an identity token",
      code: "bare_id",
    });
    expect(await resolveCaller("", strict)).toMatchObject({ code: "bare_id" });
    expect(await resolveCaller(null, strict)).toMatchObject({
      error: "Unauthenticated caller: no identity token was presented",
    });
    expect(
      await resolveCaller({ agent_id: "x", roles: ["admin"] }, { ...strict, trusted: false }),
    ).toMatchObject({ code: "untrusted_object" });
  });
});
