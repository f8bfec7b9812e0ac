/**
 * THREATS T9 for credentials: no credential value reaches the audit log or a shipper. An
 * execution event whose output quotes the credential (as `kubectl config view` or an echoed
 * header would) goes through `redactAuditInput`, then the real AuditWriter with a filesystem
 * and a webhook shipper; the log, the shipped copy and the webhook bodies are grepped for every
 * secret the Vault fixture issued.
 */
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import {
  AuditWriter,
  FilesystemShipper,
  Redactor,
  verifyLog,
  WebhookShipper,
} from "../../src/audit/index.js";
import {
  CredentialResolver,
  credentialAuditContext,
  credentialSecrets,
  redactAuditInput,
} from "../../src/credentials/index.js";
import { tempDir } from "../helpers/cli.js";
import { AWS_ROLE, hashicorp, K8S_ROLE, ROOT_TOKEN, registry, ticketKit } from "./helpers.js";
import { VaultFixture } from "./vault-fixture.js";

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0)) await c();
});

async function webhookReceiver(): Promise<{ url: string; bodies: string[] }> {
  const bodies: string[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      bodies.push(Buffer.concat(chunks).toString("utf8"));
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  closers.push(() => new Promise((r) => server.close(() => r())));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/ingest`, bodies };
}

describe("no credential value in the audit log or a shipper", () => {
  for (const keyed of [true, false]) {
    it(`execution events quoting the credentials are redacted (${keyed ? "HMAC" : "unkeyed"} redactor)`, async () => {
      const f = await VaultFixture.start({
        tokens: { [ROOT_TOKEN]: { ttl: 0 } },
        awsRoles: { "agent-safe-ec2": { credential_type: "iam_user" } },
        awsIamUserLeaseSeconds: 120,
        k8sRoles: { "agent-safe": { allowed_kubernetes_namespaces: ["*"] } },
      });
      closers.push(() => f.close());
      const kit = ticketKit();
      const resolver = new CredentialResolver({
        validator: kit.validator,
        nonces: kit.nonces,
        vault: hashicorp(f.url, { aws: AWS_ROLE, kubernetes: K8S_ROLE }),
        actions: (n) => registry().actions.get(n)?.def,
      });
      const aws = await resolver.resolve(
        kit.mint("ec2-reboot-instance", "aws/i-1", { instance_id: "i-1", region: "us-east-1" }).token,
      );
      const k8s = await resolver.resolve(
        kit.mint("get-secret", "dev/db", { namespace: "dev", secret: "db" }).token,
      );
      const creds = [aws.credential!, k8s.credential!];
      const secrets = [...f.issuedSecrets(), ROOT_TOKEN];
      expect(credentialSecrets(...creds).length).toBeGreaterThanOrEqual(3);

      const dir = tempDir("agent-safe-noleak-");
      const hook = await webhookReceiver();
      const redactor = keyed ? Redactor.withKey(randomBytes(32)) : Redactor.unkeyed();
      const writer = await AuditWriter.open({
        path: join(dir, "audit.jsonl"),
        fsync: "always",
        redactor,
        shippers: [
          new FilesystemShipper({ path: join(dir, "shipped.jsonl") }),
          new WebhookShipper({ url: hook.url }),
        ],
      });
      for (const c of creds) {
        const event = {
          event_type: "execution",
          action: c.type === "aws" ? "ec2-reboot-instance" : "get-secret",
          target: "t",
          caller: "agent-1",
          reason: `Executor error: auth failed with key ${Object.values(c.payload).join(" / ")}`,
          params: { echoed: String(Object.values(c.payload)[0]) },
          context: {
            credential: credentialAuditContext(c),
            output: `apiVersion: v1\nusers:\n- user:\n    token: ${JSON.stringify(c.payload)}\n`,
            whole: c,
          },
        };
        await writer.append(redactAuditInput(event, creds, redactor));
      }
      await writer.close();
      for (const c of creds) await resolver.revoke(c);

      const log = readFileSync(join(dir, "audit.jsonl"), "utf8");
      const shipped = readFileSync(join(dir, "shipped.jsonl"), "utf8");
      await expect.poll(() => hook.bodies.length).toBeGreaterThanOrEqual(2);
      for (const text of [log, shipped, hook.bodies.join("\n")]) {
        for (const s of secrets) expect(text).not.toContain(s);
      }
      // What remains is useful: ids, leases, scopes, and digests (or [REDACTED]) in place of values.
      expect(log).toContain(aws.credential!.credential_id);
      expect(log).toContain(aws.credential!.lease_id!);
      expect(log).toContain("arn:aws:ec2:us-east-1:*:instance/i-1");
      expect(log).toContain(keyed ? "hmac-sha256:" : "[REDACTED]");
      expect((await verifyLog([join(dir, "audit.jsonl")])).ok).toBe(true);
      expect(f.activeLeases()).toHaveLength(0);
    });
  }
});
