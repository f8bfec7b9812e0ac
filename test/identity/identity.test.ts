import { spawnSync } from "node:child_process";
import { createPublicKey } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { createLocalJWKSet, jwtVerify } from "jose";
import { describe, expect, it } from "vitest";
import { IdentityError, identityServices } from "../../src/identity/index.js";
import { hmacTokenKeys } from "../../src/jwt/config.js";
import { decodePart, T0, tempKeys, testClock } from "../helpers/tokens.js";

describe("identity tokens", () => {
  it("carry 0.9.0's claims, EdDSA with the issuer key's kid, and verify with jose against the JWKS", async () => {
    const { store, keys } = tempKeys();
    const clock = testClock();
    const { issuer, verifier } = identityServices(keys, { clock: clock.now });
    const issued = issuer.issue({
      agentId: "deploy-bot",
      agentName: "Deploy",
      roles: ["deployer"],
      groups: ["sre"],
    });
    const header = decodePart(issued.token, 0);
    const payload = decodePart(issued.token, 1);
    expect(header).toEqual({ alg: "EdDSA", kid: store.signingKey("identity-issuer").kid, typ: "JWT" });
    const iat = Math.floor(T0 / 1000);
    expect(payload).toEqual({
      agent_id: "deploy-bot",
      agent_name: "Deploy",
      roles: ["deployer"],
      groups: ["sre"],
      iss: "agent-safe",
      iat,
      exp: iat + 3600,
    });
    expect(issued.expires_at).toBe("2026-03-02T11:00:00Z");
    const jwks = createLocalJWKSet(store.jwks(["identity-issuer"]) as never);
    const r = await jwtVerify(issued.token, jwks, { algorithms: ["EdDSA"], currentDate: new Date(T0) });
    expect(r.payload.agent_id).toBe("deploy-bot");

    const identity = await verifier.verify(issued.token);
    expect(identity).toEqual({
      agent_id: "deploy-bot",
      agent_name: "Deploy",
      roles: ["deployer"],
      groups: ["sre"],
      delegation_chain: [],
      delegated_roles: [],
      delegation_depth: 0,
    });
    expect(Object.isFrozen(identity) && Object.isFrozen(identity.roles)).toBe(true);
  });

  it("takes the TTL and issuer from the settings and refuses bad input with typed errors", async () => {
    const { keys } = tempKeys({ issuer: "acme", identityTtlSeconds: 60 });
    const { issuer } = identityServices(keys, { clock: testClock().now });
    const p = decodePart(issuer.issue({ agentId: "a" }).token, 1);
    expect(p.iss).toBe("acme");
    expect((p.exp as number) - (p.iat as number)).toBe(60);
    expect(() => issuer.issue({ agentId: "" })).toThrow(IdentityError);
    expect(() => issuer.issue({ agentId: "a", ttlSeconds: 0 })).toThrow(/TTL/);
    expect(() => issuer.issue({ agentId: "a", roles: [5 as never] })).toThrow(/roles/);
  });

  it("caches verified tokens until they expire, in a bounded LRU", async () => {
    const { keys } = tempKeys();
    const clock = testClock();
    const { issuer, verifier } = identityServices(keys, { clock: clock.now, cacheSize: 2 });
    const tokens = ["a", "b", "c"].map((id) => issuer.issue({ agentId: id, ttlSeconds: 10 }).token);
    await verifier.verify(tokens[0]!);
    await verifier.verify(tokens[0]!);
    expect(verifier.cacheStats).toMatchObject({ hits: 1, misses: 1, size: 1 });
    await verifier.verify(tokens[1]!);
    await verifier.verify(tokens[2]!);
    expect(verifier.cacheStats.size).toBe(2);
    clock.advance(10);
    await expect(verifier.verify(tokens[2]!)).rejects.toThrow("Token has expired");
    expect(verifier.cacheStats.size).toBe(1);
  });

  it("remembers a failure for at most a second", async () => {
    const { keys } = tempKeys();
    const clock = testClock();
    const { issuer, verifier } = identityServices(keys, { clock: clock.now });
    const good = issuer.issue({ agentId: "a" }).token;
    const bad = `${good.slice(0, -4)}AAAA`;
    await expect(verifier.verify(bad)).rejects.toThrow("Invalid token: Signature verification failed");
    await expect(verifier.verify(bad)).rejects.toThrow("Invalid token: Signature verification failed");
    expect(verifier.cacheStats.misses).toBe(1);
    clock.advance(1.001);
    await expect(verifier.verify(bad)).rejects.toThrow("Signature verification failed");
    expect(verifier.cacheStats.misses).toBe(2);
  });

  it("a rotated identity key keeps verifying its tokens until keep_until, not after; cached ones too", async () => {
    const { store, keys } = tempKeys();
    const clock = testClock(Date.now());
    const { issuer, verifier } = identityServices(keys, { clock: clock.now });
    const before = issuer.issue({ agentId: "a" }).token;
    await verifier.verify(before);
    store.rotate("identity-issuer", 120, clock.now());
    const after = issuer.issue({ agentId: "b" }).token;
    expect(decodePart(after, 0).kid).not.toBe(decodePart(before, 0).kid);
    await expect(verifier.verify(before)).resolves.toMatchObject({ agent_id: "a" });
    await expect(verifier.verify(after)).resolves.toMatchObject({ agent_id: "b" });
    clock.advance(121);
    await expect(verifier.verify(before)).rejects.toThrow(
      /^Invalid token: Key .* was retired and no longer verifies$/,
    );
    await expect(verifier.verify(after)).resolves.toMatchObject({ agent_id: "b" });
  });
});

describe("HS256 compatibility with 0.9.0", () => {
  // What 0.9.0 did: PyJWT's encoding (compact JSON, header {"alg":"HS256","typ":"JWT"}), key = secret's UTF-8.
  const PY = `
import base64, hashlib, hmac, json, sys
secret, payload = sys.argv[1], json.loads(sys.argv[2])
b = lambda raw: base64.urlsafe_b64encode(raw).rstrip(b"=")
si = b(json.dumps({"alg": "HS256", "typ": "JWT"}, separators=(",", ":"), sort_keys=True).encode()) + b"." + b(json.dumps(payload, separators=(",", ":")).encode())
print((si + b"." + b(hmac.new(secret.encode(), si, hashlib.sha256).digest())).decode())
`;
  const pyToken = (secret: string, payload: object) => {
    const r = spawnSync("python3", ["-c", PY, secret, JSON.stringify(payload)], { encoding: "utf8" });
    expect(r.status, r.stderr).toBe(0);
    return r.stdout.trim();
  };

  it("verifies a token made like 0.9.0 when HS256 is configured, and issues ones 0.9.0 would accept", async () => {
    const now = Math.floor(Date.now() / 1000);
    const token = pyToken("shared-secret", {
      agent_id: "legacy-bot",
      agent_name: "",
      roles: ["deployer"],
      groups: [],
      iss: "agent-safe",
      iat: now,
      exp: now + 3600,
    });
    const { verifier, issuer } = identityServices(hmacTokenKeys("shared-secret"));
    await expect(verifier.verify(token)).resolves.toMatchObject({
      agent_id: "legacy-bot",
      roles: ["deployer"],
    });
    await expect(identityServices(hmacTokenKeys("other")).verifier.verify(token)).rejects.toThrow(
      "Invalid token: Signature verification failed",
    );
    const ours = issuer.issue({ agentId: "x" }).token;
    expect(decodePart(ours, 0)).toEqual({ alg: "HS256", typ: "JWT" });
    const r = await jwtVerify(ours, new TextEncoder().encode("shared-secret"), { algorithms: ["HS256"] });
    expect(r.payload.agent_id).toBe("x");
  });

  it("an EdDSA deployment refuses the 0.9.0 token (algorithm pinned)", async () => {
    const { keys } = tempKeys();
    const now = Math.floor(Date.now() / 1000);
    const token = pyToken("s", { agent_id: "a", iss: "agent-safe", iat: now, exp: now + 60 });
    await expect(identityServices(keys).verifier.verify(token)).rejects.toThrow(
      "Invalid token: The specified alg value is not allowed",
    );
  });

  it("reads the public key from the JWKS the key store exports (sanity of the key files)", () => {
    const { dir, store } = tempKeys();
    const pem = readFileSync(join(dir, "identity-issuer.pub.pem"), "utf8");
    const jwk = createPublicKey(pem).export({ format: "jwk" }) as { x: string };
    expect(store.jwks(["identity-issuer"]).keys[0]?.x).toBe(jwk.x);
  });
});
